// Block decoders: one per file format, written once over the SIMD primitives
// P (prims_*.h) and instantiated by every ISA translation unit. A decoder
// turns one block into registers in the canonical form of its family
// (layout.h); the fused matrix-vector kernel consumes them directly, and the
// panel writers below store them for the matrix-matrix kernel.
//
// Included by kernels_impl.h only, inside an ISA's target region.
#pragma once
#include <cstdint>
#include <cstring>

#include "backends/cpu/simd/layout.h"
#include "formats/blocks.h"
#include "formats/tensor_type.h"
#include "util/fp16.h"

namespace {

using namespace jetlm;
using namespace jetlm::cpu;

template <class P>
using B32 = typename P::B32;
template <class P>
using F32v = typename P::F32;
template <class P>
using I32v = typename P::I32;

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // little-endian hosts only (x86-64, AArch64)
  return v;
}

// ---- 32-value blocks: codes(b) -> 32 codes, d(b) scale, m(b) offset --------
// d16(b): the fp16 scale in the block; kBias: m(b) = -kBias * d(b) (0: m is stored,
// or there is none).

// Q4_0 and Q5_0 codes are small and signed (nibble - 8, 5 bits - 16): kept
// unsigned, with the bias as an offset (m = -8 d, -16 d), they take the
// cheaper unsigned-by-signed multiply instead of the sign trick.
template <class P>
struct DecQ4_0 {
  using Block = BlockQ4_0;
  static constexpr Family kFamily = Family::LegacyMin;
  static B32<P> codes(const Block& b) { return P::nibbles16(b.qs); }
  static constexpr int kBias = 8;
  static const uint16_t* d16(const Block& b) { return &b.d; }
  static float d(const Block& b) { return P::h2f(b.d); }
  static float m(const Block& b) { return -static_cast<float>(kBias) * d(b); }
};

template <class P>
struct DecQ4_1 {
  using Block = BlockQ4_1;
  static constexpr Family kFamily = Family::LegacyMin;
  static B32<P> codes(const Block& b) { return P::nibbles16(b.qs); }
  static constexpr int kBias = 0;
  static const uint16_t* d16(const Block& b) { return &b.d; }
  static float d(const Block& b) { return P::h2f(b.d); }
  static float m(const Block& b) { return P::h2f(b.m); }
};

// Q5_0 / Q5_1: the 5th bit of value j is bit j of qh.
template <class P, class Block>
B32<P> five_bit_codes(const Block& b) {
  return P::or_(P::nibbles16(b.qs), P::and_(P::bits32(load_u32(b.qh)), P::set1(0x10)));
}

template <class P>
struct DecQ5_0 {
  using Block = BlockQ5_0;
  static constexpr Family kFamily = Family::LegacyMin;
  static B32<P> codes(const Block& b) { return five_bit_codes<P>(b); }
  static constexpr int kBias = 16;
  static const uint16_t* d16(const Block& b) { return &b.d; }
  static float d(const Block& b) { return P::h2f(b.d); }
  static float m(const Block& b) { return -static_cast<float>(kBias) * d(b); }
};

template <class P>
struct DecQ5_1 {
  using Block = BlockQ5_1;
  static constexpr Family kFamily = Family::LegacyMin;
  static B32<P> codes(const Block& b) { return five_bit_codes<P>(b); }
  static constexpr int kBias = 0;
  static const uint16_t* d16(const Block& b) { return &b.d; }
  static float d(const Block& b) { return P::h2f(b.d); }
  static float m(const Block& b) { return P::h2f(b.m); }
};

template <class P>
struct DecQ8_0 {
  using Block = BlockQ8_0;
  static constexpr Family kFamily = Family::LegacySigned;
  static B32<P> codes(const Block& b) { return P::load32(b.qs); }
  static constexpr int kBias = 0;
  static const uint16_t* d16(const Block& b) { return &b.d; }
  static float d(const Block& b) { return P::h2f(b.d); }
  static float m(const Block&) { return 0.f; }
};

