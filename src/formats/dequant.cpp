// Scalar reference dequantizers, bit-exact with ggml's dequantize_row_*.
//
// Every block format decodes the same way: each value has a small integer
// code q, each group of G values a float scale (and for some formats an
// offset), and x = scale * q (+ offset). So there is one kernel,
// dequant_blocks<Format>, and each format only says how to unpack its block
// into codes and group scales. Bit-exactness with ggml needs the float
// operations in ggml's order: the group scale is formed first (d * sc, as
// ggml does), then multiplied by the code, then the offset added. ggml's
// "- m" is written here as "+ (-m)", which IEEE defines as the same result.
#include <cstring>

#include "formats/blocks.h"
#include "formats/codecs.h"
#include "util/fp16.h"

// ggml and gguf-py round the product before adding the offset; a fused
// multiply-add would not. CMake builds src/formats with -ffp-contract=off
// (GCC contracts on AArch64); the pragma covers clang builds outside CMake.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace jetlm {
namespace {

// One unpacked block: N codes, and a scale/offset per group of G values.
template <int N, int G>
struct Decoded {
  static constexpr int kValues = N;
  static constexpr int kGroup = G;
  int8_t q[N];           // integer code of each value, bias already removed
  float scale[N / G];    // multiplier of group g
  float offset[N / G];   // added to group g after scaling (formats with kHasOffset only)
};

// The kernel shared by all block formats. The block is copied out first
// because rows come from a mapped file and a block need not be aligned.
template <class F>
void dequant_blocks(const void* src, float* dst, int64_t n) {
  using Block = typename F::Block;
  using Out = typename F::Out;
  const auto* bytes = static_cast<const uint8_t*>(src);
  const int64_t nb = n / Out::kValues;
  Block b;
  Out d;
  for (int64_t i = 0; i < nb; ++i) {
    std::memcpy(&b, bytes + i * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
    F::unpack(b, d);
    float* y = dst + i * Out::kValues;
    for (int j = 0; j < Out::kValues; ++j) {
      const int g = j / Out::kGroup;
      if constexpr (F::kHasOffset) {
        y[j] = d.scale[g] * d.q[j] + d.offset[g];
      } else {
        y[j] = d.scale[g] * d.q[j];
      }
    }
  }
}

// Nibble j (0..31) of a 32-value block: low nibbles hold values 0-15, high nibbles 16-31.
inline int nibble32(const uint8_t* qs, int j) { return j < 16 ? (qs[j] & 0xF) : (qs[j - 16] >> 4); }

// The 5th bits of Q5_0/Q5_1, as one little-endian word (bit j = value j).
inline uint32_t high_bits32(const uint8_t* qh) {
  return static_cast<uint32_t>(qh[0]) | static_cast<uint32_t>(qh[1]) << 8 | static_cast<uint32_t>(qh[2]) << 16 |
         static_cast<uint32_t>(qh[3]) << 24;
}

// ---- 32-value formats: one scale per block -------------------------------

struct Q4_0 {
  using Block = BlockQ4_0;
  using Out = Decoded<QK4_0, QK4_0>;
  static constexpr bool kHasOffset = false;
  static void unpack(const Block& b, Out& o) {
    o.scale[0] = fp16_to_f32(b.d);
    for (int j = 0; j < QK4_0; ++j) o.q[j] = static_cast<int8_t>(nibble32(b.qs, j) - 8);
  }
};

struct Q4_1 {
  using Block = BlockQ4_1;
  using Out = Decoded<QK4_1, QK4_1>;
  static constexpr bool kHasOffset = true;
  static void unpack(const Block& b, Out& o) {
    o.scale[0] = fp16_to_f32(b.d);
    o.offset[0] = fp16_to_f32(b.m);
    for (int j = 0; j < QK4_1; ++j) o.q[j] = static_cast<int8_t>(nibble32(b.qs, j));
  }
};

struct Q5_0 {
  using Block = BlockQ5_0;
  using Out = Decoded<QK5_0, QK5_0>;
  static constexpr bool kHasOffset = false;
  static void unpack(const Block& b, Out& o) {
    o.scale[0] = fp16_to_f32(b.d);
    const uint32_t qh = high_bits32(b.qh);
    for (int j = 0; j < QK5_0; ++j) {
      o.q[j] = static_cast<int8_t>((nibble32(b.qs, j) | (((qh >> j) & 1) << 4)) - 16);
    }
  }
};

struct Q5_1 {
  using Block = BlockQ5_1;
  using Out = Decoded<QK5_1, QK5_1>;
  static constexpr bool kHasOffset = true;
  static void unpack(const Block& b, Out& o) {
    o.scale[0] = fp16_to_f32(b.d);
    o.offset[0] = fp16_to_f32(b.m);
    const uint32_t qh = high_bits32(b.qh);
    for (int j = 0; j < QK5_1; ++j) o.q[j] = static_cast<int8_t>(nibble32(b.qs, j) | (((qh >> j) & 1) << 4));
  }
};

struct Q8_0 {
  using Block = BlockQ8_0;
  using Out = Decoded<QK8_0, QK8_0>;
  static constexpr bool kHasOffset = false;
  static void unpack(const Block& b, Out& o) {
    o.scale[0] = fp16_to_f32(b.d);
    std::memcpy(o.q, b.qs, QK8_0);
  }
};

// The stored sum s is redundant for dequantization.
struct Q8_1 {
  using Block = BlockQ8_1;
  using Out = Decoded<QK8_1, QK8_1>;
  static constexpr bool kHasOffset = false;
  static void unpack(const Block& b, Out& o) {
    o.scale[0] = fp16_to_f32(b.d);
    std::memcpy(o.q, b.qs, QK8_1);
  }
};

struct IQ4_NL {
  using Block = BlockIQ4_NL;
  using Out = Decoded<QK4_NL, QK4_NL>;
  static constexpr bool kHasOffset = false;
  static void unpack(const Block& b, Out& o) {
    o.scale[0] = fp16_to_f32(b.d);
    for (int j = 0; j < QK4_NL; ++j) o.q[j] = kIq4nlValues[nibble32(b.qs, j)];
  }
};

// ---- K formats: 256-value super-blocks with per-sub-block scales ---------

// 2-bit code of value v (0..255) in the Q2_K/Q3_K layout: each 128-value half
// has 32 bytes, and value 32*s + l of the half sits at bits 2s of byte l.
inline int crumb256(const uint8_t* qs, int v) {
  const int half = v / 128, s = (v % 128) / 32, l = v % 32;
  return (qs[32 * half + l] >> (2 * s)) & 3;
}

// 4-bit code of value v in the Q4_K/Q5_K layout: each 64-value chunk has 32
// bytes, values 0-31 of the chunk in the low nibbles, 32-63 in the high ones.
inline int nibble256(const uint8_t* qs, int v) {
  const int chunk = v / 64, l = v % 32;
  return (v % 64) < 32 ? (qs[32 * chunk + l] & 0xF) : (qs[32 * chunk + l] >> 4);
}

struct Q2_K {
  using Block = BlockQ2_K;
  using Out = Decoded<QK_K, 16>;
  static constexpr bool kHasOffset = true;
  static void unpack(const Block& b, Out& o) {
    const float d = fp16_to_f32(b.d), dmin = fp16_to_f32(b.dmin);
    for (int g = 0; g < QK_K / 16; ++g) {
      o.scale[g] = d * (b.scales[g] & 0xF);
      o.offset[g] = -(dmin * (b.scales[g] >> 4));
    }
    for (int v = 0; v < QK_K; ++v) o.q[v] = static_cast<int8_t>(crumb256(b.qs, v));
  }
};

struct Q3_K {
  using Block = BlockQ3_K;
  using Out = Decoded<QK_K, 16>;
  static constexpr bool kHasOffset = false;
  static void unpack(const Block& b, Out& o) {
    const float d = fp16_to_f32(b.d);
    for (int g = 0; g < QK_K / 16; ++g) o.scale[g] = d * (unpack_scale_q3_k(g, b.scales) - 32);
    for (int v = 0; v < QK_K; ++v) {
      const bool high = (b.hmask[v % 32] >> (v / 32)) & 1;
      o.q[v] = static_cast<int8_t>(crumb256(b.qs, v) - (high ? 0 : 4));
    }
  }
};

// Q4_K and Q5_K share the scale/min packing; Q5_K adds a 5th code bit.
template <class B, bool kFifthBit>
struct KWithMin {
  using Block = B;
  using Out = Decoded<QK_K, 32>;
  static constexpr bool kHasOffset = true;
  static void unpack(const Block& b, Out& o) {
    const float d = fp16_to_f32(b.d), dmin = fp16_to_f32(b.dmin);
    for (int g = 0; g < QK_K / 32; ++g) {
      uint8_t sc, m;
      unpack_scale_min_k4(g, b.scales, &sc, &m);
      o.scale[g] = d * sc;
      o.offset[g] = -(dmin * m);
    }
    for (int v = 0; v < QK_K; ++v) {
      int q = nibble256(b.qs, v);
      if constexpr (kFifthBit) {
        // Chunk c of 64 values uses bit 2c (first 32) and 2c+1 (second 32) of qh[v % 32].
        const int bit = 2 * (v / 64) + ((v % 64) >= 32 ? 1 : 0);
        q |= ((b.qh[v % 32] >> bit) & 1) << 4;
      }
      o.q[v] = static_cast<int8_t>(q);
    }
  }
};
using Q4_K = KWithMin<BlockQ4_K, false>;
using Q5_K = KWithMin<BlockQ5_K, true>;

struct Q6_K {
  using Block = BlockQ6_K;
  using Out = Decoded<QK_K, 16>;
  static constexpr bool kHasOffset = false;
  static void unpack(const Block& b, Out& o) {
    const float d = fp16_to_f32(b.d);
    for (int g = 0; g < QK_K / 16; ++g) o.scale[g] = d * b.scales[g];
    for (int v = 0; v < QK_K; ++v) {
      const int half = v / 128, s = (v % 128) / 32, l = v % 32;
      // Values s = 0,1 use the low nibbles of ql[l], ql[l+32]; s = 2,3 the high ones.
      const uint8_t lo_byte = b.ql[64 * half + l + 32 * (s & 1)];
      const int lo = s < 2 ? (lo_byte & 0xF) : (lo_byte >> 4);
      const int hi = (b.qh[32 * half + l] >> (2 * s)) & 3;
      o.q[v] = static_cast<int8_t>((lo | (hi << 4)) - 32);
    }
  }
};

struct Q8_K {
  using Block = BlockQ8_K;
  using Out = Decoded<QK_K, QK_K>;
  static constexpr bool kHasOffset = false;
  static void unpack(const Block& b, Out& o) {
    o.scale[0] = b.d;
    std::memcpy(o.q, b.qs, QK_K);
  }
};

// ---- plain floats ----------------------------------------------------------

template <float (*kToF32)(uint16_t)>
void dequant_half(const void* src, float* dst, int64_t n) {
  const auto* bytes = static_cast<const uint8_t*>(src);
  for (int64_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, bytes + 2 * i, 2);
    dst[i] = kToF32(h);
  }
}

}  // namespace

