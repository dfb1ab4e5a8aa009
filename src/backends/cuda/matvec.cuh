// The token-generation matrix-vector kernel: y = W x for up to 8 tokens, every
// weight byte read once and decoded in registers. Two ways to multiply:
//  - float: x stays float32 and each weight is decoded to a float, so the
//    result is the reference's up to summation order (float formats, sm_53);
//  - int8 (quantized formats on sm_61+, like the CPU's fast kernels): each
//    block quantizes x to signed bytes with one scale per 32 values while it
//    stages it; a group of 8 weights is two dp4a on the integer codes, summed
//    as integers over the groups that share a weight scale (up to 32 values,
//    kScaleRun), then one or two FMAs per run: about a quarter of the
//    instructions per weight of the float kernel.
//
// Layout: kMvWarps warps per block; `split` consecutive warps share a row
// group of R rows (R/2 gate + R/2 up rows with the fused GLU), each taking a
// contiguous slice of the rows' thread work items (quant_formats.cuh); the
// lanes of a warp stride over its slice, so the warp's loads cover contiguous
// row bytes and each activation group is read once for R rows.
// Before pdl_wait() (nothing the previous kernel writes): the first work
// item's weights, an L2 prefetch of the rest of the slice, the bias and the
// norm weights (into shared memory). After it: the activations, staged in
// shared memory in passes of wide loads issued together (lanes read them
// 64-256 bytes apart, which from global memory costs one L1 wavefront per
// lane; a pad after every work item's values spreads those reads over the
// banks), and the residual.
// Fused, optionally: RMSNorm of the input (the staged values are x * norm_w;
// every block sums the squares of x, and the token's 1/rms scales the finished
// dot products; block 0 also stores the normalized input), bias, residual
// add, GLU.
#pragma once
#include <atomic>

#include "backends/cuda/quant_formats.cuh"

