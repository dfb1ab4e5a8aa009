// Row decoders: one per file format, written once over the SIMD primitives P
// (prims_*.h) and instantiated by every ISA translation unit. Each turns a
// row of blocks into the canonical form of its family (layout.h).
//
// Included by kernels_impl.h only, inside an ISA's target region.
#pragma once
#include <cstdint>
#include <cstring>

#include "backends/cpu/simd/layout.h"
#include "formats/blocks.h"
#include "formats/tensor_type.h"

namespace {

using namespace jetlm;
using namespace jetlm::cpu;

template <class P>
using B32 = typename P::B32;

inline uint32_t load_u32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // little-endian hosts only (x86-64, AArch64)
  return v;
}

// ---- float family ----------------------------------------------------------

template <class P>
void decode_f32(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  *row = PanelRow{};
  row->f = static_cast<const float*>(src);  // used in place: nothing to decode
}

template <class P, bool kBf16>
void decode_half(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const uint16_t* h = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + P::kLanes <= k; i += P::kLanes) P::fstore(o->f + i, kBf16 ? P::load_bf16(h + i) : P::load_f16(h + i));
  for (; i < k; ++i) o->f[i] = kBf16 ? jetlm::bf16_to_f32(h[i]) : P::h2f(h[i]);
  *row = o->view();
}

// ---- 32-value blocks -------------------------------------------------------

template <class P>
void decode_q4_0(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const BlockQ4_0* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < k / 32; ++i) {
    o->d[i] = P::h2f(b[i].d);
    P::store32(o->q + 32 * i, P::sub8(P::nibbles16(b[i].qs), 8));
  }
  *row = o->view();
}

template <class P>
void decode_q4_1(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const BlockQ4_1* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < k / 32; ++i) {
    o->d[i] = P::h2f(b[i].d);
    o->m[i] = P::h2f(b[i].m);
    P::store32(o->q + 32 * i, P::nibbles16(b[i].qs));
  }
  *row = o->view();
}

// Q5_0 / Q5_1: the 5th bit of value j is bit j of qh.
template <class P, class Block>
B32<P> five_bit_codes(const Block& b) {
  return P::or_(P::nibbles16(b.qs), P::and_(P::bits32(load_u32(b.qh)), P::set1(0x10)));
}

template <class P>
void decode_q5_0(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const BlockQ5_0* b = static_cast<const BlockQ5_0*>(src);
  for (int64_t i = 0; i < k / 32; ++i) {
    o->d[i] = P::h2f(b[i].d);
    P::store32(o->q + 32 * i, P::sub8(five_bit_codes<P>(b[i]), 16));
  }
  *row = o->view();
}

template <class P>
void decode_q5_1(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const BlockQ5_1* b = static_cast<const BlockQ5_1*>(src);
  for (int64_t i = 0; i < k / 32; ++i) {
    o->d[i] = P::h2f(b[i].d);
    o->m[i] = P::h2f(b[i].m);
    P::store32(o->q + 32 * i, five_bit_codes<P>(b[i]));
  }
  *row = o->view();
}

template <class P>
void decode_q8_0(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < k / 32; ++i) {
    o->d[i] = P::h2f(b[i].d);
    P::store32(o->q + 32 * i, P::load32(b[i].qs));
  }
  *row = o->view();
}

template <class P>
void decode_iq4_nl(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const BlockIQ4_NL* b = static_cast<const BlockIQ4_NL*>(src);
  for (int64_t i = 0; i < k / 32; ++i) {
    o->d[i] = P::h2f(b[i].d);
    P::store32(o->q + 32 * i, P::lookup16(P::nibbles16(b[i].qs), kIq4nlValues));
  }
  *row = o->view();
}

// ---- 256-value super-blocks ------------------------------------------------
// Canonical: w = d * sc[g] * q - dmin * mn[g], q unsigned, g = group of 16.

// The four 2-bit fields of 32 bytes (Q2_K/Q3_K layout: field s of byte l is value 32s + l).
template <class P>
void crumbs(B32<P> qs, B32<P> out[4]) {
  out[0] = P::template shr_and<0>(qs, 3);
  out[1] = P::template shr_and<2>(qs, 3);
  out[2] = P::template shr_and<4>(qs, 3);
  out[3] = P::template shr_and<6>(qs, 3);
}

template <class P>
void decode_q2_k(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const BlockQ2_K* b = static_cast<const BlockQ2_K*>(src);
  for (int64_t i = 0; i < k / QK_K; ++i) {
    const BlockQ2_K& x = b[i];
    o->d[i] = P::h2f(x.d);
    o->m[i] = P::h2f(x.dmin);
    for (int g = 0; g < 16; ++g) {
      o->sc[16 * i + g] = static_cast<int8_t>(x.scales[g] & 0xF);
      o->mn[16 * i + g] = static_cast<int16_t>(x.scales[g] >> 4);
    }
    int8_t* q = o->q + QK_K * i;
    for (int h = 0; h < 2; ++h) {
      B32<P> c[4];
      crumbs<P>(P::load32(x.qs + 32 * h), c);
      for (int s = 0; s < 4; ++s) P::store32(q + 128 * h + 32 * s, c[s]);
    }
  }
  *row = o->view();
}

