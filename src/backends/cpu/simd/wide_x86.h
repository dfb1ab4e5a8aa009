// The wide matrix-matrix kernels of x86 (prompt processing): W::kRows decoded
// rows are interleaved so that 32-bit lane r of every vector belongs to row r
// (vector j of a 32-value block = values 4j..4j+3 of every row). A broadcast of
// 4 activation codes then feeds one maddubs for all the rows, and the float
// work (convert, scale, accumulate) is done once per 8 or 16 rows instead of
// once per row: about half the instructions of the per-row tile of
// kernels_impl.h with 8 rows (AVX2), a quarter with 16 (AVX-512).
//
// Unsigned codes (at most 31: Q4_0, Q4_1, Q5_0, Q5_1) let maddubs sum four
// steps in int16 lanes (2 * 31 * 127 * 4 < 32767) before widening; Q8_0 and
// IQ4_NL keep the sign trick (|w| * sign(a, w)).
//
// The AVX-512 tables (kernels_avx512*.cpp) instantiate the same kernels with
// W512 (16 rows), kTok = 8 tokens per tile (32 registers hold the 8
// accumulators, 8 integer sums and 8 int16 partial sums) and, with VNNI,
// vpdpbusd / vpdpwssd in place of maddubs + madd + add (the int32 sums are the
// same: see prims_avx512.h).
//
// Only for kernels_avx2.cpp and kernels_avx512*.cpp, inside their target regions.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "backends/cpu/simd/layout.h"

