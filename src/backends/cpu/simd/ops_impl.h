// Activation quantization, element-wise ops and attention, written once over
// the SIMD primitives P.
//
// Part of kernels_impl.h (an ISA translation unit's target region).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "backends/cpu/simd/decode_impl.h"
#include "backends/cpu/simd/kernels.h"

namespace {

// ---- activation quantization --------------------------------------------------

// Symmetric 8-bit codes in [-127, 127] per block (never -128: see prims_avx2.h).
template <class P>
void quantize_row(const float* x, int t, ActQ8* a) {
  const int64_t k = a->k, B = a->block;
  int8_t* q = a->q + t * k;
  float* d = a->d + t * (k / B);
  int16_t* bs = a->bsum + t * (k / 16);
  for (int64_t blk = 0; blk < k / B; ++blk) {
    const float* xb = x + blk * B;
    F32v<P> mx = P::fzero();
    for (int64_t i = 0; i < B; i += P::kLanes) mx = P::fmax(mx, P::fabs_(P::fload(xb + i)));
    const float amax = P::hmax(mx);
    const float db = amax / 127.f;
    const float id = db != 0.f ? 1.f / db : 0.f;
    d[blk] = db;
    for (int64_t i = 0; i < B; i += 32) P::round_q8(xb + i, id, q + blk * B + i);
  }
  for (int64_t i = 0; i < k; i += 32) P::bsums32(q + i, bs + i / 16);
  if (a->s) {
    float* s = a->s + t * (k / 32);
    for (int64_t i = 0; i < k / 32; ++i) s[i] = d[i * 32 / B] * static_cast<float>(bs[2 * i] + bs[2 * i + 1]);
  }
}

// ---- element-wise ops -----------------------------------------------------------

// exp(x) to about 1 ulp (Cephes expf): x = n ln2 + r, |r| <= ln2/2, a degree-6 polynomial for e^r.
template <class P>
F32v<P> vexp(F32v<P> x) {
  x = P::fmin(P::fmax(x, P::fset1(-87.3f)), P::fset1(88.3f));
  const F32v<P> n = P::round_(P::fmul(x, P::fset1(1.44269504088896341f)));
  F32v<P> r = P::fmadd(n, P::fset1(-0.693359375f), x);
  r = P::fmadd(n, P::fset1(2.12194440e-4f), r);
  F32v<P> p = P::fset1(1.9875691500e-4f);
  p = P::fmadd(p, r, P::fset1(1.3981999507e-3f));
  p = P::fmadd(p, r, P::fset1(8.3334519073e-3f));
  p = P::fmadd(p, r, P::fset1(4.1665795894e-2f));
  p = P::fmadd(p, r, P::fset1(1.6666665459e-1f));
  p = P::fmadd(p, r, P::fset1(5.0000001201e-1f));
  p = P::fadd(P::fmadd(P::fmul(p, r), r, r), P::fset1(1.f));
  return P::fmul(p, P::pow2n(n));
}

template <class P>
F32v<P> vsilu(F32v<P> x) {
  const F32v<P> one = P::fset1(1.f);
  return P::fdiv(x, P::fadd(one, vexp<P>(P::fsub(P::fzero(), x))));
}

// 0.5 x (1 + tanh(u)), tanh(u) = 1 - 2 / (e^{2u} + 1).
template <class P>
F32v<P> vgelu(F32v<P> x) {
  const F32v<P> one = P::fset1(1.f);
  const F32v<P> x3 = P::fmul(P::fmul(x, x), x);
  const F32v<P> u = P::fmul(P::fset1(0.79788456080286535588f), P::fmadd(P::fset1(0.044715f), x3, x));
  const F32v<P> e = vexp<P>(P::fadd(u, u));
  const F32v<P> th = P::fsub(one, P::fdiv(P::fset1(2.f), P::fadd(e, one)));
  return P::fmul(P::fmul(P::fset1(0.5f), x), P::fadd(one, th));
}

// out = f(gate) * up, the tail through a padded lane buffer.
template <class P, F32v<P> (*kAct)(F32v<P>)>
void glu_mul(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + P::kLanes <= n; i += P::kLanes)
    P::fstore(out + i, P::fmul(kAct(P::fload(gate + i)), P::fload(up + i)));
  if (i < n) {
    float g[P::kLanes] = {}, u[P::kLanes] = {}, o[P::kLanes];
    for (int64_t j = i; j < n; ++j) {
      g[j - i] = gate[j];
      u[j - i] = up[j];
    }
    P::fstore(o, P::fmul(kAct(P::fload(g)), P::fload(u)));
    for (int64_t j = i; j < n; ++j) out[j] = o[j - i];
  }
}

