// Host-side entry points of the CUDA kernels (the launchers). Each launcher
// checks its inputs (CUDA_REQUIRE), launches on the given stream and checks
// the launch (CUDA_CHECK_LAUNCH). Pointers are device pointers; activations
// are float32 row-major [n_tokens][dim], as in backends/backend.h.
// C++14 only: included by .cu files and by the backend's host code.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace jetlm {
namespace cuda {

// Weight formats the kernels read, numbered as ggml numbers them (= jetlm::TensorType).
enum class WType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, IQ4_NL = 20, BF16 = 30,
};
bool wtype_supported(uint32_t id);
// Alignment in bytes the kernels assume for the start of every row: 16 where
// they use 16-byte vector loads (Q4_K, Q5_K), else the format's natural one.
int wtype_row_alignment(WType t);

// Programmatic dependent launch (sm_90, CUDA >= 11.8): each kernel may start
// while its predecessor drains, prefetches what no earlier kernel writes
// (weights), then waits (griddepcontrol.wait) before touching activations.
void set_pdl(bool on);
bool pdl_enabled();
// Device queries the launchers cache; call once before any graph capture.
void kernels_init();

// How the matrix-vector launches are cut. The defaults are the measured best
// (docs/benchmarks.md); JETLM_CUDA_MV overrides them for experiments.
struct MatvecTuning {
  int split = 0;          // warps sharing one row group (0: chosen per launch; else a divisor of 12)
  int warps_per_sm = 24;  // warps a multiprocessor holds at once, for choosing the split
  int split_cost = 1;     // cross-warp reduction of a split row, in half passes over a slice
  // PDL: let the next kernel start right after the wait (1), before it (2), before it
  // when the grid has at most 1 / (early - 2) block per multiprocessor and the next
  // launch waits (3-5), or at the end (0). Measured in docs/benchmarks.md, sessions 7 and 8.
  int early_trigger = 5;
  int prefetch = 1;       // L2 prefetch of a warp's later weights before the wait
  int int8 = 1;           // quantized weights: int8 activations and dp4a (sm_61+)
  int persist = 1;        // grid of what the GPU holds at once, blocks looping over row groups
  int blocks_per_sm = 0;  // ... at most this many blocks per multiprocessor (0: as many as fit)
  // Which products of n tokens take the matrix-vector kernels (else dequantize + GEMM):
  int max_tokens = 8;       // n <= this: one launch (1..8, the kernels' batch)
  int chunked_tokens = 32;  // quantized weights, n <= this: launches of max_tokens each
};
void set_matvec_tuning(const MatvecTuning& t);
const MatvecTuning& matvec_tuning();

enum class Act : int { None = 0, SiLU = 1, GeluTanh = 2 };

// One weight of a fused matrix-vector launch (all weights of a launch share type and cols).
struct MatvecSeg {
  const void* w = nullptr;      // [rows][row_bytes]
  float* y = nullptr;           // [n][rows] output
  const float* bias = nullptr;  // [rows] added to y (optional)
  const float* res = nullptr;   // optional residual: res_out[t][r] = res[t][r] + y[t][r]
  float* res_out = nullptr;     // (may alias res)
  int rows = 0;
};

// y = W x for n <= 8 tokens, streaming each weight byte once.
struct MatvecArgs {
  WType type = WType::F32;
  int64_t row_bytes = 0;
  int cols = 0;
  int n = 0;                    // tokens, 1..8
  const float* x = nullptr;     // [n][cols]; the raw input when norm is set
  MatvecSeg seg[3];
  int n_seg = 0;
  // Fused RMSNorm prologue: the matrix input is norm(x) * norm_w, also written to norm_out.
  bool norm = false;
  const float* norm_w = nullptr;  // may be null (no weight)
  float norm_eps = 0.f;
  float* norm_out = nullptr;      // [n][cols], must not overlap x
  // Fused GLU epilogue (n_seg == 2, seg[0] = gate, seg[1] = up, same rows):
  // seg[0].y = act(gate) * up, seg[1].y = up.
  Act glu = Act::None;
  // The next launch does not itself let the one after it start before its wait
  // (MatvecTuning::early_trigger 3-5: then a small grid may trigger before its own).
  bool next_waits = false;
};
void launch_matvec(const MatvecArgs& a, cudaStream_t s);

// Dequantize rows [row0, row0 + nrows) (or, with ids, rows ids[0..nrows)) to
// float32 or float16, [nrows][cols], each value times scale (after the decode).
void launch_dequant(WType t, const void* w, int64_t row_bytes, int cols, int64_t row0, int64_t nrows,
                    const int32_t* ids, float scale, void* out, bool out_f16, cudaStream_t s);

// cuBLAS matrix products for prompt processing (n > 8 tokens).
struct BlasHandle;
BlasHandle* blas_create(cudaStream_t s);
void blas_destroy(BlasHandle* h);
// Y[t][ldy-stride][r] = sum_c W[r][c] X[t][c] for r < m, t < n, c < k; W, X float16.
void gemm_f16(BlasHandle* h, const void* w, const void* x, float* y, int m, int n, int k, int ldy);
// Same with float32 W and X.
void gemm_f32(BlasHandle* h, const float* w, const float* x, float* y, int m, int n, int k, int ldy);

