// The token-generation matrix-vector kernel: y = W x for up to 8 tokens, every
// weight byte read once, dequantized in registers (no activation rounding: x
// stays float32, so the result is the reference's up to summation order).
//
// Layout: 128 threads = 4 warps; each warp owns R rows (R/2 gate + R/2 up rows
// with the fused GLU) and its lanes stride over the row's thread work items
// (quant_formats.cuh), so a warp's loads cover contiguous row bytes and each
// activation group is read once for R rows. The first work item's weights
// are loaded before pdl_wait(): they never depend on the previous kernel.
// The activations are staged in shared memory once per block (normalized
// there when the norm is fused): lanes read them 64-256 bytes apart, which
// from global memory costs one L1 wavefront per lane (measured: the L1, not
// DRAM, was the limit). A 4-float pad every P values spreads those reads over
// all banks.
// Fused, optionally: RMSNorm of the input (each block recomputes the token's
// rms, block 0 also stores the normalized input), bias, residual add, GLU.
#pragma once
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

// Padded shared-memory index of activation v: 4 floats after every P values.
template <class F>
JHD int xs_pad_shift() { return F::kTwiValues >= 128 ? 7 : (F::kTwiValues >= 64 ? 6 : 5); }
template <class F>
JHD int xs_index(int v) { return v + ((v >> xs_pad_shift<F>()) << 2); }
template <class F>
JHD int xs_stride(int cols) { return (xs_index<F>(cols) + 7) & ~3; }

