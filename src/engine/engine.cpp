// Temporary serial implementation of Engine (one request at a time through
// Generator), so that the server can be written against the interface while
// the batched scheduler is built. Replaced by the scheduler in src/engine/.
#include "engine/engine.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace jetlm {

struct Engine::Impl {
  const Model& model;
  const Tokenizer& tok;
  EngineOptions opts;
  Context ctx;
  Generator gen;
  mutable std::mutex mu;
  std::condition_variable cv;
  struct Item {
    RequestId id;
    Request r;
    std::chrono::steady_clock::time_point t0;
    std::atomic<bool> cancel{false};
  };
  std::deque<std::shared_ptr<Item>> queue;
  std::shared_ptr<Item> running;
  RequestId next_id = 1;
  bool stop = false;
  EngineStats st;
  std::thread th;

  Impl(const Model& m, const Tokenizer& t, const EngineOptions& o)
      : model(m), tok(t), opts(o), ctx(m, o.context), gen(ctx, t) {
    th = std::thread([this] { loop(); });
  }
  ~Impl() {
    {
      std::lock_guard<std::mutex> l(mu);
      stop = true;
      for (auto& q : queue) q->cancel = true;
      if (running) running->cancel = true;
    }
    cv.notify_all();
    th.join();
  }
  void loop() {
    for (;;) {
      std::shared_ptr<Item> it;
      {
        std::unique_lock<std::mutex> l(mu);
        cv.wait(l, [&] { return stop || !queue.empty(); });
        if (queue.empty()) return;
        it = queue.front();
        queue.pop_front();
        running = it;
      }
      auto ms = [&] { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - it->t0).count(); };
      TokenEvent fin;
      try {
        GenerateStats gs = gen.generate(it->r.prompt, it->r.params, [&](const std::string& text) {
          TokenEvent e;
          e.text = text;
          e.t_ms = ms();
          return it->r.on_event(e);
        }, &it->cancel);
        fin.stats = gs;
        fin.stop_reason = gs.stop_reason;
      } catch (const std::exception& e) {
        fin.stop_reason = "error";
        fin.error = e.what();
        gen.reset();
      }
      fin.done = true;
      fin.t_ms = ms();
      it->r.on_event(fin);
      std::lock_guard<std::mutex> l(mu);
      st.n_requests++;
      st.n_prompt_tokens += static_cast<uint64_t>(fin.stats.n_prompt + fin.stats.n_reused);
      st.n_cached_tokens += static_cast<uint64_t>(fin.stats.n_reused);
      st.n_generated_tokens += static_cast<uint64_t>(fin.stats.n_generated);
      running.reset();
    }
  }
};

Engine::Engine(const Model& model, const Tokenizer& tok, const EngineOptions& opts)
    : impl_(new Impl(model, tok, opts)) {}
Engine::~Engine() = default;

Engine::RequestId Engine::submit(Request r) {
  if (r.prompt.empty()) fail("empty prompt: nothing to generate from");
  if (static_cast<int>(r.prompt.size()) >= impl_->ctx.n_ctx())
    fail("the prompt (", r.prompt.size(), " tokens) does not fit in the context of ", impl_->ctx.n_ctx(), " tokens");
  std::lock_guard<std::mutex> l(impl_->mu);
  if (static_cast<int>(impl_->queue.size()) >= impl_->opts.n_queue) throw QueueFull("the request queue is full");
  auto it = std::make_shared<Impl::Item>();
  it->id = impl_->next_id++;
  it->r = std::move(r);
  it->t0 = std::chrono::steady_clock::now();
  impl_->queue.push_back(it);
  impl_->cv.notify_all();
  return it->id;
}

void Engine::cancel(RequestId id) {
  std::lock_guard<std::mutex> l(impl_->mu);
  if (impl_->running && impl_->running->id == id) impl_->running->cancel = true;
  for (auto& q : impl_->queue)
    if (q->id == id) q->cancel = true;
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  EngineStats s = impl_->st;
  s.n_running = impl_->running ? 1 : 0;
  s.n_queued = static_cast<int>(impl_->queue.size());
  s.n_slots = 1;
  s.kv_total = impl_->ctx.n_ctx();
  s.kv_used = impl_->ctx.n_past();
  return s;
}

int Engine::n_ctx_slot() const { return impl_->ctx.n_ctx(); }

}  // namespace jetlm
