#include "bench/sysfs_probe.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <dirent.h>

namespace jetlm {

bool read_text_file(const std::string& path, std::string& out) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (!f) return false;
  out.clear();
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  std::fclose(f);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return true;
}

bool read_number_file(const std::string& path, double& out) {
  std::string s;
  if (!read_text_file(path, s) || s.empty()) return false;
  char* end = nullptr;
  out = std::strtod(s.c_str(), &end);
  return end != s.c_str();
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d))
      if (std::strcmp(e->d_name, ".") != 0 && std::strcmp(e->d_name, "..") != 0) names.push_back(e->d_name);
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string sysfs_root(const std::string& option_value) {
  if (!option_value.empty()) return option_value;
  const char* env = std::getenv("JETLM_SYSFS_ROOT");
  return env ? env : "";
}

namespace {
bool starts_with(const std::string& s, const char* p) { return s.compare(0, std::strlen(p), p) == 0; }
bool all_digits(const std::string& s, size_t from) {
  if (from >= s.size()) return false;
  for (size_t i = from; i < s.size(); ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}
// "Name:   1234 kB" from a /proc file, in bytes (-1 when absent).
int64_t proc_kb_field(const std::string& file, const char* name) {
  std::string text;
  if (!read_text_file(file, text)) return -1;
  const size_t at = text.find(name);
  if (at == std::string::npos) return -1;
  return std::strtoll(text.c_str() + at + std::strlen(name), nullptr, 10) * 1024;
}
}  // namespace

SysfsProbe::SysfsProbe(const std::string& root) : root_(root) {
  int max_cpu = -1;
  for (const std::string& n : list_dir(path("/sys/devices/system/cpu")))
    if (starts_with(n, "cpu") && all_digits(n, 3)) max_cpu = std::max(max_cpu, std::atoi(n.c_str() + 3));
  n_cpu_ = max_cpu + 1;
  cpu_max_mhz_.assign(static_cast<size_t>(n_cpu_), -1.f);
  for (int c = 0; c < n_cpu_; ++c) {
    double khz;
    if (read_number_file(path("/sys/devices/system/cpu/cpu" + std::to_string(c) + "/cpufreq/cpuinfo_max_freq"), khz))
      cpu_max_mhz_[static_cast<size_t>(c)] = static_cast<float>(khz / 1000.0);
  }
  for (const char* dir : {"/sys/class/thermal", "/sys/devices/virtual/thermal"}) {
    for (const std::string& n : list_dir(path(dir))) {
      if (!starts_with(n, "thermal_zone")) continue;
      const std::string zone = path(dir) + "/" + n;
      std::string type;
      double t;
      if (!read_number_file(zone + "/temp", t)) continue;
      if (!read_text_file(zone + "/type", type) || type.empty()) type = n;
      zone_paths_.push_back(zone + "/temp");
      zone_names_.push_back(type);
    }
    if (!zone_paths_.empty()) break;
  }
  find_gpu();
  find_rails();
}

void SysfsProbe::find_gpu() {
  // Tegra GPU load (per mille): gpu.0 on L4T R32, under platform/ on newer kernels.
  for (const char* p : {"/sys/devices/gpu.0/load", "/sys/devices/platform/gpu.0/load"}) {
    double v;
    if (read_number_file(path(p), v)) {
      gpu_load_path_ = path(p);
      break;
    }
  }
  // The GPU's devfreq node: 57000000.gpu (Nano), 17000000.gv11b (Xavier), 17000000.ga10b (Orin).
  std::vector<std::string> dirs;
  for (const std::string& n : list_dir(path("/sys/class/devfreq")))
    if (n.find("gpu") != std::string::npos || n.find("gv11b") != std::string::npos ||
        n.find("ga10b") != std::string::npos || n.find("gp10b") != std::string::npos)
      dirs.push_back(path("/sys/class/devfreq/" + n));
  dirs.push_back(path("/sys/devices/57000000.gpu/devfreq/57000000.gpu"));
  for (const std::string& d : dirs) {
    double hz;
    if (!read_number_file(d + "/cur_freq", hz)) continue;
    devfreq_dir_ = d;
    if (read_number_file(d + "/max_freq", hz)) gpu_max_mhz_ = static_cast<float>(hz / 1e6);
    if (gpu_load_path_.empty() && read_number_file(d + "/device/load", hz)) gpu_load_path_ = d + "/device/load";
    break;
  }
}

void SysfsProbe::find_rails() {
  // L4T R32: ina3221x, iio:deviceN/rail_name_K + in_powerK_input (mW).
  const std::string iio = path("/sys/bus/i2c/drivers/ina3221x");
  for (const std::string& dev : list_dir(iio))
    for (const std::string& sub : list_dir(iio + "/" + dev)) {
      if (!starts_with(sub, "iio:device")) continue;
      const std::string d = iio + "/" + dev + "/" + sub;
      for (int k = 0; k < 8; ++k) {
        Rail r;
        if (!read_text_file(d + "/rail_name_" + std::to_string(k), r.name)) continue;
        r.power_path = d + "/in_power" + std::to_string(k) + "_input";
        rails_.push_back(r);
        power_source_ = "ina3221 (iio)";
      }
    }
  // Orin and newer kernels: ina3221 hwmon, inK_label + currK_input (mA) + inK_input (mV).
  const std::string hw = path("/sys/bus/i2c/drivers/ina3221");
  for (const std::string& dev : list_dir(hw))
    for (const std::string& mon : list_dir(hw + "/" + dev + "/hwmon")) {
      const std::string d = hw + "/" + dev + "/hwmon/" + mon;
      for (int k = 1; k <= 8; ++k) {
        Rail r;
        if (!read_text_file(d + "/in" + std::to_string(k) + "_label", r.name)) continue;
        if (starts_with(r.name, "sum")) continue;  // the summed shunt channel repeats the others
        r.current_path = d + "/curr" + std::to_string(k) + "_input";
        r.volt_path = d + "/in" + std::to_string(k) + "_input";
        rails_.push_back(r);
        power_source_ = "ina3221 (hwmon)";
      }
    }
  for (size_t i = 0; i < rails_.size(); ++i)
    if (rails_[i].name == "POM_5V_IN" || rails_[i].name == "VDD_IN") input_rail_ = static_cast<int>(i);
}

void SysfsProbe::describe(MonitorInfo& info) const {
  info.n_cpu = n_cpu_;
  info.cpu_max_mhz = cpu_max_mhz_;
  info.temp_names = zone_names_;
  for (const Rail& r : rails_) info.rail_names.push_back(r.name);
  info.power_source = power_source_;
  if (has_gpu()) {
    info.source = "jetson";
    info.gpu_max_mhz = gpu_max_mhz_;
    const size_t slash = devfreq_dir_.find_last_of('/');
    info.gpu_name = slash == std::string::npos ? "tegra" : devfreq_dir_.substr(slash + 1);
  } else if (info.source.empty()) {
    info.source = "linux";
  }
}

bool SysfsProbe::read_cpu_times(std::vector<CpuTimes>& per_cpu, CpuTimes& all) const {
  std::string text;
  if (!read_text_file(path("/proc/stat"), text)) return false;
  per_cpu.assign(static_cast<size_t>(n_cpu_), CpuTimes{});
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    if (!starts_with(line, "cpu")) continue;
    // user nice system idle iowait irq softirq steal (guest time is inside user)
    unsigned long long v[8] = {0};
    char name[32];
    if (std::sscanf(line.c_str(), "%31s %llu %llu %llu %llu %llu %llu %llu %llu", name, &v[0], &v[1], &v[2], &v[3],
                    &v[4], &v[5], &v[6], &v[7]) < 5)
      continue;
    CpuTimes t;
    for (unsigned long long x : v) t.total += x;
    t.busy = t.total - v[3] - v[4];
    if (std::strcmp(name, "cpu") == 0) all = t;
    else {
      const int c = std::atoi(name + 3);
      if (c >= 0 && c < n_cpu_) per_cpu[static_cast<size_t>(c)] = t;
    }
  }
  return true;
}