template <class F, int N, int R>
__global__ void __launch_bounds__(128) matvec_kernel(const MatvecArgs a, const int cta1, const int cta2, const int x_vec,
                                                     const int x_smem) {
  __shared__ float s_red[4][N];
  __shared__ float s_inv[N];
  extern __shared__ float4 xs4[];
  float* xs = reinterpret_cast<float*>(xs4);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const bool glu = a.glu != Act::None;
  int seg = 0, cta = blockIdx.x;
  if (!glu) {
    if (a.n_seg > 2 && cta >= cta2) {
      seg = 2;
      cta -= cta2;
    } else if (a.n_seg > 1 && cta >= cta1) {
      seg = 1;
      cta -= cta1;
    }
  }
  const int rw = glu ? R / 2 : R;
  const int rows = a.seg[seg].rows;
  const int r0 = (cta * 4 + warp) * rw;
  const int cols = a.cols, n = a.n;

  // Slot i: row r0 + i, or with GLU gate (even i) / up (odd i) row r0 + i/2.
  const uint8_t* rowp[R];
  bool valid[R];
#pragma unroll
  for (int i = 0; i < R; ++i) {
    const int row = r0 + (glu ? (i >> 1) : i);
    valid[i] = row < rows;
    const void* w = glu ? a.seg[i & 1].w : a.seg[seg].w;
    rowp[i] = static_cast<const uint8_t*>(w) + static_cast<int64_t>(valid[i] ? row : 0) * a.row_bytes;
  }

  const int n_twi = F::n_twi(cols);
  typename F::Raw raw[R];
  int twi = lane;
  if (twi < n_twi) {
#pragma unroll
    for (int i = 0; i < R; ++i)
      if (valid[i]) F::load(rowp[i], twi, cols, raw[i]);
  }
  pdl_wait();

  const int stride = xs_stride<F>(cols);
  // With the norm fused, the weights are staged after the n activation rows so
  // that normalizing needs no second trip to global memory.
  float* ws = xs + n * stride;
  const bool w_smem = x_smem && a.norm && a.norm_w;
  if (a.norm || x_smem) {
    // Stage (and sum squares of) the activations; then normalize in place.
    float ss[N];
#pragma unroll
    for (int t = 0; t < N; ++t) {
      ss[t] = 0.f;
      if (t < n) {
        const float* xr = a.x + static_cast<int64_t>(t) * cols;
        if (x_smem && x_vec) {
          for (int j = 4 * threadIdx.x; j < cols; j += 4 * 128) {
            const float4 v = __ldg(reinterpret_cast<const float4*>(xr + j));
            ss[t] += v.x * v.x + v.y * v.y + v.z * v.z + v.w * v.w;
            *reinterpret_cast<float4*>(xs + t * stride + xs_index<F>(j)) = v;
          }
        } else {
          for (int j = threadIdx.x; j < cols; j += 128) {
            const float v = xr[j];
            ss[t] += v * v;
            if (x_smem) xs[t * stride + xs_index<F>(j)] = v;
          }
        }
      }
      if (a.norm) {
        ss[t] = warp_sum(ss[t]);
        if (lane == 0) s_red[warp][t] = ss[t];
      }
    }
    if (w_smem)
      for (int j = threadIdx.x; j < cols; j += 128) ws[j] = __ldg(a.norm_w + j);
    if (a.norm) {
      __syncthreads();
      if (threadIdx.x < N) {
        const int t = threadIdx.x;
        const float sum = s_red[0][t] + s_red[1][t] + s_red[2][t] + s_red[3][t];
        s_inv[t] = 1.f / sqrtf(sum / static_cast<float>(cols) + a.norm_eps);
      }
      __syncthreads();
      const bool out = blockIdx.x == 0 && a.norm_out;
      for (int t = 0; t < n; ++t) {
        const float* xr = a.x + static_cast<int64_t>(t) * cols;
        if (x_smem) {
          for (int j = threadIdx.x; j < cols; j += 128) {
            float* p = xs + t * stride + xs_index<F>(j);
            const float v = *p * s_inv[t] * (a.norm_w ? ws[j] : 1.f);
            *p = v;
            if (out) a.norm_out[static_cast<int64_t>(t) * cols + j] = v;
          }
        } else if (out) {
          for (int j = threadIdx.x; j < cols; j += 128)
            a.norm_out[static_cast<int64_t>(t) * cols + j] = xr[j] * s_inv[t] * (a.norm_w ? a.norm_w[j] : 1.f);
        }
      }
    }
    __syncthreads();
  }

  float acc[R][N];
#pragma unroll
  for (int i = 0; i < R; ++i)
#pragma unroll
    for (int t = 0; t < N; ++t) acc[i][t] = 0.f;

  for (; twi < n_twi; twi += 32) {
    if (twi != lane) {
#pragma unroll
      for (int i = 0; i < R; ++i)
        if (valid[i]) F::load(rowp[i], twi, cols, raw[i]);
    }
#pragma unroll
    for (int g = 0; g < F::kGroups; ++g) {
      const int v0 = F::group_start(twi, g);
      float xv[N][8];
      float xsum[N];
      if (x_smem) {
#pragma unroll
        for (int t = 0; t < N; ++t) {
          if (t < n && v0 + 8 <= cols) {
            const float4* p = reinterpret_cast<const float4*>(xs + t * stride + xs_index<F>(v0));
            const float4 lo = p[0], hi = p[1];
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
        if (a.norm) {
          if (a.norm_w) {
            load_x8(a.norm_w, v0, cols, x_vec != 0, nw);
          } else {
#pragma unroll
            for (int k = 0; k < 8; ++k) nw[k] = 1.f;
          }
        }
#pragma unroll
        for (int t = 0; t < N; ++t) {
          if (t < n) {
            load_x8(a.x + static_cast<int64_t>(t) * cols, v0, cols, x_vec != 0, xv[t]);
            if (a.norm) {
#pragma unroll
              for (int k = 0; k < 8; ++k) xv[t][k] = xv[t][k] * s_inv[t] * nw[k];
            }
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
        if (!valid[i]) continue;
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

  // Only now let the next kernel start: launched any earlier, the kernels after
  // it would also start and sit on the multiprocessors waiting.
  pdl_trigger();
#pragma unroll
  for (int i = 0; i < R; ++i)
#pragma unroll
    for (int t = 0; t < N; ++t) acc[i][t] = warp_sum(acc[i][t]);

  // Every lane now holds every sum; lane (i*N + t) % 32 writes output (i, t).
#pragma unroll
  for (int i = 0; i < R; ++i) {
#pragma unroll
    for (int t = 0; t < N; ++t) {
      if (((i * N + t) & 31) != lane || t >= n || !valid[i]) continue;
      if (glu) {
        if (i & 1) continue;
        const int row = r0 + (i >> 1);
        const int64_t idx = static_cast<int64_t>(t) * rows + row;
        float g = acc[i][t], u = acc[i | 1][t];
        if (a.seg[0].bias) g += a.seg[0].bias[row];
        if (a.seg[1].bias) u += a.seg[1].bias[row];
        a.seg[1].y[idx] = u;
        a.seg[0].y[idx] = act_apply(static_cast<int>(a.glu), g) * u;
      } else {
        const int row = r0 + i;
        const int64_t idx = static_cast<int64_t>(t) * rows + row;
        const MatvecSeg& sg = a.seg[seg];
        float v = acc[i][t];
        if (sg.bias) v += sg.bias[row];
        sg.y[idx] = v;
        if (sg.res_out) sg.res_out[idx] = sg.res[idx] + v;
      }
    }
  }
}

// Multiprocessors of the current device (asked once, before any graph capture:
// see kernels_init).
inline int sm_count() {
  static int n = 0;
  if (n == 0) {
    int dev = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    CUDA_CHECK(cudaDeviceGetAttribute(&n, cudaDevAttrMultiProcessorCount, dev));
  }
  return n;
}

template <class F, int N>
void run_matvec_n(const MatvecArgs& a, cudaStream_t s) {
  // Two rows per warp: enough to share each activation read, few enough that
  // small matrices still spread over every multiprocessor (measured: 4 rows
  // left 4 warps per SM on a 2048-row matrix, latency-bound).
  constexpr int R = 2;
  const bool glu = a.glu != Act::None;
  const int rows_per_cta = 4 * (glu ? R / 2 : R);
  int c[3] = {0, 0, 0};
  const int n_seg = glu ? 1 : a.n_seg;
  for (int i = 0; i < n_seg; ++i) c[i] = ceil_div(a.seg[i].rows, rows_per_cta);
  const int total = c[0] + c[1] + c[2];
  const bool x_vec = (reinterpret_cast<uintptr_t>(a.x) & 15) == 0 && a.cols % 4 == 0 &&
                     (!a.norm || !a.norm_w || (reinterpret_cast<uintptr_t>(a.norm_w) & 15) == 0);
  // Stage the activations in shared memory when they fit the default 48 KB.
  const size_t smem = static_cast<size_t>(a.n + (a.norm && a.norm_w ? 1 : 0)) * xs_stride<F>(a.cols) * sizeof(float);
  const bool x_smem = smem <= 48 * 1024;
  launch_kernel(matvec_kernel<F, N, R>, dim3(total), dim3(128), x_smem ? smem : 0, s, a, c[0], c[0] + c[1],
                x_vec ? 1 : 0, x_smem ? 1 : 0);
}

template <class F>
void run_matvec(const MatvecArgs& a, cudaStream_t s) {
  if (a.n == 1) run_matvec_n<F, 1>(a, s);
  else if (a.n == 2) run_matvec_n<F, 2>(a, s);
  else if (a.n <= 4) run_matvec_n<F, 4>(a, s);
  else run_matvec_n<F, 8>(a, s);
}

// Per-family entry points (one .cu file each, so they compile in parallel).
bool matvec_float(const MatvecArgs& a, cudaStream_t s);
bool matvec_legacy(const MatvecArgs& a, cudaStream_t s);
bool matvec_kquant(const MatvecArgs& a, cudaStream_t s);

}  // namespace cuda
}  // namespace jetlm