template <class P>
void rms_norm_row(const float* x, const float* w, float eps, int64_t n, float* out) {
  F32v<P> a0 = P::fzero(), a1 = P::fzero();
  int64_t i = 0;
  for (; i + 2 * P::kLanes <= n; i += 2 * P::kLanes) {
    const F32v<P> v0 = P::fload(x + i), v1 = P::fload(x + i + P::kLanes);
    a0 = P::fmadd(v0, v0, a0);
    a1 = P::fmadd(v1, v1, a1);
  }
  float ss = P::hsum(P::fadd(a0, a1));
  for (; i < n; ++i) ss += x[i] * x[i];
  const float s = 1.f / std::sqrt(ss / static_cast<float>(n) + eps);
  const F32v<P> sv = P::fset1(s);
  i = 0;
  for (; i + P::kLanes <= n; i += P::kLanes) {
    F32v<P> v = P::fmul(P::fload(x + i), sv);
    if (w) v = P::fmul(v, P::fload(w + i));
    P::fstore(out + i, v);
  }
  for (; i < n; ++i) out[i] = x[i] * s * (w ? w[i] : 1.f);
}

template <class P>
void add(const float* a, const float* b, int64_t n, float* out) {
  int64_t i = 0;
  for (; i + P::kLanes <= n; i += P::kLanes) P::fstore(out + i, P::fadd(P::fload(a + i), P::fload(b + i)));
  for (; i < n; ++i) out[i] = a[i] + b[i];
}

template <class P>
void scale(float* x, int64_t n, float s) {
  const F32v<P> sv = P::fset1(s);
  int64_t i = 0;
  for (; i + P::kLanes <= n; i += P::kLanes) P::fstore(x + i, P::fmul(P::fload(x + i), sv));
  for (; i < n; ++i) x[i] *= s;
}

template <class P>
void to_f16(const float* src, int64_t n, uint16_t* dst) {
  int64_t i = 0;
  for (; i + P::kLanes <= n; i += P::kLanes) P::store_f16(dst + i, P::fload(src + i));
  for (; i < n; ++i) dst[i] = P::f2h(src[i]);
}

// ---- attention ----------------------------------------------------------------------

template <class P, bool kF16>
F32v<P> load_kv(const void* base, int64_t i) {
  if constexpr (kF16) return P::load_f16(static_cast<const uint16_t*>(base) + i);
  else return P::fload(static_cast<const float*>(base) + i);
}
template <class P, bool kF16>
float kv_at(const void* base, int64_t i) {
  if constexpr (kF16) return P::h2f(static_cast<const uint16_t*>(base)[i]);
  else return static_cast<const float*>(base)[i];
}

// Output vectors of one head kept in registers while a block of positions
// adds its weighted V rows (a load and a store per block, not per position).
constexpr int kPvVecs = 8;

// o[0, NV lanes) += sum over jj < nj of w[jj] * V[row vrow[jj], d + ...], positions in order.
template <class P, bool kF16, int NV>
inline __attribute__((always_inline)) void attend_pv(float* o, const void* v, const int64_t* vrow, int d,
                                                     const float* w, int nj) {
  F32v<P> acc[NV];
  for (int i = 0; i < NV; ++i) acc[i] = P::fload(o + i * P::kLanes);
  for (int jj = 0; jj < nj; ++jj) {
    const F32v<P> wv = P::fset1(w[jj]);
    const int64_t vb = vrow[jj] + d;
    for (int i = 0; i < NV; ++i) acc[i] = P::fmadd(wv, load_kv<P, kF16>(v, vb + i * P::kLanes), acc[i]);
  }
  for (int i = 0; i < NV; ++i) P::fstore(o + i * P::kLanes, acc[i]);
}

constexpr int kAttnBlock = 64;     // positions per online-softmax block
constexpr int kAttnMaxHeads = 8;   // query heads of one KV head per group pass

// Scores of one position (K row at kb) for NH query heads: each K vector is
// loaded (and converted) once for all heads, each head's dot product
// accumulates in a register of its own, in the order of d.
template <class P, bool kF16, int NH>
void attend_qk(const float* q, int q_stride, const void* k, int64_t kb, int dk, float scale,
               float (*sc)[kAttnBlock], int jj) {
  F32v<P> acc[NH];
  for (int h = 0; h < NH; ++h) acc[h] = P::fzero();
  int d = 0;
  for (; d + P::kLanes <= dk; d += P::kLanes) {
    const F32v<P> kv = load_kv<P, kF16>(k, kb + d);
    for (int h = 0; h < NH; ++h) acc[h] = P::fmadd(P::fload(q + h * q_stride + d), kv, acc[h]);
  }
  for (int h = 0; h < NH; ++h) {
    float s = P::hsum(acc[h]);
    for (int e = d; e < dk; ++e) s += q[h * q_stride + e] * kv_at<P, kF16>(k, kb + e);
    sc[h][jj] = s * scale;
  }
}

