// The engine's thread and its locking; the batching itself is the Scheduler's.
#include "engine/engine.h"

#include <condition_variable>
#include <mutex>
#include <thread>

#include "engine/scheduler.h"

namespace jetlm {

struct Engine::Impl {
  Context& ctx;
  const Tokenizer& tok;
  EngineOptions opts;
  // mu guards the scheduler and the stats; the step runs under it, so submit
  // and cancel wait at most one forward pass.
  mutable std::mutex mu;
  std::condition_variable cv;
  Scheduler sched;
  uint64_t next_id = 1;
  bool stop = false;
  EngineStats st;
  std::thread th;

  Impl(Context& c, const Tokenizer& t, const EngineOptions& o)
      : ctx(c), tok(t), opts(o), sched(c, c.options().n_batch, o.n_chunk) {
    if (opts.background) th = std::thread([this] { loop(); });
  }
  ~Impl() {
    {
      std::lock_guard<std::mutex> l(mu);
      stop = true;
      for (auto& s : sched.all()) s->request_cancel();
    }
    cv.notify_all();
    if (th.joinable()) th.join();
    std::lock_guard<std::mutex> l(mu);
    while (!sched.idle()) sched.step();  // the cancelled ones get their final events
  }
  void loop() {
    std::unique_lock<std::mutex> l(mu);
    for (;;) {
      cv.wait(l, [&] { return stop || !sched.idle(); });
      if (stop) return;
      sched.step();
    }
  }
};

Engine::Engine(Context& ctx, const Tokenizer& tok, const EngineOptions& opts) : impl_(new Impl(ctx, tok, opts)) {}
Engine::~Engine() = default;

Engine::RequestId Engine::submit(Request r) {
  Impl& m = *impl_;
  if (r.prompt.empty()) fail("empty prompt: nothing to generate from");
  if (static_cast<int>(r.prompt.size()) >= m.ctx.n_ctx())
    fail("the prompt (", r.prompt.size(), " tokens) does not fit in the context of ", m.ctx.n_ctx(), " tokens (raise -c)");
  for (int32_t id : r.prompt)
    if (id < 0 || id >= m.ctx.model().hparams().n_vocab)
      fail("token id ", id, " is outside the vocabulary (", m.ctx.model().hparams().n_vocab, " tokens)");
  std::lock_guard<std::mutex> l(m.mu);
  if (m.sched.n_queued() >= m.opts.n_queue) throw QueueFull(str_cat("the request queue is full (", m.opts.n_queue, " waiting)"));
  const RequestId id = m.next_id++;
  // Count the request's tokens when it ends (the callback runs under mu, on the step).
  auto user = std::move(r.on_event);
  r.on_event = [&m, user](const TokenEvent& e) {
    if (e.done) {
      m.st.n_requests++;
      m.st.n_prompt_tokens += static_cast<uint64_t>(e.stats.n_prompt + e.stats.n_reused);
      m.st.n_cached_tokens += static_cast<uint64_t>(e.stats.n_reused);
    } else if (e.token >= 0) {
      m.st.n_generated_tokens++;
    }
    return user ? user(e) : true;
  };
  m.sched.enqueue(std::make_shared<Sequence>(id, std::move(r), m.tok, m.ctx.model().hparams().n_vocab));
  m.cv.notify_all();
  return id;
}

void Engine::cancel(RequestId id) {
  std::lock_guard<std::mutex> l(impl_->mu);
  for (auto& s : impl_->sched.all())
    if (s->id() == id) s->request_cancel();
  impl_->cv.notify_all();
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> l(impl_->mu);
  EngineStats s = impl_->st;
  s.n_running = impl_->sched.n_running();
  s.n_queued = impl_->sched.n_queued();
  s.n_slots = impl_->ctx.n_seq();
  s.kv_total = int64_t(impl_->ctx.n_seq()) * impl_->ctx.n_ctx();
  s.kv_used = impl_->sched.slots().positions_used();
  return s;
}

int Engine::n_ctx_slot() const { return impl_->ctx.n_ctx(); }

void Engine::run_until_idle() {
  std::lock_guard<std::mutex> l(impl_->mu);
  while (!impl_->sched.idle()) impl_->sched.step();
}

}  // namespace jetlm
