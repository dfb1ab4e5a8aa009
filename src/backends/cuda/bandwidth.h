// Memory bandwidth micro-measurements of the GPU (jetlm bench --bandwidth).
// C++14: included by bandwidth.cu and by cuda_factory.cpp, which turns the
// figures into gpu_measure_bandwidth's GpuBandwidth.
#pragma once
#include <cstddef>

namespace jetlm {
namespace cuda {

struct BandwidthFigures {
  char name[256];
  bool integrated;
  double device_read_gbs, d2d_gbs, h2d_gbs, mapped_read_gbs;  // -1: not measured
};

// Buffers of `bytes`, best of a few passes each; false without a device. Throws on a CUDA error.
bool measure_bandwidth(size_t bytes, BandwidthFigures* out);

}  // namespace cuda
}  // namespace jetlm
