// Scenario runs on the in-process engine (src/engine/engine.h): each request
// has a prompt of exactly IN tokens and generates exactly OUT (EOS ignored);
// warm-up requests, then the timed repetitions, one at a time or under a load
// mode (the engine batches what is in flight, up to n_seq sequences).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench.h"
#include "bench/load.h"
#include "bench/monitor.h"
#include "bench/request_timing.h"
#include "bench/scenario.h"

namespace jetlm {

class Context;
class Engine;
class Tokenizer;

struct ScenarioOptions {
  int n_gpu_layers = 0;
  int n_threads = 0;
  int n_batch = 512;
  TensorType kv_type = TensorType::F16;
  bool unified = false;
  int warmup = 1;        // untimed requests before the repetitions
  int n_ctx = 0;         // slot context: at least IN + OUT of the largest scenario
  int n_seq = 1;         // sequence slots (requests decoded together under a load mode)
};

// One scenario on one configuration (in-process or remote).
struct ScenarioResult {
  std::string target;          // model label (in-process) or URL (remote)
  BenchModelInfo model;        // in-process: the model; remote: what -m described (may be empty)
  Scenario scenario;
  std::string backend;         // "CPU", "CUDA ...", or "remote openai"
  int n_gpu_layers = 0, n_threads = 0, repetitions = 0;
  std::string load = "sync";   // remote load mode: sync, concurrency=N, rate=R, poisson=R
  std::string test_time;
  std::vector<RequestTiming> requests;
  RunStats stats;
  double wall_ms = 0;
  double warmup_ms = 0;        // the untimed warm-up requests (warmup_shape)
  double t_start_ms = 0, t_end_ms = 0;  // window on the monitor's clock
  bool have_monitor = false;
  MonitorSummary monitor;
  double bandwidth_gbs = 0;    // weight bytes per token x mean generation t/s
  double roofline_pct = -1;    // of the measured host/device bandwidth (-1: not measured)
  double prompt_flops = 0;     // 2 x parameters x mean prompt t/s
  // Engine event accounting: tokens reported by the final event vs token events seen.
  int n_gen_reported = 0;
};

class ScenarioBench {
 public:
  ScenarioBench(const Model& model, const Tokenizer& tok, const BenchModelInfo& info, const ScenarioOptions& opts);
  ~ScenarioBench();
  ScenarioResult run(const Scenario& sc, const LoadMode& mode, int n_requests, Monitor* monitor);

 private:
  RequestTiming one_request(const Scenario& sc, int variant, int* n_reported);
  const Tokenizer& tok_;
  BenchModelInfo info_;
  ScenarioOptions opts_;
  std::unique_ptr<Context> ctx_;    // before engine_: the engine runs on it
  std::unique_ptr<Engine> engine_;
  std::string backend_;
};

// Bandwidth and roofline fields from the stats (peak_gbs <= 0: no roofline).
void fill_roofline(ScenarioResult& r, double peak_gbs);
nlohmann::json to_json(const ScenarioResult& r, const MonitorInfo* mon);

}  // namespace jetlm
