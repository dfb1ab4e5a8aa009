#include "backends/cpu/thread_pool.h"

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

// About 100-300 microseconds of polling (a pause is 10-140 cycles depending on
// the core) before a worker goes to sleep.
constexpr int kSpinBeforeSleep = 1 << 14;

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_(n_threads < 1 ? 1 : n_threads) {
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
  pending_.store(n_ - 1, std::memory_order_relaxed);
  gen_.fetch_add(1, std::memory_order_seq_cst);  // publishes fn_, ctx_, pending_
  // A worker that registered as sleeping before the increment above is woken
  // here; one that registers after it sees the new generation and does not sleep.
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lk(mu_);
    cv_.notify_all();
  }
  fn(ctx, 0, n_);
  for (int spins = 0; pending_.load(std::memory_order_acquire) != 0; ++spins) {
    cpu_relax();
    if (spins > kSpinBeforeSleep) std::this_thread::yield();  // a worker was descheduled
  }
}

void ThreadPool::worker(int ith) {
  uint64_t seen = 0;
  for (;;) {
    uint64_t g = gen_.load(std::memory_order_acquire);
    for (int spins = 0; g == seen; g = gen_.load(std::memory_order_acquire)) {
      if (++spins < kSpinBeforeSleep) {
        cpu_relax();
        continue;
      }
      std::unique_lock<std::mutex> lk(mu_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      while ((g = gen_.load(std::memory_order_seq_cst)) == seen) cv_.wait(lk);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
      break;
    }
    seen = g;
    if (stop_) return;
    fn_(ctx_, ith, n_);
    pending_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

}  // namespace jetlm
