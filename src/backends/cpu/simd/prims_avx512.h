// x86-64 AVX-512 primitives (same meaning as prims_scalar.h): F, BW, VL and
// DQ, plus AVX-512 VNNI when kVnni. Only for kernels_avx512.cpp and
// kernels_avx512vnni.cpp, inside their target regions.
//
// The vectors of the shared templates stay 256 bits wide (their unit is a
// block of 32 codes, prims_avx2.h), so this set is the AVX2 one where that is
// already one instruction. What AVX-512 changes:
//  - 32 vector registers instead of 16: the fused matrix-vector kernels take
//    kGemvRows = 4 rows per pass (4 independent accumulation chains, each
//    activation vector loaded once for 4 rows) without spilling;
//  - byte masks from bit fields go through a mask register (vpmovm2b) instead
//    of a shuffle-and-compare sequence (Q5_0/Q5_1 fifth bits, Q3_K/Q5_K high bits);
//  - with VNNI, vpdpbusd sums four unsigned x signed byte products into int32
//    lanes and vpdpwssd fuses the int16 multiply-add with the accumulation:
//    the signed formats' dot (Q8_0, IQ4_NL) takes 2 instructions instead of 4,
//    the scaled K-quant dot 2 instead of 3. Results are bit-identical to the
//    AVX2 set: |w| <= 128 and |a| <= 127 keep maddubs from saturating there.
#pragma once
#include <immintrin.h>

#include <cstdint>

#include "backends/cpu/simd/prims_avx2.h"

namespace {

template <bool kVnni>
struct Avx512Prims : Avx2Prims {
  static constexpr int kGemvRows = 4;

  static B32 test(B32 x, uint8_t bit) { return _mm256_movm_epi8(_mm256_test_epi8_mask(x, set1(bit))); }
  static B32 bits32(uint32_t bits) { return _mm256_movm_epi8(static_cast<__mmask32>(bits)); }

  static I32 acc_ug(I32 acc, B32 w, B32 a, S16 s) {
    if constexpr (kVnni) return _mm256_dpwssd_epi32(acc, _mm256_maddubs_epi16(w, a), s);
    else return Avx2Prims::acc_ug(acc, w, a, s);
  }
  static I32 acc_s(I32 acc, const WS& w, B32 a) {
    if constexpr (kVnni) return _mm256_dpbusd_epi32(acc, w.abs, _mm256_sign_epi8(a, w.sgn));
    else return Avx2Prims::acc_s(acc, w, a);
  }
};

}  // namespace
