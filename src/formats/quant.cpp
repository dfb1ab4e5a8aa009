// Reference quantizers of the plain float formats and the 32-value block
// formats, reproducing what llama.cpp's llama-quantize writes (ggml's
// quantize_q4_0 etc.): round-to-nearest without an importance matrix, ggml's
// weighted scale search with one. IQ4_NL always searches.
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

constexpr int kQK = 32;  // values per block of every format in this file

// Blocks are assembled in a local struct and copied out: dst need not be aligned.
template <class Block>
void store_block(void* dst, int64_t i, const Block& b) {
  std::memcpy(static_cast<uint8_t*>(dst) + i * static_cast<int64_t>(sizeof(Block)), &b, sizeof(Block));
}

// Sum of squares of a whole row, in order (the imatrix searches scale their
// weights by the row's mean square).
float sum_squares(const float* x, int64_t n) {
  float s = 0;
  for (int64_t i = 0; i < n; ++i) s += x[i] * x[i];
  return s;
}

// ---- Q4_0, Q4_1, Q5_0, Q5_1: one template, kBits and kHasMin select the format

// One block's codes (0 .. 2^bits - 1) and scale/minimum before packing.
struct LegacyFit {
  float d = 0;
  float m = 0;  // formats with a minimum: x ~ d * L + m
  uint8_t L[kQK];
};

// ggml's quantize_row_q4_0_ref family. Symmetric: the signed extreme maps to
// code 0 (value -2^(bits-1)); with minimum: [min, max] spans all codes.
template <int kBits, bool kHasMin>
void fit_rtn(const float* x, LegacyFit& f) {
  if constexpr (kHasMin) {
    constexpr int kLevels = (1 << kBits) - 1;
    float min = x[0], max = x[0];
    for (int j = 1; j < kQK; ++j) {
      min = std::min(min, x[j]);
      max = std::max(max, x[j]);
    }
    f.d = (max - min) / kLevels;
    f.m = min;
    const float id = f.d ? 1.0f / f.d : 0.0f;
    // Truncation after +0.5 is ggml's rounding here (not nearest_int).
    for (int j = 0; j < kQK; ++j) f.L[j] = static_cast<uint8_t>(std::min(kLevels, static_cast<int>((x[j] - min) * id + 0.5f)));
  } else {
    constexpr int kHalf = 1 << (kBits - 1);
    float amax = 0, max = 0;
    for (int j = 0; j < kQK; ++j) {
      if (amax < std::fabs(x[j])) {
        amax = std::fabs(x[j]);
        max = x[j];
      }
    }
    f.d = max / -kHalf;
    const float id = f.d ? 1.0f / f.d : 0.0f;
    for (int j = 0; j < kQK; ++j) {
      f.L[j] = static_cast<uint8_t>(std::min(2 * kHalf - 1, static_cast<int>(x[j] * id + (kHalf + 0.5f))));
    }
  }
}

// ggml's quantize_row_q4_0_impl family (with quant_weights).
template <int kBits, bool kHasMin>
void fit_weighted(const float* x, const float* weights, LegacyFit& f) {
  if constexpr (kHasMin) {
    uint8_t aux[kQK];
    float neg_min;
    f.d = fit_scale_min(kQK, (1 << kBits) - 1, x, weights, f.L, &neg_min, aux, -0.9f, 0.05f, 36, false);
    f.m = -neg_min;
  } else {
    int8_t L[kQK];
    f.d = fit_symmetric(kQK, 1 << (kBits - 1), x, weights, L);
    for (int j = 0; j < kQK; ++j) f.L[j] = static_cast<uint8_t>(L[j]);
  }
}

// Low nibbles: value j in qs[j] for j < 16, value j+16 in the high nibble.
void pack_nibbles(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kQK / 2; ++j) qs[j] = static_cast<uint8_t>((L[j] & 0xF) | ((L[j + kQK / 2] & 0xF) << 4));
}

// 5th bits, bit j = value j, little-endian.
void pack_fifth_bits(const uint8_t* L, uint8_t* qh) {
  uint32_t h = 0;
  for (int j = 0; j < kQK; ++j) h |= static_cast<uint32_t>((L[j] >> 4) & 1) << j;
  for (int k = 0; k < 4; ++k) qh[k] = static_cast<uint8_t>(h >> (8 * k));
}

void pack(const LegacyFit& f, BlockQ4_0& b) {
  b.d = f32_to_fp16(f.d);
  pack_nibbles(f.L, b.qs);
}
void pack(const LegacyFit& f, BlockQ4_1& b) {
  b.d = f32_to_fp16(f.d);
  b.m = f32_to_fp16(f.m);
  pack_nibbles(f.L, b.qs);
}
void pack(const LegacyFit& f, BlockQ5_0& b) {
  b.d = f32_to_fp16(f.d);
  pack_fifth_bits(f.L, b.qh);
  pack_nibbles(f.L, b.qs);
}
void pack(const LegacyFit& f, BlockQ5_1& b) {
  b.d = f32_to_fp16(f.d);
  b.m = f32_to_fp16(f.m);
  pack_fifth_bits(f.L, b.qh);
  pack_nibbles(f.L, b.qs);
}

template <class Block, int kBits, bool kHasMin>
void quant_legacy(const float* x, void* dst, int64_t n, const float* imatrix) {
  // ggml weights each value by importance * sqrt(row mean square + x^2).
  const float sigma2 = imatrix ? sum_squares(x, n) / n : 0.f;
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    const float* xb = x + ib * kQK;
    LegacyFit f;
    if (imatrix) {
      float w[kQK];
      for (int j = 0; j < kQK; ++j) w[j] = imatrix[ib * kQK + j] * std::sqrt(sigma2 + xb[j] * xb[j]);
      fit_weighted<kBits, kHasMin>(xb, w, f);
    } else {
      fit_rtn<kBits, kHasMin>(xb, f);
    }
    Block b{};
    pack(f, b);
    store_block(dst, ib, b);
  }
}

