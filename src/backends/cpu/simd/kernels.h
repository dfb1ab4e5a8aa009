// The table of fast CPU kernels of one instruction set. Each ISA translation
// unit (kernels_scalar.cpp, kernels_avx2.cpp, kernels_avx512*.cpp,
// kernels_neon.cpp, kernels_dotprod.cpp) instantiates
// the same templates (kernels_impl.h) over its own SIMD primitives and exports
// one table; the backend picks a table at run time (cpu_features.h), so one
// binary runs on any CPU of its architecture.
#pragma once
#include <cstddef>
#include <cstdint>

#include "backends/cpu/simd/layout.h"

namespace jetlm {
namespace cpu {

// One query row's attention over positions [lo, hi] of a KV head, for `group`
// query heads sharing that KV head (GQA): out_h = softmax(q_h . K^T * scale) V.
struct AttnTask {
  const float* q = nullptr;  // group rows of head_dim_k, q_stride apart
  int64_t q_stride = 0;
  int group = 0;
  const void* k = nullptr;   // cache of this KV head at row 0 of the slot; rows k_stride values apart
  const void* v = nullptr;
  int64_t k_stride = 0, v_stride = 0;
  bool f16 = true;           // cache element type: fp16 bits or float32
  int head_dim_k = 0, head_dim_v = 0;
  float scale = 1.f;
  int lo = 0, hi = 0;        // positions, inclusive
  int ring = 1 << 30;        // position j is cache row j % ring (a sliding-window layer's ring)
  float* out = nullptr;      // group rows of head_dim_v, out_stride apart
  int64_t out_stride = 0;
};

// y[r] = dot(row r, the token) for n_rows rows of a weight matrix in its file
// format (rows row_bytes apart from w), one token: act (quantized formats) or
// x (F32/F16/BF16). Decodes in registers and streams each row once.
using GemvFn = void (*)(const uint8_t* w, size_t row_bytes, int n_rows, int64_t k, const ActQ8* act, const float* x,
                        float* y);

struct CpuKernels {
  const char* name = "";
  // Indexed by the TensorType id (< 32); null where the format has no kernel.
  DecodeRowFn decode[32] = {};
  GemvFn gemv[32] = {};
  // Indexed by Family; each handles up to kMaxTileRows rows per call.
  GemmFn gemm[4] = {};
  // Optional (null: none), indexed by Family: wide_rows rows per call (8 or
  // 16, at most kMaxWideRows), which the kernel interleaves so that each
  // vector lane holds one row (x86: one scale multiply per 8 or 16 rows
  // instead of per row). Worth it from kWideMinTokens tokens.
  GemmFn gemm_wide[4] = {};
  int wide_rows[4] = {};
  // Quantizes one row of k values (k a multiple of act.block) into token row t of act.
  void (*quantize_row)(const float* x, int t, ActQ8* act) = nullptr;

  // out[i] = act(gate[i]) * up[i]; act = SiLU or GELU(tanh).
  void (*silu_mul)(const float* gate, const float* up, int64_t n, float* out) = nullptr;
  void (*gelu_mul)(const float* gate, const float* up, int64_t n, float* out) = nullptr;
  // out[i] = x[i] * s * (w ? w[i] : 1), with s = 1 / sqrt(mean(x^2) + eps): one RMSNorm row.
  void (*rms_norm_row)(const float* x, const float* w, float eps, int64_t n, float* out) = nullptr;
  void (*add)(const float* a, const float* b, int64_t n, float* out) = nullptr;
  void (*scale)(float* x, int64_t n, float s) = nullptr;
  // dst[i] = fp16(src[i]), round to nearest even.
  void (*to_f16)(const float* src, int64_t n, uint16_t* dst) = nullptr;
  void (*attend)(const AttnTask& t) = nullptr;
};

constexpr int kMaxTileRows = 4;
constexpr int kMaxWideRows = kMaxWideRowsLayout;
constexpr int kWideMinTokens = 4;  // (fewer: the one-token kernel once per token, cpu_matmul.cpp; measured in docs/benchmarks.md, session 10)

// The tables compiled into this binary; null when the ISA is not built for this architecture.
const CpuKernels* kernels_scalar();
const CpuKernels* kernels_avx2();
const CpuKernels* kernels_avx512();
const CpuKernels* kernels_avx512vnni();
const CpuKernels* kernels_neon();
const CpuKernels* kernels_dotprod();

}  // namespace cpu
}  // namespace jetlm
