// The system monitor of jetlm bench: a thread that reads the probes every
// period (100 ms) while the benchmark runs. A reading is ~20 small file reads
// (and a few NVML calls): well under 1% of one core. Runs ask for the summary
// of their own time window; the whole timeline goes to the JSON for plots.
#pragma once
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/monitor_sample.h"

namespace jetlm {

class SysfsProbe;
class NvmlProbe;

struct MonitorOptions {
  std::string root;         // sysfs/proc root ("" the real system)
  int period_ms = 100;
  bool nvml = true;         // try NVML for a discrete GPU
  float hot_c = 75.f;       // at or above: a clock below 90% of its maximum on a busy unit counts as throttling
};

// Figures of one run's window (-1 / NaN-free: unknown fields stay -1 and print as null).
struct MonitorSummary {
  int n_samples = 0;
  double cpu_util_mean = -1, cpu_util_max = -1;   // all cores together, %
  double cpu_mhz_mean = -1, cpu_mhz_min = -1;     // over busy online cores
  double rss_max_bytes = -1, mem_available_min_bytes = -1;
  double gpu_util_mean = -1, gpu_util_max = -1, gpu_mhz_mean = -1, gpu_mhz_min = -1, gpu_mem_max_bytes = -1;
  double temp_max_c = -1;                          // hottest zone
  std::vector<double> zone_max_c;                  // [n_zone]
  double power_mean_w = -1, energy_j = -1, j_per_token = -1;  // -1: no power monitor ("n/a")
  bool throttled = false;
  int n_throttled = 0;                             // samples flagged
};

class Monitor {
 public:
  explicit Monitor(const MonitorOptions& opts);
  ~Monitor();  // stops the thread

  void start();
  void stop();
  double now_ms() const;  // on the samples' clock
  // One reading now (also what the thread does each period).
  MonitorSample sample_now();

  const MonitorInfo& info() const { return info_; }
  // Summary of the samples in [t0, t1]; n_tokens for J/token (0: none).
  MonitorSummary summarize(double t0_ms, double t1_ms, double n_tokens) const;
  std::vector<MonitorSample> samples() const;
  // CPU time the sampling thread has used (its cost: compare with now_ms()).
  double thread_cpu_ms() const { return thread_cpu_ms_; }

 private:
  void loop();
  MonitorOptions opts_;
  MonitorInfo info_;
  std::vector<bool> hot_zone_;  // [n_zone] counts for throttling
  std::unique_ptr<SysfsProbe> sysfs_;
  std::unique_ptr<NvmlProbe> nvml_;
  std::chrono::steady_clock::time_point t0_;
  mutable std::mutex mu_;
  std::vector<MonitorSample> samples_;
  std::atomic<bool> stop_{false};
  std::atomic<double> thread_cpu_ms_{0};
  std::thread th_;
};

nlohmann::json to_json(const MonitorInfo& info);
nlohmann::json to_json(const MonitorSummary& s, const MonitorInfo& info);
// Columns of the timeline: t_ms, cpu_util, cpu_mhz (mean of online cores), rss, gpu_util, gpu_mhz, temp_max_c, power_w.
nlohmann::json timeline_json(const std::vector<MonitorSample>& samples);

}  // namespace jetlm
