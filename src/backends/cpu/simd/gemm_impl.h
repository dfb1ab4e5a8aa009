// The matrix-matrix kernels (prompt processing), one per format family,
// written once over the SIMD primitives P. A call computes up to 4 decoded
// weight rows (layout.h) against every token of the call; the accumulators of
// a tile of rows x tokens stay in registers, so each weight vector loaded is
// used by every token of the tile and each activation vector by every row.
//
// Part of kernels_impl.h (an ISA translation unit's target region).
#pragma once
#include <algorithm>
#include <cstdint>

#include "backends/cpu/simd/decode_impl.h"

namespace {

// Tiles of 2 rows x 4 tokens: the 8 accumulators, 2 weight vectors and their
// scales and one activation vector fit the 16 vector registers of AVX2 (a 4x2
// tile spills). Each weight vector loaded serves 4 tokens, each activation 2 rows.
constexpr int kTileRows = 2;
constexpr int kTileTokens = 4;

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
  int t = 0;
  for (; t + kTileTokens <= g.n_tok; t += kTileTokens) Tile::template run<P, RT, kTileTokens>(g, t);
  for (; t < g.n_tok; ++t) Tile::template run<P, RT, 1>(g, t);
}

// Up to kMaxTileRows rows, kTileRows at a time.
template <class P, class Tile>
void gemm(const GemmArgs& g) {
  for (int r = 0; r < g.n_rows; r += kTileRows) {
    GemmArgs part = g;
    part.rows = g.rows + r;
    part.n_rows = std::min(kTileRows, g.n_rows - r);
    part.y = g.y + r;
    if (part.n_rows == 2) gemm_rows<P, Tile, 2>(part);
    else gemm_rows<P, Tile, 1>(part);
  }
}

}  // namespace
