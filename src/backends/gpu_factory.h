// Creates the GPU backend of a CUDA build; in a build without CUDA (or on a
// machine without a GPU) it throws one clear Error.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

#include "backends/backend.h"

namespace jetlm {

struct GpuOptions {
  int device = 0;
  bool unified = false;  // read weights from the registered mmap instead of copying them
};

std::unique_ptr<Backend> make_gpu_backend(const GpuOptions& opts);
// True when this build has a CUDA backend and a device is present.
bool gpu_available();
// Free and total memory of the GPU (false without one).
bool gpu_memory_info(size_t* free_bytes, size_t* total_bytes);

// Bandwidths of the GPU (jetlm bench --bandwidth), GB/s; -1 where not measured.
struct GpuBandwidth {
  std::string name;
  bool integrated = false;       // shares DRAM with the CPU (Jetson)
  double device_read_gbs = -1;   // a kernel reading device memory
  double d2d_gbs = -1;           // cudaMemcpy device to device (bytes read + written, per second)
  double h2d_gbs = -1;           // cudaMemcpy from pinned host memory
  double mapped_read_gbs = -1;   // a kernel reading mapped (zero-copy) host memory: integrated GPUs
};
// Measures with buffers of `bytes` (false without a CUDA device).
bool gpu_measure_bandwidth(size_t bytes, GpuBandwidth* out);

}  // namespace jetlm
