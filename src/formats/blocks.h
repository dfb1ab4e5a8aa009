// Block layouts of the quantized formats, byte for byte as ggml stores them in
// GGUF files (ggml-common.h). A row of n values is n / QK blocks laid end to
// end; blocks carry no padding, so every struct holds only uint8_t/uint16_t
// members (alignment 2 at most) and the sizes below are asserted.
//
// fp16 scales are kept as raw uint16_t bits (convert with util/fp16.h) so the
// structs stay trivially copyable and identical on every host.
//
// Naming of quantized codes: "qs" are the low bits of each value, "qh"/"hmask"
// the high bits, "scales" the per-sub-block scale codes.
#pragma once
#include <cstddef>
#include <cstdint>

namespace jetlm {

// Values per block of the "legacy" formats (Q4_0 .. Q8_1, IQ4_NL).
constexpr int QK4_0 = 32;
constexpr int QK4_1 = 32;
constexpr int QK5_0 = 32;
constexpr int QK5_1 = 32;
constexpr int QK8_0 = 32;
constexpr int QK8_1 = 32;
constexpr int QK4_NL = 32;
// Values per super-block of the K formats.
constexpr int QK_K = 256;
// Bytes of the packed 6-bit scale/min codes of Q4_K and Q5_K (8 scales + 8 mins).
constexpr int K_SCALE_SIZE = 12;

// 4.5 bits/value. x[j] = d * (q[j] - 8).
struct BlockQ4_0 {
  uint16_t d;              // fp16 scale
  uint8_t qs[QK4_0 / 2];   // value j in the low nibble of qs[j], value j+16 in the high nibble
};
static_assert(sizeof(BlockQ4_0) == 2 + QK4_0 / 2, "BlockQ4_0 layout");

// 5 bits/value. x[j] = d * q[j] + m.
struct BlockQ4_1 {
  uint16_t d;              // fp16 scale
  uint16_t m;              // fp16 minimum (offset added after scaling)
  uint8_t qs[QK4_1 / 2];   // nibbles as in Q4_0
};
static_assert(sizeof(BlockQ4_1) == 2 * 2 + QK4_1 / 2, "BlockQ4_1 layout");

// 5.5 bits/value. x[j] = d * (q[j] - 16), q[j] 5 bits.
struct BlockQ5_0 {
  uint16_t d;              // fp16 scale
  uint8_t qh[4];           // 5th bit of value j is bit j of this little-endian uint32
  uint8_t qs[QK5_0 / 2];   // low 4 bits, nibbles as in Q4_0
};
static_assert(sizeof(BlockQ5_0) == 2 + 4 + QK5_0 / 2, "BlockQ5_0 layout");

// 6 bits/value. x[j] = d * q[j] + m, q[j] 5 bits.
struct BlockQ5_1 {
  uint16_t d;              // fp16 scale
  uint16_t m;              // fp16 minimum
  uint8_t qh[4];           // 5th bits, as in Q5_0
  uint8_t qs[QK5_1 / 2];   // low 4 bits, as in Q5_0
};
static_assert(sizeof(BlockQ5_1) == 2 * 2 + 4 + QK5_1 / 2, "BlockQ5_1 layout");

// 8.5 bits/value. x[j] = d * qs[j].
struct BlockQ8_0 {
  uint16_t d;              // fp16 scale
  int8_t qs[QK8_0];        // signed codes, in order
};
static_assert(sizeof(BlockQ8_0) == 2 + QK8_0, "BlockQ8_0 layout");

// Q8_0 plus the block sum; ggml uses it only for activations.
struct BlockQ8_1 {
  uint16_t d;              // fp16 scale
  uint16_t s;              // fp16 of d * sum(qs)
  int8_t qs[QK8_1];        // signed codes, in order
};
static_assert(sizeof(BlockQ8_1) == 2 * 2 + QK8_1, "BlockQ8_1 layout");

// Non-linear 4-bit: x[j] = d * kIq4nlValues[q[j]].
struct BlockIQ4_NL {
  uint16_t d;              // fp16 scale
  uint8_t qs[QK4_NL / 2];  // table indices, nibbles as in Q4_0
};
static_assert(sizeof(BlockIQ4_NL) == 2 + QK4_NL / 2, "BlockIQ4_NL layout");

// The 16 levels of IQ4_NL (and IQ4_XS), sorted ascending.
constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                     1,    13,   25,  38,  53,  69,  89,  113};

// 2.625 bits/value. 16 sub-blocks of 16; x = d*sc*q - dmin*m, q 2 bits.
struct BlockQ2_K {
  uint8_t scales[QK_K / 16];  // sub-block j: low nibble = scale code sc, high nibble = min code m
  uint8_t qs[QK_K / 4];       // 2-bit codes: in each 128-value half, byte l holds values l, l+32, l+64, l+96 at bits 0,2,4,6
  uint16_t d;                 // fp16 super-block scale of the scale codes
  uint16_t dmin;              // fp16 super-block scale of the min codes
};
static_assert(sizeof(BlockQ2_K) == 2 * 2 + QK_K / 16 + QK_K / 4, "BlockQ2_K layout");

