#include "bench/monitor.h"

#include <algorithm>
#include <cctype>
#include <ctime>

#include "bench/nvml_probe.h"
#include "bench/sysfs_probe.h"

namespace jetlm {

Monitor::Monitor(const MonitorOptions& opts) : opts_(opts), sysfs_(new SysfsProbe(opts.root)) {
  t0_ = std::chrono::steady_clock::now();
  sysfs_->describe(info_);
  // A Jetson's GPU is read from sysfs (NVML there is a stub); a fake tree never uses the real NVML.
  if (opts_.nvml && !sysfs_->has_gpu() && opts_.root.empty()) nvml_ = NvmlProbe::open(0);
  if (nvml_) nvml_->describe(info_);
  // Zones that say how hot the processors are: cpu/gpu/soc/tj/package ones when
  // there are any (a Nano's PMIC-Die reads a constant 100 C), else all.
  auto is_core_zone = [](std::string n) {
    for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (const char* k : {"cpu", "gpu", "soc", "tj", "pkg", "nvml"})
      if (n.find(k) != std::string::npos) return true;
    return false;
  };
  bool any = false;
  for (const std::string& n : info_.temp_names) any = any || is_core_zone(n);
  for (const std::string& n : info_.temp_names) hot_zone_.push_back(!any || is_core_zone(n));
  sample_now();  // the first reading primes the CPU counters
  std::lock_guard<std::mutex> l(mu_);
  samples_.clear();
}

Monitor::~Monitor() { stop(); }

void Monitor::start() {
  if (th_.joinable()) return;
  stop_ = false;
  th_ = std::thread([this] { loop(); });
}

void Monitor::stop() {
  stop_ = true;
  if (th_.joinable()) th_.join();
}

double Monitor::now_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count();
}

MonitorSample Monitor::sample_now() {
  MonitorSample s;
  s.t_ms = now_ms();
  sysfs_->read(s);
  if (nvml_) nvml_->read(s);
  // Throttling: hot, and a busy unit's clock below 90% of its maximum.
  float hottest = -1;
  for (size_t z = 0; z < s.temps_c.size(); ++z)
    if (z >= hot_zone_.size() || hot_zone_[z]) hottest = std::max(hottest, s.temps_c[z]);
  if (hottest >= opts_.hot_c) {
    for (size_t c = 0; c < s.cpu_mhz.size() && c < info_.cpu_max_mhz.size() && c < s.cpu_util.size(); ++c)
      if (s.cpu_util[c] > 50 && s.cpu_mhz[c] > 0 && info_.cpu_max_mhz[c] > 0 && s.cpu_mhz[c] < 0.9f * info_.cpu_max_mhz[c])
        s.throttled = true;
    if (s.gpu_util > 50 && s.gpu_mhz > 0 && info_.gpu_max_mhz > 0 && s.gpu_mhz < 0.9f * info_.gpu_max_mhz) s.throttled = true;
  }
  std::lock_guard<std::mutex> l(mu_);
  samples_.push_back(s);
  return s;
}

void Monitor::loop() {
  auto next = std::chrono::steady_clock::now();
  while (!stop_) {
    next += std::chrono::milliseconds(opts_.period_ms);
    // Sleep in short steps so stop() returns quickly.
    while (!stop_ && std::chrono::steady_clock::now() < next)
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(next - std::chrono::steady_clock::now(),
                                                                                 std::chrono::milliseconds(20)));
    if (!stop_) sample_now();
    timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0) thread_cpu_ms_ = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
  }
}

std::vector<MonitorSample> Monitor::samples() const {
  std::lock_guard<std::mutex> l(mu_);
  return samples_;
}

namespace {
// Running mean / min / max of the known (>= 0) values.
struct Acc {
  double sum = 0, min = -1, max = -1;
  int n = 0;
  void add(double v) {
    if (v < 0) return;
    sum += v;
    min = n ? std::min(min, v) : v;
    max = n ? std::max(max, v) : v;
    ++n;
  }
  double mean() const { return n ? sum / n : -1; }
};
}  // namespace