void SysfsProbe::read(MonitorSample& s) {
  std::vector<CpuTimes> now;
  CpuTimes all;
  if (read_cpu_times(now, all)) {
    auto pct = [](const CpuTimes& a, const CpuTimes& b) {
      // An offline core has no line (total 0) and reads as -1.
      if (b.total == 0 || b.total <= a.total) return b.total == 0 ? -1.f : 0.f;
      return static_cast<float>(100.0 * static_cast<double>(b.busy - a.busy) / static_cast<double>(b.total - a.total));
    };
    s.cpu_util.assign(static_cast<size_t>(n_cpu_), -1.f);
    if (have_prev_) {
      for (size_t c = 0; c < now.size(); ++c) s.cpu_util[c] = pct(prev_[c], now[c]);
      s.cpu_util_total = pct(prev_all_, all);
    }
    prev_ = now;
    prev_all_ = all;
    have_prev_ = true;
  }
  s.cpu_mhz.assign(static_cast<size_t>(n_cpu_), -1.f);
  for (int c = 0; c < n_cpu_; ++c) {
    double khz;
    if (read_number_file(path("/sys/devices/system/cpu/cpu" + std::to_string(c) + "/cpufreq/scaling_cur_freq"), khz))
      s.cpu_mhz[static_cast<size_t>(c)] = static_cast<float>(khz / 1000.0);
  }
  s.rss_bytes = proc_kb_field(path("/proc/self/status"), "VmRSS:");
  s.mem_available_bytes = proc_kb_field(path("/proc/meminfo"), "MemAvailable:");
  s.temps_c.clear();
  for (const std::string& z : zone_paths_) {
    double m;
    s.temps_c.push_back(read_number_file(z, m) ? static_cast<float>(m / 1000.0) : -1.f);
  }
  double v;
  if (!gpu_load_path_.empty() && read_number_file(gpu_load_path_, v)) s.gpu_util = static_cast<float>(v / 10.0);
  if (!devfreq_dir_.empty() && read_number_file(devfreq_dir_ + "/cur_freq", v)) s.gpu_mhz = static_cast<float>(v / 1e6);
  s.rails_mw.clear();
  double sum = 0;
  for (const Rail& r : rails_) {
    double mw = -1, ma, mv;
    if (!r.power_path.empty()) {
      if (!read_number_file(r.power_path, mw)) mw = -1;
    } else if (read_number_file(r.current_path, ma) && read_number_file(r.volt_path, mv)) {
      mw = ma * mv / 1000.0;
    }
    s.rails_mw.push_back(static_cast<float>(mw));
    if (mw > 0) sum += mw;
  }
  if (!rails_.empty()) s.power_mw = input_rail_ >= 0 ? s.rails_mw[static_cast<size_t>(input_rail_)] : static_cast<float>(sum);
}

}  // namespace jetlm
