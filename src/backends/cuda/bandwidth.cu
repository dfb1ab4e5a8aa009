#include "backends/cuda/bandwidth.h"

#include <cstring>

#include "backends/cuda/cuda_check.h"

namespace jetlm {
namespace cuda {

namespace {

// Reads n 16-byte words in a grid-stride loop; one partial sum per thread is
// written so the loads cannot be dropped.
__global__ void read_kernel(const uint4* __restrict__ p, size_t n, unsigned int* __restrict__ out) {
  unsigned int acc = 0;
  const size_t stride = static_cast<size_t>(gridDim.x) * blockDim.x;
  for (size_t i = static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    const uint4 v = p[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  out[static_cast<size_t>(blockIdx.x) * blockDim.x + threadIdx.x] = acc;
}

constexpr int kReps = 5;
constexpr int kThreads = 256;

// Best time of kReps runs of f, in seconds (after one warm-up run).
template <typename F>
double best_seconds(F f) {
  cudaEvent_t a, b;
  CUDA_CHECK(cudaEventCreate(&a));
  CUDA_CHECK(cudaEventCreate(&b));
  f();
  float best = 0;
  for (int r = 0; r < kReps; ++r) {
    CUDA_CHECK(cudaEventRecord(a));
    f();
    CUDA_CHECK(cudaEventRecord(b));
    CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0;
    CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    if (r == 0 || ms < best) best = ms;
  }
  CUDA_CHECK(cudaEventDestroy(a));
  CUDA_CHECK(cudaEventDestroy(b));
  return best / 1000.0;
}

double read_gbs(const void* p, size_t bytes, int blocks, unsigned int* out) {
  const size_t n = bytes / sizeof(uint4);
  const double s = best_seconds([&] {
    read_kernel<<<blocks, kThreads>>>(static_cast<const uint4*>(p), n, out);
    CUDA_CHECK_LAUNCH();
  });
  return static_cast<double>(n * sizeof(uint4)) / s / 1e9;
}

}  // namespace

bool measure_bandwidth(size_t bytes, BandwidthFigures* out) {
  int n_dev = 0;
  if (cudaGetDeviceCount(&n_dev) != cudaSuccess || n_dev == 0) {
    (void)cudaGetLastError();
    return false;
  }
  cudaDeviceProp prop;
  CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::memset(out, 0, sizeof *out);
  std::strncpy(out->name, prop.name, sizeof out->name - 1);
  out->integrated = prop.integrated != 0;
  out->device_read_gbs = out->d2d_gbs = out->h2d_gbs = out->mapped_read_gbs = -1;
  bytes = bytes / sizeof(uint4) * sizeof(uint4);
  // Enough blocks to fill every SM several times over.
  const int blocks = prop.multiProcessorCount * 8;
  unsigned int* sink = nullptr;
  CUDA_CHECK(cudaMalloc(&sink, static_cast<size_t>(blocks) * kThreads * sizeof(unsigned int)));

  void* src = nullptr;
  void* dst = nullptr;
  CUDA_CHECK(cudaMalloc(&src, bytes));
  CUDA_CHECK(cudaMemset(src, 1, bytes));
  out->device_read_gbs = read_gbs(src, bytes, blocks, sink);
  CUDA_CHECK(cudaMalloc(&dst, bytes));
  // A copy reads and writes every byte: count both, as bandwidth tests do.
  out->d2d_gbs = 2.0 * static_cast<double>(bytes) /
                 best_seconds([&] { CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToDevice)); }) / 1e9;
  CUDA_CHECK(cudaFree(dst));

  void* host = nullptr;
  CUDA_CHECK(cudaMallocHost(&host, bytes));
  std::memset(host, 1, bytes);
  out->h2d_gbs = static_cast<double>(bytes) /
                 best_seconds([&] { CUDA_CHECK(cudaMemcpy(src, host, bytes, cudaMemcpyHostToDevice)); }) / 1e9;
  CUDA_CHECK(cudaFreeHost(host));
  CUDA_CHECK(cudaFree(src));

  // Zero-copy reads: what a kernel reading the mmap in place (--unified) can reach on a Jetson.
  if (out->integrated && prop.canMapHostMemory) {
    void* mapped = nullptr;
    void* dev_view = nullptr;
    CUDA_CHECK(cudaHostAlloc(&mapped, bytes, cudaHostAllocMapped));
    std::memset(mapped, 1, bytes);
    CUDA_CHECK(cudaHostGetDevicePointer(&dev_view, mapped, 0));
    out->mapped_read_gbs = read_gbs(dev_view, bytes, blocks, sink);
    CUDA_CHECK(cudaFreeHost(mapped));
  }
  CUDA_CHECK(cudaFree(sink));
  return true;
}

}  // namespace cuda
}  // namespace jetlm
