#include "bench/scenario_runner.h"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>

#include "bench/prompt_text.h"
#include "engine/engine.h"
#include "models/context.h"
#include "models/model.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace jetlm {

ScenarioBench::ScenarioBench(const Model& model, const Tokenizer& tok, const BenchModelInfo& info, const ScenarioOptions& opts)
    : tok_(tok), info_(info), opts_(opts) {
  ContextOptions co;
  co.n_ctx = opts.n_ctx;
  co.n_seq = std::max(1, opts.n_seq);
  co.n_batch = opts.n_batch;
  co.n_threads = opts.n_threads;
  co.n_gpu_layers = opts.n_gpu_layers;
  co.kv_type = opts.kv_type;
  co.unified = opts.unified;
  ctx_.reset(new Context(model, co));
  engine_.reset(new Engine(*ctx_, tok));
  backend_ = ctx_->backend_summary();
}

ScenarioBench::~ScenarioBench() = default;

RequestTiming ScenarioBench::one_request(const Scenario& sc, int variant, int* n_reported) {
  RequestTiming rt;
  rt.n_prompt = sc.n_in;
  Request req;
  req.prompt = bench_prompt_tokens(tok_, sc.n_in, variant);
  req.params.n_predict = sc.n_out;
  req.params.ignore_eos = true;
  req.params.sampling.temp = 0;  // greedy: the sampler costs what an argmax costs
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  // Every non-final event is one generated token (the engine emits exactly one
  // per token, its id in e.token; the final event carries only flushed text).
  req.on_event = [&](const TokenEvent& e) {
    std::lock_guard<std::mutex> l(mu);
    if (!e.done) {
      rt.t_ms.push_back(e.t_ms);
      return true;
    }
    if (e.stop_reason == "error") {
      rt.ok = false;
      rt.error = e.error;
    } else if (e.stop_reason != "length") {
      rt.ok = false;
      rt.error = "stopped early: " + e.stop_reason;
    }
    *n_reported = e.stats.n_generated;
    done = true;
    cv.notify_all();
    return true;
  };
  engine_->submit(std::move(req));
  std::unique_lock<std::mutex> l(mu);
  cv.wait(l, [&] { return done; });
  return rt;
}

ScenarioResult ScenarioBench::run(const Scenario& sc, const LoadMode& mode, int n_requests, Monitor* monitor) {
  if (sc.n_in + sc.n_out > engine_->n_ctx_slot())
    fail("scenario ", sc.name, " needs ", sc.n_in + sc.n_out, " tokens of context, the engine slot holds ", engine_->n_ctx_slot());
  ScenarioResult r;
  r.target = info_.type;
  r.model = info_;
  r.scenario = sc;
  r.backend = backend_;
  r.n_gpu_layers = opts_.n_gpu_layers;
  r.n_threads = opts_.n_threads;
  r.repetitions = n_requests;
  r.load = mode.name();
  r.test_time = bench_utc_now();
  std::vector<int> reported(static_cast<size_t>(n_requests), 0);
  int ignored = 0;
  const auto t_warm = std::chrono::steady_clock::now();
  for (int w = 0; w < opts_.warmup; ++w) one_request(warmup_shape(sc), 1000 + w, &ignored);
  r.warmup_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_warm).count();
  if (monitor) r.t_start_ms = monitor->now_ms();
  r.requests = drive_load(mode, n_requests, [&](int i) { return one_request(sc, i, &reported[static_cast<size_t>(i)]); }, &r.wall_ms);
  for (int n : reported) r.n_gen_reported += n;
  r.stats = run_stats(r.requests, r.wall_ms);
  int events = 0;
  for (const RequestTiming& q : r.requests) events += q.n_gen();
  if (events != r.n_gen_reported)
    std::fprintf(stderr, "jetlm bench: the engine sent %d token events for %d generated tokens (%s): ITL and t/s count events\n",
                 events, r.n_gen_reported, sc.name.c_str());
  if (monitor) {
    r.t_end_ms = monitor->now_ms();
    monitor->sample_now();  // at least one reading inside every window
    r.have_monitor = true;
    r.monitor = monitor->summarize(r.t_start_ms, monitor->now_ms(), static_cast<double>(events));
  }
  return r;
}

// A decode step reads the weights once for every sequence in flight and gives
// each one token, so a request's t/s is the steps/s either way.
void fill_roofline(ScenarioResult& r, double peak_gbs) {
  r.bandwidth_gbs = static_cast<double>(r.model.bytes_per_token) * r.stats.gen_tps.mean / 1e9;
  r.roofline_pct = peak_gbs > 0 && r.bandwidth_gbs > 0 ? 100.0 * r.bandwidth_gbs / peak_gbs : -1;
  r.prompt_flops = 2.0 * static_cast<double>(r.model.n_params) * r.stats.prompt_tps.mean;
}

nlohmann::json to_json(const ScenarioResult& r, const MonitorInfo* mon) {
  nlohmann::json j;
  j["target"] = r.target;
  j["model_filename"] = r.model.filename;
  j["model_type"] = r.model.type;
  j["model_size"] = r.model.size;
  j["model_n_params"] = r.model.n_params;
  j["bytes_per_token"] = r.model.bytes_per_token;
  j["scenario"] = r.scenario.name;
  j["n_prompt"] = r.scenario.n_in;
  j["n_gen"] = r.scenario.n_out;
  j["repetitions"] = r.repetitions;
  j["backend"] = r.backend;
  j["n_gpu_layers"] = r.n_gpu_layers;
  j["n_threads"] = r.n_threads;
  j["load"] = r.load;
  j["test_time"] = r.test_time;
  j["wall_ms"] = r.wall_ms;
  j["t_start_ms"] = r.t_start_ms;
  j["t_end_ms"] = r.t_end_ms;
  add_stats_json(j, r.stats);
  j["bandwidth_gbs"] = r.bandwidth_gbs;
  j["roofline_pct"] = r.roofline_pct < 0 ? nlohmann::json(nullptr) : nlohmann::json(r.roofline_pct);
  j["prompt_flops"] = r.prompt_flops;
  j["n_gen_reported"] = r.n_gen_reported;
  j["monitor"] = r.have_monitor && mon ? to_json(r.monitor, *mon) : nlohmann::json(nullptr);
  j["samples"] = samples_json(r.requests);
  return j;
}

}  // namespace jetlm