template <class P>
struct DecIQ4_NL {
  using Block = BlockIQ4_NL;
  static constexpr Family kFamily = Family::LegacySigned;
  static B32<P> codes(const Block& b) { return P::lookup16(P::nibbles16(b.qs), kIq4nlValues); }
  static constexpr int kBias = 0;
  static const uint16_t* d16(const Block& b) { return &b.d; }
  static float d(const Block& b) { return P::h2f(b.d); }
  static float m(const Block&) { return 0.f; }
};

// ---- 256-value super-blocks ------------------------------------------------
// scales(b) -> KScales; codes(b, h, out) -> the 4 chunks of 32 of half h.
// Canonical: w = d * sc[g] * q - dmin * mn[g], q unsigned, g = group of 16.
// kMinsUseD: dmin is d (the mins are a folded code offset), so the kernels may
// subtract the mins from the integer sum and scale once.

template <class P>
struct KScales {
  float d, dmin;
  typename P::V16 sc;  // 16 signed scales, one per group of 16 values
  typename P::MN mn;   // 16 int16 mins
};

// The four 2-bit fields of 32 bytes (Q2_K/Q3_K layout: field s of byte l is value 32s + l).
template <class P>
void crumbs(B32<P> qs, B32<P> out[4]) {
  out[0] = P::template shr_and<0>(qs, 3);
  out[1] = P::template shr_and<2>(qs, 3);
  out[2] = P::template shr_and<4>(qs, 3);
  out[3] = P::template shr_and<6>(qs, 3);
}

template <class P>
struct DecQ2_K {
  using Block = BlockQ2_K;
  static constexpr bool kMinsUseD = false;
  static KScales<P> scales(const Block& b) {
    const typename P::V16 raw = P::v16_load(b.scales);  // low nibble scale, high nibble min
    return KScales<P>{P::h2f(b.d), P::h2f(b.dmin), P::v16_and(raw, 0xF), P::mn_from_u8(P::v16_shr4(raw))};
  }
  static void codes(const Block& b, int h, B32<P> out[4]) { crumbs<P>(P::load32(b.qs + 32 * h), out); }
};

// Q3_K: q = low2 + 4 * hbit - 4; the -4 goes to the mins (mn = 4 * sc, dmin = d).
template <class P>
struct DecQ3_K {
  using Block = BlockQ3_K;
  static constexpr bool kMinsUseD = true;
  static KScales<P> scales(const Block& b) {
    // 16 6-bit codes: low nibbles in bytes 0-7, top 2 bits in bytes 8-11 (blocks.h),
    // gathered four at a time with 32-bit masks.
    uint32_t a[3];
    std::memcpy(a, b.scales, 12);
    const uint32_t m4 = 0x0f0f0f0fu, m2 = 0x03030303u;
    const uint32_t s0 = (a[0] & m4) | ((a[2] & m2) << 4);
    const uint32_t s1 = (a[1] & m4) | (((a[2] >> 2) & m2) << 4);
    const uint32_t s2 = ((a[0] >> 4) & m4) | (((a[2] >> 4) & m2) << 4);
    const uint32_t s3 = ((a[1] >> 4) & m4) | (((a[2] >> 6) & m2) << 4);
    const typename P::V16 sc =
        P::v16_sub(P::v16_from_u64(s0 | static_cast<uint64_t>(s1) << 32, s2 | static_cast<uint64_t>(s3) << 32), 32);
    const float d = P::h2f(b.d);
    return KScales<P>{d, d, sc, P::template mn_from_i8<2>(sc)};
  }
  static void codes(const Block& b, int h, B32<P> out[4]) {
    crumbs<P>(P::load32(b.qs + 32 * h), out);
    const B32<P> hm = P::load32(b.hmask), four = P::set1(4);
    for (int s = 0; s < 4; ++s) {  // value 32*chunk + l has its high bit at bit chunk of hmask[l]
      const B32<P> hb = P::and_(P::test(hm, static_cast<uint8_t>(1u << (4 * h + s))), four);
      out[s] = P::or_(out[s], hb);
    }
  }
};

