#include "bench/load.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <random>
#include <thread>

#include "tools/args.h"
#include "util/error.h"

namespace jetlm {

std::string LoadMode::name() const {
  char buf[48];
  switch (kind) {
    case Sync: return "sync";
    case Throughput: return "throughput";
    case Concurrency: std::snprintf(buf, sizeof buf, "concurrency=%d", static_cast<int>(value)); return buf;
    case Rate: std::snprintf(buf, sizeof buf, "rate=%.3g", value); return buf;
    case Poisson: std::snprintf(buf, sizeof buf, "poisson=%.3g", value); return buf;
  }
  return "?";
}

LoadMode parse_load_mode(const std::string& rate, int concurrency) {
  LoadMode m;
  if (concurrency > 1) {
    if (!rate.empty() && rate != "sync") throw UsageError("--concurrency and --rate R exclude each other");
    m.kind = LoadMode::Concurrency;
    m.value = concurrency;
    return m;
  }
  if (rate.empty() || rate == "sync") return m;
  if (rate.compare(0, 8, "poisson:") == 0) {
    m.kind = LoadMode::Poisson;
    m.value = parse_double(rate.substr(8), "--rate poisson:R");
  } else {
    m.kind = LoadMode::Rate;
    m.value = parse_double(rate, "--rate");
  }
  if (!(m.value > 0)) throw UsageError("--rate: requests per second must be > 0, got '" + rate + "'");
  return m;
}

std::vector<LoadMode> sweep_rates(double sync_rate, double max_rate, int n) {
  std::vector<LoadMode> v;
  if (!(max_rate > sync_rate)) return v;
  for (int k = 1; k <= n; ++k) {
    LoadMode m;
    m.kind = LoadMode::Rate;
    m.value = sync_rate + (max_rate - sync_rate) * k / (n + 1);
    v.push_back(m);
  }
  return v;
}

int LoadMode::max_in_flight(int n_requests) const {
  switch (kind) {
    case Sync: return 1;
    case Concurrency: return std::min(n_requests, static_cast<int>(value));
    default: return n_requests;
  }
}

std::vector<RequestTiming> drive_load(const LoadMode& mode, int n, const std::function<RequestTiming(int)>& one, double* wall_ms) {
  std::vector<RequestTiming> out(static_cast<size_t>(n));
  const auto t0 = std::chrono::steady_clock::now();
  auto since = [&] { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(); };
  auto run = [&](int i) {
    const double start = since();
    out[static_cast<size_t>(i)] = one(i);
    out[static_cast<size_t>(i)].start_ms = start;
  };
  if (mode.kind == LoadMode::Sync) {
    for (int i = 0; i < n; ++i) run(i);
  } else if (mode.kind == LoadMode::Concurrency || mode.kind == LoadMode::Throughput) {
    // Closed loop: each worker sends its next request when the previous one ends.
    std::atomic<int> next{0};
    std::vector<std::thread> pool;
    for (int w = 0; w < mode.max_in_flight(n); ++w)
      pool.emplace_back([&] {
        for (int i; (i = next++) < n;) run(i);
      });
    for (auto& t : pool) t.join();
  } else {
    // Open loop: arrivals on a schedule, whether or not earlier requests finished.
    std::mt19937_64 rng(1234);
    std::exponential_distribution<double> gap(mode.value);
    std::vector<std::thread> pool;
    double at_s = 0;
    for (int i = 0; i < n; ++i) {
      std::this_thread::sleep_until(t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(at_s)));
      pool.emplace_back(run, i);
      at_s += mode.kind == LoadMode::Poisson ? gap(rng) : 1.0 / mode.value;
    }
    for (auto& t : pool) t.join();
  }
  *wall_ms = since();
  return out;
}

}  // namespace jetlm
