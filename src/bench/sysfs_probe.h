// Reads the Linux and Jetson monitoring files (as tegrastats and jtop do):
// /proc/stat, /proc/meminfo, /proc/self/status, cpufreq, thermal zones,
// the Tegra GPU load and devfreq nodes, and the INA3221 power rails (the old
// iio driver of L4T R32 and the hwmon driver of Orin). Every path is taken
// under a root directory, so tests can point it at a fake tree.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "bench/monitor_sample.h"

namespace jetlm {

class SysfsProbe {
 public:
  // root: "" for the real system (else a directory holding proc/ and sys/).
  explicit SysfsProbe(const std::string& root);

  void describe(MonitorInfo& info) const;  // what was found
  void read(MonitorSample& s);             // fills the fields it can
  bool has_gpu() const { return !gpu_load_path_.empty() || !devfreq_dir_.empty(); }

 private:
  struct Rail {
    std::string name;
    std::string power_path;             // mW (iio driver)
    std::string current_path, volt_path;  // mA, mV (hwmon driver)
  };
  struct CpuTimes {
    uint64_t busy = 0, total = 0;
  };
  std::string path(const std::string& p) const { return root_ + p; }
  void find_gpu();
  void find_rails();
  bool read_cpu_times(std::vector<CpuTimes>& per_cpu, CpuTimes& all) const;

  std::string root_;
  int n_cpu_ = 0;
  std::vector<float> cpu_max_mhz_;
  std::vector<CpuTimes> prev_;
  CpuTimes prev_all_;
  bool have_prev_ = false;
  std::vector<std::string> zone_paths_, zone_names_;
  std::string gpu_load_path_, devfreq_dir_;
  float gpu_max_mhz_ = -1;
  std::vector<Rail> rails_;
  int input_rail_ = -1;  // POM_5V_IN / VDD_IN: the board's total
  std::string power_source_;
};

// The root the monitor reads: --sysfs-root when given, else $JETLM_SYSFS_ROOT, else "".
std::string sysfs_root(const std::string& option_value);

// Small file helpers (exposed for the NVML-less GPU checks and tests).
bool read_text_file(const std::string& path, std::string& out);
bool read_number_file(const std::string& path, double& out);  // first number in the file
std::vector<std::string> list_dir(const std::string& dir);      // names, sorted, without . and ..

}  // namespace jetlm
