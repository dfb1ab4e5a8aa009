// A persistent pool of worker threads for the CPU backend: threads are made
// once per backend, never per token or per op.
//
// run(fn) wakes the workers, runs fn(0, n) on the calling thread and
// fn(i, n) on worker i, and returns when all are done. Between runs a worker
// spins briefly (the next op of a forward pass follows within microseconds,
// and a futex wake-up costs more than that), then blocks on a condition
// variable, so an idle model costs no CPU.
//
// A worker claims its part of a run before doing it; when the caller has
// finished its own part it does every part still unclaimed itself. So a
// worker that the OS has descheduled (a machine shared with other processes)
// delays nothing: it finds its part done when it gets the CPU back. Without
// this, every op would wait for a scheduler time slice on a loaded machine.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace jetlm {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);  // total, the caller included; at least 1
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_; }

  // fn(int ith, int nth) for every ith in [0, nth), each exactly once, on some
  // thread of the pool. Not reentrant: fn must not call run().
  template <class F>
  void run(F&& fn) {
    using Fn = typename std::remove_reference<F>::type;
    run_impl([](void* ctx, int ith, int nth) { (*static_cast<Fn*>(ctx))(ith, nth); }, &fn);
  }

 private:
  using Thunk = void (*)(void* ctx, int ith, int nth);
  // One per worker, on its own cache line: claim = 2g (the worker does part
  // ith of run g) or 2g+1 (the caller took it); done = g when the worker finished.
  struct alignas(64) Slot {
    std::atomic<uint64_t> claim{0};
    std::atomic<uint64_t> done{0};
  };
  void run_impl(Thunk fn, void* ctx);
  void worker(int ith);

  int n_ = 1;
  // Written by the caller before a run is published through gen_.
  Thunk fn_ = nullptr;
  void* ctx_ = nullptr;
  bool stop_ = false;
  alignas(64) std::atomic<uint64_t> gen_{0};
  alignas(64) std::atomic<int> sleepers_{0};
  std::unique_ptr<Slot[]> slots_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::thread> threads_;
};

// A shared counter handing out work items to the threads of one run, padded
// to its own cache line (threads hammer it).
struct alignas(64) WorkQueue {
  std::atomic<int64_t> next{0};
  int64_t take(int64_t n = 1) { return next.fetch_add(n, std::memory_order_relaxed); }
};

}  // namespace jetlm
