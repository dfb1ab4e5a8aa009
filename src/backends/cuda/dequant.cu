// Dequantization of whole rows: float32 for the embedding lookup, float16 for
// the cuBLAS prompt-processing path. One thread per thread work item, the same
// decoders as the matrix-vector kernels, and the reference's float operations
// in the reference's order (scale * code, then + offset, no contraction), so
// the float32 output is bit-exact with formats/dequant.cpp.
#include <string>

#include "backends/cuda/quant_formats.cuh"

namespace jetlm {
namespace cuda {

namespace {

JDEV uint32_t pack_half2(float a, float b) {
  return static_cast<uint32_t>(__half_as_ushort(__float2half_rn(a))) |
         (static_cast<uint32_t>(__half_as_ushort(__float2half_rn(b))) << 16);
}

template <class F, bool kF16>
__global__ void dequant_kernel(const uint8_t* w, int64_t row_bytes, int cols, int64_t row0, int64_t nrows,
                               const int32_t* ids, float scale, void* out) {
  pdl_wait();
  const int n_twi = F::n_twi(cols);
  const int64_t total = nrows * n_twi;
  for (int64_t idx = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; idx < total;
       idx += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = idx / n_twi;
    const int twi = static_cast<int>(idx % n_twi);
    const int64_t src = ids ? ids[r] : row0 + r;
    typename F::Raw raw;
    F::load(w + src * row_bytes, twi, cols, raw);
    const bool vec = cols % 8 == 0;  // whole groups: one 16-byte (f16) or two (f32) stores each
#pragma unroll
    for (int g = 0; g < F::kGroups; ++g) {
      float q[8], sc, off, v[8];
      F::decode(raw, twi, g, q, sc, off);
      const int v0 = F::group_start(twi, g);
#pragma unroll
      for (int k = 0; k < 8; ++k) {
        v[k] = __fmul_rn(sc, q[k]);
        if (F::kHasOffset) v[k] = __fadd_rn(v[k], off);
        if (scale != 1.f) v[k] = __fmul_rn(v[k], scale);  // as the reference's scale op after the lookup
      }
      const int64_t o = r * cols + v0;
      if (vec) {
        if (kF16) {
          uint4 h;
          h.x = pack_half2(v[0], v[1]);
          h.y = pack_half2(v[2], v[3]);
          h.z = pack_half2(v[4], v[5]);
          h.w = pack_half2(v[6], v[7]);
          *reinterpret_cast<uint4*>(static_cast<__half*>(out) + o) = h;
        } else {
          float4* d = reinterpret_cast<float4*>(static_cast<float*>(out) + o);
          d[0] = make_float4(v[0], v[1], v[2], v[3]);
          d[1] = make_float4(v[4], v[5], v[6], v[7]);
        }
      } else {
        for (int k = 0; k < 8 && v0 + k < cols; ++k) {
          if (kF16) static_cast<__half*>(out)[o + k] = __float2half_rn(v[k]);
          else static_cast<float*>(out)[o + k] = v[k];
        }
      }
    }
  }
}

// Float16 rows for the prompt GEMMs: each warp decodes 32 consecutive work
// items into shared memory and writes their values (a contiguous range of
// the output: whole blocks of every format) with 16-byte stores of
// consecutive lanes. One thread storing its own item's groups wrote 16 bytes
// per 128-byte line per instruction: 32 us for TinyLlama's gate matrix
// against 11 us now (docs/benchmarks.md). cols % 8 == 0.
constexpr int kDqThreads = 128;

template <class F>
__global__ void __launch_bounds__(kDqThreads) dequant_f16_kernel(const uint8_t* w, int64_t row_bytes, int cols,
                                                                 int64_t row0, int64_t nrows, __half* out) {
  constexpr int kRecs = 32 * F::kTwiValues / 8;  // 16-byte records (8 values) per warp
  __shared__ uint4 buf[kDqThreads / 32][kRecs];
  pdl_wait();
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int n_twi = F::n_twi(cols);
  const int64_t total = nrows * n_twi;
  uint4* wb = buf[warp];
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * kDqThreads + 32 * warp; base < total;
       base += static_cast<int64_t>(gridDim.x) * kDqThreads) {
    const int64_t idx = base + lane;
    const int64_t r0 = base / n_twi;
    // The warp's output window starts at value base * kTwiValues (= row r0 * cols + item (base % n_twi)).
    const int64_t win = r0 * cols + static_cast<int64_t>(base - r0 * n_twi) * F::kTwiValues;
    if (idx < total) {
      const int64_t r = idx / n_twi;
      const int twi = static_cast<int>(idx - r * n_twi);
      typename F::Raw raw;
      F::load(w + (row0 + r) * row_bytes, twi, cols, raw);
#pragma unroll
      for (int g = 0; g < F::kGroups; ++g) {
        float q[8], sc, off, v[8];
        F::decode(raw, twi, g, q, sc, off);
#pragma unroll
        for (int k = 0; k < 8; ++k) {
          v[k] = __fmul_rn(sc, q[k]);
          if (F::kHasOffset) v[k] = __fadd_rn(v[k], off);
        }
        uint4 h;
        h.x = pack_half2(v[0], v[1]);
        h.y = pack_half2(v[2], v[3]);
        h.z = pack_half2(v[4], v[5]);
        h.w = pack_half2(v[6], v[7]);
        wb[(r * cols + F::group_start(twi, g) - win) / 8] = h;
      }
    }
    __syncwarp();
    const int64_t items = total - base < 32 ? total - base : 32;
    const int recs = static_cast<int>(items) * (F::kTwiValues / 8);
    uint4* dst = reinterpret_cast<uint4*>(out + win);
    for (int i = lane; i < recs; i += 32) dst[i] = wb[i];
    __syncwarp();
  }
}

struct DequantLaunch {
  const void* w; int64_t row_bytes; int cols; int64_t row0, nrows; const int32_t* ids; float scale; void* out; bool f16;
  cudaStream_t s;
  template <class F>
  void run() {
    const int64_t total = nrows * F::n_twi(cols);
    if (f16 && !ids && cols % 8 == 0 && scale == 1.f) {
      const int64_t want = ceil_div(total, int64_t(kDqThreads));
      launch_kernel(dequant_f16_kernel<F>, dim3(static_cast<unsigned>(want < 65535 * 8 ? want : 65535 * 8)),
                    dim3(kDqThreads), 0, s, static_cast<const uint8_t*>(w), row_bytes, cols, row0, nrows,
                    static_cast<__half*>(out));
      return;
    }
    const int blocks = static_cast<int>(total / 256 + 1 < 65535 * 8 ? total / 256 + 1 : 65535 * 8);
    if (f16)
      launch_kernel(dequant_kernel<F, true>, dim3(blocks), dim3(256), 0, s, static_cast<const uint8_t*>(w), row_bytes, cols, row0, nrows, ids, scale, out);
    else
      launch_kernel(dequant_kernel<F, false>, dim3(blocks), dim3(256), 0, s, static_cast<const uint8_t*>(w), row_bytes, cols, row0, nrows, ids, scale, out);
  }
};

}  // namespace

void launch_dequant(WType t, const void* w, int64_t row_bytes, int cols, int64_t row0, int64_t nrows,
                    const int32_t* ids, float scale, void* out, bool out_f16, cudaStream_t s) {
  CUDA_REQUIRE(w != nullptr && out != nullptr, "null pointer");
  CUDA_REQUIRE(cols > 0 && nrows > 0 && row_bytes > 0 && row0 >= 0, "empty dequantization");
  DequantLaunch l{w, row_bytes, cols, row0, nrows, ids, scale, out, out_f16, s};
  CUDA_REQUIRE(dispatch_format(t, l), "unsupported weight type " + std::to_string(static_cast<int>(t)));
}

}  // namespace cuda
}  // namespace jetlm
