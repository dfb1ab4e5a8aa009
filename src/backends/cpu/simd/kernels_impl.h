// The fast CPU kernels, written once over the SIMD primitives P and
// instantiated by each ISA translation unit (kernels_<isa>.cpp), which
// includes this file inside its target region and exports fill_table<P>().
//
// Matrix kernels: one per format family (layout.h). A call computes a tile of
// up to 4 decoded weight rows against every token of the call, TT tokens at a
// time, with the accumulators of the RT x TT tile in registers: each weight
// vector loaded is used TT times and each activation vector RT times.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdlib>

#include "backends/cpu/simd/decode_impl.h"
#include "backends/cpu/simd/kernels.h"

namespace {

template <class P>
using F32v = typename P::F32;
template <class P>
using I32v = typename P::I32;

// Token tile width for a row tile: RT * TT accumulators must fit the 16
// vector registers of AVX2 together with the operands.
constexpr int token_tile(int rt) { return rt <= 2 ? 4 : 2; }

// ---- matrix kernels ----------------------------------------------------------

struct KQuantTile {
  template <class P, int RT, int TT>
  static void run(const GemmArgs& g, int t) {
    const ActQ8& a = *g.act;
    const int64_t k = g.k, nsb = k / QK_K;
    const int8_t* aq[TT];
    const float* ad[TT];
    const int16_t* ab[TT];
    for (int j = 0; j < TT; ++j) {
      const int64_t tok = g.t0 + t + j;
      aq[j] = a.q + tok * k;
      ad[j] = a.d + tok * nsb;
      ab[j] = a.bsum + tok * (k / 16);
    }
    F32v<P> acc[RT][TT];
    for (int r = 0; r < RT; ++r)
      for (int j = 0; j < TT; ++j) acc[r][j] = P::fzero();
    for (int64_t sb = 0; sb < nsb; ++sb) {
      I32v<P> is[RT][TT];
      for (int r = 0; r < RT; ++r)
        for (int j = 0; j < TT; ++j) is[r][j] = P::izero();
      typename P::SC sc[RT];
      for (int r = 0; r < RT; ++r) sc[r] = P::sc_prepare(P::v16_load(g.rows[r].sc + sb * 16));
      for (int c = 0; c < 8; ++c) {
        typename P::B32 w[RT];
        typename P::S16 s[RT];
        for (int r = 0; r < RT; ++r) {
          w[r] = P::load32(g.rows[r].q + sb * QK_K + 32 * c);
          s[r] = P::scales_v(sc[r], c);
        }
        for (int j = 0; j < TT; ++j) {
          const typename P::B32 av = P::load32(aq[j] + sb * QK_K + 32 * c);
          for (int r = 0; r < RT; ++r) is[r][j] = P::acc_ug(is[r][j], w[r], av, s[r]);
        }
      }
      for (int r = 0; r < RT; ++r) {
        for (int j = 0; j < TT; ++j) {
          const float da = ad[j][sb];
          const I32v<P> mins = P::dot_mins(P::mn_load(g.rows[r].mn + sb * 16), ab[j] + sb * 16);
          acc[r][j] = P::fmadd(P::cvt(is[r][j]), P::fset1(g.rows[r].d[sb] * da), acc[r][j]);
          acc[r][j] = P::fmadd(P::cvt(mins), P::fset1(-g.rows[r].m[sb] * da), acc[r][j]);
        }
      }
    }
    for (int r = 0; r < RT; ++r)
      for (int j = 0; j < TT; ++j) g.y[(t + j) * g.ldy + r] = P::hsum(acc[r][j]);
  }
};

// Dot of two float arrays (the LegacyMin offset term: sum over blocks of m * d_a * sum(a)).
template <class P>
float fdot(const float* a, const float* b, int64_t n) {
  F32v<P> acc = P::fzero();
  int64_t i = 0;
  for (; i + P::kLanes <= n; i += P::kLanes) acc = P::fmadd(P::fload(a + i), P::fload(b + i), acc);
  float s = P::hsum(acc);
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

template <bool kSigned>
struct LegacyTile {
  template <class P, int RT, int TT>
  static void run(const GemmArgs& g, int t) {
    static const int8_t kOnes[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const ActQ8& a = *g.act;
    const int64_t k = g.k, nb = k / 32;
    const int8_t* aq[TT];
    const float* ad[TT];
    for (int j = 0; j < TT; ++j) {
      const int64_t tok = g.t0 + t + j;
      aq[j] = a.q + tok * k;
      ad[j] = a.d + tok * nb;
    }
    const typename P::S16 ones = P::scales_v(P::sc_prepare(P::v16_load(kOnes)), 0);
    F32v<P> acc[RT][TT];
    for (int r = 0; r < RT; ++r)
      for (int j = 0; j < TT; ++j) acc[r][j] = P::fzero();
    for (int64_t b = 0; b < nb; ++b) {
      typename P::B32 w[RT];
      typename P::WS ws[RT];
      for (int r = 0; r < RT; ++r) {
        w[r] = P::load32(g.rows[r].q + 32 * b);
        if constexpr (kSigned) ws[r] = P::prep_s(w[r]);
      }
      for (int j = 0; j < TT; ++j) {
        const typename P::B32 av = P::load32(aq[j] + 32 * b);
        const float da = ad[j][b];
        for (int r = 0; r < RT; ++r) {
          const I32v<P> is = kSigned ? P::acc_s(P::izero(), ws[r], av) : P::acc_ug(P::izero(), w[r], av, ones);
          acc[r][j] = P::fmadd(P::cvt(is), P::fset1(g.rows[r].d[b] * da), acc[r][j]);
        }
      }
    }
    for (int r = 0; r < RT; ++r) {
      for (int j = 0; j < TT; ++j) {
        float v = P::hsum(acc[r][j]);
        if constexpr (!kSigned) v += fdot<P>(g.rows[r].m, a.s + (g.t0 + t + j) * nb, nb);
        g.y[(t + j) * g.ldy + r] = v;
      }
    }
  }
};

struct FloatTile {
  template <class P, int RT, int TT>
  static void run(const GemmArgs& g, int t) {
    const int64_t k = g.k;
    const float* x[TT];
    for (int j = 0; j < TT; ++j) x[j] = g.x + (g.t0 + t + j) * k;
    F32v<P> acc[RT][TT];
    for (int r = 0; r < RT; ++r)
      for (int j = 0; j < TT; ++j) acc[r][j] = P::fzero();
    int64_t i = 0;
    for (; i + P::kLanes <= k; i += P::kLanes) {
      F32v<P> w[RT];
      for (int r = 0; r < RT; ++r) w[r] = P::fload(g.rows[r].f + i);
      for (int j = 0; j < TT; ++j) {
        const F32v<P> xv = P::fload(x[j] + i);
        for (int r = 0; r < RT; ++r) acc[r][j] = P::fmadd(w[r], xv, acc[r][j]);
      }
    }
    for (int r = 0; r < RT; ++r) {
      for (int j = 0; j < TT; ++j) {
        float v = P::hsum(acc[r][j]);
        for (int64_t c = i; c < k; ++c) v += g.rows[r].f[c] * x[j][c];
        g.y[(t + j) * g.ldy + r] = v;
      }
    }
  }
};

template <class P, class Tile, int RT>
void gemm_rows(const GemmArgs& g) {
  constexpr int TT = token_tile(RT);
  int t = 0;
  for (; t + TT <= g.n_tok; t += TT) Tile::template run<P, RT, TT>(g, t);
  for (; t < g.n_tok; ++t) Tile::template run<P, RT, 1>(g, t);
}

template <class P, class Tile>
void gemm(const GemmArgs& g) {
  switch (g.n_rows) {
    case 1: return gemm_rows<P, Tile, 1>(g);
    case 2: return gemm_rows<P, Tile, 2>(g);
    case 3: return gemm_rows<P, Tile, 3>(g);
    default: return gemm_rows<P, Tile, 4>(g);
  }
}


// ---- fused matrix-vector kernels (token generation) ---------------------------
// Two rows at a time share the activation loads and give two independent
// accumulation chains; blocks are decoded in registers, never stored, so the
// loads of the next blocks issue while this one is multiplied, and a software
// prefetch runs kPrefetch bytes ahead in each row to keep more misses in flight.

// Tuning experiment: JETLM_PF overrides (to be fixed to the best constant).
inline int prefetch_distance() {
  static const int v = [] {
    const char* e = std::getenv("JETLM_PF");
    return e ? std::atoi(e) : 4096;
  }();
  return v;
}

template <class P, class D>
void gemv_legacy(const uint8_t* w, size_t rb, int n_rows, int64_t k, const ActQ8* act, const float*, float* y) {
  using Block = typename D::Block;
  constexpr bool kSigned = D::kFamily == Family::LegacySigned;
  static const int8_t kOnes[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const typename P::S16 ones = P::scales_v(P::sc_prepare(P::v16_load(kOnes)), 0);
  const int64_t nb = k / 32;
  const int pf = prefetch_distance();
  const int8_t* aq = act->q;
  const float* ad = act->d;
  const float* as = act->s;
  auto dot = [&](const Block& b, typename P::B32 av) {
    const typename P::B32 c = D::codes(b);
    if constexpr (kSigned) return P::acc_s(P::izero(), P::prep_s(c), av);
    else return P::acc_ug(P::izero(), c, av, ones);
  };
  for (int r = 0; r < n_rows; r += 2) {
    const bool two = r + 1 < n_rows;
    const Block* b0 = reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * rb);
    const Block* b1 = reinterpret_cast<const Block*>(w + static_cast<size_t>(two ? r + 1 : r) * rb);
    F32v<P> acc0 = P::fzero(), acc1 = P::fzero();
    float off0 = 0.f, off1 = 0.f;
    for (int64_t i = 0; i < nb; ++i) {
      P::prefetch(reinterpret_cast<const uint8_t*>(b0 + i) + pf);
      P::prefetch(reinterpret_cast<const uint8_t*>(b1 + i) + pf);
      const typename P::B32 av = P::load32(aq + 32 * i);
      const float da = ad[i];
      acc0 = P::fmadd(P::cvt(dot(b0[i], av)), P::fset1(D::d(b0[i]) * da), acc0);
      acc1 = P::fmadd(P::cvt(dot(b1[i], av)), P::fset1(D::d(b1[i]) * da), acc1);
      if constexpr (!kSigned) {
        off0 += D::m(b0[i]) * as[i];
        off1 += D::m(b1[i]) * as[i];
      }
    }
    y[r] = P::hsum(acc0) + off0;
    if (two) y[r + 1] = P::hsum(acc1) + off1;
  }
}

template <class P, class D>
void gemv_k(const uint8_t* w, size_t rb, int n_rows, int64_t k, const ActQ8* act, const float*, float* y) {
  using Block = typename D::Block;
  const int64_t nsb = k / QK_K;
  const int pf = prefetch_distance();
  const int8_t* aq = act->q;
  const float* ad = act->d;
  const int16_t* ab = act->bsum;
  // One super-block of one row: integer sum over its 8 chunks, then scale and mins.
  auto superblock = [&](const Block& b, int64_t sb, F32v<P> acc) {
    const KScales<P> s = D::scales(b);
    const typename P::SC sc = P::sc_prepare(s.sc);
    I32v<P> is = P::izero();
    for (int h = 0; h < 2; ++h) {
      typename P::B32 c[4];
      D::codes(b, h, c);
      for (int j = 0; j < 4; ++j)
        is = P::acc_ug(is, c[j], P::load32(aq + sb * QK_K + 128 * h + 32 * j), P::scales_v(sc, 4 * h + j));
    }
    const float da = ad[sb];
    acc = P::fmadd(P::cvt(is), P::fset1(s.d * da), acc);
    return P::fmadd(P::cvt(P::dot_mins(s.mn, ab + 16 * sb)), P::fset1(-s.dmin * da), acc);
  };
  for (int r = 0; r < n_rows; r += 2) {
    const bool two = r + 1 < n_rows;
    const Block* b0 = reinterpret_cast<const Block*>(w + static_cast<size_t>(r) * rb);
    const Block* b1 = reinterpret_cast<const Block*>(w + static_cast<size_t>(two ? r + 1 : r) * rb);
    F32v<P> acc0 = P::fzero(), acc1 = P::fzero();
    for (int64_t sb = 0; sb < nsb; ++sb) {
      for (int l = 0; l < static_cast<int>(sizeof(Block)); l += 64) {
        P::prefetch(reinterpret_cast<const uint8_t*>(b0 + sb) + pf + l);
        P::prefetch(reinterpret_cast<const uint8_t*>(b1 + sb) + pf + l);
      }
      acc0 = superblock(b0[sb], sb, acc0);
      if (two) acc1 = superblock(b1[sb], sb, acc1);
    }
    y[r] = P::hsum(acc0);
    if (two) y[r + 1] = P::hsum(acc1);
  }
}

// F32 / F16 / BF16 weights against float activations.
template <class P, class L>
void gemv_float(const uint8_t* w, size_t rb, int n_rows, int64_t k, const ActQ8*, const float* x, float* y) {
  const int pf = prefetch_distance() / static_cast<int>(sizeof(typename L::Elem));
  for (int r = 0; r < n_rows; r += 2) {
    const bool two = r + 1 < n_rows;
    const auto* w0 = reinterpret_cast<const typename L::Elem*>(w + static_cast<size_t>(r) * rb);
    const auto* w1 = reinterpret_cast<const typename L::Elem*>(w + static_cast<size_t>(two ? r + 1 : r) * rb);
    F32v<P> acc0 = P::fzero(), acc1 = P::fzero();
    int64_t i = 0;
    for (; i + P::kLanes <= k; i += P::kLanes) {
      P::prefetch(w0 + i + pf);
      P::prefetch(w1 + i + pf);
      const F32v<P> xv = P::fload(x + i);
      acc0 = P::fmadd(L::load(w0 + i), xv, acc0);
      acc1 = P::fmadd(L::load(w1 + i), xv, acc1);
    }
    float s0 = P::hsum(acc0), s1 = P::hsum(acc1);
    for (; i < k; ++i) {
      s0 += L::one(w0[i]) * x[i];
      s1 += L::one(w1[i]) * x[i];
    }
    y[r] = s0;
    if (two) y[r + 1] = s1;
  }
}

template <class P>
struct LoadF32 {
  using Elem = float;
  static typename P::F32 load(const float* p) { return P::fload(p); }
  static float one(float v) { return v; }
};
template <class P, bool kBf16>
struct LoadHalf : Half<P, kBf16> {
  using Elem = uint16_t;
};

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

// Online softmax over blocks of positions (the running maximum rescales what
// was accumulated), so no score buffer proportional to the context is needed.
template <class P, bool kF16>
void attend_group(const AttnTask& t, int h0, int nh) {
  constexpr int kBlock = 64;
  constexpr int kMaxHeads = 8;
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
      const int64_t kb = static_cast<int64_t>(j0 + jj) * t.k_stride;
      for (int h = 0; h < nh; ++h) {
        const float* q = t.q + (h0 + h) * t.q_stride;
        F32v<P> acc = P::fzero();
        int d = 0;
        for (; d + P::kLanes <= dk; d += P::kLanes) acc = P::fmadd(P::fload(q + d), load_kv<P, kF16>(t.k, kb + d), acc);
        float s = P::hsum(acc);
        for (; d < dk; ++d) s += q[d] * kv_at<P, kF16>(t.k, kb + d);
        sc[h][jj] = s * t.scale;
      }
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
    for (int jj = 0; jj < nj; ++jj) {
      const int64_t vb = static_cast<int64_t>(j0 + jj) * t.v_stride;
      for (int h = 0; h < nh; ++h) {
        float* o = t.out + (h0 + h) * t.out_stride;
        const F32v<P> w = P::fset1(sc[h][jj]);
        int d = 0;
        for (; d + P::kLanes <= dv; d += P::kLanes)
          P::fstore(o + d, P::fmadd(w, load_kv<P, kF16>(t.v, vb + d), P::fload(o + d)));
        for (; d < dv; ++d) o[d] += sc[h][jj] * kv_at<P, kF16>(t.v, vb + d);
      }
    }
  }
  for (int h = 0; h < nh; ++h) scale<P>(t.out + (h0 + h) * t.out_stride, dv, 1.f / sum[h]);
}

template <class P>
void attend(const AttnTask& t) {
  for (int h0 = 0; h0 < t.group; h0 += 8) {
    const int nh = std::min(8, t.group - h0);
    if (t.f16) attend_group<P, true>(t, h0, nh);
    else attend_group<P, false>(t, h0, nh);
  }
}

template <class P>
void fill_table(CpuKernels* k, const char* name) {
  k->name = name;
  auto at = [](auto* table, TensorType t) -> auto& { return table[static_cast<uint32_t>(t)]; };
  at(k->decode, TensorType::F32) = decode_f32<P>;
  at(k->decode, TensorType::F16) = decode_half<P, false>;
  at(k->decode, TensorType::BF16) = decode_half<P, true>;
  at(k->gemv, TensorType::F32) = gemv_float<P, LoadF32<P>>;
  at(k->gemv, TensorType::F16) = gemv_float<P, LoadHalf<P, false>>;
  at(k->gemv, TensorType::BF16) = gemv_float<P, LoadHalf<P, true>>;
  auto legacy = [&](TensorType t, auto dec) {
    using D = decltype(dec);
    at(k->decode, t) = decode_legacy<P, D>;
    at(k->gemv, t) = gemv_legacy<P, D>;
  };
  legacy(TensorType::Q4_0, DecQ4_0<P>{});
  legacy(TensorType::Q4_1, DecQ4_1<P>{});
  legacy(TensorType::Q5_0, DecQ5_0<P>{});
  legacy(TensorType::Q5_1, DecQ5_1<P>{});
  legacy(TensorType::Q8_0, DecQ8_0<P>{});
  legacy(TensorType::IQ4_NL, DecIQ4_NL<P>{});
  auto kquant = [&](TensorType t, auto dec) {
    using D = decltype(dec);
    at(k->decode, t) = decode_k<P, D>;
    at(k->gemv, t) = gemv_k<P, D>;
  };
  kquant(TensorType::Q2_K, DecQ2_K<P>{});
  kquant(TensorType::Q3_K, DecQ3_K<P>{});
  kquant(TensorType::Q4_K, DecQ4_K<P>{});
  kquant(TensorType::Q5_K, DecQ5_K<P>{});
  kquant(TensorType::Q6_K, DecQ6_K<P>{});
  k->gemm[static_cast<int>(Family::Float)] = gemm<P, FloatTile>;
  k->gemm[static_cast<int>(Family::LegacySigned)] = gemm<P, LegacyTile<true>>;
  k->gemm[static_cast<int>(Family::LegacyMin)] = gemm<P, LegacyTile<false>>;
  k->gemm[static_cast<int>(Family::KQuant)] = gemm<P, KQuantTile>;
  k->quantize_row = quantize_row<P>;
  k->silu_mul = glu_mul<P, vsilu<P>>;
  k->gelu_mul = glu_mul<P, vgelu<P>>;
  k->rms_norm_row = rms_norm_row<P>;
  k->add = add<P>;
  k->scale = scale<P>;
  k->to_f16 = to_f16<P>;
  k->attend = attend<P>;
}

}  // namespace