// Q3_K: q = low2 + 4 * hbit - 4; the -4 goes to the mins (mn = 4 * sc, dmin = d).
template <class P>
void decode_q3_k(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const BlockQ3_K* b = static_cast<const BlockQ3_K*>(src);
  for (int64_t i = 0; i < k / QK_K; ++i) {
    const BlockQ3_K& x = b[i];
    const float d = P::h2f(x.d);
    o->d[i] = d;
    o->m[i] = d;
    for (int g = 0; g < 16; ++g) {
      const int s = unpack_scale_q3_k(g, x.scales) - 32;
      o->sc[16 * i + g] = static_cast<int8_t>(s);
      o->mn[16 * i + g] = static_cast<int16_t>(4 * s);
    }
    const B32<P> hm = P::load32(x.hmask);
    const B32<P> four = P::set1(4);
    int8_t* q = o->q + QK_K * i;
    for (int h = 0; h < 2; ++h) {
      B32<P> c[4];
      crumbs<P>(P::load32(x.qs + 32 * h), c);
      for (int s = 0; s < 4; ++s) {
        const int chunk = 4 * h + s;  // value 32*chunk + l has its high bit at bit chunk of hmask[l]
        const B32<P> hb = P::and_(P::test(hm, static_cast<uint8_t>(1u << chunk)), four);
        P::store32(q + 32 * chunk, P::or_(c[s], hb));
      }
    }
  }
  *row = o->view();
}

// Q4_K / Q5_K: 8 sub-blocks of 32 with 6-bit scales and mins.
template <class P, class Block, bool kFifthBit>
void decode_q45_k(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const Block* b = static_cast<const Block*>(src);
  for (int64_t i = 0; i < k / QK_K; ++i) {
    const Block& x = b[i];
    o->d[i] = P::h2f(x.d);
    o->m[i] = P::h2f(x.dmin);
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, mn;
      unpack_scale_min_k4(j, x.scales, &sc, &mn);
      o->sc[16 * i + 2 * j] = o->sc[16 * i + 2 * j + 1] = static_cast<int8_t>(sc);
      o->mn[16 * i + 2 * j] = o->mn[16 * i + 2 * j + 1] = static_cast<int16_t>(mn);
    }
    int8_t* q = o->q + QK_K * i;
    for (int p = 0; p < 4; ++p) {
      const B32<P> qs = P::load32(x.qs + 32 * p);
      B32<P> lo = P::template shr_and<0>(qs, 0xF);
      B32<P> hi = P::template shr_and<4>(qs, 0xF);
      if constexpr (kFifthBit) {
        const B32<P> qh = P::load32(x.qh);
        const B32<P> sixteen = P::set1(0x10);
        lo = P::or_(lo, P::and_(P::test(qh, static_cast<uint8_t>(1u << (2 * p))), sixteen));
        hi = P::or_(hi, P::and_(P::test(qh, static_cast<uint8_t>(1u << (2 * p + 1))), sixteen));
      }
      P::store32(q + 64 * p, lo);
      P::store32(q + 64 * p + 32, hi);
    }
  }
  *row = o->view();
}

// Q6_K: q = low4 | high2 << 4, minus 32 (folded into the mins: mn = 32 * sc, dmin = d).
template <class P>
void decode_q6_k(const void* src, int64_t k, PanelStore* o, PanelRow* row) {
  const BlockQ6_K* b = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < k / QK_K; ++i) {
    const BlockQ6_K& x = b[i];
    const float d = P::h2f(x.d);
    o->d[i] = d;
    o->m[i] = d;
    for (int g = 0; g < 16; ++g) {
      o->sc[16 * i + g] = x.scales[g];
      o->mn[16 * i + g] = static_cast<int16_t>(32 * x.scales[g]);
    }
    int8_t* q = o->q + QK_K * i;
    for (int h = 0; h < 2; ++h) {
      const B32<P> a0 = P::load32(x.ql + 64 * h);
      const B32<P> a1 = P::load32(x.ql + 64 * h + 32);
      const B32<P> hb = P::load32(x.qh + 32 * h);
      // Value 32s + l of the half: low nibble of a0 (s=0), a1 (s=1), high nibble of a0 (s=2), a1 (s=3);
      // high 2 bits at bits 2s of hb, moved to bits 4-5.
      P::store32(q + 128 * h, P::or_(P::template shr_and<0>(a0, 0xF), P::template shl_and<4>(hb, 0x30)));
      P::store32(q + 128 * h + 32, P::or_(P::template shr_and<0>(a1, 0xF), P::template shl_and<2>(hb, 0x30)));
      P::store32(q + 128 * h + 64, P::or_(P::template shr_and<4>(a0, 0xF), P::template shr_and<0>(hb, 0x30)));
      P::store32(q + 128 * h + 96, P::or_(P::template shr_and<4>(a1, 0xF), P::template shr_and<2>(hb, 0x30)));
    }
  }
  *row = o->view();
}

template <class P>
void fill_decoders(DecodeRowFn* t) {
  auto at = [&](TensorType type) -> DecodeRowFn& { return t[static_cast<uint32_t>(type)]; };
  at(TensorType::F32) = decode_f32<P>;
  at(TensorType::F16) = decode_half<P, false>;
  at(TensorType::BF16) = decode_half<P, true>;
  at(TensorType::Q4_0) = decode_q4_0<P>;
  at(TensorType::Q4_1) = decode_q4_1<P>;
  at(TensorType::Q5_0) = decode_q5_0<P>;
  at(TensorType::Q5_1) = decode_q5_1<P>;
  at(TensorType::Q8_0) = decode_q8_0<P>;
  at(TensorType::IQ4_NL) = decode_iq4_nl<P>;
  at(TensorType::Q2_K) = decode_q2_k<P>;
  at(TensorType::Q3_K) = decode_q3_k<P>;
  at(TensorType::Q4_K) = decode_q45_k<P, BlockQ4_K, false>;
  at(TensorType::Q5_K) = decode_q45_k<P, BlockQ5_K, true>;
  at(TensorType::Q6_K) = decode_q6_k<P>;
}

}  // namespace
