#include "backends/cuda/device_desc.h"

#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "backends/cuda/arch.h"

namespace jetlm {
namespace cuda {

namespace {
std::atomic<int64_t> g_allocated{0};

int attr(cudaDeviceAttr what, int device) {
  int v = 0;
  if (cudaDeviceGetAttribute(&v, what, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return v;
}

// /proc/meminfo MemAvailable in bytes (0 when unreadable).
size_t mem_available() {
  FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  unsigned long long kb = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
  std::fclose(f);
  return static_cast<size_t>(kb) * 1024;
}
}  // namespace

void note_device_alloc(int64_t delta) { g_allocated += delta; }
int64_t device_allocated() { return g_allocated.load(); }

DeviceDesc describe_device(int device) {
  DeviceDesc d;
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess || device < 0 || device >= count) {
    (void)cudaGetLastError();
    return d;
  }
  cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, device) != cudaSuccess) {
    (void)cudaGetLastError();
    return d;
  }
  d.present = true;
  d.name = prop.name;
  d.cc = 10 * prop.major + prop.minor;
  d.sm_count = prop.multiProcessorCount;
  d.integrated = prop.integrated != 0;
#if defined(CUDART_VERSION) && CUDART_VERSION >= 9020
  d.host_register = attr(cudaDevAttrHostRegisterSupported, device) != 0;
#else
  d.host_register = !d.integrated || d.cc >= 72;  // (no attribute: Tegra before Xavier cannot register)
#endif
  d.host_pointer_registered = attr(cudaDevAttrCanUseHostPointerForRegisteredMem, device) != 0;
  d.pageable_access = attr(cudaDevAttrPageableMemoryAccess, device) != 0;
  d.concurrent_managed = attr(cudaDevAttrConcurrentManagedAccess, device) != 0;
  int cur = 0;
  const bool same = cudaGetDevice(&cur) == cudaSuccess && cur == device;
  if (same && cudaMemGetInfo(&d.free_bytes, &d.total_bytes) != cudaSuccess) (void)cudaGetLastError();
  if (!same) d.total_bytes = prop.totalGlobalMem;
  d.mem_available = d.integrated ? mem_available() : 0;
#if JETLM_CUDA_EMULATED
  DeviceDesc e = emulated_device("tegra-x1", emulated_mem_gb_from_env(), d);
  const int64_t used = std::min<int64_t>(g_allocated.load(), static_cast<int64_t>(e.total_bytes));
  e.free_bytes = std::min(e.free_bytes, e.total_bytes - static_cast<size_t>(used));
  e.mem_available = e.free_bytes;
  return e;
#else
  return d;
#endif
}

}  // namespace cuda
}  // namespace jetlm