// Q4_K / Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins.
template <class P, class B, bool kFifthBit>
struct DecQ45_K {
  using Block = B;
  static constexpr bool kMinsUseD = false;
  static KScales<P> scales(const Block& b) {
    // Bytes 0-3: scales 0-3, bytes 4-7: mins 0-3 (low 6 bits); bytes 8-11: low
    // nibbles of scales/mins 4-7, whose top bits are the top 2 bits of bytes
    // 0-7. Unpacked with two byte shuffles into v = [8 scales | 8 mins]: about
    // a third of the instructions of the 32-bit scalar unpacking. The 16-byte
    // load reads 4 code bytes past the scales, which no lane keeps.
    alignas(16) static const uint8_t kLo[16] = {0, 1, 2, 3, 8, 9, 10, 11, 4, 5, 6, 7, 8, 9, 10, 11};
    alignas(16) static const uint8_t kHi[16] = {0x80, 0x80, 0x80, 0x80, 0, 1, 2, 3, 0x80, 0x80, 0x80, 0x80, 4, 5, 6, 7};
    alignas(16) static const uint8_t kLoKeep[16] = {63, 63, 63, 63, 15, 15, 15, 15, 63, 63, 63, 63, 0, 0, 0, 0};
    alignas(16) static const uint8_t kLoHigh[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 15, 15, 15, 15};
    alignas(16) static const uint8_t kTop2[16] = {0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30,
                                                  0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30, 0x30};
    using V16 = typename P::V16;
    const V16 raw = P::v16_load(b.scales);
    const V16 lo = P::v16_shuffle(raw, kLo);  // low 6 bits of 0-3, low / high nibbles of 4-7
    const V16 low = P::v16_or(P::template v16_shr_and<0>(lo, kLoKeep), P::template v16_shr_and<4>(lo, kLoHigh));
    const V16 top = P::template v16_shr_and<2>(P::v16_shuffle(raw, kHi), kTop2);  // (x >> 6) << 4
    const V16 v = P::v16_or(low, top);
    return KScales<P>{P::h2f(b.d), P::h2f(b.dmin), P::v16_zip_lo(v), P::mn_from_u8(P::v16_zip_hi(v))};
  }
  static void codes(const Block& b, int h, B32<P> out[4]) {
    for (int p = 0; p < 2; ++p) {
      const B32<P> qs = P::load32(b.qs + 64 * h + 32 * p);  // 64 values: low nibbles, then high
      out[2 * p] = P::template shr_and<0>(qs, 0xF);
      out[2 * p + 1] = P::template shr_and<4>(qs, 0xF);
      if constexpr (kFifthBit) {
        const B32<P> qh = P::load32(b.qh), sixteen = P::set1(0x10);
        const int c = 4 * h + 2 * p;  // chunk c: 5th bit at bit c of qh[l]
        out[2 * p] = P::or_(out[2 * p], P::and_(P::test(qh, static_cast<uint8_t>(1u << c)), sixteen));
        out[2 * p + 1] = P::or_(out[2 * p + 1], P::and_(P::test(qh, static_cast<uint8_t>(2u << c)), sixteen));
      }
    }
  }
};
template <class P>
using DecQ4_K = DecQ45_K<P, BlockQ4_K, false>;
template <class P>
using DecQ5_K = DecQ45_K<P, BlockQ5_K, true>;

