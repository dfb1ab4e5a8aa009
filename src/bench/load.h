// Load modes of the scenario benchmark, shared by the in-process engine and
// remote endpoints: one request at a time, N in flight (closed loop),
// constant or Poisson arrivals (open loop), all at once (throughput).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "bench/request_timing.h"

namespace jetlm {

struct LoadMode {
  enum Kind { Sync, Concurrency, Rate, Poisson, Throughput } kind = Sync;
  double value = 1;  // N for Concurrency, requests/s for Rate and Poisson
  std::string name() const;  // "sync", "concurrency=4", "rate=2", "poisson=2", "throughput"
  int max_in_flight(int n_requests) const;  // requests that may run together (1 for sync)
};
// --rate sync|R|poisson:R and --concurrency N (given: N > 1 wins over sync).
LoadMode parse_load_mode(const std::string& rate, int concurrency);

// The rates of a sweep between the sync and throughput runs' request rates (n evenly spaced).
std::vector<LoadMode> sweep_rates(double sync_rate, double max_rate, int n);

// Runs one(i) for i in [0, n) under the mode (one(i) blocks until request i
// ends and is called from several threads at once unless the mode is sync);
// fills each result's start_ms (since the start) and *wall_ms.
std::vector<RequestTiming> drive_load(const LoadMode& mode, int n, const std::function<RequestTiming(int)>& one, double* wall_ms);

}  // namespace jetlm