namespace {

// dword j of rows 0..7 -> vector j (an 8x8 transpose of 32-bit elements).
inline void transpose8x8_epi32(__m256i r[8]) {
  const __m256i t0 = _mm256_unpacklo_epi32(r[0], r[1]), t1 = _mm256_unpackhi_epi32(r[0], r[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(r[2], r[3]), t3 = _mm256_unpackhi_epi32(r[2], r[3]);
  const __m256i t4 = _mm256_unpacklo_epi32(r[4], r[5]), t5 = _mm256_unpackhi_epi32(r[4], r[5]);
  const __m256i t6 = _mm256_unpacklo_epi32(r[6], r[7]), t7 = _mm256_unpackhi_epi32(r[6], r[7]);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  const __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);
  const __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);
  r[0] = _mm256_permute2x128_si256(u0, u4, 0x20);
  r[1] = _mm256_permute2x128_si256(u1, u5, 0x20);
  r[2] = _mm256_permute2x128_si256(u2, u6, 0x20);
  r[3] = _mm256_permute2x128_si256(u3, u7, 0x20);
  r[4] = _mm256_permute2x128_si256(u0, u4, 0x31);
  r[5] = _mm256_permute2x128_si256(u1, u5, 0x31);
  r[6] = _mm256_permute2x128_si256(u2, u6, 0x31);
  r[7] = _mm256_permute2x128_si256(u3, u7, 0x31);
}

// ---- the vector widths ---------------------------------------------------------
// The wide kernels are written once over W: 8 rows in 256-bit vectors (AVX2),
// 16 rows in 512-bit vectors (the AVX-512 tables: half the instructions per
// multiply-add of the 8-row form).

// 256-bit vectors: 8 rows.
struct W256 {
  static constexpr int kRows = 8;
  using I = __m256i;
  using F = __m256;
  static I load(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static I zero() { return _mm256_setzero_si256(); }
  static I bcast4(const void* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
  static I add16(I a, I b) { return _mm256_add_epi16(a, b); }
  static I ones16() { return _mm256_set1_epi16(1); }
  static I maddubs(I w, I a) { return _mm256_maddubs_epi16(w, a); }
  static I abs8(I w) { return _mm256_abs_epi8(w); }
  static I sign8(I a, I w) { return _mm256_sign_epi8(a, w); }  // a * sign(w); w = 0 lanes are 0 in |w| anyway
  static I dpbusd(I acc, I u, I s) { return _mm256_dpbusd_epi32(acc, u, s); }  // VNNI tables only
  template <bool kVnni>
  static I dpwssd(I acc, I a, I b) {
    if constexpr (kVnni) return _mm256_dpwssd_epi32(acc, a, b);
    else return _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
  }
  static F fzero() { return _mm256_setzero_ps(); }
  static F fload(const float* p) { return _mm256_loadu_ps(p); }
  static F fbcast(const float* p) { return _mm256_broadcast_ss(p); }
  static F fma(I i, F s, F acc) { return _mm256_fmadd_ps(_mm256_cvtepi32_ps(i), s, acc); }
  static F fnma(I i, F s, F acc) { return _mm256_fnmadd_ps(_mm256_cvtepi32_ps(i), s, acc); }
  static F fmul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F ffma(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static void store_rows(float* y, F v, int n) {
    if (n == kRows) {
      _mm256_storeu_ps(y, v);
    } else {
      alignas(32) float tmp[kRows];
      _mm256_store_ps(tmp, v);
      for (int r = 0; r < n; ++r) y[r] = tmp[r];
    }
  }
};

#if defined(JETLM_WIDE_512)  // defined by the AVX-512 translation units
// 512-bit vectors: 16 rows (AVX-512 F + BW; VNNI where kVnni).
struct W512 {
  static constexpr int kRows = 16;
  using I = __m512i;
  using F = __m512;
  static I load(const void* p) { return _mm512_loadu_si512(p); }
  static I zero() { return _mm512_setzero_si512(); }
  static I bcast4(const void* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  static I add16(I a, I b) { return _mm512_add_epi16(a, b); }
  static I ones16() { return _mm512_set1_epi16(1); }
  static I maddubs(I w, I a) { return _mm512_maddubs_epi16(w, a); }
  static I abs8(I w) { return _mm512_abs_epi8(w); }
  // No vpsignb at 512 bits: negate a where w < 0 (w = 0 lanes are 0 in |w| anyway).
  static I sign8(I a, I w) { return _mm512_mask_sub_epi8(a, _mm512_movepi8_mask(w), _mm512_setzero_si512(), a); }
  static I dpbusd(I acc, I u, I s) { return _mm512_dpbusd_epi32(acc, u, s); }
  template <bool kVnni>
  static I dpwssd(I acc, I a, I b) {
    if constexpr (kVnni) return _mm512_dpwssd_epi32(acc, a, b);
    else return _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
  }
  static F fzero() { return _mm512_setzero_ps(); }
  static F fload(const float* p) { return _mm512_loadu_ps(p); }
  static F fbcast(const float* p) { return _mm512_set1_ps(*p); }
  // The zero-masked convert: gcc 12 warns that _mm512_cvtepi32_ps's undefined
  // pass-through "may be used uninitialized".
  static F cvt(I i) { return _mm512_maskz_cvtepi32_ps(0xFFFF, i); }
  static F fma(I i, F s, F acc) { return _mm512_fmadd_ps(cvt(i), s, acc); }
  static F fnma(I i, F s, F acc) { return _mm512_fnmadd_ps(cvt(i), s, acc); }
  static F fmul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F ffma(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }
  static void store_rows(float* y, F v, int n) {
    _mm512_mask_storeu_ps(y, static_cast<__mmask16>((1u << n) - 1), v);
  }
};
#endif

// ---- 32-value formats: W::kRows interleaved rows per block ------------------

struct PackedL {
  const int8_t* q;  // [nb][8 vectors][4 * kRows bytes]
  const float* d;   // [nb][kRows]
  const float* m;   // [nb][kRows] offsets (unsigned codes)
};

// Interleaves the decoded rows: per 8 rows an 8x8 dword transpose, stored as half h of each vector.
template <class W>
PackedL pack_legacy(const GemmArgs& g, bool has_m) {
  constexpr int R = W::kRows;
  const int64_t nb = g.k / 32;
  int8_t* q = reinterpret_cast<int8_t*>(g.scratch);
  float* d = reinterpret_cast<float*>(g.scratch + R * g.k);
  float* m = d + R * nb;
  for (int64_t b = 0; b < nb; ++b) {
    for (int h = 0; h < R / 8; ++h) {
      __m256i r[8];
      for (int i = 0; i < 8; ++i) {
        const int row = 8 * h + i;
        r[i] = row < g.n_rows ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.rows[row].q + 32 * b))
                              : _mm256_setzero_si256();
      }
      transpose8x8_epi32(r);
      for (int j = 0; j < 8; ++j)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 32 * R * b + 4 * R * j + 32 * h), r[j]);
    }
    for (int i = 0; i < R; ++i) {
      const bool live = i < g.n_rows;
      d[R * b + i] = live ? g.rows[i].d[b] : 0.f;
      m[R * b + i] = live && has_m ? g.rows[i].m[b] : 0.f;
    }
  }
  return PackedL{q, d, m};
}

template <class W, bool kUnsigned, bool kVnni, int TT>
void wide_tile(const GemmArgs& g, const PackedL& p, int t) {
  constexpr int R = W::kRows;
  using I = typename W::I;
  using F = typename W::F;
  const ActQ8& a = *g.act;
  const int64_t k = g.k, nb = k / 32;
  const int8_t* aq[TT];
  const float* ad[TT];
  const float* as[TT];
  for (int j = 0; j < TT; ++j) {
    const int64_t tok = g.t0 + t + j;
    aq[j] = a.q + tok * k;
    ad[j] = a.d + tok * nb;
    as[j] = a.s + tok * nb;
  }
  F acc[TT];
  for (int j = 0; j < TT; ++j) acc[j] = W::fzero();
  for (int64_t b = 0; b < nb; ++b) {
    const int8_t* pq = p.q + 32 * R * b;
    I is[TT];
    for (int j = 0; j < TT; ++j) is[j] = W::zero();
    if constexpr (kUnsigned && kVnni) {
      for (int v = 0; v < 8; ++v) {
        const I w = W::load(pq + 4 * R * v);
        for (int j = 0; j < TT; ++j) is[j] = W::dpbusd(is[j], w, W::bcast4(aq[j] + 32 * b + 4 * v));
      }
    } else if constexpr (kUnsigned) {
      for (int half = 0; half < 2; ++half) {
        I s16[TT];
        for (int j = 0; j < TT; ++j) s16[j] = W::zero();
        for (int v = 4 * half; v < 4 * half + 4; ++v) {
          const I w = W::load(pq + 4 * R * v);
          for (int j = 0; j < TT; ++j) s16[j] = W::add16(s16[j], W::maddubs(w, W::bcast4(aq[j] + 32 * b + 4 * v)));
        }
        for (int j = 0; j < TT; ++j) is[j] = W::template dpwssd<false>(is[j], s16[j], W::ones16());
      }
    } else {
      for (int v = 0; v < 8; ++v) {
        const I w = W::load(pq + 4 * R * v);
        const I wa = W::abs8(w);
        for (int j = 0; j < TT; ++j) {
          const I sa = W::sign8(W::bcast4(aq[j] + 32 * b + 4 * v), w);
          if constexpr (kVnni) is[j] = W::dpbusd(is[j], wa, sa);
          else is[j] = W::template dpwssd<false>(is[j], W::maddubs(wa, sa), W::ones16());
        }
      }
    }
    const F dv = W::fload(p.d + R * b);
    for (int j = 0; j < TT; ++j) acc[j] = W::fma(is[j], W::fmul(dv, W::fbcast(ad[j] + b)), acc[j]);
    if constexpr (kUnsigned) {
      const F mv = W::fload(p.m + R * b);
      for (int j = 0; j < TT; ++j) acc[j] = W::ffma(mv, W::fbcast(as[j] + b), acc[j]);
    }
  }
  for (int j = 0; j < TT; ++j) W::store_rows(g.y + (t + j) * g.ldy, acc[j], g.n_rows);
}

template <class W, bool kUnsigned, bool kVnni, int kTok>
void wide_tiles(const GemmArgs& g, const PackedL& p) {
  int t = 0;
  for (; t + kTok <= g.n_tok; t += kTok) wide_tile<W, kUnsigned, kVnni, kTok>(g, p, t);
  if (kTok > 4 && t + 4 <= g.n_tok) {
    wide_tile<W, kUnsigned, kVnni, 4>(g, p, t);
    t += 4;
  }
  switch (g.n_tok - t) {
    case 3: wide_tile<W, kUnsigned, kVnni, 3>(g, p, t); break;
    case 2: wide_tile<W, kUnsigned, kVnni, 2>(g, p, t); break;
    case 1: wide_tile<W, kUnsigned, kVnni, 1>(g, p, t); break;
    default: break;
  }
}

// ---- K formats: W::kRows interleaved rows per super-block -------------------
// Per super-block: 64 code vectors (vector j = values 4j..4j+3 of every row),
// 16 scale vectors (group g: int16 pairs sc[r][g], sc[r][g] per row r, so that
// vpmaddwd applies row r's scale to lane r), 8 min vectors (groups 2p, 2p+1 of
// each row against a broadcast pair of activation group sums), d and dmin.

struct PackedK {
  const int8_t* q;     // [nsb][64][4 * kRows]
  const int16_t* sc;   // [nsb][16][2 * kRows]
  const int16_t* mn;   // [nsb][8][2 * kRows]
  const float* d;      // [nsb][kRows]
  const float* dmin;   // [nsb][kRows]
};

template <class W>
PackedK pack_k(const GemmArgs& g) {
  constexpr int R = W::kRows;
  const int64_t nsb = g.k / 256;
  int8_t* q = reinterpret_cast<int8_t*>(g.scratch);
  int16_t* sc = reinterpret_cast<int16_t*>(g.scratch + R * g.k);
  int16_t* mn = sc + nsb * 16 * 2 * R;
  float* d = reinterpret_cast<float*>(mn + nsb * 8 * 2 * R);
  float* dmin = d + nsb * R;
  for (int64_t sb = 0; sb < nsb; ++sb) {
    // Each 8 rows: 8x8 transposes of dwords, stored as the half h of each vector.
    for (int h = 0; h < R / 8; ++h) {
      for (int c = 0; c < 8; ++c) {
        __m256i r[8];
        for (int i = 0; i < 8; ++i) {
          const int row = 8 * h + i;
          r[i] = row < g.n_rows
                     ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.rows[row].q + 256 * sb + 32 * c))
                     : _mm256_setzero_si256();
        }
        transpose8x8_epi32(r);
        for (int j = 0; j < 8; ++j)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + 256 * R * sb + 32 * R * c + 4 * R * j + 32 * h), r[j]);
      }
    }
    // Scales and mins: per 8 rows, 8x8 dword transposes too. A scale becomes
    // the int16 pair (s, s), one dword; a pair of mins is one dword already.
    for (int h = 0; h < R / 8; ++h) {
      __m256i s_lo[8], s_hi[8], m[8];
      for (int i = 0; i < 8; ++i) {
        const int row = 8 * h + i;
        if (row < g.n_rows) {
          const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(g.rows[row].sc + 16 * sb));
          const __m256i lo = _mm256_cvtepi8_epi32(raw), hi = _mm256_cvtepi8_epi32(_mm_srli_si128(raw, 8));
          s_lo[i] = _mm256_or_si256(_mm256_slli_epi32(lo, 16), _mm256_and_si256(lo, _mm256_set1_epi32(0xFFFF)));
          s_hi[i] = _mm256_or_si256(_mm256_slli_epi32(hi, 16), _mm256_and_si256(hi, _mm256_set1_epi32(0xFFFF)));
          m[i] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(g.rows[row].mn + 16 * sb));
        } else {
          s_lo[i] = s_hi[i] = m[i] = _mm256_setzero_si256();
        }
      }
      transpose8x8_epi32(s_lo);
      transpose8x8_epi32(s_hi);
      transpose8x8_epi32(m);
      for (int j = 0; j < 8; ++j) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc + (16 * sb + j) * 2 * R + 16 * h), s_lo[j]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(sc + (16 * sb + 8 + j) * 2 * R + 16 * h), s_hi[j]);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(mn + (8 * sb + j) * 2 * R + 16 * h), m[j]);
      }
    }
    for (int i = 0; i < R; ++i) {
      const bool live = i < g.n_rows;
      d[R * sb + i] = live ? g.rows[i].d[sb] : 0.f;
      dmin[R * sb + i] = live ? g.rows[i].m[sb] : 0.f;
    }
  }
  return PackedK{q, sc, mn, d, dmin};
}

