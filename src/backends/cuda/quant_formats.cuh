// How the kernels read each weight format in place (the ggml block layouts of
// formats/blocks.h, byte for byte, so the mmap'd file can be read directly on
// unified-memory devices).
//
// Every format is cut into "thread work items" (TWI): a run of values whose
// bytes one thread loads with a few wide loads. A TWI decodes in groups of 8
// consecutive values that share one scale and offset, so that the activations
// for a group are two float4 loads. decode() gives the integer codes as exact
// floats plus the group's scale and offset: w = scale * q + offset, the order
// in which the CPU reference forms them; the quantized formats build it on
// codes(), the same codes as bytes (IntCodes below), which the int8 kernels
// feed to dp4a.
//
//   format  TWI values  TWI bytes (loads)                          groups
//   Q4_0    32 (block)  d + 16 qs (funnel-shifted words)           4
//   Q4_1    32          d, m + 16 qs (aligned words)               4
//   Q5_0    32          d + qh + 16 qs                             4
//   Q5_1    32          d, m, qh + 16 qs                           4
//   Q8_0    32          d + 32 qs                                  4
//   IQ4_NL  32          d + 16 qs, codes through a byte-permute table  4
//   Q2_K    128 (half)  32 qs + 8 scales + d, dmin                 16
//   Q3_K    128 (half)  32 hmask + 32 qs + 12 scales + d           16
//   Q4_K    64 (chunk)  32 qs (2 x 16-byte loads) + scales         8
//   Q5_K    64 (chunk)  32 qs + 32 qh (16-byte loads) + scales     8
//   Q6_K    64          32 ql + 32 qh + 8 scales + d               8
//   F32/F16/BF16  8     32 / 16 bytes                              1
#pragma once
#include "backends/cuda/device_common.cuh"