// Element-wise and row ops.
void launch_rms_norm(const float* x, const float* w, float eps, int64_t rows, int dim, float* out, cudaStream_t s);
// y = norm(y) * w; x += y (Gemma's post-norms before the residual add).
void launch_norm_add(float* y, const float* w, float eps, int64_t rows, int dim, float* x, cudaStream_t s);
void launch_add(const float* a, const float* b, int64_t n, float* out, cudaStream_t s);
void launch_scale(float* x, int64_t n, float v, cudaStream_t s);
void launch_glu(Act act, const float* gate, const float* up, int64_t n, float* out, cudaStream_t s);
void launch_add_bias(float* y, const float* b, int n, int64_t dim, cudaStream_t s);
void launch_f32_to_f16(const float* src, int64_t n, void* dst, cudaStream_t s);

struct RopeArgs {
  int n_rot = 0;
  float freq_base = 10000.f, freq_scale = 1.f;
  bool neox = false;
  const float* freq_factors = nullptr;  // [n_rot/2] or null
};

// Per-head preparation of q and k before attention, in place: optional RMSNorm
// per head (Gemma's q/k norms), optional RoPE at pos[t]; then, when kc is set,
// k and v are stored in the KV cache at row pos[t].
struct HeadPrepArgs {
  int n = 0;
  const int32_t* pos = nullptr;  // device [n]
  float* q = nullptr;  int n_head_q = 0;  // [n][n_head_q][head_dim], may be null
  float* k = nullptr;  int n_head_k = 0;  // [n][n_head_k][head_dim], may be null
  const float* v = nullptr;               // [n][n_head_k][head_dim_v], for the store
  bool q_normed = false, k_normed = false;
  const float* q_norm = nullptr;  const float* k_norm = nullptr;  // weights (may be null)
  float q_eps = 0.f, k_eps = 0.f;
  bool q_rope = false, k_rope = false;
  int head_dim = 0, head_dim_v = 0;
  RopeArgs rope;
  void* kc = nullptr;  void* vc = nullptr;  // KV store when set
  bool kv_f16 = true;
  int64_t k_row = 0, v_row = 0, n_ctx = 0;
  const int32_t* seq = nullptr;  // device [n]: each token's KV slot (null: slot 0)
  int64_t ring = 0;              // cache rows per slot: position p is row slot * ring + p % ring
};
void launch_head_prep(const HeadPrepArgs& a, cudaStream_t s);

// Attention of n query tokens over the KV cache (positions lo..pos[t] of the
// token's own slot, causal, sliding window), GQA, split over the sequence
// (flash-decoding) with the splits combined by the last block of each (token, kv head).
struct AttnArgs {
  int n = 0;
  const int32_t* pos = nullptr;
  const int32_t* seq = nullptr;  // device [n]: KV slot of each token (null: slot 0); the prompt kernel reads seq[0]
  int64_t ring = 0;              // cache rows per slot (position p: row slot * ring + p % ring)
  const float* q = nullptr;                 // [n][n_head][head_dim_k], already rotated
  const void* kc = nullptr;  const void* vc = nullptr;
  bool kv_f16 = true;
  int64_t k_row = 0, v_row = 0, n_ctx = 0;
  int n_head = 0, n_head_kv = 0, head_dim_k = 0, head_dim_v = 0;
  float scale = 1.f;
  int window = 0;
  float* out = nullptr;                     // [n][n_head][head_dim_v]
  int heads_per_block = 1;                  // query heads per block: the GQA group, or fewer for short batches
  int n_splits = 1;
  int chunk = 128;                          // positions per chunk (a split walks chunks s, s + n_splits, ...)
  // One token, one head per block: q and k are raw and each block prepares
  // them itself (norms, RoPE) from `prep`; the block whose chunk holds the new
  // position stores its k and v in the cache (no separate launch_head_prep).
  bool fused_prep = false;
  HeadPrepArgs prep;
  float* work = nullptr;                    // attn_work_floats(...) floats
  int* counters = nullptr;                  // [n][n_head / heads_per_block] zeros (left zero afterwards)
};
// Query heads per block: one for a few tokens (more blocks for a decode step),
// the whole GQA group for prompts (K and V read once per group).
int attn_heads_per_block(int n, int n_head, int n_head_kv);
// Splits for a launch: a function of the shapes and the context only (not of
// the positions), so that a captured decode graph stays valid as tokens advance.
// head_blocks: n_head / heads_per_block; hdk, hdv: head sizes.
int attn_splits(int n, int head_blocks, int64_t n_ctx, int window, int n_sm, int hdk, int hdv);
// Positions per chunk for the same launch. One token: what a block of the
// decode kernel loads at once (32-128 by head size), so that short contexts
// need no second pass and no split; else 128, or down to 32 when a short
// context would otherwise leave too few blocks.
int attn_chunk(int n, int head_blocks, int64_t n_ctx, int window, int n_sm, int hdk, int hdv);
size_t attn_work_floats(int n, int n_head, int head_dim_v, int n_splits);
void launch_attention(const AttnArgs& a, cudaStream_t s);

}  // namespace cuda
}  // namespace jetlm