// kSteps: products summed in int16 lanes before the scale multiply (4 for codes
// up to 31, 2 for Q6_K's 63: 2 * 63 * 127 * 2 < 32767).
template <class W, int kSteps, bool kVnni, int TT>
void wide_k_tile(const GemmArgs& g, const PackedK& p, int t) {
  constexpr int R = W::kRows;
  using I = typename W::I;
  using F = typename W::F;
  const ActQ8& a = *g.act;
  const int64_t k = g.k, nsb = k / 256;
  const int8_t* aq[TT];
  const float* ad[TT];
  const int16_t* ab[TT];
  for (int j = 0; j < TT; ++j) {
    const int64_t tok = g.t0 + t + j;
    aq[j] = a.q + tok * k;
    ad[j] = a.d + tok * nsb;
    ab[j] = a.bsum + tok * (k / 16);
  }
  F acc[TT];
  for (int j = 0; j < TT; ++j) acc[j] = W::fzero();
  for (int64_t sb = 0; sb < nsb; ++sb) {
    const int8_t* pq = p.q + 256 * R * sb;
    I is[TT];
    for (int j = 0; j < TT; ++j) is[j] = W::zero();
    for (int grp = 0; grp < 16; ++grp) {
      const I sv = W::load(p.sc + (16 * sb + grp) * 2 * R);
      for (int s0 = 0; s0 < 4; s0 += kSteps) {
        I s16[TT];
        for (int j = 0; j < TT; ++j) s16[j] = W::zero();
        for (int s = s0; s < s0 + kSteps; ++s) {
          const int v = 4 * grp + s;  // dword of the super-block
          const I w = W::load(pq + 4 * R * v);
          for (int j = 0; j < TT; ++j) s16[j] = W::add16(s16[j], W::maddubs(w, W::bcast4(aq[j] + 256 * sb + 4 * v)));
        }
        for (int j = 0; j < TT; ++j) is[j] = W::template dpwssd<kVnni>(is[j], s16[j], sv);
      }
    }
    I im[TT];
    for (int j = 0; j < TT; ++j) im[j] = W::zero();
    for (int pr = 0; pr < 8; ++pr) {
      const I mv = W::load(p.mn + (8 * sb + pr) * 2 * R);
      for (int j = 0; j < TT; ++j) im[j] = W::template dpwssd<kVnni>(im[j], mv, W::bcast4(ab[j] + 16 * sb + 2 * pr));
    }
    const F dv = W::fload(p.d + R * sb), mv = W::fload(p.dmin + R * sb);
    for (int j = 0; j < TT; ++j) {
      const F da = W::fbcast(ad[j] + sb);
      acc[j] = W::fma(is[j], W::fmul(dv, da), acc[j]);
      acc[j] = W::fnma(im[j], W::fmul(mv, da), acc[j]);
    }
  }
  for (int j = 0; j < TT; ++j) W::store_rows(g.y + (t + j) * g.ldy, acc[j], g.n_rows);
}