template <class P, bool kF16>
using AttendQkFn = void (*)(const float*, int, const void*, int64_t, int, float, float (*)[kAttnBlock], int);
template <class P, bool kF16>
AttendQkFn<P, kF16> attend_qk_for(int nh) {
  static const AttendQkFn<P, kF16> fns[kAttnMaxHeads] = {
      attend_qk<P, kF16, 1>, attend_qk<P, kF16, 2>, attend_qk<P, kF16, 3>, attend_qk<P, kF16, 4>,
      attend_qk<P, kF16, 5>, attend_qk<P, kF16, 6>, attend_qk<P, kF16, 7>, attend_qk<P, kF16, 8>};
  return fns[nh - 1];
}

// Online softmax over blocks of positions (the running maximum rescales what
// was accumulated), so no score buffer proportional to the context is needed.
template <class P, bool kF16>
void attend_group(const AttnTask& t, int h0, int nh) {
  constexpr int kBlock = kAttnBlock;
  constexpr int kMaxHeads = kAttnMaxHeads;
  const AttendQkFn<P, kF16> qk = attend_qk_for<P, kF16>(nh);
  float sc[kMaxHeads][kBlock];
  float mx[kMaxHeads], sum[kMaxHeads];
  const int dk = t.head_dim_k, dv = t.head_dim_v;
  for (int h = 0; h < nh; ++h) {
    mx[h] = -INFINITY;
    sum[h] = 0.f;
    float* o = t.out + (h0 + h) * t.out_stride;
    for (int d = 0; d < dv; ++d) o[d] = 0.f;
  }
  for (int j0 = t.lo; j0 <= t.hi; j0 += kBlock) {
    const int nj = std::min(kBlock, t.hi - j0 + 1);
    for (int jj = 0; jj < nj; ++jj) {
      const int64_t kb = static_cast<int64_t>((j0 + jj) % t.ring) * t.k_stride;
      qk(t.q + h0 * t.q_stride, t.q_stride, t.k, kb, dk, t.scale, sc, jj);
    }
    for (int h = 0; h < nh; ++h) {
      float bm = mx[h];
      for (int jj = 0; jj < nj; ++jj) bm = std::max(bm, sc[h][jj]);
      const float corr = std::exp(mx[h] - bm);  // 0 on the first block (mx = -inf)
      mx[h] = bm;
      if (corr != 1.f) {
        sum[h] *= corr;
        scale<P>(t.out + (h0 + h) * t.out_stride, dv, corr);
      }
      int jj = 0;
      const F32v<P> m = P::fset1(bm);
      for (; jj + P::kLanes <= nj; jj += P::kLanes) P::fstore(&sc[h][jj], vexp<P>(P::fsub(P::fload(&sc[h][jj]), m)));
      for (; jj < nj; ++jj) sc[h][jj] = std::exp(sc[h][jj] - bm);
      for (jj = 0; jj < nj; ++jj) sum[h] += sc[h][jj];
    }
    int64_t vrow[kBlock];  // [nj] first element of each position's V row
    for (int jj = 0; jj < nj; ++jj) vrow[jj] = static_cast<int64_t>((j0 + jj) % t.ring) * t.v_stride;
    for (int h = 0; h < nh; ++h) {
      float* o = t.out + (h0 + h) * t.out_stride;
      int d = 0;
      for (; d + kPvVecs * P::kLanes <= dv; d += kPvVecs * P::kLanes) attend_pv<P, kF16, kPvVecs>(o + d, t.v, vrow, d, sc[h], nj);
      for (; d + P::kLanes <= dv; d += P::kLanes) attend_pv<P, kF16, 1>(o + d, t.v, vrow, d, sc[h], nj);
      for (; d < dv; ++d)
        for (int jj = 0; jj < nj; ++jj) o[d] += sc[h][jj] * kv_at<P, kF16>(t.v, vrow[jj] + d);
    }
  }
  for (int h = 0; h < nh; ++h) scale<P>(t.out + (h0 + h) * t.out_stride, dv, 1.f / sum[h]);
}

template <class P>
void attend(const AttnTask& t) {
  for (int h0 = 0; h0 < t.group; h0 += kAttnMaxHeads) {
    const int nh = std::min(kAttnMaxHeads, t.group - h0);
    if (t.f16) attend_group<P, true>(t, h0, nh);
    else attend_group<P, false>(t, h0, nh);
  }
}

}  // namespace
