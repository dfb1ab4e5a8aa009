// Row and element-wise kernels: RMSNorm, fused post-norm + residual add, add,
// scale, GLU, bias, float32 -> float16. All float32, all in the CPU
// reference's operation order.
#include <string>

#include "backends/cuda/device_common.cuh"

namespace jetlm {
namespace cuda {

namespace {

const int kRowThreads = 512;
const int kRowPer = 8;  // values per thread held in registers: rows of up to 4096 in one round trip

// Sum over a block of kRowThreads threads; every thread gets the total.
__device__ float block_sum(float v, float* red) {
  v = warp_sum(v);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  __syncthreads();  // red may still be read from a previous call
  if (lane == 0) red[warp] = v;
  __syncthreads();
  float t = 0.f;
#pragma unroll
  for (int i = 0; i < kRowThreads / 32; ++i) t += red[i];
  return t;
}

// One row per block: out = norm(x) * w; with res (Gemma's post-norms before
// the residual add), also res += out. out may alias x. The norm weights are
// read before the wait, the row (and residual) in one pass of loads into
// registers; values past kRowPer * kRowThreads take a second trip.
__global__ void __launch_bounds__(kRowThreads) row_norm_kernel(const float* x, const float* w, float eps, int dim,
                                                               float* out, float* res) {
  __shared__ float red[kRowThreads / 32];
  const int tid = threadIdx.x;
  float wv[kRowPer], v[kRowPer], rv[kRowPer];
#pragma unroll
  for (int k = 0; k < kRowPer; ++k) {
    const int i = tid + k * kRowThreads;
    wv[k] = w && i < dim ? __ldg(w + i) : 1.f;
  }
  KTrace trace(kTrNorm << 24 | (res ? 1u : 0u));
  // A launch of a few rows (a decode step) is too short to hide the next
  // kernel's weight loads behind its own work: that kernel may start now (it
  // still waits for this one to complete). Longer launches keep their blocks'
  // places until after the wait.
  const bool short_launch = gridDim.x <= 8;
  if (short_launch) pdl_trigger();
  pdl_wait();
  trace.released();
  if (!short_launch) pdl_trigger();
  const int64_t off = static_cast<int64_t>(blockIdx.x) * dim;
  const float* xr = x + off;
  float* o = out + off;
  float* rr = res ? res + off : nullptr;
  float ss = 0.f;
#pragma unroll
  for (int k = 0; k < kRowPer; ++k) {
    const int i = tid + k * kRowThreads;
    v[k] = i < dim ? xr[i] : 0.f;
    rv[k] = rr && i < dim ? rr[i] : 0.f;
  }
  for (int i = tid + kRowPer * kRowThreads; i < dim; i += kRowThreads) ss += xr[i] * xr[i];
#pragma unroll
  for (int k = 0; k < kRowPer; ++k) ss += v[k] * v[k];
  const float s = rsqrtf(__fdividef(block_sum(ss, red), static_cast<float>(dim)) + eps);
  for (int i = tid + kRowPer * kRowThreads; i < dim; i += kRowThreads) {
    const float y = xr[i] * s * (w ? w[i] : 1.f);
    o[i] = y;
    if (rr) rr[i] = rr[i] + y;
  }
#pragma unroll
  for (int k = 0; k < kRowPer; ++k) {
    const int i = tid + k * kRowThreads;
    if (i < dim) {
      const float y = v[k] * s * wv[k];
      o[i] = y;
      if (rr) rr[i] = rv[k] + y;
    }
  }
}

__global__ void add_kernel(const float* a, const float* b, int64_t n, float* out) {
  pdl_wait();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = a[i] + b[i];
}

__global__ void scale_kernel(float* x, int64_t n, float v) {
  pdl_wait();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    x[i] *= v;
}

__global__ void glu_kernel(int act, const float* gate, const float* up, int64_t n, float* out) {
  pdl_wait();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    out[i] = act_apply(act, gate[i]) * up[i];
}

__global__ void add_bias_kernel(float* y, const float* b, int64_t total, int64_t dim) {
  pdl_wait();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] += b[i % dim];
}

__global__ void f32_to_f16_kernel(const float* src, int64_t n, __half* dst) {
  pdl_wait();
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n; i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[i] = __float2half_rn(src[i]);
}

// Grid for a grid-stride loop over n elements.
dim3 flat_grid(int64_t n) {
  const int64_t blocks = (n + 255) / 256;
  return dim3(static_cast<unsigned>(blocks < 4096 ? (blocks > 0 ? blocks : 1) : 4096));
}

}  // namespace

void launch_rms_norm(const float* x, const float* w, float eps, int64_t rows, int dim, float* out, cudaStream_t s) {
  CUDA_REQUIRE(x && out && rows > 0 && dim > 0, "rows " + std::to_string(rows) + ", dim " + std::to_string(dim));
  CUDA_REQUIRE(rows < (int64_t(1) << 31), "too many rows");
  launch_kernel(row_norm_kernel, dim3(static_cast<unsigned>(rows)), dim3(kRowThreads), 0, s, x, w, eps, dim, out,
                static_cast<float*>(nullptr));
}

void launch_norm_add(float* y, const float* w, float eps, int64_t rows, int dim, float* x, cudaStream_t s) {
  CUDA_REQUIRE(y && x && rows > 0 && dim > 0 && y != x, "rows " + std::to_string(rows) + ", dim " + std::to_string(dim));
  CUDA_REQUIRE(rows < (int64_t(1) << 31), "too many rows");
  launch_kernel(row_norm_kernel, dim3(static_cast<unsigned>(rows)), dim3(kRowThreads), 0, s, static_cast<const float*>(y), w,
                eps, dim, y, x);
}

void launch_add(const float* a, const float* b, int64_t n, float* out, cudaStream_t s) {
  CUDA_REQUIRE(a && b && out && n > 0, "n = " + std::to_string(n));
  launch_kernel(add_kernel, flat_grid(n), dim3(256), 0, s, a, b, n, out);
}

void launch_scale(float* x, int64_t n, float v, cudaStream_t s) {
  CUDA_REQUIRE(x && n > 0, "n = " + std::to_string(n));
  launch_kernel(scale_kernel, flat_grid(n), dim3(256), 0, s, x, n, v);
}

void launch_glu(Act act, const float* gate, const float* up, int64_t n, float* out, cudaStream_t s) {
  CUDA_REQUIRE(act != Act::None && gate && up && out && n > 0, "n = " + std::to_string(n));
  launch_kernel(glu_kernel, flat_grid(n), dim3(256), 0, s, static_cast<int>(act), gate, up, n, out);
}

void launch_add_bias(float* y, const float* b, int n, int64_t dim, cudaStream_t s) {
  CUDA_REQUIRE(y && b && n > 0 && dim > 0, "n = " + std::to_string(n) + ", dim " + std::to_string(dim));
  launch_kernel(add_bias_kernel, flat_grid(int64_t(n) * dim), dim3(256), 0, s, y, b, int64_t(n) * dim, dim);
}

void launch_f32_to_f16(const float* src, int64_t n, void* dst, cudaStream_t s) {
  CUDA_REQUIRE(src && dst && n > 0, "n = " + std::to_string(n));
  launch_kernel(f32_to_f16_kernel, flat_grid(n), dim3(256), 0, s, src, n, static_cast<__half*>(dst));
}

}  // namespace cuda
}  // namespace jetlm
