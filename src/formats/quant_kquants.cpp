// Reference quantizers of the K formats (256-value super-blocks), as
// llama-quantize writes them (ggml's quantize_q2_K .. quantize_q6_K):
//  - without an importance matrix, ggml's quantize_row_qN_K_ref: each
//    sub-block's scale (and min) is searched for the least error, then the
//    sub-block scales are themselves quantized with one super-block scale
//    (absmax), and the codes are recomputed for the rounded scales;
//  - with one, quantize_row_qN_K_impl: the same with importance-weighted
//    errors, and the sub-block scales quantized by a search too.
// Also Q8_K, the activation format of the K dot products.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "formats/blocks.h"
#include "formats/codecs.h"
#include "formats/quant_search.h"
#include "util/fp16.h"

// Same float results as the GCC build everywhere: no fused multiply-adds
// (GCC does not contract in ISO mode; clang would by default).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace jetlm {
namespace {

template <class Block>
void store_block(void* dst, int64_t i, const Block& b) {
  std::memcpy(static_cast<uint8_t*>(dst) + i * static_cast<int64_t>(sizeof(Block)), &b, sizeof(Block));
}

float sum_squares(const float* x, int n) {
  float s = 0;
  for (int i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

// 2-bit codes of Q2_K / the low bits of Q3_K: in each 128-value half, byte l
// holds values l, l+32, l+64, l+96 at bits 0, 2, 4, 6.
void pack_crumbs(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < QK_K; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
  }
}

// 4-bit codes of Q4_K / the low bits of Q5_K: in each 64-value chunk, byte l
// holds value l (low nibble) and value l+32 (high nibble).
void pack_nibbles_k(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < QK_K; j += 64) {
    for (int l = 0; l < 32; ++l) qs[j / 2 + l] = static_cast<uint8_t>((L[j + l] & 0xF) | ((L[j + l + 32] & 0xF) << 4));
  }
}

// Inverse of unpack_scale_min_k4 for all 8 sub-blocks (codes <= 63).
void pack_scale_min_k4(const uint8_t* ls, const uint8_t* lm, uint8_t* s) {
  std::memset(s, 0, K_SCALE_SIZE);
  for (int j = 0; j < 8; ++j) {
    if (j < 4) {
      s[j] = ls[j];
      s[j + 4] = lm[j];
    } else {
      s[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
      s[j - 4] = static_cast<uint8_t>(s[j - 4] | ((ls[j] >> 4) << 6));
      s[j] = static_cast<uint8_t>(s[j] | ((lm[j] >> 4) << 6));
    }
  }
}

// Quantize non-negative sub-block scales to codes 0..kmax with the super-block
// scale max/kmax (ggml's reference K quantizers). Returns that scale.
float quantize_scales_absmax(const float* s, int n, int kmax, uint8_t* codes) {
  float max = 0;
  for (int j = 0; j < n; ++j) {
    if (s[j] > max) max = s[j];
  }
  const float inv = max > 0 ? kmax / max : 0.f;
  for (int j = 0; j < n; ++j) {
    // Through uint8_t as ggml does, so a stray negative wraps and clamps alike.
    codes[j] = std::min(static_cast<uint8_t>(kmax), static_cast<uint8_t>(nearest_int(inv * s[j])));
  }
  return max / kmax;
}

// ---- Q2_K, Q4_K, Q5_K: x ~ d*sc*q - dmin*m, one template -----------------
// A Spec gives the geometry, the reference search parameters and the packing.

struct Q2KSpec {
  using Block = BlockQ2_K;
  static constexpr int kGroup = 16;     // values per sub-block
  static constexpr int kNmax = 3;       // largest code
  static constexpr int kScaleMax = 15;  // largest scale / min code
  // Reference search: nmax + rmin + rdelta*i for i = 0..nstep, error measure.
  static constexpr float kRmin = -0.5f, kRdelta = 0.1f;
  static constexpr int kNstep = 15;
  static constexpr bool kUseMad = true;
  static constexpr float kSigmaScale = 1;  // imatrix weights use kSigmaScale * mean square of the super-block
  // Reference weights: |x| (ggml found mean-absolute error best at 2 bits).
  static void ref_weights(const float* x, float* w) {
    for (int l = 0; l < kGroup; ++l) w[l] = std::fabs(x[l]);
  }
  static void pack(const uint8_t* ls, const uint8_t* lm, const uint8_t* L, Block& b) {
    for (int j = 0; j < QK_K / kGroup; ++j) b.scales[j] = static_cast<uint8_t>(ls[j] | (lm[j] << 4));
    pack_crumbs(L, b.qs);
  }
};

// Reference weights of Q4_K/Q5_K: rms of the sub-block + |x|.
inline void rms_plus_abs_weights(const float* x, float* w) {
  const float av_x = std::sqrt(sum_squares(x, 32) / 32);
  for (int l = 0; l < 32; ++l) w[l] = av_x + std::fabs(x[l]);
}

struct Q4KSpec {
  using Block = BlockQ4_K;
  static constexpr int kGroup = 32, kNmax = 15, kScaleMax = 63;
  static constexpr float kRmin = -1.f, kRdelta = 0.1f;
  static constexpr int kNstep = 20;
  static constexpr bool kUseMad = false;
  static constexpr float kSigmaScale = 2;
  static void ref_weights(const float* x, float* w) { rms_plus_abs_weights(x, w); }
  static void pack(const uint8_t* ls, const uint8_t* lm, const uint8_t* L, Block& b) {
    pack_scale_min_k4(ls, lm, b.scales);
    pack_nibbles_k(L, b.qs);
  }
};

struct Q5KSpec {
  using Block = BlockQ5_K;
  static constexpr int kGroup = 32, kNmax = 31, kScaleMax = 63;
  static constexpr float kRmin = -0.5f, kRdelta = 0.1f;
  static constexpr int kNstep = 15;
  static constexpr bool kUseMad = false;
  static constexpr float kSigmaScale = 2;
  static void ref_weights(const float* x, float* w) { rms_plus_abs_weights(x, w); }
  static void pack(const uint8_t* ls, const uint8_t* lm, const uint8_t* L, Block& b) {
    pack_scale_min_k4(ls, lm, b.scales);
    pack_nibbles_k(L, b.qs);
    // 5th bit of value 64c + l at bit 2c of qh[l], of value 64c + 32 + l at bit 2c+1.
    std::memset(b.qh, 0, sizeof(b.qh));
    for (int c = 0; c < QK_K / 64; ++c) {
      for (int l = 0; l < 32; ++l) {
        if (L[64 * c + l] > 15) b.qh[l] = static_cast<uint8_t>(b.qh[l] | (1 << (2 * c)));
        if (L[64 * c + l + 32] > 15) b.qh[l] = static_cast<uint8_t>(b.qh[l] | (2 << (2 * c)));
      }
    }
  }
};

template <class S>
void quant_k_with_min(const float* x, void* dst, int64_t n, const float* imatrix) {
  constexpr int G = S::kGroup, NG = QK_K / G;
  for (int64_t ibl = 0; ibl < n / QK_K; ++ibl) {
    const float* xb = x + ibl * QK_K;
    uint8_t L[QK_K], aux[G], ls[NG], lm[NG];
    float w[G], scales[NG], mins[NG];
    float d, dmin;
    if (imatrix) {
      const float sigma2 = S::kSigmaScale * sum_squares(xb, QK_K) / QK_K;
      float sw[NG];  // importance of each sub-block, for the scale search below
      for (int g = 0; g < NG; ++g) {
        const float* xg = xb + G * g;
        const float* qw = imatrix + ibl * QK_K + G * g;
        for (int l = 0; l < G; ++l) w[l] = qw[l] * std::sqrt(sigma2 + xg[l] * xg[l]);
        sw[g] = 0;
        for (int l = 0; l < G; ++l) sw[g] += w[l];
        scales[g] = fit_scale_min(G, S::kNmax, xg, w, L + G * g, &mins[g], aux, -0.9f, 0.05f, 36, false);
      }
      d = fit_positive(NG, S::kScaleMax, scales, ls, sw);
      dmin = fit_positive(NG, S::kScaleMax, mins, lm, sw);
    } else {
      for (int g = 0; g < NG; ++g) {
        S::ref_weights(xb + G * g, w);
        scales[g] = fit_scale_min(G, S::kNmax, xb + G * g, w, L + G * g, &mins[g], aux, S::kRmin, S::kRdelta,
                                  S::kNstep, S::kUseMad);
      }
      d = quantize_scales_absmax(scales, NG, S::kScaleMax, ls);
      dmin = quantize_scales_absmax(mins, NG, S::kScaleMax, lm);
    }
    typename S::Block b{};
    b.d = f32_to_fp16(d);
    b.dmin = f32_to_fp16(dmin);
    // Recompute the codes for the scales as stored (fp16, quantized).
    for (int g = 0; g < NG; ++g) {
      const float dg = fp16_to_f32(b.d) * ls[g];
      if (!dg) continue;  // keep the search's codes; they dequantize to -m anyway
      const float mg = fp16_to_f32(b.dmin) * lm[g];
      for (int l = 0; l < G; ++l) {
        const int q = nearest_int((xb[G * g + l] + mg) / dg);
        L[G * g + l] = static_cast<uint8_t>(std::max(0, std::min(S::kNmax, q)));
      }
    }
    S::pack(ls, lm, L, b);
    store_block(dst, ibl, b);
  }
}

// ---- Q3_K: x ~ d*(sc-32)*(q-4) ------------------------------------------

void pack_q3_scales(const int* codes, uint8_t* s) {
  std::memset(s, 0, K_SCALE_SIZE);
  for (int j = 0; j < QK_K / 16; ++j) {
    const int l = codes[j];
    if (j < 8) {
      s[j] = static_cast<uint8_t>(l & 0xF);
    } else {
      s[j - 8] = static_cast<uint8_t>(s[j - 8] | ((l & 0xF) << 4));
    }
    s[8 + j % 4] = static_cast<uint8_t>(s[8 + j % 4] | ((l >> 4) << (2 * (j / 4))));
  }
}

void quant_q3_k_block(const float* x, const float* qw, BlockQ3_K& b) {
  constexpr int NG = QK_K / 16;
  int8_t L[QK_K];
  float scales[NG];
  int codes[NG];
  if (qw) {
    const float sigma2 = 2 * sum_squares(x, QK_K) / QK_K;
    float w[16], sw[NG];
    for (int g = 0; g < NG; ++g) {
      for (int l = 0; l < 16; ++l) w[l] = qw[16 * g + l] * std::sqrt(sigma2 + x[16 * g + l] * x[16 * g + l]);
      sw[g] = 0;
      for (int l = 0; l < 16; ++l) sw[g] += w[l];
      scales[g] = fit_symmetric(16, 4, x + 16 * g, w, L + 16 * g);
    }
    int8_t ls[NG];
    const float d = fit_symmetric(NG, 32, scales, sw, ls);
    for (int g = 0; g < NG; ++g) codes[g] = ls[g];
    pack_q3_scales(codes, b.scales);
    b.d = f32_to_fp16(d);
  } else {
    float max_scale = 0, amax = 0;
    for (int g = 0; g < NG; ++g) {
      scales[g] = fit_symmetric_refine(16, 4, x + 16 * g, L + 16 * g);
      if (std::fabs(scales[g]) > amax) {
        amax = std::fabs(scales[g]);
        max_scale = scales[g];
      }
    }
    if (max_scale) {
      // Signed absmax: the largest scale maps to code -32 (the one without a positive twin).
      const float iscale = -32.f / max_scale;
      for (int g = 0; g < NG; ++g) codes[g] = std::max(-32, std::min(31, nearest_int(iscale * scales[g]))) + 32;
      pack_q3_scales(codes, b.scales);
      b.d = f32_to_fp16(1 / iscale);
    } else {
      std::memset(b.scales, 0, K_SCALE_SIZE);
      b.d = f32_to_fp16(0.f);
    }
  }
  for (int g = 0; g < NG; ++g) {
    const float dg = fp16_to_f32(b.d) * (unpack_scale_q3_k(g, b.scales) - 32);
    if (!dg) continue;
    for (int l = 0; l < 16; ++l) {
      const int q = std::max(-4, std::min(3, nearest_int(x[16 * g + l] / dg)));
      L[16 * g + l] = static_cast<int8_t>(q + 4);
    }
  }
  // Split the 3-bit codes: bit 2 into hmask (value j -> bit j/32 of byte j%32), bits 0-1 into qs.
  uint8_t low[QK_K];
  std::memset(b.hmask, 0, sizeof(b.hmask));
  for (int j = 0; j < QK_K; ++j) {
    int q = L[j];
    if (q > 3) {
      b.hmask[j % 32] = static_cast<uint8_t>(b.hmask[j % 32] | (1 << (j / 32)));
      q -= 4;
    }
    low[j] = static_cast<uint8_t>(q);
  }
  pack_crumbs(low, b.qs);
}

// ---- Q6_K: x ~ d*sc*(q-32) ----------------------------------------------

void quant_q6_k_block(const float* x, const float* qw, BlockQ6_K& b) {
  constexpr int NG = QK_K / 16;
  int8_t L[QK_K];
  float scales[NG];
  float max_scale = 0, max_abs_scale = 0;
  for (int g = 0; g < NG; ++g) {
    // Weights: the imatrix as given (ggml does not mix in the row statistics
    // here), else x^2.
    scales[g] = fit_symmetric(16, 32, x + 16 * g, qw ? qw + 16 * g : nullptr, L + 16 * g);
    if (std::fabs(scales[g]) > max_abs_scale) {
      max_abs_scale = std::fabs(scales[g]);
      max_scale = scales[g];
    }
  }
  if (max_abs_scale < kGroupMaxEps) {
    std::memset(&b, 0, sizeof(b));
    return;
  }
  const float iscale = -128.f / max_scale;
  b.d = f32_to_fp16(1 / iscale);
  for (int g = 0; g < NG; ++g) b.scales[g] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[g])));
  for (int g = 0; g < NG; ++g) {
    const float dg = fp16_to_f32(b.d) * b.scales[g];
    if (!dg) continue;
    for (int l = 0; l < 16; ++l) {
      const int q = std::max(-32, std::min(31, nearest_int(x[16 * g + l] / dg)));
      L[16 * g + l] = static_cast<int8_t>(q + 32);
    }
  }
  // Low nibbles: ql[l] = values l | l+64, ql[l+32] = values l+32 | l+96 of
  // each half; high 2 bits: qh[l] = values l, l+32, l+64, l+96 at bits 0,2,4,6.
  for (int h = 0; h < 2; ++h) {
    const int8_t* Lh = L + 128 * h;
    uint8_t* ql = b.ql + 64 * h;
    uint8_t* qh = b.qh + 32 * h;
    for (int l = 0; l < 32; ++l) {
      ql[l] = static_cast<uint8_t>((Lh[l] & 0xF) | ((Lh[l + 64] & 0xF) << 4));
      ql[l + 32] = static_cast<uint8_t>((Lh[l + 32] & 0xF) | ((Lh[l + 96] & 0xF) << 4));
      qh[l] = static_cast<uint8_t>((Lh[l] >> 4) | ((Lh[l + 32] >> 4) << 2) | ((Lh[l + 64] >> 4) << 4) |
                                   ((Lh[l + 96] >> 4) << 6));
    }
  }
}

