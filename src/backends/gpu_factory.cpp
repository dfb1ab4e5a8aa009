// The GPU factory of a build without CUDA. A CUDA build compiles
// src/backends/cuda/cuda_factory.cpp instead (JETLM_HAVE_CUDA).
#ifndef JETLM_HAVE_CUDA
#include "backends/gpu_factory.h"

#include "util/error.h"

namespace jetlm {

std::unique_ptr<Backend> make_gpu_backend(const GpuOptions&) {
  fail("this jetlm was built without CUDA: GPU offload (-ngl) is not available (rebuild with -DJETLM_CUDA=ON, or use -ngl 0)");
}

bool gpu_available() { return false; }

bool gpu_memory_info(size_t*, size_t*) { return false; }

bool gpu_measure_bandwidth(size_t, GpuBandwidth*) { return false; }

}  // namespace jetlm
#endif
