// Discrete NVIDIA GPU figures through NVML, loaded at run time with dlopen
// (libnvidia-ml.so.1 ships with the driver; no link-time dependency, and a
// machine without it simply has no NVML figures).
#pragma once
#include <memory>

#include "bench/monitor_sample.h"

namespace jetlm {

class NvmlProbe {
 public:
  // nullptr when NVML or a device is absent.
  static std::unique_ptr<NvmlProbe> open(int device = 0);
  ~NvmlProbe();
  void describe(MonitorInfo& info) const;
  void read(MonitorSample& s) const;  // utilisation, memory, temperature, power, clock, thermal throttle

  struct Api;

 private:
  NvmlProbe() = default;
  std::unique_ptr<Api> api_;
  void* device_ = nullptr;
};

}  // namespace jetlm
