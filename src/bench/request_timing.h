// What one benchmark request measured, and the statistics of a run of them:
// the same definitions for the in-process engine and a remote endpoint.
//   TTFT: request start to the first generated token
//   ITL:  gaps between consecutive generated tokens (n_gen - 1 per request)
//   TTLT: request start to the last generated token
//   prompt t/s: n_prompt / TTFT;  generation t/s: (n_gen - 1) / (TTLT - TTFT)
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/stats.h"

namespace jetlm {

struct RequestTiming {
  double start_ms = 0;       // when the request was sent, since the start of the run
  std::vector<double> t_ms;  // [n_gen] arrival of each generated token, since the request's start
  int n_prompt = 0;
  bool ok = true;
  bool timed_out = false;
  std::string error;

  int n_gen() const { return static_cast<int>(t_ms.size()); }
  double ttft_ms() const { return t_ms.empty() ? 0 : t_ms.front(); }
  double ttlt_ms() const { return t_ms.empty() ? 0 : t_ms.back(); }
};

struct RunStats {
  Summary ttft_ms, itl_ms, ttlt_ms, prompt_tps, gen_tps;
  int n_ok = 0, n_errors = 0, n_timeouts = 0;
  double output_tps = 0;   // all generated tokens / wall time of the run (aggregate throughput)
  double request_rate = 0; // completed requests / wall time
};

// Statistics over the successful requests; wall_ms: duration of the whole run.
RunStats run_stats(const std::vector<RequestTiming>& reqs, double wall_ms);

// {"ttft_ms": Summary, ..., "prompt_tps", "gen_tps"}: merged into a result object.
void add_stats_json(nlohmann::json& j, const RunStats& s);
// "samples": raw per-request ttft_ms, ttlt_ms, gen_tps lists, itl_ms (all requests, in order), t_ms lists.
nlohmann::json samples_json(const std::vector<RequestTiming>& reqs);

}  // namespace jetlm