namespace jetlm {
namespace cuda {

// 8 consecutive activations from v0 (zeros past cols): two float4 loads when aligned.
JDEV void load_x8(const float* p, int v0, int cols, bool vec, float* out) {
  if (vec && v0 + 8 <= cols) {
    const float4 a = __ldg(reinterpret_cast<const float4*>(p + v0));
    const float4 b = __ldg(reinterpret_cast<const float4*>(p + v0 + 4));
    out[0] = a.x; out[1] = a.y; out[2] = a.z; out[3] = a.w;
    out[4] = b.x; out[5] = b.y; out[6] = b.z; out[7] = b.w;
  } else {
#pragma unroll
    for (int k = 0; k < 8; ++k) out[k] = v0 + k < cols ? __ldg(p + v0 + k) : 0.f;
  }
}

// Float staging: padded shared-memory index of activation v, 4 floats after every P values.
template <class F>
JHD int xs_pad_shift() { return F::kTwiValues >= 128 ? 7 : (F::kTwiValues >= 64 ? 6 : 5); }
template <class F>
JHD int xs_index(int v) { return v + ((v >> xs_pad_shift<F>()) << 2); }
template <class F>
JHD int xs_stride(int cols) { return (xs_index<F>(cols) + 7) & ~3; }

// Int8 staging: one 16-byte record per group of 8 activations, {8 codes, the
// scale d of their 32-value block, d * sum of the 8 codes}, one pad record
// after every work item's records; xq_stride: records per token.
template <class F>
JHD int xq_index(int group) { return group + group / (F::kTwiValues / 8); }
template <class F>
JHD int xq_stride(int cols) { return xq_index<F>(cols / 8) + 1; }

// Signed 8-bit dot product of 4 byte pairs, plus c.
JDEV int dot_s8x4(uint32_t a, uint32_t b, int c) {
#if JETLM_CUDA_ARCH >= JETLM_ARCH_DP4A
  return __dp4a(static_cast<int>(a), static_cast<int>(b), c);
#else
  // The host never picks the int8 kernels below sm_61; this keeps them compilable.
#pragma unroll
  for (int k = 0; k < 4; ++k)
    c += static_cast<int>(static_cast<int8_t>(a >> (8 * k))) * static_cast<int>(static_cast<int8_t>(b >> (8 * k)));
  return c;
#endif
}

// Warps per block: a block stages the activations once for all its rows, so
// more rows per block means less staging traffic from L2; 12 (two blocks per
// multiprocessor) lets a long row be split over 2, 3, 4 or 6 warps. Measured
// on an H200 with the split cost model of run_matvec_n, against 8 warps x 3
// blocks: 5-12% more tokens/s on four models; 24-warp blocks (one per
// multiprocessor) 3-8% less (docs/benchmarks.md, session 5).
constexpr int kMvWarps = 12;
constexpr int kMvThreads = 32 * kMvWarps;
// float4 loads per thread in one staging pass (all issued before any store,
// so a pass is one round trip to L2): 6144 values per pass.
constexpr int kStageU = 4;
constexpr int kStagePass = 4 * kMvThreads * kStageU;

// How one launch is cut (host-computed, see run_matvec_n).
struct MatvecPlan {
  int cta1 = 0, cta2 = 0;  // first block of segment 1 / 2
  int split = 1;           // warps sharing one row group, each a contiguous slice of its work items
  int x_vec = 0;           // activations (and norm weights) 16-byte aligned, cols % 4 == 0
  int x_smem = 0;          // activations staged in shared memory
  int early = 0;           // PDL trigger: 1 after the wait, 2 before it, 0 after the main loop (MatvecTuning)
  int prefetch = 1;        // L2 prefetch of a warp's later work items before the wait
  int n_bg = 0;            // block groups (kMvWarps / split row groups each) of all segments
};

JDEV void prefetch_l2(const void* p) { asm volatile("prefetch.global.L2 [%0];" ::"l"(p)); }
JDEV float4 mul4(float4 a, float4 b) { return make_float4(a.x * b.x, a.y * b.y, a.z * b.z, a.w * b.w); }
JDEV float sq4(float4 a) { return a.x * a.x + a.y * a.y + a.z * a.z + a.w * a.w; }
JDEV float amax4(float4 a) { return fmaxf(fmaxf(fabsf(a.x), fabsf(a.y)), fmaxf(fabsf(a.z), fabsf(a.w))); }
JDEV uint32_t pack_s8x4(float4 a, float id) {
  const uint32_t b0 = static_cast<uint32_t>(__float2int_rn(a.x * id)) & 0xFFu;
  const uint32_t b1 = static_cast<uint32_t>(__float2int_rn(a.y * id)) & 0xFFu;
  const uint32_t b2 = static_cast<uint32_t>(__float2int_rn(a.z * id)) & 0xFFu;
  const uint32_t b3 = static_cast<uint32_t>(__float2int_rn(a.w * id)) & 0xFFu;
  return b0 | (b1 << 8) | (b2 << 16) | (b3 << 24);
}

// Stages token t's activations as int8 records (see xq_index): thread tid
// takes groups tid, tid + kMvThreads, ...; the 4 groups of a 32-value block
// sit in 4 neighbouring lanes, which agree on the scale through shuffles.
// Adds the squares of x to ss. cols % 32 == 0, x and ws 16-byte aligned.
template <class F>
JDEV void stage_q8(const float* xr, const float* ws, int cols, uint4* rec, float& ss) {
  const int n_groups = cols / 8;
  constexpr int kU = kStageU / 2;  // groups per thread per pass (2 float4 each)
  for (int base = 0; base < n_groups; base += kMvThreads * kU) {
    float4 lo[kU], hi[kU];
#pragma unroll
    for (int u = 0; u < kU; ++u) {
      const int gi = base + threadIdx.x + u * kMvThreads;
      lo[u] = hi[u] = make_float4(0.f, 0.f, 0.f, 0.f);
      if (gi < n_groups) {
        lo[u] = *reinterpret_cast<const float4*>(xr + 8 * gi);
        hi[u] = *reinterpret_cast<const float4*>(xr + 8 * gi + 4);
      }
    }
#pragma unroll
    for (int u = 0; u < kU; ++u) {
      const int gi = base + threadIdx.x + u * kMvThreads;
      ss += sq4(lo[u]) + sq4(hi[u]);
      if (ws) {  // (past the last group: the last group's weights, for a record not stored)
        const float* w = ws + 8 * min(gi, n_groups - 1);
        lo[u] = mul4(lo[u], *reinterpret_cast<const float4*>(w));
        hi[u] = mul4(hi[u], *reinterpret_cast<const float4*>(w + 4));
      }
      float m = fmaxf(amax4(lo[u]), amax4(hi[u]));
      m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, 1));
      m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, 2));
      // Fast reciprocals (no IEEE division's slow-path branches on the staging path).
      const float d = m * (1.f / 127.f), id = m > 0.f ? __fdividef(127.f, m) : 0.f;
      uint4 r;
      r.x = pack_s8x4(lo[u], id);
      r.y = pack_s8x4(hi[u], id);
      const int sum = dot_s8x4(r.x, 0x01010101u, dot_s8x4(r.y, 0x01010101u, 0));
      r.z = __float_as_uint(d);
      r.w = __float_as_uint(d * static_cast<float>(sum));
      if (gi < n_groups) rec[xq_index<F>(gi)] = r;
    }
  }
}