// ---- Q8_0, Q8_1: absmax scaling; Q8_1 also stores d * sum of codes -------

template <class Block, bool kWithSum>
void quant_q8(const float* x, void* dst, int64_t n) {
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    const float* xb = x + ib * kQK;
    float amax = 0;
    for (int j = 0; j < kQK; ++j) amax = std::max(amax, std::fabs(xb[j]));
    const float d = amax / 127;
    const float id = d ? 1.0f / d : 0.0f;
    Block b{};
    b.d = f32_to_fp16(d);
    int sum = 0;
    for (int j = 0; j < kQK; ++j) {
      b.qs[j] = static_cast<int8_t>(std::round(xb[j] * id));
      sum += b.qs[j];
    }
    if constexpr (kWithSum) b.s = f32_to_fp16(sum * d);
    store_block(dst, ib, b);
  }
}

// ---- IQ4_NL: non-linear levels, scale searched (ggml's quantize_iq4_nl) ---

int iq4nl_index(float x) { return nearest_level(16, kIq4nlValues, x); }

void quant_iq4_nl_block(const float* x, const float* importance, BlockIQ4_NL& b) {
  // llama-quantize runs the search with 7 trial scales each side (ntry = 7).
  constexpr int kTries = 7;
  float sigma2 = 0;
  for (int j = 0; j < kQK; ++j) sigma2 += x[j] * x[j];
  sigma2 *= 2.f / kQK;
  float w[kQK];
  for (int j = 0; j < kQK; ++j) w[j] = importance ? importance[j] * std::sqrt(sigma2 + x[j] * x[j]) : x[j] * x[j];

  float amax = 0, max = 0;
  for (int j = 0; j < kQK; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  float d = 0;
  if (amax >= kGroupMaxEps) {
    // First guess maps the extreme onto the top level, then 2*kTries+1 scales
    // that map it onto the bottom level (-127) give or take; each candidate's
    // codes get their weighted least-squares scale, the best explains most.
    d = -max / kIq4nlValues[0];
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < kQK; ++j) {
      const float q = kIq4nlValues[iq4nl_index(id * x[j])];
      sumqx += w[j] * q * x[j];
      sumq2 += w[j] * q * q;
    }
    d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
    float best = d * sumqx;
    for (int itry = -kTries; itry <= kTries; ++itry) {
      id = (itry + kIq4nlValues[0]) / max;
      sumqx = sumq2 = 0;
      for (int j = 0; j < kQK; ++j) {
        const float q = kIq4nlValues[iq4nl_index(id * x[j])];
        sumqx += w[j] * q * x[j];
        sumq2 += w[j] * q * q;
      }
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
  }
  b.d = f32_to_fp16(d);
  // Codes for the final (unrounded) scale.
  const float id = d ? 1 / d : 0;
  uint8_t L[kQK];
  for (int j = 0; j < kQK; ++j) L[j] = static_cast<uint8_t>(iq4nl_index(id * x[j]));
  pack_nibbles(L, b.qs);
}

template <uint16_t (*kFromF32)(float)>
void quant_half(const float* x, void* dst, int64_t n) {
  auto* bytes = static_cast<uint8_t*>(dst);
  for (int64_t i = 0; i < n; ++i) {
    const uint16_t h = kFromF32(x[i]);
    std::memcpy(bytes + 2 * i, &h, 2);
  }
}

}  // namespace

void quant_row_f32(const float* src, void* dst, int64_t n, const float*) {
  std::memcpy(dst, src, static_cast<size_t>(n) * 4);
}
void quant_row_f16(const float* src, void* dst, int64_t n, const float*) { quant_half<f32_to_fp16>(src, dst, n); }
void quant_row_bf16(const float* src, void* dst, int64_t n, const float*) { quant_half<f32_to_bf16>(src, dst, n); }
void quant_row_q4_0(const float* src, void* dst, int64_t n, const float* imatrix) {
  quant_legacy<BlockQ4_0, 4, false>(src, dst, n, imatrix);
}
void quant_row_q4_1(const float* src, void* dst, int64_t n, const float* imatrix) {
  quant_legacy<BlockQ4_1, 4, true>(src, dst, n, imatrix);
}
void quant_row_q5_0(const float* src, void* dst, int64_t n, const float* imatrix) {
  quant_legacy<BlockQ5_0, 5, false>(src, dst, n, imatrix);
}
void quant_row_q5_1(const float* src, void* dst, int64_t n, const float* imatrix) {
  quant_legacy<BlockQ5_1, 5, true>(src, dst, n, imatrix);
}
// ggml ignores importance for Q8: 8 bits leave nothing to trade.
void quant_row_q8_0(const float* src, void* dst, int64_t n, const float*) { quant_q8<BlockQ8_0, false>(src, dst, n); }
void quant_row_q8_1(const float* src, void* dst, int64_t n, const float*) { quant_q8<BlockQ8_1, true>(src, dst, n); }
void quant_row_iq4_nl(const float* src, void* dst, int64_t n, const float* imatrix) {
  for (int64_t ib = 0; ib < n / kQK; ++ib) {
    BlockIQ4_NL b{};
    quant_iq4_nl_block(src + ib * kQK, imatrix ? imatrix + ib * kQK : nullptr, b);
    store_block(dst, ib, b);
  }
}

}  // namespace jetlm
