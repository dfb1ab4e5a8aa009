// x86-64 AVX2 + FMA + F16C primitives (same meaning as prims_scalar.h).
//
// Integer dots use vpmaddubsw (unsigned x signed bytes -> pairs summed into
// int16) and vpmaddwd (int16 x int16 -> pairs summed into int32). maddubs
// saturates at 32767, so the unsigned weight codes must stay below 64
// (63*127*2 = 16002); signed weights (Q8_0, IQ4_NL, Q4_0, Q5_0) go through
// the sign trick |w| * (a * sign(w)) instead, and activations are quantized to
// [-127, 127] so that -128 never needs negating.
//
// Only for kernels_avx2.cpp, inside its target("avx2,fma,f16c") region.
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace {

struct Avx2Prims {
  static constexpr int kLanes = 8;
  static constexpr int kGemvRows = 2;  // rows per pass of the fused matrix-vector kernels (16 registers)
  using B32 = __m256i;
  using I32 = __m256i;
  using F32 = __m256;
  using S16 = __m256i;
  struct WS {
    __m256i abs, sgn;
  };

  static B32 load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static void store32(void* p, B32 x) { _mm256_storeu_si256(static_cast<__m256i*>(p), x); }
  static B32 set1(uint8_t v) { return _mm256_set1_epi8(static_cast<char>(v)); }
  static B32 and_(B32 a, B32 b) { return _mm256_and_si256(a, b); }
  static B32 or_(B32 a, B32 b) { return _mm256_or_si256(a, b); }
  // x86 has no byte shifts: shift 16-bit lanes; the mask drops the bits that crossed bytes.
  template <int S>
  static B32 shr_and(B32 x, uint8_t mask) {
    if constexpr (S == 0) {
      return _mm256_and_si256(x, set1(mask));
    } else {
      return _mm256_and_si256(_mm256_srli_epi16(x, S), set1(mask));
    }
  }
  template <int S>
  static B32 shl_and(B32 x, uint8_t mask) {
    if constexpr (S == 0) {
      return _mm256_and_si256(x, set1(mask));
    } else {
      return _mm256_and_si256(_mm256_slli_epi16(x, S), set1(mask));
    }
  }
  static B32 test(B32 x, uint8_t bit) {
    const __m256i m = set1(bit);
    return _mm256_cmpeq_epi8(_mm256_and_si256(x, m), m);
  }
  static B32 nibbles16(const uint8_t* p) {
    const __m128i t = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), set1(0xF));
  }
  // Replicate byte i/8 of bits into byte i, then keep bit i%8 of it.
  static B32 bits32(uint32_t bits) {
    const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), shuf);
    const __m256i m = _mm256_set1_epi64x(static_cast<long long>(0x8040201008040201ull));
    return _mm256_cmpeq_epi8(_mm256_and_si256(v, m), m);
  }
  static B32 lookup16(B32 idx, const int8_t* table) {
    const __m256i t = _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table)));
    return _mm256_shuffle_epi8(t, idx);
  }

  static I32 izero() { return _mm256_setzero_si256(); }
  static I32 iadd(I32 a, I32 b) { return _mm256_add_epi32(a, b); }
  static I32 isub(I32 a, I32 b) { return _mm256_sub_epi32(a, b); }
  static I32 acc_ug(I32 acc, B32 w, B32 a, S16 s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(w, a), s));
  }
  static WS prep_s(B32 w) { return WS{_mm256_abs_epi8(w), w}; }
  static I32 acc_s(I32 acc, const WS& w, B32 a) {
    const __m256i p = _mm256_maddubs_epi16(w.abs, _mm256_sign_epi8(a, w.sgn));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(1)));
  }

  static F32 fzero() { return _mm256_setzero_ps(); }
  static F32 fset1(float v) { return _mm256_set1_ps(v); }
  static F32 fload(const float* p) { return _mm256_loadu_ps(p); }
  static void fstore(float* p, F32 v) { _mm256_storeu_ps(p, v); }
  static F32 fadd(F32 a, F32 b) { return _mm256_add_ps(a, b); }
  static F32 fsub(F32 a, F32 b) { return _mm256_sub_ps(a, b); }
  static F32 fmul(F32 a, F32 b) { return _mm256_mul_ps(a, b); }
  static F32 fdiv(F32 a, F32 b) { return _mm256_div_ps(a, b); }
  static F32 fmadd(F32 a, F32 b, F32 c) { return _mm256_fmadd_ps(a, b, c); }
  static F32 fmax(F32 a, F32 b) { return _mm256_max_ps(a, b); }
  static F32 fmin(F32 a, F32 b) { return _mm256_min_ps(a, b); }
  static F32 fabs_(F32 a) { return _mm256_andnot_ps(_mm256_set1_ps(-0.f), a); }
  static F32 cvt(I32 v) { return _mm256_cvtepi32_ps(v); }
  static float hsum(F32 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float hmax(F32 v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static F32 round_(F32 v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static F32 pow2n(F32 n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
  static float h2f(uint16_t h) { return _cvtsh_ss(h); }
  static uint16_t f2h(float f) { return static_cast<uint16_t>(_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT)); }
  // An fp16 scalar from memory in every lane (vpbroadcastw + vcvtph2ps: no scalar broadcast after).
  static F32 h2f_bcast(const uint16_t* p) { return _mm256_cvtph_ps(_mm_set1_epi16(static_cast<short>(*p))); }
  static float lane0(F32 v) { return _mm256_cvtss_f32(v); }
  static F32 load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static F32 load_bf16(const uint16_t* p) {
    const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
  }
  static void store_f16(uint16_t* p, F32 v) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
  }
  // cvtps_epi32 rounds to nearest even (the default MXCSR mode), like nearbyint.
  static void round_q8(const float* x, float id, int8_t* q) {
    const __m256 s = _mm256_set1_ps(id);
    const __m256i i0 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x), s));
    const __m256i i1 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 8), s));
    const __m256i i2 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 16), s));
    const __m256i i3 = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(x + 24), s));
    // packs works within 128-bit lanes; the permute restores the order of values.
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(q),
                        _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  }
  static void bsums32(const int8_t* q, int16_t* out) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
    const __m256i s = _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), v), _mm256_set1_epi16(1));
    __m128i h = _mm_hadd_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    h = _mm_hadd_epi32(h, h);
    out[0] = static_cast<int16_t>(_mm_cvtsi128_si32(h));
    out[1] = static_cast<int16_t>(_mm_extract_epi32(h, 1));
  }

  // ---- 16-byte vectors and int16 x 16 (super-block scales and mins) ----
  using V16 = __m128i;
  using MN = __m256i;
  static V16 v16_load(const void* p) { return _mm_loadu_si128(static_cast<const __m128i*>(p)); }
  static void v16_store(void* p, V16 v) { _mm_storeu_si128(static_cast<__m128i*>(p), v); }
  static V16 v16_from_u64(uint64_t lo, uint64_t hi) {
    return _mm_set_epi64x(static_cast<long long>(hi), static_cast<long long>(lo));
  }
  static V16 v16_and(V16 v, uint8_t m) { return _mm_and_si128(v, _mm_set1_epi8(static_cast<char>(m))); }
  static V16 v16_shr4(V16 v) { return _mm_and_si128(_mm_srli_epi16(v, 4), _mm_set1_epi8(0xF)); }
  static V16 v16_sub(V16 v, uint8_t s) { return _mm_sub_epi8(v, _mm_set1_epi8(static_cast<char>(s))); }
  static V16 v16_zip_lo(V16 v) { return _mm_unpacklo_epi8(v, v); }
  static V16 v16_zip_hi(V16 v) { return _mm_unpackhi_epi8(v, v); }
  static V16 v16_shuffle(V16 v, const uint8_t* idx) { return _mm_shuffle_epi8(v, v16_load(idx)); }
  static V16 v16_or(V16 a, V16 b) { return _mm_or_si128(a, b); }
  template <int S>
  static V16 v16_shr_and(V16 v, const uint8_t* mask) {
    if constexpr (S == 0) {
      return _mm_and_si128(v, v16_load(mask));
    } else {
      return _mm_and_si128(_mm_srli_epi16(v, S), v16_load(mask));
    }
  }
  // Super-block scales prepared so that one shuffle per chunk yields them:
  // int16, even groups in the low 128-bit lane, odd groups in the high lane.
  // Chunk c needs group 2c over its first 16 values (the 8 int16 pair sums of
  // the low lane) and group 2c+1 over the rest (the high lane): element c of
  // each lane, the same byte shuffle in both.
  using SC = __m256i;
  static SC sc_prepare(V16 v) {
    const __m128i even_odd = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
    return _mm256_cvtepi8_epi16(_mm_shuffle_epi8(v, even_odd));
  }
  static S16 scales_v(SC v, int c) {
    // Shuffle masks of chunks 0..7 (a table: c is often not a compile-time constant).
    alignas(32) static const int8_t kMasks[8][32] = {
#define JETLM_SC_MASK(c) {2 * c, 2 * c + 1, 2 * c, 2 * c + 1, 2 * c, 2 * c + 1, 2 * c, 2 * c + 1, \
                          2 * c, 2 * c + 1, 2 * c, 2 * c + 1, 2 * c, 2 * c + 1, 2 * c, 2 * c + 1, \
                          2 * c, 2 * c + 1, 2 * c, 2 * c + 1, 2 * c, 2 * c + 1, 2 * c, 2 * c + 1, \
                          2 * c, 2 * c + 1, 2 * c, 2 * c + 1, 2 * c, 2 * c + 1, 2 * c, 2 * c + 1}
        JETLM_SC_MASK(0), JETLM_SC_MASK(1), JETLM_SC_MASK(2), JETLM_SC_MASK(3),
        JETLM_SC_MASK(4), JETLM_SC_MASK(5), JETLM_SC_MASK(6), JETLM_SC_MASK(7)};
#undef JETLM_SC_MASK
    return _mm256_shuffle_epi8(v, _mm256_load_si256(reinterpret_cast<const __m256i*>(kMasks[c])));
  }
  static MN mn_from_u8(V16 v) { return _mm256_cvtepu8_epi16(v); }
  template <int S>
  static MN mn_from_i8(V16 v) {
    return _mm256_slli_epi16(_mm256_cvtepi8_epi16(v), S);
  }
  static MN mn_load(const int16_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }
  static void mn_store(int16_t* p, MN m) { _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), m); }
  static I32 dot_mins(MN m, const int16_t* bs) {
    return _mm256_madd_epi16(m, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bs)));
  }
  static void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }
};

}  // namespace