// The norm weights of stage_q8's groups into ws, each thread those of the
// groups it will stage itself (so no barrier is needed in between).
JDEV void stage_q8_weights(const float* w, float* ws, int cols) {
  const int n_groups = cols / 8;
  constexpr int kU = kStageU / 2;  // as stage_q8
  for (int base = 0; base < n_groups; base += kMvThreads * kU) {
    float4 lo[kU], hi[kU];
#pragma unroll
    for (int u = 0; u < kU; ++u) {
      const int gi = base + threadIdx.x + u * kMvThreads;
      if (gi < n_groups) {
        lo[u] = __ldg(reinterpret_cast<const float4*>(w + 8 * gi));
        hi[u] = __ldg(reinterpret_cast<const float4*>(w + 8 * gi + 4));
      }
    }
#pragma unroll
    for (int u = 0; u < kU; ++u) {
      const int gi = base + threadIdx.x + u * kMvThreads;
      if (gi < n_groups) {
        *reinterpret_cast<float4*>(ws + 8 * gi) = lo[u];
        *reinterpret_cast<float4*>(ws + 8 * gi + 4) = hi[u];
      }
    }
  }
}

// One work item against the staged int8 activations: acc[i][t] += row i . x_t.
// (A specialization, so that the float formats, which have no integer codes,
// never instantiate it.)
template <class F, int N, int R, bool kInt>
struct Q8Item {
  static JDEV void run(const typename F::Raw*, int, int, const uint4*, int, float (*)[N]) {}
};
template <class F, int N, int R>
struct Q8Item<F, N, R, true> {
  static JDEV void run(const typename F::Raw* raw, int twi, int n, const uint4* rec, int rstride, float (*acc)[N]) {
    constexpr int SR = F::kScaleRun;
    static_assert(F::kGroups % SR == 0 && SR <= 4, "a scale run lies inside one 32-value block");
#pragma unroll
    for (int g0 = 0; g0 < F::kGroups; g0 += SR) {
      // Integer sums over the run, the activations' scale d of its 32-value
      // block, and the sum of d * (code sum) of its groups.
      int sumi[R][N];
      float xd[N], xsum[N];
#pragma unroll
      for (int i = 0; i < R; ++i)
#pragma unroll
        for (int t = 0; t < N; ++t) sumi[i][t] = 0;
#pragma unroll
      for (int gg = 0; gg < SR; ++gg) {
        const int ri = xq_index<F>(F::group_start(twi, g0 + gg) / 8);
        uint4 xr[N];
#pragma unroll
        for (int t = 0; t < N; ++t) {
          xr[t] = t < n ? rec[t * rstride + ri] : make_uint4(0u, 0u, 0u, 0u);
          if (gg == 0) {
            xd[t] = __uint_as_float(xr[t].z);
            xsum[t] = 0.f;
          }
          xsum[t] += __uint_as_float(xr[t].w);
        }
#pragma unroll
        for (int i = 0; i < R; ++i) {
          uint32_t c0, c1;
          float sc, off;
          F::codes(raw[i], twi, g0 + gg, c0, c1, sc, off);
#pragma unroll
          for (int t = 0; t < N; ++t) sumi[i][t] = dot_s8x4(c0, xr[t].x, dot_s8x4(c1, xr[t].y, sumi[i][t]));
        }
      }
#pragma unroll
      for (int i = 0; i < R; ++i) {
        uint32_t c0, c1;
        float sc, off;
        F::codes(raw[i], twi, g0, c0, c1, sc, off);
        // w = sc * code + (off - sc * bias): the offset multiplies the run's x sum.
        const float offb = off - sc * static_cast<float>(F::kBias);
#pragma unroll
        for (int t = 0; t < N; ++t) {
          acc[i][t] = fmaf(sc * xd[t], static_cast<float>(sumi[i][t]), acc[i][t]);
          if (F::kHasOffset || F::kBias != 0) acc[i][t] = fmaf(offb, xsum[t], acc[i][t]);
        }
      }
    }
  }
};

