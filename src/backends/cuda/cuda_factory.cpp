// The GPU factory of a CUDA build (the no-CUDA stub is backends/gpu_factory.cpp).
#include "backends/cuda/bandwidth.h"
#include "backends/cuda/cuda_backend.h"
#include "backends/gpu_factory.h"

namespace jetlm {

namespace cuda {
std::unique_ptr<Backend> make_cuda_backend(const GpuOptions& opts) { return std::make_unique<CudaBackend>(opts); }
}  // namespace cuda

std::unique_ptr<Backend> make_gpu_backend(const GpuOptions& opts) { return cuda::make_cuda_backend(opts); }

bool gpu_available() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return n > 0;
}

bool gpu_memory_info(size_t* free_bytes, size_t* total_bytes) {
  if (!gpu_available()) return false;
  if (cudaMemGetInfo(free_bytes, total_bytes) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return true;
}

bool gpu_measure_bandwidth(size_t bytes, GpuBandwidth* out) {
  cuda::BandwidthFigures f;
  if (!cuda::measure_bandwidth(bytes, &f)) return false;
  out->name = f.name;
  out->integrated = f.integrated;
  out->device_read_gbs = f.device_read_gbs;
  out->d2d_gbs = f.d2d_gbs;
  out->h2d_gbs = f.h2d_gbs;
  out->mapped_read_gbs = f.mapped_read_gbs;
  return true;
}

}  // namespace jetlm
