// The fused matrix-vector kernels (token generation), one per format family,
// written once over the SIMD primitives P and instantiated per format: each
// block is decoded in registers and multiplied at once, each weight byte is
// read once.
//
// Part of kernels_impl.h (an ISA translation unit's target region).
#pragma once
#include <algorithm>
#include <cstdint>

#include "backends/cpu/simd/decode_impl.h"

namespace {

// P::kGemvRows rows at a time (2 with 16 vector registers, 4 with 32) share
// the activation loads and give as many independent accumulation chains. The
// rows of a call are contiguous in memory and consumed a pass at a time, so a
// software prefetch walks the call's bytes linearly, kPrefetchBytes ahead of
// the consumption and at its rate: decoding and multiplying keep too few
// loads in flight for the hardware prefetchers alone to reach the DRAM
// bandwidth (a single core streamed Q8_0 at 8 GB/s without it, 11 GB/s 4 KiB
// ahead and 20-23 GB/s 8 KiB ahead, against a plain read loop's 23-25 GB/s on
// the 2-core EPYC; 8-16 KiB was best on a Xeon).
constexpr int kPrefetchBytes = 8192;

// Inlined into every row of a pass, and the row loops unrolled: otherwise the
// pass's accumulators live in memory (that cost 10% more instructions on Q4_K).
#define JETLM_GEMV_INLINE inline __attribute__((always_inline))
#if defined(__clang__)
#define JETLM_UNROLL_ROWS _Pragma("unroll")
#else
#define JETLM_UNROLL_ROWS _Pragma("GCC unroll 8")
#endif

// One 32-value block of a row against the activations: acc += d * d_a * dot,
// off += the offset term (m * d_a * sum(a), or d * d_a * sum(a) for biased codes).
template <class P, class D>
JETLM_GEMV_INLINE void legacy_block(const typename D::Block& b, typename P::B32 av, F32v<P> da, float as,
                                    typename P::S16 ones, F32v<P>& acc, float& off) {
  const typename P::B32 c = D::codes(b);
  I32v<P> is;
  if constexpr (D::kFamily == Family::LegacySigned) is = P::acc_s(P::izero(), P::prep_s(c), av);
  else is = P::acc_ug(P::izero(), c, av, ones);
  const F32v<P> d = P::h2f_bcast(D::d16(b));
  acc = P::fmadd(P::cvt(is), P::fmul(d, da), acc);
  if constexpr (D::kFamily != Family::LegacySigned) off += (D::kBias ? P::lane0(d) : D::m(b)) * as;
}

// NR rows (rb bytes apart from w) of a 32-value format against one token.
template <class P, class D, int NR>
void gemv_legacy_pass(const uint8_t* w, size_t rb, int64_t nb, const ActQ8* act, float* y) {
  using Block = typename D::Block;
  static const int8_t kOnes[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const typename P::S16 ones = P::scales_v(P::sc_prepare(P::v16_load(kOnes)), 0);
  const Block* b[NR];
  F32v<P> acc[NR];
  float off[NR];
  for (int i = 0; i < NR; ++i) {
    b[i] = reinterpret_cast<const Block*>(w + static_cast<size_t>(i) * rb);
    acc[i] = P::fzero();
    off[i] = 0.f;
  }
  for (int64_t j = 0; j < nb; ++j) {
    const uint8_t* ahead = w + NR * sizeof(Block) * static_cast<size_t>(j) + kPrefetchBytes;
    for (size_t l = 0; l < NR * sizeof(Block); l += 64) P::prefetch(ahead + l);
    const typename P::B32 av = P::load32(act->q + 32 * j);
    const F32v<P> da = P::fset1(act->d[j]);
    const float as = D::kFamily == Family::LegacySigned ? 0.f : act->s[j];
    JETLM_UNROLL_ROWS
    for (int i = 0; i < NR; ++i) legacy_block<P, D>(b[i][j], av, da, as, ones, acc[i], off[i]);
  }
  for (int i = 0; i < NR; ++i) y[i] = P::hsum(acc[i]) + (D::kBias ? -static_cast<float>(D::kBias) * off[i] : off[i]);
}

template <class P, class D>
void gemv_legacy(const uint8_t* w, size_t rb, int n_rows, int64_t k, const ActQ8* act, const float*, float* y) {
  constexpr int R = P::kGemvRows;
  int r = 0;
  for (; r + R <= n_rows; r += R) gemv_legacy_pass<P, D, R>(w + static_cast<size_t>(r) * rb, rb, k / 32, act, y + r);
  for (; r < n_rows; ++r) gemv_legacy_pass<P, D, 1>(w + static_cast<size_t>(r) * rb, rb, k / 32, act, y + r);
}

// One super-block of one row: integer sum over its 8 chunks, then scale and mins.
template <class P, class D>
JETLM_GEMV_INLINE F32v<P> k_superblock(const typename D::Block& b, const int8_t* aq, float da, const int16_t* ab,
                                       F32v<P> acc) {
  const KScales<P> s = D::scales(b);
  const typename P::SC sc = P::sc_prepare(s.sc);
  I32v<P> is = P::izero();
  for (int h = 0; h < 2; ++h) {
    typename P::B32 c[4];
    D::codes(b, h, c);
    for (int j = 0; j < 4; ++j) is = P::acc_ug(is, c[j], P::load32(aq + 128 * h + 32 * j), P::scales_v(sc, 4 * h + j));
  }
  if constexpr (D::kMinsUseD) {  // |sum| < 2^29 for Q3_K / Q6_K: no overflow
    return P::fmadd(P::cvt(P::isub(is, P::dot_mins(s.mn, ab))), P::fset1(s.d * da), acc);
  } else {
    acc = P::fmadd(P::cvt(is), P::fset1(s.d * da), acc);
    return P::fmadd(P::cvt(P::dot_mins(s.mn, ab)), P::fset1(-s.dmin * da), acc);
  }
}

// NR rows of a K format against one token.
template <class P, class D, int NR>
void gemv_k_pass(const uint8_t* w, size_t rb, int64_t nsb, const ActQ8* act, float* y) {
  using Block = typename D::Block;
  const Block* b[NR];
  F32v<P> acc[NR];
  for (int i = 0; i < NR; ++i) {
    b[i] = reinterpret_cast<const Block*>(w + static_cast<size_t>(i) * rb);
    acc[i] = P::fzero();
  }
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const uint8_t* ahead = w + NR * sizeof(Block) * static_cast<size_t>(sb) + kPrefetchBytes;
    for (size_t l = 0; l < NR * sizeof(Block); l += 64) P::prefetch(ahead + l);
    JETLM_UNROLL_ROWS
    for (int i = 0; i < NR; ++i)
      acc[i] = k_superblock<P, D>(b[i][sb], act->q + sb * QK_K, act->d[sb], act->bsum + 16 * sb, acc[i]);
  }
  for (int i = 0; i < NR; ++i) y[i] = P::hsum(acc[i]);
}

template <class P, class D>
void gemv_k(const uint8_t* w, size_t rb, int n_rows, int64_t k, const ActQ8* act, const float*, float* y) {
  constexpr int R = P::kGemvRows;
  int r = 0;
  for (; r + R <= n_rows; r += R) gemv_k_pass<P, D, R>(w + static_cast<size_t>(r) * rb, rb, k / QK_K, act, y + r);
  for (; r < n_rows; ++r) gemv_k_pass<P, D, 1>(w + static_cast<size_t>(r) * rb, rb, k / QK_K, act, y + r);
}

// F32 / F16 / BF16 weights against float activations.
template <class P, class L>
void gemv_float(const uint8_t* w, size_t rb, int n_rows, int64_t k, const ActQ8*, const float* x, float* y) {
  const int pf = kPrefetchBytes;
  for (int r = 0; r < n_rows; r += 2) {
    const bool two = r + 1 < n_rows;
    const auto* w0 = reinterpret_cast<const typename L::Elem*>(w + static_cast<size_t>(r) * rb);
    const auto* w1 = reinterpret_cast<const typename L::Elem*>(w + static_cast<size_t>(two ? r + 1 : r) * rb);
    F32v<P> acc0 = P::fzero(), acc1 = P::fzero();
    int64_t i = 0;
    for (; i + P::kLanes <= k; i += P::kLanes) {
      P::prefetch(w + static_cast<size_t>(r) * rb + 2 * sizeof(typename L::Elem) * static_cast<size_t>(i) + pf);
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

}  // namespace