// One work item against the staged (or global) float activations.
template <class F, int N, int R>
JDEV void float_item(const typename F::Raw* raw, int twi, const MatvecArgs& a, const MatvecPlan& p,
                     const float* xs, int stride, bool scale_x, float (*acc)[N]) {
  const int cols = a.cols, n = a.n;
#pragma unroll
  for (int g = 0; g < F::kGroups; ++g) {
    const int v0 = F::group_start(twi, g);
    float xv[N][8];
    float xsum[N];
    if (p.x_smem) {
#pragma unroll
      for (int t = 0; t < N; ++t) {
        if (t < n && v0 + 8 <= cols) {
          const float4* q = reinterpret_cast<const float4*>(xs + t * stride + xs_index<F>(v0));
          const float4 lo = q[0], hi = q[1];
          xv[t][0] = lo.x; xv[t][1] = lo.y; xv[t][2] = lo.z; xv[t][3] = lo.w;
          xv[t][4] = hi.x; xv[t][5] = hi.y; xv[t][6] = hi.z; xv[t][7] = hi.w;
        } else if (t < n) {  // the partial last group of a float row
#pragma unroll
          for (int k = 0; k < 8; ++k) xv[t][k] = v0 + k < cols ? xs[t * stride + xs_index<F>(v0 + k)] : 0.f;
        } else {
#pragma unroll
          for (int k = 0; k < 8; ++k) xv[t][k] = 0.f;
        }
      }
    } else {
      float nw[8];
      if (scale_x) {
        load_x8(a.norm_w, v0, cols, p.x_vec != 0, nw);
      } else {
#pragma unroll
        for (int k = 0; k < 8; ++k) nw[k] = 1.f;
      }
#pragma unroll
      for (int t = 0; t < N; ++t) {
        if (t < n) {
          load_x8(a.x + static_cast<int64_t>(t) * cols, v0, cols, p.x_vec != 0, xv[t]);
#pragma unroll
          for (int k = 0; k < 8; ++k) xv[t][k] *= nw[k];
        } else {
#pragma unroll
          for (int k = 0; k < 8; ++k) xv[t][k] = 0.f;
        }
      }
    }
#pragma unroll
    for (int t = 0; t < N; ++t) {
      xsum[t] = 0.f;
      if (F::kHasOffset) {
#pragma unroll
        for (int k = 0; k < 8; ++k) xsum[t] += xv[t][k];
      }
    }
#pragma unroll
    for (int i = 0; i < R; ++i) {
      float q[8], sc, off;
      F::decode(raw[i], twi, g, q, sc, off);
#pragma unroll
      for (int t = 0; t < N; ++t) {
        float d = 0.f;
#pragma unroll
        for (int k = 0; k < 8; ++k) d = fmaf(q[k], xv[t][k], d);
        acc[i][t] = fmaf(sc, d, acc[i][t]);
        if (F::kHasOffset) acc[i][t] = fmaf(off, xsum[t], acc[i][t]);
      }
    }
  }
}

// Where block group bg of a launch is: its segment and first row (see MatvecPlan).
struct RowGroup {
  int seg, r0;
};
JDEV RowGroup row_group(const MatvecArgs& a, const MatvecPlan& p, int bg, int warp, int rw) {
  RowGroup g;
  g.seg = 0;
  if (a.glu == Act::None) {
    if (a.n_seg > 2 && bg >= p.cta2) {
      g.seg = 2;
      bg -= p.cta2;
    } else if (a.n_seg > 1 && bg >= p.cta1) {
      g.seg = 1;
      bg -= p.cta1;
    }
  }
  g.r0 = (bg * (kMvWarps / p.split) + warp / p.split) * rw;
  return g;
}

// Row pointers of slot i: row r0 + i, or with GLU gate (even i) / up (odd i) row r0 + i/2.
// A slot past the last row reads row 0: its sums are computed without branches and dropped.
template <int R>
JDEV void row_slots(const MatvecArgs& a, RowGroup g, bool glu, const uint8_t* (&rowp)[R], bool (&valid)[R]) {
  const int rows = a.seg[g.seg].rows;
#pragma unroll
  for (int i = 0; i < R; ++i) {
    const int row = g.r0 + (glu ? (i >> 1) : i);
    valid[i] = row < rows;
    const void* w = glu ? a.seg[i & 1].w : a.seg[g.seg].w;
    rowp[i] = static_cast<const uint8_t*>(w) + static_cast<int64_t>(valid[i] ? row : 0) * a.row_bytes;
  }
}

