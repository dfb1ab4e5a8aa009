// jetlm bench --scenarios (in-process engine) and --url (a server): the
// matrix of models x -ngl x -t x scenarios, a table while it runs, a progress
// bar on stderr, and --json / --plots at the end.
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/cpu/cpu_features.h"
#include "bench/bandwidth.h"
#include "bench/bench.h"
#include "bench/monitor.h"
#include "bench/remote.h"
#include "bench/scenario.h"
#include "bench/scenario_runner.h"
#include "bench/sysfs_probe.h"
#include "models/model.h"
#include "text/tokenizer.h"
#include "tools/bench_cli.h"
#include "util/error.h"

namespace jetlm {

namespace {

using Json = nlohmann::json;

bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Runs done, the share of the expected work done, and an ETA from the rate so far.
class Progress {
 public:
  explicit Progress(std::vector<double> weights) : weights_(std::move(weights)), t0_(std::chrono::steady_clock::now()) {
    for (double w : weights_) total_ += w;
    show();
  }
  void done_one() {
    if (done_ < weights_.size()) done_w_ += weights_[done_++];
    show();
  }
  void finish() const {
    if (tty_) std::fputc('\n', stderr);
  }

 private:
  void show() const {
    const double frac = total_ > 0 ? done_w_ / total_ : 1;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    const int width = 30, fill = static_cast<int>(frac * width + 0.5);
    char eta[32] = "?";
    if (done_ > 0 && frac > 0) std::snprintf(eta, sizeof eta, "%.0fs", el / frac - el);
    std::fprintf(stderr, "%s[%s%s] %zu/%zu runs, %.0fs elapsed, ETA %s%s", tty_ ? "\r" : "", std::string(static_cast<size_t>(fill), '#').c_str(),
                 std::string(static_cast<size_t>(width - fill), '.').c_str(), done_, weights_.size(), el, eta, tty_ ? "   " : "\n");
    std::fflush(stderr);
  }
  std::vector<double> weights_;
  double total_ = 0, done_w_ = 0;
  size_t done_ = 0;
  std::chrono::steady_clock::time_point t0_;
  bool tty_ = isatty(2) != 0;
};

// Expected cost of a run, in "decode-token equivalents" (a prompt token costs ~1/8 of one).
double run_weight(const Scenario& s, int requests) { return (s.n_in / 8.0 + s.n_out) * (requests + 1); }

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
std::string opt_fmt(const char* f, double v) { return v < 0 ? "n/a" : fmt(f, v); }

void print_header() {
  std::printf("| %-28s | %-8s | %4s | %-16s | %10s | %9s | %8s | %8s | %9s | %8s | %8s | %7s | %6s | %7s | %4s |\n", "model",
              "backend", "ngl", "scenario", "in:out", "TTFT p50", "ITL p50", "ITL p99", "TTLT p50", "pp t/s", "tg t/s",
              "GB/s", "% peak", "J/tok", "thr");
  std::printf("|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|\n", std::string(30, '-').c_str(), std::string(10, '-').c_str(),
              "-----:", std::string(18, '-').c_str(), "-----------:", "----------:", "---------:", "---------:",
              "----------:", "---------:", "---------:", "--------:", "-------:", "--------:", "-----");
}

void print_row(const ScenarioResult& r) {
  if (isatty(1) && isatty(2)) std::fputs("\r\033[K", stderr);  // the progress bar's line becomes the row's
  const std::string label = r.target.size() > 28 ? r.target.substr(0, 28) : r.target;
  const std::string backend = r.backend.size() > 8 ? r.backend.substr(r.backend.size() - 8) : r.backend;
  const std::string shape = std::to_string(r.scenario.n_in) + ":" + std::to_string(r.scenario.n_out);
  std::string name = r.scenario.name;
  if (r.load != "sync") name += " " + r.load;
  std::printf("| %-28s | %-8s | %4d | %-16s | %10s | %9.1f | %8.2f | %8.2f | %9.1f | %8.1f | %8.2f | %7.2f | %6s | %7s | %4s |\n",
              label.c_str(), backend.c_str(), r.n_gpu_layers, name.c_str(), shape.c_str(), r.stats.ttft_ms.p50,
              r.stats.itl_ms.p50, r.stats.itl_ms.p99, r.stats.ttlt_ms.p50, r.stats.prompt_tps.mean, r.stats.gen_tps.mean,
              r.bandwidth_gbs, opt_fmt("%.1f", r.roofline_pct).c_str(),
              r.have_monitor ? opt_fmt("%.3f", r.monitor.j_per_token).c_str() : "n/a",
              r.have_monitor && r.monitor.throttled ? "YES" : "no");
  if (r.stats.n_errors > 0)
    std::printf("|   %d of %d requests failed (%d timeouts)\n", r.stats.n_errors, r.repetitions, r.stats.n_timeouts);
  std::fflush(stdout);
}

Json model_json(const Model& m, const BenchModelInfo& info) {
  return Json{{"filename", info.filename}, {"path", info.path}, {"type", info.type}, {"arch", m.hparams().arch_name},
              {"size", info.size}, {"n_params", info.n_params}, {"bytes_per_token", info.bytes_per_token},
              {"n_layer", m.hparams().n_layer}, {"n_embd", m.hparams().n_embd}, {"n_vocab", m.hparams().n_vocab},
              {"file_type", m.file().get_u32_or("general.file_type", 0xFFFFFFFFu)}};
}

Json system_json(const Monitor* mon) {
  Json j;
  j["cpu_info"] = bench_cpu_name();
  j["cpu_kernels"] = cpu_isa_name(select_cpu_isa());
  j["physical_cores"] = physical_cores();
  struct utsname u;
  if (uname(&u) == 0) {
    j["hostname"] = u.nodename;
    j["kernel"] = std::string(u.sysname) + " " + u.release;
    j["machine"] = u.machine;
  }
  std::string meminfo;
  if (read_text_file("/proc/meminfo", meminfo)) {
    const size_t at = meminfo.find("MemTotal:");
    if (at != std::string::npos) j["mem_total_bytes"] = std::stoll(meminfo.substr(at + 9)) * 1024;
  }
  std::string model;
  if (read_text_file("/proc/device-tree/model", model)) j["board"] = model.c_str();  // Jetson: "NVIDIA Jetson Nano Developer Kit"
  j["monitor"] = mon ? to_json(mon->info()) : Json(nullptr);
  return j;
}

}  // namespace

int bench_scenarios(const Args& a) {
  const std::vector<Scenario> scenarios = parse_scenarios(a.has("--scenarios") ? a.get("--scenarios") : "quick");
  const int reps = static_cast<int>(a.get_int("-r", 1, 1000000));
  const bool remote = a.has("--url");
  const int warmup = static_cast<int>(a.get_int("--warmup"));
  const LoadMode mode = parse_load_mode(a.get("--rate"), static_cast<int>(a.get_int("--concurrency")));
  const bool sweep = a.has("--sweep");
  if (sweep && !remote) throw UsageError("--sweep: needs --url (in-process runs take --concurrency N or --rate)");
  // At least N requests for N in flight.
  const int n_req = mode.kind == LoadMode::Concurrency ? std::max(reps, static_cast<int>(mode.value)) : reps;
  if (warmup < 0) throw UsageError("--warmup: expected N >= 0");
  // In-process: -m / -hf models. Remote: -m items that are files give the local tokenizer, others name the server's model.
  std::vector<std::string> model_paths, server_names;
  if (remote) {
    for (const std::string& m : bench_list_items(a, "-m")) (file_exists(m) ? model_paths : server_names).push_back(m);
  } else {
    model_paths = bench_model_paths(a);
  }
  if (!remote && model_paths.empty()) throw UsageError("jetlm bench --scenarios: -m MODEL or -hf REPO is required");
  const std::vector<int> ngls = bench_int_list(a, "-ngl", 0);
  const std::vector<int> threads = a.has("-t") ? bench_int_list(a, "-t", 1) : std::vector<int>{physical_cores()};

  // The monitor runs for the whole command; each run summarizes its own window.
  std::unique_ptr<Monitor> monitor;
  if (!a.has("--no-monitor")) {
    MonitorOptions mo;
    mo.root = sysfs_root(a.get("--sysfs-root"));
    monitor.reset(new Monitor(mo));
    monitor->start();
  }

  Json out;
  out["jetlm_bench"] = 1;
  out["test_time"] = bench_utc_now();
  out["system"] = system_json(monitor.get());
  out["models"] = Json::array();
  out["runs"] = Json::array();
  std::vector<ScenarioResult> results;
  const MonitorInfo* mi = monitor ? &monitor->info() : nullptr;
  const BenchModelInfo* remote_info = nullptr;
  double remote_peak = 0;
  const auto t_command = std::chrono::steady_clock::now();
  auto record = [&](ScenarioResult& r) {
    if (r.backend.compare(0, 6, "remote") == 0 && remote_info && remote_info->n_params > 0) {
      r.model = *remote_info;
      fill_roofline(r, remote_peak);
    }
    print_row(r);
    out["runs"].push_back(to_json(r, mi));
    results.push_back(r);
  };

  if (remote) {
    RemoteOptions ro;
    ro.url = a.get("--url");
    ro.api = a.get("--api");
    ro.model = a.has("--model-name") || server_names.empty() ? a.get("--model-name") : server_names.front();
    ro.timeout_s = a.get_double("--timeout");
    std::unique_ptr<Model> tok_model;
    std::unique_ptr<Tokenizer> tok;
    if (!model_paths.empty()) {
      tok_model = Model::load(model_paths.front());
      tok = Tokenizer::from_gguf(tok_model->file());
    }
    ro.warmup = warmup;
    RemoteTarget target(ro, tok.get());
    // With -m, the runs know the model's bytes per token: bandwidth and roofline of the server's speed.
    BenchModelInfo info;
    if (tok_model) info = describe_model(*tok_model, model_paths.front());
    const double peak = tok_model ? bench_peak_gbs(a, false) : 0;
    remote_info = &info;
    remote_peak = peak;
    out["remote"] = Json{{"url", ro.url}, {"api", ro.api}, {"model", ro.model}, {"prompt_source", target.prompt_source()}};
    std::vector<double> weights;
    for (const Scenario& s : scenarios) weights.push_back(run_weight(s, n_req) * (sweep ? 6 : 1));
    Progress progress(weights);
    print_header();
    for (const Scenario& s : scenarios) {
      ScenarioResult first = target.run(s, sweep ? LoadMode{} : mode, n_req, monitor.get());
      record(first);
      if (sweep) {
        LoadMode max;
        max.kind = LoadMode::Throughput;
        ScenarioResult sat = target.run(s, max, n_req, monitor.get());
        record(sat);
        for (const LoadMode& m : sweep_rates(first.stats.request_rate, sat.stats.request_rate, 4)) {
          ScenarioResult rr = target.run(s, m, n_req, monitor.get());
          record(rr);
        }
      }
      progress.done_one();
    }
    progress.finish();
  } else {
    std::vector<double> weights;
    for (size_t i = 0; i < model_paths.size() * ngls.size() * threads.size(); ++i)
      for (const Scenario& s : scenarios) weights.push_back(run_weight(s, n_req));
    int n_ctx = 0;
    for (const Scenario& s : scenarios) n_ctx = std::max(n_ctx, s.n_in + s.n_out + 1);
    std::unique_ptr<Progress> progress;
    bool header = false;
    for (const std::string& path : model_paths) {
      auto model = Model::load(path);
      auto tok = Tokenizer::from_gguf(model->file());
      const BenchModelInfo info = describe_model(*model, path);
      out["models"].push_back(model_json(*model, info));
      for (int ngl : ngls) {
        const double peak = bench_peak_gbs(a, ngl > 0);
        for (int nt : threads) {
          ScenarioOptions so;
          so.n_gpu_layers = ngl;
          so.n_threads = nt;
          // Sequence slots: N for --concurrency N; open-loop rates queue beyond 4.
          so.n_seq = mode.kind == LoadMode::Sync ? 1 : mode.kind == LoadMode::Concurrency ? mode.max_in_flight(n_req) : std::min(n_req, 4);
          so.warmup = warmup;
          so.unified = a.has("--unified");
          so.n_ctx = n_ctx;
          so.n_batch = bench_int_list(a, "-b", 1).front();
          ScenarioBench bench(*model, *tok, info, so);
          if (!progress) progress.reset(new Progress(weights));
          if (!header) print_header(), header = true;
          for (const Scenario& s : scenarios) {
            ScenarioResult r = bench.run(s, mode, n_req, monitor.get());
            fill_roofline(r, peak);
            record(r);
            progress->done_one();
          }
        }
      }
    }
    if (progress) progress->finish();
  }
  // The cost of the bookkeeping: the whole command against the timed and the
  // warm-up requests (the rest: loading, monitoring, reports), and the monitor thread's CPU.
  double timed_ms = 0, warm_ms = 0;
  for (const ScenarioResult& r : results) timed_ms += r.wall_ms, warm_ms += r.warmup_ms;
  const double total_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_command).count();
  out["timing"] = Json{{"command_ms", total_ms}, {"timed_requests_ms", timed_ms}, {"warmup_requests_ms", warm_ms},
                       {"overhead_pct", total_ms > 0 ? 100.0 * (total_ms - timed_ms - warm_ms) / total_ms : 0.0}};
  if (monitor) {
    monitor->stop();
    out["timeline"] = timeline_json(monitor->samples());
    out["timing"]["monitor_cpu_ms"] = monitor->thread_cpu_ms();
    out["timing"]["monitor_cpu_pct"] = total_ms > 0 ? 100.0 * monitor->thread_cpu_ms() / total_ms : 0;
  }
  if (a.has("--json") || a.has("--plots")) {
    const std::string path = a.has("--json") ? a.get("--json") : a.get("--plots") + "/bench.json";
    if (!a.has("--json")) ::mkdir(a.get("--plots").c_str(), 0755);
    std::ofstream f(path);
    if (!f) fail("--json: cannot write '", path, "'");
    f << out.dump(1) << "\n";
    if (!f) fail("--json: error writing '", path, "'");
    f.close();
    if (a.has("--plots")) bench_plots(path, a.get("--plots"));
  }
  return 0;
}

}  // namespace jetlm
