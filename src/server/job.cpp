#include "server/job.h"

#include <httplib.h>

#include <condition_variable>
#include <ctime>
#include <deque>
#include <mutex>

#include "server/peer.h"
#include "server/request_json.h"

namespace jetlm {

int64_t unix_now() { return static_cast<int64_t>(std::time(nullptr)); }

std::string rfc3339_now() {
  const auto now = std::chrono::system_clock::now();
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm;
  gmtime_r(&secs, &tm);
  char buf[64];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%09lldZ", static_cast<long long>(ns % 1000000000));
  return buf;
}

void Completion::add(const TokenEvent& e) {
  text += e.text;
  if (e.done) fin = e;
  else if (e.token >= 0) tokens.push_back(e);
}

std::string finish_reason(const TokenEvent& fin) {
  return fin.stop_reason == "length" || fin.stop_reason == "context" ? "length" : "stop";
}

struct Job::Shared {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<TokenEvent> events;
  bool cancelled = false;
  // Metrics state, touched only on the engine's thread.
  bool seen_token = false;
  double last_ms = 0;
};

Job::Job(ServerState& st, std::vector<int32_t> prompt, const GenerateParams& p, int n_probs)
    : sh_(std::make_shared<Shared>()), engine_(*st.engine), n_prompt_(static_cast<int>(prompt.size())) {
  Request r;
  r.prompt = std::move(prompt);
  r.params = p;
  r.n_probs = n_probs;
  std::shared_ptr<Shared> sh = sh_;
  Metrics* m = &st.metrics;
  r.on_event = [sh, m](const TokenEvent& e) {
    if (e.done) {
      m->request_done(e);
    } else if (e.token >= 0 || !e.text.empty()) {
      if (!sh->seen_token) m->first_token(e.t_ms / 1000);
      else m->next_token((e.t_ms - sh->last_ms) / 1000);
      sh->seen_token = true;
      sh->last_ms = e.t_ms;
    }
    std::lock_guard<std::mutex> l(sh->mu);
    sh->events.push_back(e);
    sh->cv.notify_one();
    return !sh->cancelled;
  };
  try {
    id_ = engine_.submit(std::move(r));
  } catch (const QueueFull& e) {
    st.metrics.request_rejected(503);
    throw ApiError(503, str_cat(e.what(), ": try again shortly"), "unavailable_error", "queue_full");
  } catch (const ApiError&) {
    throw;
  } catch (const Error& e) {
    st.metrics.request_rejected(400);
    throw ApiError(400, e.what());  // a prompt the engine cannot take (serve checks the length before)
  }
  st.metrics.request_started();
}

Job::~Job() {
  if (!finished_) cancel();
}

void Job::cancel() {
  if (finished_) return;
  {
    std::lock_guard<std::mutex> l(sh_->mu);
    if (sh_->cancelled) return;
    sh_->cancelled = true;
  }
  engine_.cancel(id_);
}

bool Job::next(TokenEvent& e, std::chrono::milliseconds wait) {
  std::unique_lock<std::mutex> l(sh_->mu);
  if (!sh_->cv.wait_for(l, wait, [&] { return !sh_->events.empty(); })) return false;
  e = std::move(sh_->events.front());
  sh_->events.pop_front();
  if (e.done) finished_ = true;
  return true;
}

Completion run_to_end(ServerState& st, const httplib::Request& req, Job& job) {
  Completion c;
  c.n_prompt = job.n_prompt();
  const PeerWatch peer(req.remote_addr, req.remote_port, req.local_port);
  const auto every = std::chrono::milliseconds(20);
  auto next_check = std::chrono::steady_clock::now() + every;
  TokenEvent e;
  for (;;) {
    if (job.next(e, std::chrono::milliseconds(20))) {
      c.add(e);
      if (e.done) return c;
    }
    const auto now = std::chrono::steady_clock::now();
    if (now < next_check) continue;
    next_check = now + every;
    if (peer.closed() || st.stopping) job.cancel();  // the final event ("cancelled") follows
  }
}

}  // namespace jetlm
