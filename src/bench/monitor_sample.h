// One reading of the system monitor. Fields a machine cannot provide stay at
// their "unknown" value (-1, or empty), reported as null ("n/a").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace jetlm {

struct MonitorSample {
  double t_ms = 0;                // since the monitor started
  std::vector<float> cpu_util;    // [n_cpu] busy % of each core since the previous sample (-1: offline)
  std::vector<float> cpu_mhz;     // [n_cpu] current frequency (-1: unknown / offline)
  float cpu_util_total = -1;      // busy % of all cores together
  int64_t rss_bytes = -1;         // resident set of this process
  int64_t mem_available_bytes = -1;  // MemAvailable of the system
  float gpu_util = -1;            // % busy
  float gpu_mhz = -1;             // current GPU clock
  int64_t gpu_mem_used_bytes = -1;
  std::vector<float> temps_c;     // [n_zone] temperatures, names in MonitorInfo::temp_names
  std::vector<float> rails_mw;    // [n_rail] power of each rail, names in MonitorInfo::rail_names
  float power_mw = -1;            // board input power (the input rail, else the sum), or NVML's GPU power
  bool throttled = false;         // a clock below its maximum while hot (or a thermal throttle reason)
};

// What the probes found (fixed for a monitor's life).
struct MonitorInfo {
  std::string source;                 // "jetson", "nvml", "linux" (CPU only)
  std::string gpu_name;               // NVML device name or the devfreq node
  int n_cpu = 0;
  std::vector<float> cpu_max_mhz;     // [n_cpu] cpuinfo_max_freq
  float gpu_max_mhz = -1;
  int64_t gpu_mem_total_bytes = -1;
  std::vector<std::string> temp_names, rail_names;
  std::string power_source;           // "ina3221 (iio)", "ina3221 (hwmon)", "nvml", "" (none: n/a)
};

}  // namespace jetlm