namespace jetlm {
namespace cuda {

// Q4_K / Q5_K: 6-bit scale and min codes of sub-block j (0..7) from the 12
// packed bytes held in three words (see unpack_scale_min_k4 in blocks.h).
JDEV uint32_t byte_of3(uint32_t s0, uint32_t s1, uint32_t s2, int i) {
  const uint32_t w = i < 4 ? s0 : (i < 8 ? s1 : s2);
  return (w >> (8 * (i & 3))) & 0xFFu;
}
JDEV void scale_min_k4(int j, uint32_t s0, uint32_t s1, uint32_t s2, float* sc, float* m) {
  // Both layouts computed and selected: j is a run-time value, and a branch here
  // costs more than the few extra instructions.
  const uint32_t bj = byte_of3(s0, s1, s2, j), bj4 = byte_of3(s0, s1, s2, j + 4), bjm4 = byte_of3(s0, s1, s2, j & 3);
  const bool low = j < 4;
  const uint32_t a = low ? (bj & 63u) : ((bj4 & 0xFu) | ((bjm4 >> 6) << 4));
  const uint32_t b = low ? (bj4 & 63u) : ((bj4 >> 4) | ((bj >> 6) << 4));
  *sc = static_cast<float>(a);
  *m = static_cast<float>(b);
}

// The quantized formats give each group as integer codes, 8 bytes in two
// words (c0: values 0-3, c1: 4-7), with w = sc * (code - kBias) + off, or
// signed bytes (kSigned, kBias 0). The float decode is the same for all of them;
// the int8 kernels take the codes to dp4a as they are (all codes fit a signed
// byte: unsigned codes are below 64).
// kScaleRun: consecutive groups (always inside one 32-value block, the int8
// activations' scale block) that share the weight scale and offset, so the int8
// kernels sum their dp4a products as integers and scale once per run.
template <class D>
struct IntCodes {
  static const bool kIntCodes = true;
  static const int kScaleRun = 4;
  template <class Raw>
  static JDEV void decode(const Raw& r, int twi, int g, float* q, float& sc, float& off) {
    uint32_t c0, c1;
    D::codes(r, twi, g, c0, c1, sc, off);
    if (D::kSigned) {
      s8x4_to_f32(c0, q);
      s8x4_to_f32(c1, q + 4);
    } else {
      u8x4_to_f32(c0, static_cast<float>(D::kBias), q);
      u8x4_to_f32(c1, static_cast<float>(D::kBias), q + 4);
    }
  }
};

struct FmtQ4_0 : IntCodes<FmtQ4_0> {
  static const int kBias = 8;
  static const bool kSigned = false;
  static const int kTwiValues = 32, kGroups = 4;
  static const bool kHasOffset = false;
  struct Raw { uint32_t q[4]; float d; };
  static JHD int n_twi(int cols) { return cols / 32; }
  static JDEV int group_start(int twi, int g) { return twi * 32 + 8 * g; }
  static JDEV void load(const uint8_t* row, int twi, int, Raw& r) {
    const uint8_t* b = row + twi * 18;
    r.d = h2f(ld_u16(b));
    ld_words_a2<4>(b + 2, r.q);
  }
  // Values 0-15 are the low nibbles of bytes 0-15, values 16-31 the high ones.
  static JDEV void codes(const Raw& r, int, int g, uint32_t& c0, uint32_t& c1, float& sc, float& off) {
    const bool hi = g >= 2;
    const int w = 2 * (g & 1);
    c0 = nibbles(r.q[w], hi);
    c1 = nibbles(r.q[w + 1], hi);
    sc = r.d;
    off = 0.f;
  }
};

struct FmtQ4_1 : IntCodes<FmtQ4_1> {
  static const int kBias = 0;
  static const bool kSigned = false;
  static const int kTwiValues = 32, kGroups = 4;
  static const bool kHasOffset = true;
  struct Raw { uint32_t q[4]; float d, m; };
  static JHD int n_twi(int cols) { return cols / 32; }
  static JDEV int group_start(int twi, int g) { return twi * 32 + 8 * g; }
  static JDEV void load(const uint8_t* row, int twi, int, Raw& r) {
    const uint8_t* b = row + twi * 20;  // 20-byte blocks: 4-byte aligned
    const uint32_t dm = ld_u32(b);
    r.d = h2f(dm);
    r.m = h2f(dm >> 16);
#pragma unroll
    for (int i = 0; i < 4; ++i) r.q[i] = ld_u32(b + 4 + 4 * i);
  }
  static JDEV void codes(const Raw& r, int, int g, uint32_t& c0, uint32_t& c1, float& sc, float& off) {
    const bool hi = g >= 2;
    const int w = 2 * (g & 1);
    c0 = nibbles(r.q[w], hi);
    c1 = nibbles(r.q[w + 1], hi);
    sc = r.d;
    off = r.m;
  }
};

struct FmtQ5_0 : IntCodes<FmtQ5_0> {
  static const int kBias = 16;
  static const bool kSigned = false;
  static const int kTwiValues = 32, kGroups = 4;
  static const bool kHasOffset = false;
  struct Raw { uint32_t w[5]; float d; };  // w[0] = 5th bits, w[1..4] = low nibbles
  static JHD int n_twi(int cols) { return cols / 32; }
  static JDEV int group_start(int twi, int g) { return twi * 32 + 8 * g; }
  static JDEV void load(const uint8_t* row, int twi, int, Raw& r) {
    const uint8_t* b = row + twi * 22;
    r.d = h2f(ld_u16(b));
    ld_words_a2<5>(b + 2, r.w);
  }
  static JDEV void codes(const Raw& r, int, int g, uint32_t& c0, uint32_t& c1, float& sc, float& off) {
    const bool hi = g >= 2;
    const int w = 1 + 2 * (g & 1);
    const uint32_t qh = r.w[0] >> (8 * g);  // bit j = 5th bit of value j
    c0 = nibbles(r.w[w], hi) | (spread4(qh) << 4);
    c1 = nibbles(r.w[w + 1], hi) | (spread4(qh >> 4) << 4);
    sc = r.d;
    off = 0.f;
  }
};

struct FmtQ5_1 : IntCodes<FmtQ5_1> {
  static const int kBias = 0;
  static const bool kSigned = false;
  static const int kTwiValues = 32, kGroups = 4;
  static const bool kHasOffset = true;
  struct Raw { uint32_t q[4]; uint32_t qh; float d, m; };
  static JHD int n_twi(int cols) { return cols / 32; }
  static JDEV int group_start(int twi, int g) { return twi * 32 + 8 * g; }
  static JDEV void load(const uint8_t* row, int twi, int, Raw& r) {
    const uint8_t* b = row + twi * 24;  // 24-byte blocks: 8-byte aligned
    const uint32_t dm = ld_u32(b);
    r.d = h2f(dm);
    r.m = h2f(dm >> 16);
    r.qh = ld_u32(b + 4);
#pragma unroll
    for (int i = 0; i < 4; ++i) r.q[i] = ld_u32(b + 8 + 4 * i);
  }
  static JDEV void codes(const Raw& r, int, int g, uint32_t& c0, uint32_t& c1, float& sc, float& off) {
    const bool hi = g >= 2;
    const int w = 2 * (g & 1);
    const uint32_t qh = r.qh >> (8 * g);
    c0 = nibbles(r.q[w], hi) | (spread4(qh) << 4);
    c1 = nibbles(r.q[w + 1], hi) | (spread4(qh >> 4) << 4);
    sc = r.d;
    off = r.m;
  }
};

struct FmtQ8_0 : IntCodes<FmtQ8_0> {
  static const int kBias = 0;
  static const bool kSigned = true;
  static const int kTwiValues = 32, kGroups = 4;
  static const bool kHasOffset = false;
  struct Raw { uint32_t q[8]; float d; };
  static JHD int n_twi(int cols) { return cols / 32; }
  static JDEV int group_start(int twi, int g) { return twi * 32 + 8 * g; }
  static JDEV void load(const uint8_t* row, int twi, int, Raw& r) {
    const uint8_t* b = row + twi * 34;
    r.d = h2f(ld_u16(b));
    ld_words_a2<8>(b + 2, r.q);
  }
  static JDEV void codes(const Raw& r, int, int g, uint32_t& c0, uint32_t& c1, float& sc, float& off) {
    c0 = r.q[2 * g];
    c1 = r.q[2 * g + 1];
    sc = r.d;
    off = 0.f;
  }
};

struct FmtIQ4_NL : IntCodes<FmtIQ4_NL> {
  static const int kBias = 0;
  static const bool kSigned = true;
  static const int kTwiValues = 32, kGroups = 4;
  static const bool kHasOffset = false;
  struct Raw { uint32_t q[4]; float d; };
  static JHD int n_twi(int cols) { return cols / 32; }
  static JDEV int group_start(int twi, int g) { return twi * 32 + 8 * g; }
  static JDEV void load(const uint8_t* row, int twi, int, Raw& r) {
    const uint8_t* b = row + twi * 18;
    r.d = h2f(ld_u16(b));
    ld_words_a2<4>(b + 2, r.q);
  }
  // The 16 levels (kIq4nlValues) as signed bytes in 4 words; a byte permute
  // looks up 4 codes at once in each half, and bit 3 of the index picks the half.
  static JDEV uint32_t lookup(uint32_t idx) {
    const uint32_t sel = (idx & 0x7u) | ((idx >> 4) & 0x70u) | ((idx >> 8) & 0x700u) | ((idx >> 12) & 0x7000u);
    const uint32_t lo = __byte_perm(0xBFAD9881u, 0xF6EADDCFu, sel);
    const uint32_t hi = __byte_perm(0x26190D01u, 0x71594535u, sel);
    const uint32_t m = ((idx & 0x08080808u) >> 3) * 0xFFu;
    return (lo & ~m) | (hi & m);
  }
  static JDEV void codes(const Raw& r, int, int g, uint32_t& c0, uint32_t& c1, float& sc, float& off) {
    const bool hi = g >= 2;
    const int w = 2 * (g & 1);
    c0 = lookup(nibbles(r.q[w], hi));
    c1 = lookup(nibbles(r.q[w + 1], hi));
    sc = r.d;
    off = 0.f;
  }
};

// Q2_K: TWI = one 128-value half h of an 84-byte (4-aligned) block.
struct FmtQ2_K : IntCodes<FmtQ2_K> {
  static const int kBias = 0;
  static const bool kSigned = false;
  static const int kScaleRun = 2;  // a scale per 16 values
  static const int kTwiValues = 128, kGroups = 16;
  static const bool kHasOffset = true;
  struct Raw { uint32_t q[8]; uint32_t s[2]; float d, dmin; };
  static JHD int n_twi(int cols) { return cols / 128; }
  static JDEV int group_start(int twi, int g) { return twi * 128 + 32 * (g >> 2) + 8 * (g & 3); }
  static JDEV void load(const uint8_t* row, int twi, int, Raw& r) {
    const uint8_t* b = row + (twi >> 1) * 84;
    const int h = twi & 1;
#pragma unroll
    for (int i = 0; i < 8; ++i) r.q[i] = ld_u32(b + 16 + 32 * h + 4 * i);
    r.s[0] = ld_u32(b + 8 * h);
    r.s[1] = ld_u32(b + 8 * h + 4);
    const uint32_t dm = ld_u32(b + 80);
    r.d = h2f(dm);
    r.dmin = h2f(dm >> 16);
  }
  // Value 32s + l of the half: bits 2s of byte l; sub-block (2s + l/16) of the half.
  static JDEV void codes(const Raw& r, int, int g, uint32_t& c0, uint32_t& c1, float& sc, float& off) {
    const int s = g >> 2, w = 2 * (g & 3);
    c0 = (r.q[w] >> (2 * s)) & 0x03030303u;
    c1 = (r.q[w + 1] >> (2 * s)) & 0x03030303u;
    const int sb = 2 * s + ((g & 3) >= 2 ? 1 : 0);
    const uint32_t code = (r.s[sb >> 2] >> (8 * (sb & 3))) & 0xFFu;
    sc = r.d * static_cast<float>(code & 0xFu);
    off = -(r.dmin * static_cast<float>(code >> 4));
  }
};

// Q3_K: TWI = one 128-value half h of a 110-byte (2-aligned) block.
struct FmtQ3_K : IntCodes<FmtQ3_K> {
  static const int kBias = 4;
  static const bool kSigned = false;
  static const int kScaleRun = 2;  // a scale per 16 values
  static const int kTwiValues = 128, kGroups = 16;
  static const bool kHasOffset = false;
  struct Raw { uint32_t q[8]; uint32_t hm[8]; uint32_t s[3]; float d; int h; };
  static JHD int n_twi(int cols) { return cols / 128; }
  static JDEV int group_start(int twi, int g) { return twi * 128 + 32 * (g >> 2) + 8 * (g & 3); }
  static JDEV void load(const uint8_t* row, int twi, int, Raw& r) {
    const uint8_t* b = row + (twi >> 1) * 110;
    r.h = twi & 1;
    ld_words_a2<8>(b, r.hm);
    ld_words_a2<8>(b + 32 + 32 * r.h, r.q);
    ld_words_a2<3>(b + 96, r.s);
    r.d = h2f(ld_u16(b + 108));
  }
  // Value v = 128h + 32s + l: low 2 bits at bits 2s of qs byte l, 3rd bit at
  // bit (4h + s) of hmask byte l (clear means code - 4).
  static JDEV void codes(const Raw& r, int, int g, uint32_t& c0, uint32_t& c1, float& sc, float& off) {
    const int s = g >> 2, w = 2 * (g & 3);
    const int hb = 4 * r.h + s;
    c0 = ((r.q[w] >> (2 * s)) & 0x03030303u) | (((r.hm[w] >> hb) & 0x01010101u) << 2);
    c1 = ((r.q[w + 1] >> (2 * s)) & 0x03030303u) | (((r.hm[w + 1] >> hb) & 0x01010101u) << 2);
    const int j = 8 * r.h + 2 * s + ((g & 3) >= 2 ? 1 : 0);
    const uint32_t low = j < 8 ? (byte_of3(r.s[0], r.s[1], r.s[2], j) & 0xFu) : (byte_of3(r.s[0], r.s[1], r.s[2], j - 8) >> 4);
    const uint32_t high = (byte_of3(r.s[0], r.s[1], r.s[2], 8 + (j & 3)) >> (2 * (j >> 2))) & 3u;
    sc = r.d * static_cast<float>(static_cast<int>(low | (high << 4)) - 32);
    off = 0.f;
  }
};

// Q4_K: TWI = 64-value chunk c of a 144-byte block; blocks are 16-byte multiples,
// so with 16-byte aligned rows the quants load as two 16-byte vectors.
// Scales and offsets of sub-blocks 2c and 2c+1 of the Q4_K/Q5_K super-block at b
// (both formats start with d, dmin and the same 12 packed scale bytes).
JDEV void k4_scales(const uint8_t* b, int c, float& sc0, float& off0, float& sc1, float& off1) {
  const uint32_t dm = ld_u32(b), s0 = ld_u32(b + 4), s1 = ld_u32(b + 8), s2 = ld_u32(b + 12);
  const float d = h2f(dm), dmin = h2f(dm >> 16);
  float a, m;
  scale_min_k4(2 * c, s0, s1, s2, &a, &m);
  sc0 = d * a;
  off0 = -(dmin * m);
  scale_min_k4(2 * c + 1, s0, s1, s2, &a, &m);
  sc1 = d * a;
  off1 = -(dmin * m);
}

struct FmtQ4_K : IntCodes<FmtQ4_K> {
  static const int kBias = 0;
  static const bool kSigned = false;
  static const int kTwiValues = 64, kGroups = 8;
  static const bool kHasOffset = true;
  struct Raw { uint32_t q[8]; float sc0, off0, sc1, off1; };
  static JHD int n_twi(int cols) { return cols / 64; }
  static JDEV int group_start(int twi, int g) { return twi * 64 + 32 * (g >> 2) + 8 * (g & 3); }
  static JDEV void load(const uint8_t* row, int twi, int, Raw& r) {
    const uint8_t* b = row + (twi >> 2) * 144;
    const int c = twi & 3;
    const uint4 v0 = ld_u128(b + 16 + 32 * c), v1 = ld_u128(b + 32 + 32 * c);
    r.q[0] = v0.x; r.q[1] = v0.y; r.q[2] = v0.z; r.q[3] = v0.w;
    r.q[4] = v1.x; r.q[5] = v1.y; r.q[6] = v1.z; r.q[7] = v1.w;
    k4_scales(b, c, r.sc0, r.off0, r.sc1, r.off1);
  }
  // Values 0-31 of the chunk: low nibbles (sub-block 2c); 32-63: high (2c+1).
  static JDEV void codes(const Raw& r, int, int g, uint32_t& c0, uint32_t& c1, float& sc, float& off) {
    const bool hi = g >= 4;
    const int w = 2 * (g & 3);
    c0 = nibbles(r.q[w], hi);
    c1 = nibbles(r.q[w + 1], hi);
    sc = hi ? r.sc1 : r.sc0;
    off = hi ? r.off1 : r.off0;
  }
};

struct FmtQ5_K : IntCodes<FmtQ5_K> {
  static const int kBias = 0;
  static const bool kSigned = false;
  static const int kTwiValues = 64, kGroups = 8;
  static const bool kHasOffset = true;
  struct Raw { uint32_t q[8]; uint32_t qh[8]; float sc0, off0, sc1, off1; int c; };
  static JHD int n_twi(int cols) { return cols / 64; }
  static JDEV int group_start(int twi, int g) { return twi * 64 + 32 * (g >> 2) + 8 * (g & 3); }
  static JDEV void load(const uint8_t* row, int twi, int, Raw& r) {
    const uint8_t* b = row + (twi >> 2) * 176;
    const int c = twi & 3;
    r.c = c;
    const uint4 v0 = ld_u128(b + 48 + 32 * c), v1 = ld_u128(b + 64 + 32 * c);
    r.q[0] = v0.x; r.q[1] = v0.y; r.q[2] = v0.z; r.q[3] = v0.w;
    r.q[4] = v1.x; r.q[5] = v1.y; r.q[6] = v1.z; r.q[7] = v1.w;
    const uint4 h0 = ld_u128(b + 16), h1 = ld_u128(b + 32);
    r.qh[0] = h0.x; r.qh[1] = h0.y; r.qh[2] = h0.z; r.qh[3] = h0.w;
    r.qh[4] = h1.x; r.qh[5] = h1.y; r.qh[6] = h1.z; r.qh[7] = h1.w;
    k4_scales(b, c, r.sc0, r.off0, r.sc1, r.off1);
  }
  // 5th bit of chunk value l (l < 32): bit 2c of qh[l]; of value 32 + l: bit 2c + 1.
  static JDEV void codes(const Raw& r, int, int g, uint32_t& c0, uint32_t& c1, float& sc, float& off) {
    const bool hi = g >= 4;
    const int w = 2 * (g & 3);
    const int bit = 2 * r.c + (hi ? 1 : 0);
    c0 = nibbles(r.q[w], hi) | (((r.qh[w] >> bit) & 0x01010101u) << 4);
    c1 = nibbles(r.q[w + 1], hi) | (((r.qh[w + 1] >> bit) & 0x01010101u) << 4);
    sc = hi ? r.sc1 : r.sc0;
    off = hi ? r.off1 : r.off0;
  }
};

// Q6_K: TWI (h, p) of a 210-byte block covers values 128h + 32s + l for
// s in {p, p + 2}, l < 32: they share the 32 ql bytes 64h + 32p.. (low nibbles
// for s = p, high for s = p + 2) and the 32 qh bytes 32h.. (bits 2s).
struct FmtQ6_K : IntCodes<FmtQ6_K> {
  static const int kBias = 32;
  static const bool kSigned = false;
  static const int kScaleRun = 2;  // a scale per 16 values
  static const int kTwiValues = 64, kGroups = 8;
  static const bool kHasOffset = false;
  struct Raw { uint32_t ql[8]; uint32_t qh[8]; uint32_t s[2]; float d; int p; };
  static JHD int n_twi(int cols) { return cols / 64; }
  static JDEV int group_start(int twi, int g) {
    const int h = (twi >> 1) & 1, p = twi & 1;
    return (twi >> 2) * 256 + 128 * h + 32 * (p + 2 * (g >> 2)) + 8 * (g & 3);
  }
  static JDEV void load(const uint8_t* row, int twi, int, Raw& r) {
    const uint8_t* b = row + (twi >> 2) * 210;
    const int h = (twi >> 1) & 1;
    r.p = twi & 1;
    ld_words_a2<8>(b + 64 * h + 32 * r.p, r.ql);
    ld_words_a2<8>(b + 128 + 32 * h, r.qh);
    ld_words_a2<2>(b + 192 + 8 * h + 2 * r.p, r.s);  // scales 8h+2p .. +7 (bytes 0,1,4,5 used)
    r.d = h2f(ld_u16(b + 208));
  }
  static JDEV void codes(const Raw& r, int, int g, uint32_t& c0, uint32_t& c1, float& sc, float& off) {
    const bool hi = g >= 4;
    const int w = 2 * (g & 3);
    const int s2 = 2 * (r.p + (hi ? 2 : 0));
    c0 = nibbles(r.ql[w], hi) | (((r.qh[w] >> s2) & 0x03030303u) << 4);
    c1 = nibbles(r.ql[w + 1], hi) | (((r.qh[w + 1] >> s2) & 0x03030303u) << 4);
    const uint32_t word = hi ? r.s[1] : r.s[0];
    const int code = static_cast<int8_t>(((g & 3) >= 2 ? (word >> 8) : word) & 0xFFu);
    sc = r.d * static_cast<float>(code);
    off = 0.f;
  }
};

// Plain floats: TWI = 8 values; rows of any length (the last TWI may be partial).
struct FmtF32 {
  static const bool kIntCodes = false;
  static const int kTwiValues = 8, kGroups = 1;
  static const bool kHasOffset = false;
  struct Raw { float v[8]; };
  static JHD int n_twi(int cols) { return (cols + 7) / 8; }
  static JDEV int group_start(int twi, int) { return twi * 8; }
  static JDEV void load(const uint8_t* row, int twi, int cols, Raw& r) {
    const float* p = reinterpret_cast<const float*>(row) + twi * 8;
    if (twi * 8 + 8 <= cols && (reinterpret_cast<uintptr_t>(p) & 15) == 0) {
      const float4 a = __ldg(reinterpret_cast<const float4*>(p)), b = __ldg(reinterpret_cast<const float4*>(p) + 1);
      r.v[0] = a.x; r.v[1] = a.y; r.v[2] = a.z; r.v[3] = a.w;
      r.v[4] = b.x; r.v[5] = b.y; r.v[6] = b.z; r.v[7] = b.w;
    } else {
#pragma unroll
      for (int i = 0; i < 8; ++i) r.v[i] = twi * 8 + i < cols ? __ldg(p + i) : 0.f;
    }
  }
  static JDEV void decode(const Raw& r, int, int, float* q, float& sc, float& off) {
#pragma unroll
    for (int i = 0; i < 8; ++i) q[i] = r.v[i];
    sc = 1.f;
    off = 0.f;
  }
};

template <bool kBf16>
struct FmtHalf16 {
  static const bool kIntCodes = false;
  static const int kTwiValues = 8, kGroups = 1;
  static const bool kHasOffset = false;
  struct Raw { uint32_t w[4]; };
  static JHD int n_twi(int cols) { return (cols + 7) / 8; }
  static JDEV int group_start(int twi, int) { return twi * 8; }
  static JDEV void load(const uint8_t* row, int twi, int cols, Raw& r) {
    const uint8_t* p = row + twi * 16;
    if (twi * 8 + 8 <= cols) {
      ld_words_a2<4>(p, r.w);
    } else {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const uint32_t lo = twi * 8 + 2 * i < cols ? ld_u16(p + 4 * i) : 0u;
        const uint32_t hi = twi * 8 + 2 * i + 1 < cols ? ld_u16(p + 4 * i + 2) : 0u;
        r.w[i] = lo | (hi << 16);
      }
    }
  }
  static JDEV void decode(const Raw& r, int, int, float* q, float& sc, float& off) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      q[2 * i] = kBf16 ? bf2f(r.w[i]) : h2f(r.w[i]);
      q[2 * i + 1] = kBf16 ? bf2f(r.w[i] >> 16) : h2f(r.w[i] >> 16);
    }
    sc = 1.f;
    off = 0.f;
  }
};
using FmtF16 = FmtHalf16<false>;
using FmtBF16 = FmtHalf16<true>;

