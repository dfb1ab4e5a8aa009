#include "backends/memory_plan.h"

#include <algorithm>
#include <cstdlib>

#include "util/error.h"

namespace jetlm {

namespace {
// Pinned staging of the Streamed plan: two buffers of 4 MiB (cuda_backend.cpp).
const int64_t kStagingBytes = int64_t(8) << 20;
}  // namespace

const char* plan_name(WeightPlan p) {
  switch (p) {
    case WeightPlan::Device: return "device";
    case WeightPlan::InPlace: return "in-place";
    case WeightPlan::Streamed: return "streamed";
  }
  return "?";
}

const char* plan_summary(WeightPlan p) {
  switch (p) {
    case WeightPlan::Device: return "weights copied into device memory";
    case WeightPlan::InPlace: return "weights read in place from the registered file map";
    case WeightPlan::Streamed:
      return "weights streamed into device memory through pinned staging, then the file's pages released";
  }
  return "?";
}

MemoryPlan choose_memory_plan(const DeviceDesc& d, bool unified) {
  MemoryPlan p;
  if (d.host_register && (unified || d.integrated)) {
    p.weights = WeightPlan::InPlace;
    p.why = d.integrated ? "integrated GPU with host registration: the map is shared, not copied"
                         : "--unified on a GPU with host registration";
    return p;
  }
  if (d.integrated) {
    p.weights = WeightPlan::Streamed;
    p.why = "integrated GPU without host registration (Jetson Nano, TX1, TX2): one copy, page cache released";
    return p;
  }
  p.weights = WeightPlan::Device;
  p.why = unified ? "--unified asked, but this GPU cannot register host memory: copying"
                  : "discrete GPU: weights in its own memory";
  return p;
}

WeightPlan fallback_plan(WeightPlan failed, const DeviceDesc& d) {
  switch (failed) {
    case WeightPlan::InPlace: return d.integrated ? WeightPlan::Streamed : WeightPlan::Device;
    case WeightPlan::Streamed: return WeightPlan::Device;
    case WeightPlan::Device: return WeightPlan::Device;
  }
  return WeightPlan::Device;
}

size_t usable_device_bytes(const DeviceDesc& d) {
  if (!d.present) return 0;
  if (!d.integrated || d.mem_available == 0) return d.free_bytes;
  return d.mem_available > kIntegratedOsReserve ? d.mem_available - kIntegratedOsReserve : 0;
}

WeightPlacement place_weights(WeightPlan p, int64_t gpu_weight_bytes, int64_t cpu_weight_bytes) {
  WeightPlacement w;
  switch (p) {
    case WeightPlan::Device:  // the file stays cached until the OS needs the memory
      w.device = gpu_weight_bytes;
      w.page_cache = gpu_weight_bytes + cpu_weight_bytes;
      break;
    case WeightPlan::InPlace:
      w.page_cache = gpu_weight_bytes + cpu_weight_bytes;
      break;
    case WeightPlan::Streamed:
      w.device = gpu_weight_bytes;
      w.host = gpu_weight_bytes > 0 ? kStagingBytes : 0;
      w.page_cache = cpu_weight_bytes;
      break;
  }
  return w;
}

DeviceDesc emulated_device(const std::string& profile, double mem_gb, const DeviceDesc& real) {
  if (profile != "tegra-x1") fail("unknown device profile '", profile, "' (known: tegra-x1)");
  if (!(mem_gb > 0 && mem_gb <= 1024)) fail("device profile ", profile, ": memory of ", mem_gb, " GB is out of range");
  DeviceDesc d;
  d.present = true;
  d.emulated = profile;
  d.name = str_cat("Tegra X1 profile, ", mem_gb, " GB", real.present ? " on " + real.name : "");
  d.cc = 53;
  d.sm_count = 1;  // one Maxwell SMM of 128 cores
  d.integrated = true;
  d.host_register = false;
  d.host_pointer_registered = false;
  d.pageable_access = false;
  d.concurrent_managed = false;
  const size_t cap = static_cast<size_t>(mem_gb * 1024.0 * 1024.0 * 1024.0);
  d.total_bytes = real.present ? std::min(cap, real.total_bytes) : cap;
  d.free_bytes = real.present ? std::min(d.total_bytes, real.free_bytes) : d.total_bytes;
  d.mem_available = d.free_bytes;  // the cap is the whole board: its DRAM is all there is
  return d;
}

double emulated_mem_gb_from_env() {
  const char* v = std::getenv("JETLM_EMULATE_MEM_GB");
  if (!v || !*v) return 4.0;
  char* end = nullptr;
  const double gb = std::strtod(v, &end);
  if (end == v || *end != '\0' || !(gb > 0 && gb <= 1024))
    fail("JETLM_EMULATE_MEM_GB='", v, "': expected a size in GB, e.g. 2 or 4");
  return gb;
}

}  // namespace jetlm
