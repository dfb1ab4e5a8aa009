#include "bench/nvml_probe.h"

#include <cstring>

#include <dlfcn.h>

namespace jetlm {

namespace {
// The few NVML declarations used (nvml.h, stable C ABI since NVML 1).
using nvmlReturn = int;  // 0: NVML_SUCCESS
using nvmlDevice = void*;
struct NvmlUtilization {
  unsigned int gpu, memory;  // percent
};
struct NvmlMemory {
  unsigned long long total, free, used;  // bytes
};
constexpr int kClockGraphics = 0;     // NVML_CLOCK_GRAPHICS
constexpr int kTemperatureGpu = 0;    // NVML_TEMPERATURE_GPU
// nvmlClocksThrottleReason*: SwThermalSlowdown, HwThermalSlowdown, HwSlowdown.
constexpr unsigned long long kThermalReasons = 0x20ull | 0x40ull | 0x08ull;
}  // namespace

struct NvmlProbe::Api {
  void* lib = nullptr;
  nvmlReturn (*init)() = nullptr;
  nvmlReturn (*shutdown)() = nullptr;
  nvmlReturn (*handle_by_index)(unsigned int, nvmlDevice*) = nullptr;
  nvmlReturn (*name)(nvmlDevice, char*, unsigned int) = nullptr;
  nvmlReturn (*utilization)(nvmlDevice, NvmlUtilization*) = nullptr;
  nvmlReturn (*memory)(nvmlDevice, NvmlMemory*) = nullptr;
  nvmlReturn (*temperature)(nvmlDevice, int, unsigned int*) = nullptr;
  nvmlReturn (*power)(nvmlDevice, unsigned int*) = nullptr;  // mW
  nvmlReturn (*clock)(nvmlDevice, int, unsigned int*) = nullptr;  // MHz
  nvmlReturn (*max_clock)(nvmlDevice, int, unsigned int*) = nullptr;
  nvmlReturn (*throttle)(nvmlDevice, unsigned long long*) = nullptr;
};

namespace {
template <typename F>
void bind(void* lib, F& fn, const char* name) {
  fn = reinterpret_cast<F>(dlsym(lib, name));
}
}  // namespace

std::unique_ptr<NvmlProbe> NvmlProbe::open(int device) {
  void* lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) return nullptr;
  std::unique_ptr<Api> a(new Api);
  a->lib = lib;
  bind(lib, a->init, "nvmlInit_v2");
  bind(lib, a->shutdown, "nvmlShutdown");
  bind(lib, a->handle_by_index, "nvmlDeviceGetHandleByIndex_v2");
  bind(lib, a->name, "nvmlDeviceGetName");
  bind(lib, a->utilization, "nvmlDeviceGetUtilizationRates");
  bind(lib, a->memory, "nvmlDeviceGetMemoryInfo");
  bind(lib, a->temperature, "nvmlDeviceGetTemperature");
  bind(lib, a->power, "nvmlDeviceGetPowerUsage");
  bind(lib, a->clock, "nvmlDeviceGetClockInfo");
  bind(lib, a->max_clock, "nvmlDeviceGetMaxClockInfo");
  bind(lib, a->throttle, "nvmlDeviceGetCurrentClocksThrottleReasons");
  nvmlDevice dev = nullptr;
  if (!a->init || !a->shutdown || !a->handle_by_index || a->init() != 0) {
    dlclose(lib);
    return nullptr;
  }
  if (a->handle_by_index(static_cast<unsigned int>(device), &dev) != 0) {
    a->shutdown();
    dlclose(lib);
    return nullptr;
  }
  std::unique_ptr<NvmlProbe> p(new NvmlProbe);
  p->api_ = std::move(a);
  p->device_ = dev;
  return p;
}

NvmlProbe::~NvmlProbe() {
  if (api_) {
    api_->shutdown();
    dlclose(api_->lib);
  }
}

void NvmlProbe::describe(MonitorInfo& info) const {
  info.source = "nvml";
  char name[96] = {0};
  if (api_->name && api_->name(device_, name, sizeof name) == 0) info.gpu_name = name;
  unsigned int mhz = 0;
  if (api_->max_clock && api_->max_clock(device_, kClockGraphics, &mhz) == 0) info.gpu_max_mhz = static_cast<float>(mhz);
  NvmlMemory m;
  if (api_->memory && api_->memory(device_, &m) == 0) info.gpu_mem_total_bytes = static_cast<int64_t>(m.total);
  info.temp_names.push_back("GPU (nvml)");
  if (api_->power) info.power_source = "nvml";
}

void NvmlProbe::read(MonitorSample& s) const {
  NvmlUtilization u;
  if (api_->utilization && api_->utilization(device_, &u) == 0) s.gpu_util = static_cast<float>(u.gpu);
  NvmlMemory m;
  if (api_->memory && api_->memory(device_, &m) == 0) s.gpu_mem_used_bytes = static_cast<int64_t>(m.used);
  unsigned int v = 0;
  s.temps_c.push_back(api_->temperature && api_->temperature(device_, kTemperatureGpu, &v) == 0 ? static_cast<float>(v) : -1.f);
  if (api_->power && api_->power(device_, &v) == 0) s.power_mw = static_cast<float>(v);
  if (api_->clock && api_->clock(device_, kClockGraphics, &v) == 0) s.gpu_mhz = static_cast<float>(v);
  unsigned long long reasons = 0;
  if (api_->throttle && api_->throttle(device_, &reasons) == 0 && (reasons & kThermalReasons)) s.throttled = true;
}

}  // namespace jetlm