template <class W, int kSteps, bool kVnni, int kTok>
void wide_k_tiles(const GemmArgs& g, const PackedK& p) {
  int t = 0;
  for (; t + kTok <= g.n_tok; t += kTok) wide_k_tile<W, kSteps, kVnni, kTok>(g, p, t);
  if (kTok > 4 && t + 4 <= g.n_tok) {
    wide_k_tile<W, kSteps, kVnni, 4>(g, p, t);
    t += 4;
  }
  for (; t < g.n_tok; ++t) wide_k_tile<W, kSteps, kVnni, 1>(g, p, t);
}

// The table entries: kVnni and kTok as above (AVX2: false, 4).
template <class W, bool kVnni, int kTok>
void gemm_wide_k(const GemmArgs& g) {
  const PackedK p = pack_k<W>(g);
  if (g.max_code <= 31) wide_k_tiles<W, 4, kVnni, kTok>(g, p);
  else wide_k_tiles<W, 2, kVnni, kTok>(g, p);
}
template <class W, bool kVnni, int kTok>
void gemm_wide_signed(const GemmArgs& g) {
  wide_tiles<W, false, kVnni, kTok>(g, pack_legacy<W>(g, false));
}
template <class W, bool kVnni, int kTok>
void gemm_wide_min(const GemmArgs& g) {
  wide_tiles<W, true, kVnni, kTok>(g, pack_legacy<W>(g, true));
}

}  // namespace