void dequant_row_f32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, static_cast<size_t>(n) * 4); }
void dequant_row_f16(const void* src, float* dst, int64_t n) { dequant_half<fp16_to_f32>(src, dst, n); }
void dequant_row_bf16(const void* src, float* dst, int64_t n) { dequant_half<bf16_to_f32>(src, dst, n); }
void dequant_row_q4_0(const void* src, float* dst, int64_t n) { dequant_blocks<Q4_0>(src, dst, n); }
void dequant_row_q4_1(const void* src, float* dst, int64_t n) { dequant_blocks<Q4_1>(src, dst, n); }
void dequant_row_q5_0(const void* src, float* dst, int64_t n) { dequant_blocks<Q5_0>(src, dst, n); }
void dequant_row_q5_1(const void* src, float* dst, int64_t n) { dequant_blocks<Q5_1>(src, dst, n); }
void dequant_row_q8_0(const void* src, float* dst, int64_t n) { dequant_blocks<Q8_0>(src, dst, n); }
void dequant_row_q8_1(const void* src, float* dst, int64_t n) { dequant_blocks<Q8_1>(src, dst, n); }
void dequant_row_q2_k(const void* src, float* dst, int64_t n) { dequant_blocks<Q2_K>(src, dst, n); }
void dequant_row_q3_k(const void* src, float* dst, int64_t n) { dequant_blocks<Q3_K>(src, dst, n); }
void dequant_row_q4_k(const void* src, float* dst, int64_t n) { dequant_blocks<Q4_K>(src, dst, n); }
void dequant_row_q5_k(const void* src, float* dst, int64_t n) { dequant_blocks<Q5_K>(src, dst, n); }
void dequant_row_q6_k(const void* src, float* dst, int64_t n) { dequant_blocks<Q6_K>(src, dst, n); }
void dequant_row_q8_k(const void* src, float* dst, int64_t n) { dequant_blocks<Q8_K>(src, dst, n); }
void dequant_row_iq4_nl(const void* src, float* dst, int64_t n) { dequant_blocks<IQ4_NL>(src, dst, n); }

}  // namespace jetlm