// Calls f.template operator()<Fmt>() for the format of t; false when unknown.
// (A functor with a templated call, since C++14 has no templated lambdas.)
template <class F>
bool dispatch_format(WType t, F& f) {
  switch (t) {
    case WType::F32: f.template run<FmtF32>(); return true;
    case WType::F16: f.template run<FmtF16>(); return true;
    case WType::BF16: f.template run<FmtBF16>(); return true;
    case WType::Q4_0: f.template run<FmtQ4_0>(); return true;
    case WType::Q4_1: f.template run<FmtQ4_1>(); return true;
    case WType::Q5_0: f.template run<FmtQ5_0>(); return true;
    case WType::Q5_1: f.template run<FmtQ5_1>(); return true;
    case WType::Q8_0: f.template run<FmtQ8_0>(); return true;
    case WType::IQ4_NL: f.template run<FmtIQ4_NL>(); return true;
    case WType::Q2_K: f.template run<FmtQ2_K>(); return true;
    case WType::Q3_K: f.template run<FmtQ3_K>(); return true;
    case WType::Q4_K: f.template run<FmtQ4_K>(); return true;
    case WType::Q5_K: f.template run<FmtQ5_K>(); return true;
    case WType::Q6_K: f.template run<FmtQ6_K>(); return true;
  }
  return false;
}

}  // namespace cuda
}  // namespace jetlm