// 3.4375 bits/value. 16 sub-blocks of 16; x = d*(sc-32)*(q-4), q 3 bits.
struct BlockQ3_K {
  uint8_t hmask[QK_K / 8];       // 3rd bit: value j sets bit j/32 of hmask[j%32]; a clear bit means q-4
  uint8_t qs[QK_K / 4];          // low 2 bits, arranged as in Q2_K
  uint8_t scales[K_SCALE_SIZE];  // 16 6-bit scale codes: low nibbles in bytes 0-7 (j<8 low, j>=8 high nibble of byte j-8), top 2 bits in bytes 8-11 (byte 8+j%4, bits 2*(j/4))
  uint16_t d;                    // fp16 super-block scale
};
static_assert(sizeof(BlockQ3_K) == 2 + QK_K / 4 + QK_K / 8 + 12, "BlockQ3_K layout");

// 4.5 bits/value. 8 sub-blocks of 32; x = d*sc*q - dmin*m, q 4 bits.
struct BlockQ4_K {
  uint16_t d;                    // fp16 super-block scale of the scale codes
  uint16_t dmin;                 // fp16 super-block scale of the min codes
  uint8_t scales[K_SCALE_SIZE];  // 8 6-bit scales + 8 6-bit mins, packed (see unpack_scale_min_k4)
  uint8_t qs[QK_K / 2];          // each 64-value chunk: 32 bytes, value l in the low nibble, value l+32 in the high nibble
};
static_assert(sizeof(BlockQ4_K) == 2 * 2 + K_SCALE_SIZE + QK_K / 2, "BlockQ4_K layout");

// 5.5 bits/value. As Q4_K with a 5th bit per value.
struct BlockQ5_K {
  uint16_t d;                    // fp16 super-block scale of the scale codes
  uint16_t dmin;                 // fp16 super-block scale of the min codes
  uint8_t scales[K_SCALE_SIZE];  // packed as in Q4_K
  uint8_t qh[QK_K / 8];          // 5th bit: value 64*c + l (l<32) at bit 2c of qh[l], value 64*c+32+l at bit 2c+1
  uint8_t qs[QK_K / 2];          // low 4 bits, arranged as in Q4_K
};
static_assert(sizeof(BlockQ5_K) == 2 * 2 + K_SCALE_SIZE + QK_K / 2 + QK_K / 8, "BlockQ5_K layout");

// 6.5625 bits/value. 16 sub-blocks of 16; x = d*sc*(q-32), q 6 bits.
struct BlockQ6_K {
  uint8_t ql[QK_K / 2];      // low 4 bits: in each 128-value half, ql[l] holds values l (low) and l+64 (high), ql[l+32] values l+32 and l+96
  uint8_t qh[QK_K / 4];      // high 2 bits: in each half, qh[l] holds values l, l+32, l+64, l+96 at bits 0,2,4,6
  int8_t scales[QK_K / 16];  // signed 8-bit sub-block scales
  uint16_t d;                // fp16 super-block scale
};
static_assert(sizeof(BlockQ6_K) == 2 + QK_K / 16 + 3 * QK_K / 4, "BlockQ6_K layout");

// Activations for the K dot products: x = d * qs, plus sums of 16 codes.
struct BlockQ8_K {
  float d;                     // fp32 scale (not fp16: no rounding of the activation scale)
  int8_t qs[QK_K];             // signed codes, in order
  int16_t bsums[QK_K / 16];    // sum of qs over each group of 16, for the min terms of K dot products
};
static_assert(sizeof(BlockQ8_K) == 4 + QK_K + QK_K / 16 * 2, "BlockQ8_K layout");

// The 6-bit scale code and min code of sub-block j (0..7) of Q4_K / Q5_K.
// Bytes 0-3: scales 0-3 (low 6 bits); bytes 4-7: mins 0-3 (low 6 bits);
// bytes 8-11: low nibble = low 4 bits of scale j, high nibble = of min j
// (j = 4..7), whose top 2 bits sit in the spare top bits of bytes 0-7.
inline void unpack_scale_min_k4(int j, const uint8_t* q, uint8_t* scale, uint8_t* min) {
  if (j < 4) {
    *scale = q[j] & 63;
    *min = q[j + 4] & 63;
  } else {
    *scale = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
    *min = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}

// The 6-bit scale code (0..63, bias 32) of sub-block j (0..15) of Q3_K.
inline int unpack_scale_q3_k(int j, const uint8_t* s) {
  const int low = j < 8 ? (s[j] & 0xF) : (s[j - 8] >> 4);
  const int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
  return low | (high << 4);
}

}  // namespace jetlm