// The grid is at most what the GPU holds at once: each block walks block
// groups bg = blockIdx.x, + gridDim.x, ... (staging the activations once), and
// while it works on one, the rows of the next are prefetched into L2.
// (24 warps per multiprocessor, 80 registers: with 8-warp blocks, measured
// against 16 warps, 5% slower on Qwen2.5 1.5B and 4% faster on 0.5B, and 32
// warps at 64 registers, 5-9% slower on the Q4_K_M models.)
template <class F, int N, int R, bool Q8>
__global__ void __launch_bounds__(kMvThreads, 2) matvec_kernel(const MatvecArgs a, const MatvecPlan p) {
#if JETLM_CUDA_ARCH && JETLM_CUDA_ARCH < JETLM_ARCH_DP4A
  if (Q8) return;  // never launched without dp4a (see run_matvec_n): nothing to compile
#endif
  KTrace trace(kTrMatvec << 24 | static_cast<uint32_t>(a.type) << 16 | static_cast<uint32_t>(min(a.seg[0].rows / 16, 0xFFFF)));
  // (mv_static_smem counts these.)
  __shared__ float s_red[kMvWarps][N];
  __shared__ float s_part[2][kMvWarps][R * N];  // by the parity of the block's round
  extern __shared__ float4 xs4[];
  float* xs = reinterpret_cast<float*>(xs4);
  uint4* xq = reinterpret_cast<uint4*>(xs4);
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const bool glu = a.glu != Act::None;
  const int W = p.split, ks = warp % W;
  const int rw = glu ? R / 2 : R;
  const int cols = a.cols, n = N == 1 ? 1 : a.n;  // (the host takes N = 1 only for one token)

  // This warp's slice [tb, te) of each row's work items.
  const int n_twi = F::n_twi(cols);
  const int per = (n_twi + W - 1) / W;
  const int tb = ks * per, te = min(n_twi, tb + per);
  // L2 prefetch range of the slice past the first item of each lane.
  const int64_t pf_lo = (static_cast<int64_t>(tb + 32) * a.row_bytes / n_twi) & ~int64_t(127);
  const int64_t pf_hi = static_cast<int64_t>(te) * a.row_bytes / n_twi;
  const int64_t sl_lo = (static_cast<int64_t>(tb) * a.row_bytes / n_twi) & ~int64_t(127);

  RowGroup g = row_group(a, p, blockIdx.x, warp, rw);
  const uint8_t* rowp[R];
  bool valid[R];
  row_slots<R>(a, g, glu, rowp, valid);
  typename F::Raw raw[R];
  if (tb + lane < te) {
#pragma unroll
    for (int i = 0; i < R; ++i)
      F::load(rowp[i], tb + lane, cols, raw[i]);
  }
  if (p.prefetch && te - tb > 32) {
#pragma unroll
    for (int i = 0; i < R; ++i)
      if (valid[i])
#pragma unroll 1
        for (int64_t off = pf_lo + 128 * lane; off < pf_hi; off += 32 * 128) prefetch_l2(rowp[i] + off);
  }

  const bool scale_x = a.norm && a.norm_w != nullptr;
  const bool stage_vec = p.x_smem && p.x_vec;
  // Floats (float kernel) or 16-byte records (int8 kernel) per token.
  const int stride = Q8 ? xq_stride<F>(cols) : xs_stride<F>(cols);
  // The norm weights go to shared memory now, after the n activation rows.
  float* ws = Q8 ? reinterpret_cast<float*>(xq + n * stride) : xs + n * stride;
  if (scale_x && stage_vec && Q8) {
    stage_q8_weights(a.norm_w, ws, cols);
  } else if (scale_x && stage_vec) {
    for (int base = 0; base < cols; base += kStagePass) {
      float4 v[kStageU];
#pragma unroll
      for (int u = 0; u < kStageU; ++u) {
        const int j = base + 4 * (tid + u * kMvThreads);
        if (j < cols) v[u] = __ldg(reinterpret_cast<const float4*>(a.norm_w + j));
      }
#pragma unroll
      for (int u = 0; u < kStageU; ++u) {
        const int j = base + 4 * (tid + u * kMvThreads);
        if (j < cols) *reinterpret_cast<float4*>(ws + j) = v[u];
      }
    }
  }

  if (p.early == 2) pdl_trigger();
  pdl_wait();
  trace.released();
  if (p.early == 1) pdl_trigger();

  float inv[N];  // the token's 1 / rms(x) with the fused norm
#pragma unroll
  for (int t = 0; t < N; ++t) inv[t] = 1.f;
  if (a.norm || p.x_smem) {
    // Stage x (times the norm weights) and sum the squares of x per token.
    float ss[N];
#pragma unroll
    for (int t = 0; t < N; ++t) ss[t] = 0.f;
    if (Q8) {
#pragma unroll
      for (int t = 0; t < N; ++t)
        if (t < n) stage_q8<F>(a.x + static_cast<int64_t>(t) * cols, scale_x ? ws : nullptr, cols, xq + t * stride, ss[t]);
    } else if (stage_vec) {
      for (int base = 0; base < cols; base += kStagePass) {
#pragma unroll
        for (int t = 0; t < N; ++t) {
          if (t >= n) continue;
          const float* xr = a.x + static_cast<int64_t>(t) * cols;
          float4 v[kStageU];
#pragma unroll
          for (int u = 0; u < kStageU; ++u) {
            const int j = base + 4 * (tid + u * kMvThreads);
            if (j < cols) v[u] = *reinterpret_cast<const float4*>(xr + j);
          }
#pragma unroll
          for (int u = 0; u < kStageU; ++u) {
            const int j = base + 4 * (tid + u * kMvThreads);
            if (j < cols) {
              ss[t] += sq4(v[u]);
              *reinterpret_cast<float4*>(xs + t * stride + xs_index<F>(j)) =
                  scale_x ? mul4(v[u], *reinterpret_cast<const float4*>(ws + j)) : v[u];
            }
          }
        }
      }
    } else {
      for (int t = 0; t < n && t < N; ++t) {
        const float* xr = a.x + static_cast<int64_t>(t) * cols;
        float sst = 0.f;
        for (int j = tid; j < cols; j += kMvThreads) {
          const float v = xr[j];
          sst += v * v;
          if (p.x_smem) xs[t * stride + xs_index<F>(j)] = scale_x ? v * __ldg(a.norm_w + j) : v;
        }
#pragma unroll
        for (int u = 0; u < N; ++u)
          if (u == t) ss[u] = sst;
      }
    }
    if (a.norm) {
#pragma unroll
      for (int t = 0; t < N; ++t) {
        const float v = warp_sum(ss[t]);
        if (lane == 0) s_red[warp][t] = v;
      }
    }
    __syncthreads();  // the staged activations and the warps' sums of squares are complete
    if (a.norm) {
      // Every thread adds the warps' sums itself (no second barrier).
#pragma unroll
      for (int t = 0; t < N; ++t) {
        float sum = 0.f;
#pragma unroll
        for (int w = 0; w < kMvWarps; ++w) sum += s_red[w][t];
        inv[t] = rsqrtf(__fdividef(sum, static_cast<float>(cols)) + a.norm_eps);
      }
      if (blockIdx.x == 0 && a.norm_out) {
#pragma unroll
        for (int t = 0; t < N; ++t) {
          if (t >= n) break;
          const float* xr = a.x + static_cast<int64_t>(t) * cols;
          for (int j = tid; j < cols; j += kMvThreads)
            a.norm_out[static_cast<int64_t>(t) * cols + j] = xr[j] * inv[t] * (a.norm_w ? a.norm_w[j] : 1.f);
        }
      }
    }
  }

  trace.mark(0);
  // Output (i, t) of a row group belongs to lane i * N + t (R * N <= 32).
  const int oi = lane / N, ot = lane % N;
  float s_tok = 1.f;
#pragma unroll
  for (int t = 0; t < N; ++t)
    if (a.norm && t == ot) s_tok = inv[t];
  int round = 0;
  for (int bg = blockIdx.x; bg < p.n_bg; bg += gridDim.x, ++round) {
    const bool first = bg == blockIdx.x;
    if (!first) {
      g = row_group(a, p, bg, warp, rw);
      row_slots<R>(a, g, glu, rowp, valid);
      if (tb + lane < te) {
#pragma unroll
        for (int i = 0; i < R; ++i)
          F::load(rowp[i], tb + lane, cols, raw[i]);
      }
    }
    // The next group's rows (this warp's slice) into L2 while this one computes.
    const int nbg = bg + gridDim.x;
    if (p.prefetch && nbg < p.n_bg) {
      const RowGroup ng = row_group(a, p, nbg, warp, rw);
      const uint8_t* np[R];
      bool nv[R];
      row_slots<R>(a, ng, glu, np, nv);
#pragma unroll
      for (int i = 0; i < R; ++i)
        if (nv[i])
#pragma unroll 1
          for (int64_t off = sl_lo + 128 * lane; off < pf_hi; off += 32 * 128) prefetch_l2(np[i] + off);
    }
    const MatvecSeg& sg = a.seg[g.seg];
    const int rows = sg.rows;
    const bool owner = lane < R * N && ot < n && (glu ? (oi & 1) == 0 : true) && g.r0 + (glu ? oi >> 1 : oi) < rows &&
                       (W == 1 || ks == 0);
    const int orow = g.r0 + (glu ? oi >> 1 : oi);
    const int64_t oidx = static_cast<int64_t>(ot) * rows + orow;
    float ob0 = 0.f, ob1 = 0.f, ores = 0.f;
    if (owner) {
      if (glu) {
        if (a.seg[0].bias) ob0 = __ldg(a.seg[0].bias + orow);
        if (a.seg[1].bias) ob1 = __ldg(a.seg[1].bias + orow);
      } else {
        if (sg.bias) ob0 = __ldg(sg.bias + orow);
        if (sg.res) ores = sg.res[oidx];
      }
    }

    float acc[R][N];
#pragma unroll
    for (int i = 0; i < R; ++i)
#pragma unroll
      for (int t = 0; t < N; ++t) acc[i][t] = 0.f;
    if (first) trace.mark(1);
    for (int twi = tb + lane; twi < te; twi += 32) {
      if (twi != tb + lane) {
#pragma unroll
        for (int i = 0; i < R; ++i)
          F::load(rowp[i], twi, cols, raw[i]);
      }
      if (Q8) Q8Item<F, N, R, Q8>::run(raw, twi, n, xq, stride, acc);
      else float_item<F, N, R>(raw, twi, a, p, xs, stride, scale_x, acc);
    }

    if (first) trace.mark(2);
    if (!p.early && nbg >= p.n_bg) pdl_trigger();
#pragma unroll
    for (int i = 0; i < R; ++i)
#pragma unroll
      for (int t = 0; t < N; ++t) acc[i][t] = warp_sum(acc[i][t]);
    // Lane i * N + t (< R * N) takes output (i, t); with a split, the first warp
    // of the group adds the W warps' sums. One barrier: a round writes the buffer
    // of its parity, which the round before last read before this block's
    // barrier of the last round.
    float v = 0.f;
#pragma unroll
    for (int i = 0; i < R; ++i)
#pragma unroll
      for (int t = 0; t < N; ++t)
        if (lane == i * N + t) v = acc[i][t];
    if (W > 1) {
      float (*part)[R * N] = s_part[round & 1];
      if (lane < R * N) part[warp][lane] = v;
      __syncthreads();
      if (ks == 0 && lane < R * N) {
        v = 0.f;
        for (int k = 0; k < W; ++k) v += part[warp + k][lane];
      }
    }
    float v1 = 0.f;  // with GLU: the up row's output, from the lane of (i + 1, t)
    if (glu) v1 = __shfl_down_sync(0xffffffffu, v, N);
    if (first) trace.mark(3);
    if (!owner) continue;
    const float v0 = v * s_tok;
    v1 *= s_tok;
    if (glu) {
      const float gv = v0 + ob0, u = v1 + ob1;
      a.seg[1].y[oidx] = u;
      a.seg[0].y[oidx] = act_apply(static_cast<int>(a.glu), gv) * u;
    } else {
      const float y = v0 + ob0;
      sg.y[oidx] = y;
      if (sg.res_out) sg.res_out[oidx] = ores + y;
    }
  }
}