// Q6_K: q = low4 | high2 << 4, minus 32 (folded into the mins: mn = 32 * sc, dmin = d).
template <class P>
struct DecQ6_K {
  using Block = BlockQ6_K;
  static constexpr bool kMinsUseD = true;
  static KScales<P> scales(const Block& b) {
    const typename P::V16 sc = P::v16_load(b.scales);
    const float d = P::h2f(b.d);
    return KScales<P>{d, d, sc, P::template mn_from_i8<5>(sc)};
  }
  static void codes(const Block& b, int h, B32<P> out[4]) {
    const B32<P> a0 = P::load32(b.ql + 64 * h), a1 = P::load32(b.ql + 64 * h + 32);
    const B32<P> hb = P::load32(b.qh + 32 * h);
    // Value 32s + l of the half: low nibble of a0 (s=0), a1 (s=1), high nibble of a0 (s=2), a1 (s=3);
    // its high 2 bits at bits 2s of hb, moved to bits 4-5.
    out[0] = P::or_(P::template shr_and<0>(a0, 0xF), P::template shl_and<4>(hb, 0x30));
    out[1] = P::or_(P::template shr_and<0>(a1, 0xF), P::template shl_and<2>(hb, 0x30));
    out[2] = P::or_(P::template shr_and<4>(a0, 0xF), P::template shr_and<0>(hb, 0x30));
    out[3] = P::or_(P::template shr_and<4>(a1, 0xF), P::template shr_and<2>(hb, 0x30));
  }
};

// ---- panel writers: whole rows in canonical form (for the matrix-matrix kernel) ----
// The prefetch reaches the rows the next tiles decode: the weights stream from
// DRAM once per matrix-matrix product too.

constexpr int kPanelPrefetch = 4096;

template <class P, class D>
void decode_legacy(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const typename D::Block* b = static_cast<const typename D::Block*>(src);
  for (int64_t i = 0; i < k / 32; ++i) {
    P::prefetch(reinterpret_cast<const uint8_t*>(b + i) + kPanelPrefetch);
    o->d[i] = D::d(b[i]);
    if constexpr (D::kFamily == Family::LegacyMin) o->m[i] = D::m(b[i]);
    P::store32(o->q + 32 * i, D::codes(b[i]));
  }
  *row = o->view();
}

template <class P, class D>
void decode_k(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const typename D::Block* b = static_cast<const typename D::Block*>(src);
  for (int64_t i = 0; i < k / QK_K; ++i) {
    for (size_t l = 0; l < sizeof(typename D::Block); l += 64)
      P::prefetch(reinterpret_cast<const uint8_t*>(b + i) + kPanelPrefetch + l);
    const KScales<P> s = D::scales(b[i]);
    o->d[i] = s.d;
    o->m[i] = s.dmin;
    P::v16_store(o->sc + 16 * i, s.sc);
    P::mn_store(o->mn + 16 * i, s.mn);
    for (int h = 0; h < 2; ++h) {
      B32<P> c[4];
      D::codes(b[i], h, c);
      for (int j = 0; j < 4; ++j) P::store32(o->q + QK_K * i + 128 * h + 32 * j, c[j]);
    }
  }
  *row = o->view();
}

template <class P>
void decode_f32(const void* src, int64_t, PanelStore*, PanelRow* row) {
  *row = PanelRow{};
  row->f = static_cast<const float*>(src);  // used in place: nothing to decode
}

// Loads of 16-bit float formats.
template <class P, bool kBf16>
struct Half {
  static typename P::F32 load(const uint16_t* p) { return kBf16 ? P::load_bf16(p) : P::load_f16(p); }
  static float one(uint16_t h) { return kBf16 ? jetlm::bf16_to_f32(h) : P::h2f(h); }
};

template <class P, bool kBf16>
void decode_half(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const uint16_t* h = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + P::kLanes <= k; i += P::kLanes) P::fstore(o->f + i, Half<P, kBf16>::load(h + i));
  for (; i < k; ++i) o->f[i] = Half<P, kBf16>::one(h[i]);
  *row = o->view();
}

}  // namespace