// ---- Q8_K ----------------------------------------------------------------

void quant_q8_k_block(const float* x, BlockQ8_K& b) {
  float max = 0, amax = 0;
  for (int j = 0; j < QK_K; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  if (!amax) {
    std::memset(&b, 0, sizeof(b));
    return;
  }
  // -127, not -128: ggml keeps the codes symmetric for its SIMD dot products.
  const float iscale = -127.f / max;
  for (int j = 0; j < QK_K; ++j) b.qs[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * x[j])));
  for (int g = 0; g < QK_K / 16; ++g) {
    int sum = 0;
    for (int l = 0; l < 16; ++l) sum += b.qs[16 * g + l];
    b.bsums[g] = static_cast<int16_t>(sum);
  }
  b.d = 1 / iscale;
}

}  // namespace

void quant_row_q2_k(const float* src, void* dst, int64_t n, const float* imatrix) {
  quant_k_with_min<Q2KSpec>(src, dst, n, imatrix);
}
void quant_row_q4_k(const float* src, void* dst, int64_t n, const float* imatrix) {
  quant_k_with_min<Q4KSpec>(src, dst, n, imatrix);
}
void quant_row_q5_k(const float* src, void* dst, int64_t n, const float* imatrix) {
  quant_k_with_min<Q5KSpec>(src, dst, n, imatrix);
}
void quant_row_q3_k(const float* src, void* dst, int64_t n, const float* imatrix) {
  for (int64_t ibl = 0; ibl < n / QK_K; ++ibl) {
    BlockQ3_K b{};
    quant_q3_k_block(src + ibl * QK_K, imatrix ? imatrix + ibl * QK_K : nullptr, b);
    store_block(dst, ibl, b);
  }
}
void quant_row_q6_k(const float* src, void* dst, int64_t n, const float* imatrix) {
  for (int64_t ibl = 0; ibl < n / QK_K; ++ibl) {
    BlockQ6_K b{};
    quant_q6_k_block(src + ibl * QK_K, imatrix ? imatrix + ibl * QK_K : nullptr, b);
    store_block(dst, ibl, b);
  }
}
// Activations: no importance.
void quant_row_q8_k(const float* src, void* dst, int64_t n, const float*) {
  for (int64_t ibl = 0; ibl < n / QK_K; ++ibl) {
    BlockQ8_K b{};
    quant_q8_k_block(src + ibl * QK_K, b);
    store_block(dst, ibl, b);
  }
}

}  // namespace jetlm