// The kernel's static shared memory; the staging (dynamic) gets the rest of 48 KB.
template <int N, int R>
constexpr size_t mv_static_smem() {
  return sizeof(float) * (kMvWarps * N + 2 * kMvWarps * R * N);
}

// Blocks of one matrix-vector kernel that a multiprocessor holds with `smem`
// bytes of staging: asked once per kernel and 4 KB step of shared memory
// (rounded up), not on every launch.
template <class F, int N, int R, bool Q8>
int matvec_blocks_per_sm(size_t smem) {
  static std::atomic<int> cache[13];  // 0, 4 KB, ..., 48 KB
  const size_t step = (smem + 4095) / 4096;
  std::atomic<int>& c = cache[step < 12 ? step : 12];
  int b = c.load(std::memory_order_relaxed);
  if (b == 0) {
    CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&b, matvec_kernel<F, N, R, Q8>, kMvThreads, step * 4096));
    if (JETLM_CUDA_EMULATED) {  // as many as a Maxwell multiprocessor holds
      const int tx1 = tx1_blocks_per_sm(step * 4096 + mv_static_smem<N, R>(), kMvThreads);
      if (b > tx1) b = tx1;
    }
    if (b < 1) b = 1;
    c.store(b, std::memory_order_relaxed);
  }
  return b;
}

