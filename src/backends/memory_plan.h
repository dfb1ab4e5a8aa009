// Where a GPU backend keeps the weights, chosen from what the device can do
// (never from one flag). Plain host code, no CUDA types: the CUDA backend fills
// a DeviceDesc from its queries, the CI tests fill one by hand.
//
// The plans, best first for each kind of device:
//  - Device:   copy every weight into device memory (discrete GPUs).
//  - InPlace:  register the file's map with the GPU and read it in place
//              (integrated GPUs with host registration: Xavier, Orin; --unified
//              on a discrete GPU). Physical memory holds the model once.
//  - Streamed: copy the weights into device memory through a small pinned
//              staging buffer, then drop the file's pages (madvise + fadvise
//              DONTNEED) so physical memory holds the model once (integrated
//              GPUs without host registration: Jetson Nano, TX1, TX2).
// Rejected on Tegra X1: mapped pinned memory (the GPU does not cache it there)
// and managed memory (with concurrentManagedAccess == 0 the CPU must not touch
// it while any kernel runs, and the CPU layers run beside the GPU's).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace jetlm {

// What a GPU offers, as the CUDA runtime reports it (or a test invents it).
struct DeviceDesc {
  bool present = false;
  std::string name;
  int cc = 0;                        // compute capability, 10 * major + minor (53 = Tegra X1)
  int sm_count = 0;
  bool integrated = false;           // shares DRAM with the CPU (Jetson)
  bool host_register = false;        // cudaDevAttrHostRegisterSupported
  bool host_pointer_registered = false;  // cudaDevAttrCanUseHostPointerForRegisteredMem
  bool pageable_access = false;      // cudaDevAttrPageableMemoryAccess
  bool concurrent_managed = false;   // cudaDevAttrConcurrentManagedAccess
  size_t free_bytes = 0;             // cudaMemGetInfo
  size_t total_bytes = 0;
  size_t mem_available = 0;          // host /proc/meminfo MemAvailable (0: unknown)
  std::string emulated;              // non-empty: a profile (tegra-x1) stands in for the real device
};

enum class WeightPlan { Device, InPlace, Streamed };
const char* plan_name(WeightPlan p);
// One line a user reads: what the plan does with the weights.
const char* plan_summary(WeightPlan p);

struct MemoryPlan {
  WeightPlan weights = WeightPlan::Device;
  std::string why;  // the device facts behind the choice
};

// The plan for a device; unified asks for InPlace (honoured where registration exists).
MemoryPlan choose_memory_plan(const DeviceDesc& d, bool unified);
// The next plan to try when `failed` failed at run time (registration refused,
// no pinned staging); Device is the last and has no fallback (returns Device).
WeightPlan fallback_plan(WeightPlan failed, const DeviceDesc& d);

// What the OS keeps for itself on an integrated GPU (its DRAM is the system's).
constexpr size_t kIntegratedOsReserve = size_t(256) << 20;
// Bytes a model may take from the device: cudaMemGetInfo's free figure on a
// discrete GPU; on an integrated one the system's available memory (which counts
// reclaimable page cache, unlike cudaMemGetInfo there) less the OS reserve.
size_t usable_device_bytes(const DeviceDesc& d);

// Where the weights' bytes end up under a plan (for jetlm info).
struct WeightPlacement {
  int64_t device = 0;      // copied into device memory
  int64_t host = 0;        // resident in host memory for the CPU's layers
  int64_t page_cache = 0;  // file pages kept in the page cache (read in place, or CPU layers)
};
WeightPlacement place_weights(WeightPlan p, int64_t gpu_weight_bytes, int64_t cpu_weight_bytes);

// A device as a profile describes it, for testing on another GPU and for
// jetlm info: "tegra-x1" is a Jetson Nano with mem_gb GB (2 or 4). The real
// device's figures cap the profile's (it cannot promise more than exists).
DeviceDesc emulated_device(const std::string& profile, double mem_gb, const DeviceDesc& real);
// JETLM_EMULATE_MEM_GB (default 4) for a profile's memory; Error when malformed.
double emulated_mem_gb_from_env();

}  // namespace jetlm