MonitorSummary Monitor::summarize(double t0_ms, double t1_ms, double n_tokens) const {
  MonitorSummary m;
  Acc util, mhz, rss, avail, gutil, gmhz, gmem, temp, power;
  m.zone_max_c.assign(info_.temp_names.size(), -1);
  std::lock_guard<std::mutex> l(mu_);
  double energy = 0, prev_t = -1, prev_p = -1;
  for (const MonitorSample& s : samples_) {
    if (s.t_ms < t0_ms || s.t_ms > t1_ms) continue;
    ++m.n_samples;
    util.add(s.cpu_util_total);
    for (size_t c = 0; c < s.cpu_mhz.size(); ++c)
      if (c < s.cpu_util.size() && s.cpu_util[c] > 50) mhz.add(s.cpu_mhz[c]);
    rss.add(static_cast<double>(s.rss_bytes));
    avail.add(static_cast<double>(s.mem_available_bytes));
    gutil.add(s.gpu_util);
    gmhz.add(s.gpu_mhz);
    gmem.add(static_cast<double>(s.gpu_mem_used_bytes));
    for (size_t z = 0; z < s.temps_c.size() && z < m.zone_max_c.size(); ++z) {
      temp.add(s.temps_c[z]);
      m.zone_max_c[z] = std::max(m.zone_max_c[z], static_cast<double>(s.temps_c[z]));
    }
    power.add(s.power_mw);
    // Energy: trapezoids between consecutive readings of the window.
    if (s.power_mw >= 0 && prev_p >= 0) energy += 0.5 * (prev_p + s.power_mw) / 1000.0 * (s.t_ms - prev_t) / 1000.0;
    prev_t = s.t_ms;
    prev_p = s.power_mw;
    if (s.throttled) ++m.n_throttled;
  }
  m.cpu_util_mean = util.mean();
  m.cpu_util_max = util.max;
  m.cpu_mhz_mean = mhz.mean();
  m.cpu_mhz_min = mhz.min;
  m.rss_max_bytes = rss.max;
  m.mem_available_min_bytes = avail.min;
  m.gpu_util_mean = gutil.mean();
  m.gpu_util_max = gutil.max;
  m.gpu_mhz_mean = gmhz.mean();
  m.gpu_mhz_min = gmhz.min;
  m.gpu_mem_max_bytes = gmem.max;
  m.temp_max_c = temp.max;
  if (power.n) {
    m.power_mean_w = power.mean() / 1000.0;
    // A window shorter than two readings: mean power times its length.
    m.energy_j = power.n >= 2 ? energy : m.power_mean_w * (t1_ms - t0_ms) / 1000.0;
    if (n_tokens > 0) m.j_per_token = m.energy_j / n_tokens;
  }
  m.throttled = m.n_throttled > 0;
  return m;
}

namespace {
nlohmann::json known(double v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); }
}  // namespace

nlohmann::json to_json(const MonitorInfo& info) {
  nlohmann::json j;
  j["source"] = info.source;
  j["gpu_name"] = info.gpu_name;
  j["n_cpu"] = info.n_cpu;
  j["cpu_max_mhz"] = info.cpu_max_mhz;
  j["gpu_max_mhz"] = known(info.gpu_max_mhz);
  j["gpu_mem_total_bytes"] = known(static_cast<double>(info.gpu_mem_total_bytes));
  j["temp_names"] = info.temp_names;
  j["rail_names"] = info.rail_names;
  j["power_source"] = info.power_source.empty() ? nlohmann::json("n/a") : nlohmann::json(info.power_source);
  return j;
}

nlohmann::json to_json(const MonitorSummary& s, const MonitorInfo& info) {
  nlohmann::json j;
  j["n_samples"] = s.n_samples;
  j["cpu_util_mean"] = known(s.cpu_util_mean);
  j["cpu_util_max"] = known(s.cpu_util_max);
  j["cpu_mhz_mean"] = known(s.cpu_mhz_mean);
  j["cpu_mhz_min"] = known(s.cpu_mhz_min);
  j["rss_max_bytes"] = known(s.rss_max_bytes);
  j["mem_available_min_bytes"] = known(s.mem_available_min_bytes);
  j["gpu_util_mean"] = known(s.gpu_util_mean);
  j["gpu_util_max"] = known(s.gpu_util_max);
  j["gpu_mhz_mean"] = known(s.gpu_mhz_mean);
  j["gpu_mhz_min"] = known(s.gpu_mhz_min);
  j["gpu_mem_max_bytes"] = known(s.gpu_mem_max_bytes);
  j["temp_max_c"] = known(s.temp_max_c);
  nlohmann::json zones = nlohmann::json::object();
  for (size_t z = 0; z < s.zone_max_c.size() && z < info.temp_names.size(); ++z) zones[info.temp_names[z]] = known(s.zone_max_c[z]);
  j["temp_zone_max_c"] = zones;
  j["power_mean_w"] = known(s.power_mean_w);
  j["energy_j"] = known(s.energy_j);
  j["j_per_token"] = known(s.j_per_token);
  j["throttled"] = s.throttled;
  j["n_throttled"] = s.n_throttled;
  return j;
}

nlohmann::json timeline_json(const std::vector<MonitorSample>& samples) {
  nlohmann::json t = nlohmann::json::array(), util = nlohmann::json::array(), mhz = nlohmann::json::array(),
                 rss = nlohmann::json::array(), gutil = nlohmann::json::array(), gmhz = nlohmann::json::array(),
                 temp = nlohmann::json::array(), power = nlohmann::json::array(), thr = nlohmann::json::array();
  for (const MonitorSample& s : samples) {
    t.push_back(s.t_ms);
    util.push_back(known(s.cpu_util_total));
    double sum = 0;
    int n = 0;
    for (float f : s.cpu_mhz)
      if (f > 0) sum += f, ++n;
    mhz.push_back(n ? nlohmann::json(sum / n) : nlohmann::json(nullptr));
    rss.push_back(known(static_cast<double>(s.rss_bytes)));
    gutil.push_back(known(s.gpu_util));
    gmhz.push_back(known(s.gpu_mhz));
    float hottest = -1;
    for (float f : s.temps_c) hottest = std::max(hottest, f);
    temp.push_back(known(hottest));
    power.push_back(s.power_mw < 0 ? nlohmann::json(nullptr) : nlohmann::json(s.power_mw / 1000.0));
    thr.push_back(s.throttled);
  }
  return nlohmann::json{{"t_ms", t},         {"cpu_util", util}, {"cpu_mhz", mhz},     {"rss_bytes", rss}, {"gpu_util", gutil},
                        {"gpu_mhz", gmhz},   {"temp_max_c", temp}, {"power_w", power}, {"throttled", thr}};
}

}  // namespace jetlm