// At most the blocks the GPU holds at once (the kernel loops over block groups).
template <class F, int N, int R, bool Q8>
void launch_matvec_grid(const MatvecPlan& plan, size_t smem, const MatvecArgs& a, cudaStream_t s) {
  MatvecPlan p = plan;
  int grid = p.n_bg;
  if (matvec_tuning().persist) {
    int bps = matvec_blocks_per_sm<F, N, R, Q8>(smem);
    if (matvec_tuning().blocks_per_sm > 0 && matvec_tuning().blocks_per_sm < bps) bps = matvec_tuning().blocks_per_sm;
    const int most = bps * sm_count();
    if (grid > most) grid = most;
  }
  if (p.early >= 3) p.early = a.next_waits && grid * (p.early - 2) <= sm_count() ? 2 : 1;
  launch_kernel(matvec_kernel<F, N, R, Q8>, dim3(grid), dim3(kMvThreads), smem, s, a, p);
}

template <class F, int N>
void run_matvec_n(const MatvecArgs& a, cudaStream_t s) {
  // Two rows per warp: enough to share each activation read, few enough that
  // small matrices still spread over every multiprocessor (measured: four
  // rows per warp cost 10-30% of token generation on an H200).
  constexpr int R = 2;
  const bool glu = a.glu != Act::None;
  const int rw = glu ? R / 2 : R;
  const int n_seg = glu ? 1 : a.n_seg;
  int64_t groups = 0;
  for (int i = 0; i < n_seg; ++i) groups += ceil_div(a.seg[i].rows, rw);
  // Long rows are split over W warps (a divisor of kMvWarps) for the fewest
  // dependent steps per warp: rounds of row groups (the GPU holds
  // `warps_per_sm` warps per multiprocessor at once) times (passes of the
  // lanes over a slice + the cross-warp reduction of a split, `split_cost`
  // half passes); ties go to the smaller W (fewer idle lanes).
  MatvecPlan p;
  const int n_twi = F::n_twi(a.cols);
  const MatvecTuning& tu = matvec_tuning();
  const int64_t resident = int64_t(tu.warps_per_sm) * sm_count();
  const int forced = tu.split > 0 && kMvWarps % tu.split == 0 ? tu.split : 0;  // else chosen here
  int64_t best = -1;
  for (int w = 1; w <= kMvWarps; ++w) {
    if (kMvWarps % w != 0 || (forced && w != forced)) continue;
    const int64_t passes = ceil_div(ceil_div(n_twi, w), 32);
    const int64_t rounds = (groups * w + resident - 1) / resident;
    const int64_t cost = rounds * (2 * passes + (w > 1 ? tu.split_cost : 0));
    if (best < 0 || cost < best) {
      best = cost;
      p.split = w;
    }
  }
  const int rows_per_cta = (kMvWarps / p.split) * rw;
  int c[3] = {0, 0, 0};
  for (int i = 0; i < n_seg; ++i) c[i] = ceil_div(a.seg[i].rows, rows_per_cta);
  p.cta1 = c[0];
  p.cta2 = c[0] + c[1];
  p.x_vec = (reinterpret_cast<uintptr_t>(a.x) & 15) == 0 && a.cols % 4 == 0 &&
            (!a.norm || !a.norm_w || (reinterpret_cast<uintptr_t>(a.norm_w) & 15) == 0);
  p.early = tu.early_trigger;
  p.prefetch = tu.prefetch;
  // Activations staged in shared memory when they fit the default 48 KB: as
  // int8 records where the format and the device allow, else as floats.
  const size_t w_bytes = a.norm && a.norm_w ? static_cast<size_t>(a.cols) * sizeof(float) : 0;
  const size_t q8_bytes = static_cast<size_t>(a.n) * xq_stride<F>(a.cols) * 16 + w_bytes;
  const size_t f_bytes = static_cast<size_t>(a.n) * xs_stride<F>(a.cols) * sizeof(float) + w_bytes;
  p.n_bg = c[0] + c[1] + c[2];
  const size_t smem_room = 48 * 1024 - mv_static_smem<N, R>();
  if (F::kIntCodes && tu.int8 && has_dp4a() && p.x_vec && q8_bytes <= smem_room) {
    p.x_smem = 1;
    launch_matvec_grid<F, N, R, F::kIntCodes>(p, q8_bytes, a, s);
  } else {
    p.x_smem = f_bytes <= smem_room;
    launch_matvec_grid<F, N, R, false>(p, p.x_smem ? f_bytes : 0, a, s);
  }
}

template <class F>
void run_matvec(const MatvecArgs& a, cudaStream_t s) {
  // Token generation is n = 1; short batches share the 4- and 8-token kernels
  // (fewer instantiations: each costs compile time on every architecture).
  if (a.n == 1) run_matvec_n<F, 1>(a, s);
  else if (a.n <= 4) run_matvec_n<F, 4>(a, s);
  else run_matvec_n<F, 8>(a, s);
}

// Per-family entry points (one .cu file each, so they compile in parallel).
bool matvec_float(const MatvecArgs& a, cudaStream_t s);
bool matvec_legacy(const MatvecArgs& a, cudaStream_t s);
bool matvec_kquant(const MatvecArgs& a, cudaStream_t s);

}  // namespace cuda
}  // namespace jetlm
