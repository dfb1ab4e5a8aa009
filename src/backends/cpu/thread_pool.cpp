#include "backends/cpu/thread_pool.h"

#include <chrono>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace jetlm {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__)
  _mm_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

// How long an idle worker polls before it sleeps. Longer than the gaps between
// the ops of a forward pass (microseconds to a fraction of a millisecond):
// waking a sleeping thread costs a futex call and an inter-processor
// interrupt, tens of microseconds in a virtual machine, and a token runs a few
// hundred ops. Measured in time, not in pause instructions, whose length
// differs tenfold between cores.
constexpr auto kSpinTime = std::chrono::microseconds(2000);
// Pauses between clock reads while polling.
constexpr int kSpinsPerClock = 256;
// After this many pauses the caller yields while waiting for a worker's part.
constexpr int kSpinBeforeYield = 1 << 14;

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_(n_threads < 1 ? 1 : n_threads), slots_(new Slot[static_cast<size_t>(n_)]) {
  threads_.reserve(static_cast<size_t>(n_ - 1));
  for (int i = 1; i < n_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_ = true;
    gen_.fetch_add(1, std::memory_order_seq_cst);
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::run_impl(Thunk fn, void* ctx) {
  if (n_ == 1) {
    fn(ctx, 0, 1);
    return;
  }
  fn_ = fn;
  ctx_ = ctx;
  const uint64_t g = gen_.fetch_add(1, std::memory_order_seq_cst) + 1;  // publishes fn_, ctx_
  // A worker that registered as sleeping before the increment above is woken
  // here; one that registers after it sees the new generation and does not sleep.
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lk(mu_);
    cv_.notify_all();
  }
  fn(ctx, 0, n_);
  // Parts no worker has claimed yet are done here; then wait for the claimed ones.
  for (int i = 1; i < n_; ++i) {
    uint64_t c = slots_[i].claim.load(std::memory_order_acquire);
    if (c < 2 * g && slots_[i].claim.compare_exchange_strong(c, 2 * g + 1, std::memory_order_acq_rel)) fn(ctx, i, n_);
  }
  for (int i = 1; i < n_; ++i) {
    if (slots_[i].claim.load(std::memory_order_acquire) != 2 * g) continue;
    for (int spins = 0; slots_[i].done.load(std::memory_order_acquire) != g; ++spins) {
      cpu_relax();
      if (spins > kSpinBeforeYield) std::this_thread::yield();  // the worker was descheduled mid-part
    }
  }
}

void ThreadPool::worker(int ith) {
  uint64_t seen = 0;
  Slot& slot = slots_[ith];
  for (;;) {
    uint64_t g = gen_.load(std::memory_order_acquire);
    auto deadline = std::chrono::steady_clock::time_point::max();
    for (int spins = 0; g == seen; g = gen_.load(std::memory_order_acquire)) {
      cpu_relax();
      if (++spins % kSpinsPerClock != 0) continue;
      const auto now = std::chrono::steady_clock::now();
      if (deadline == std::chrono::steady_clock::time_point::max()) deadline = now + kSpinTime;
      if (now < deadline) continue;
      std::unique_lock<std::mutex> lk(mu_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      while ((g = gen_.load(std::memory_order_seq_cst)) == seen) cv_.wait(lk);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      break;
    }
    seen = g;
    if (stop_) return;
    // The caller may have taken this part already (this thread came late).
    uint64_t c = slot.claim.load(std::memory_order_acquire);
    if (c < 2 * g && slot.claim.compare_exchange_strong(c, 2 * g, std::memory_order_acq_rel)) {
      fn_(ctx_, ith, n_);
      slot.done.store(g, std::memory_order_release);
    }
  }
}

}  // namespace jetlm
