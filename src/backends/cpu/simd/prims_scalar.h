// Portable SIMD primitives: plain C++ over 32-byte arrays, one float lane.
// They define what every primitive means; the AVX2 and NEON sets
// (prims_avx2.h, prims_neon.h) must give the same results (integers exactly,
// floats up to summation order), which tests/test_cpu_kernels.cpp checks by
// running every kernel of every table against this set.
//
// Only for the ISA translation units (anonymous namespace: no inline code is
// shared with translation units compiled for another instruction set).
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#include "util/fp16.h"

namespace {

struct ScalarPrims {
  static constexpr int kLanes = 1;
  // Rows per pass of the fused matrix-vector kernels: as many independent
  // accumulation chains as the registers of the ISA allow.
  static constexpr int kGemvRows = 2;
  struct B32 {
    uint8_t b[32];
  };
  using I32 = int32_t;
  using F32 = float;
  struct S16 {
    int32_t s0, s1;
  };
  using WS = B32;

  static B32 load32(const void* p) {
    B32 r;
    std::memcpy(r.b, p, 32);
    return r;
  }
  static void store32(void* p, B32 x) { std::memcpy(p, x.b, 32); }
  static B32 set1(uint8_t v) {
    B32 r;
    for (int i = 0; i < 32; ++i) r.b[i] = v;
    return r;
  }
  static B32 and_(B32 a, B32 b) {
    for (int i = 0; i < 32; ++i) a.b[i] &= b.b[i];
    return a;
  }
  static B32 or_(B32 a, B32 b) {
    for (int i = 0; i < 32; ++i) a.b[i] |= b.b[i];
    return a;
  }
  // (x >> S) & mask per byte. mask must exclude the top S bits (x86 shifts 16-bit lanes).
  template <int S>
  static B32 shr_and(B32 x, uint8_t mask) {
    for (int i = 0; i < 32; ++i) x.b[i] = static_cast<uint8_t>((x.b[i] >> S) & mask);
    return x;
  }
  // (x << S) & mask per byte. mask must exclude the low S bits.
  template <int S>
  static B32 shl_and(B32 x, uint8_t mask) {
    for (int i = 0; i < 32; ++i) x.b[i] = static_cast<uint8_t>((x.b[i] << S) & mask);
    return x;
  }
  // 0xFF where x & bit != 0 (bit: one set bit).
  static B32 test(B32 x, uint8_t bit) {
    for (int i = 0; i < 32; ++i) x.b[i] = (x.b[i] & bit) ? 0xFF : 0;
    return x;
  }
  // Low nibbles of 16 bytes, then their high nibbles (the 32-value block layout).
  static B32 nibbles16(const uint8_t* p) {
    B32 r;
    for (int i = 0; i < 16; ++i) {
      r.b[i] = p[i] & 0xF;
      r.b[i + 16] = p[i] >> 4;
    }
    return r;
  }
  // 0xFF in byte i where bit i of bits is set.
  static B32 bits32(uint32_t bits) {
    B32 r;
    for (int i = 0; i < 32; ++i) r.b[i] = ((bits >> i) & 1) ? 0xFF : 0;
    return r;
  }
  static B32 lookup16(B32 idx, const int8_t* table) {
    for (int i = 0; i < 32; ++i) idx.b[i] = static_cast<uint8_t>(table[idx.b[i] & 15]);
    return idx;
  }

  static I32 izero() { return 0; }
  static I32 iadd(I32 a, I32 b) { return a + b; }
  static I32 isub(I32 a, I32 b) { return a - b; }
  // acc + s0 * sum(w*a over bytes 0-15) + s1 * sum(bytes 16-31); w unsigned, a signed.
  static I32 acc_ug(I32 acc, B32 w, B32 a, S16 s) {
    int32_t lo = 0, hi = 0;
    for (int i = 0; i < 16; ++i) lo += w.b[i] * static_cast<int8_t>(a.b[i]);
    for (int i = 16; i < 32; ++i) hi += w.b[i] * static_cast<int8_t>(a.b[i]);
    return acc + s.s0 * lo + s.s1 * hi;
  }
  static WS prep_s(B32 w) { return w; }
  // acc + sum(w*a), both signed.
  static I32 acc_s(I32 acc, const WS& w, B32 a) {
    int32_t s = 0;
    for (int i = 0; i < 32; ++i) s += static_cast<int8_t>(w.b[i]) * static_cast<int8_t>(a.b[i]);
    return acc + s;
  }

  static F32 fzero() { return 0.f; }
  static F32 fset1(float v) { return v; }
  static F32 fload(const float* p) { return *p; }
  static void fstore(float* p, F32 v) { *p = v; }
  static F32 fadd(F32 a, F32 b) { return a + b; }
  static F32 fsub(F32 a, F32 b) { return a - b; }
  static F32 fmul(F32 a, F32 b) { return a * b; }
  static F32 fdiv(F32 a, F32 b) { return a / b; }
  static F32 fmadd(F32 a, F32 b, F32 c) { return a * b + c; }
  static F32 fmax(F32 a, F32 b) { return a > b ? a : b; }
  static F32 fmin(F32 a, F32 b) { return a < b ? a : b; }
  static F32 fabs_(F32 a) { return std::fabs(a); }
  static F32 cvt(I32 v) { return static_cast<float>(v); }
  static float hsum(F32 v) { return v; }
  static float hmax(F32 v) { return v; }
  static F32 round_(F32 v) { return std::nearbyint(v); }
  // 2^n for integer-valued n in [-126, 127].
  static F32 pow2n(F32 n) {
    const uint32_t bits = static_cast<uint32_t>(static_cast<int32_t>(n) + 127) << 23;
    float r;
    std::memcpy(&r, &bits, 4);
    return r;
  }
  static float h2f(uint16_t h) { return jetlm::fp16_to_f32(h); }
  static uint16_t f2h(float f) { return jetlm::f32_to_fp16(f); }
  static F32 h2f_bcast(const uint16_t* p) { return jetlm::fp16_to_f32(*p); }
  static float lane0(F32 v) { return v; }
  static F32 load_f16(const uint16_t* p) { return jetlm::fp16_to_f32(*p); }
  static F32 load_bf16(const uint16_t* p) { return jetlm::bf16_to_f32(*p); }
  static void store_f16(uint16_t* p, F32 v) { *p = jetlm::f32_to_fp16(v); }
  // q[i] = round(x[i] * id), 32 values; returns nothing, codes fit int8 by construction.
  static void round_q8(const float* x, float id, int8_t* q) {
    for (int i = 0; i < 32; ++i) q[i] = static_cast<int8_t>(std::nearbyint(x[i] * id));
  }
  // Sum of each 16 codes of 32.
  static void bsums32(const int8_t* q, int16_t* out) {
    for (int g = 0; g < 2; ++g) {
      int s = 0;
      for (int i = 0; i < 16; ++i) s += q[16 * g + i];
      out[g] = static_cast<int16_t>(s);
    }
  }

  // ---- 16-byte vectors and int16 x 16 (super-block scales and mins) ----
  struct V16 {
    int8_t b[16];
  };
  struct MN {
    int16_t v[16];
  };
  static V16 v16_load(const void* p) {
    V16 r;
    std::memcpy(r.b, p, 16);
    return r;
  }
  static void v16_store(void* p, V16 v) { std::memcpy(p, v.b, 16); }
  static V16 v16_from_u64(uint64_t lo, uint64_t hi) {
    V16 r;
    std::memcpy(r.b, &lo, 8);
    std::memcpy(r.b + 8, &hi, 8);
    return r;
  }
  static V16 v16_and(V16 v, uint8_t m) {
    for (auto& x : v.b) x = static_cast<int8_t>(x & m);
    return v;
  }
  static V16 v16_shr4(V16 v) {
    for (auto& x : v.b) x = static_cast<int8_t>((static_cast<uint8_t>(x) >> 4) & 0xF);
    return v;
  }
  static V16 v16_sub(V16 v, uint8_t s) {
    for (auto& x : v.b) x = static_cast<int8_t>(x - s);
    return v;
  }
  // [b0 b0 b1 b1 ... b7 b7]
  static V16 v16_zip_lo(V16 v) {
    V16 r;
    for (int i = 0; i < 8; ++i) r.b[2 * i] = r.b[2 * i + 1] = v.b[i];
    return r;
  }
  // [b8 b8 b9 b9 ... b15 b15]
  static V16 v16_zip_hi(V16 v) {
    V16 r;
    for (int i = 0; i < 8; ++i) r.b[2 * i] = r.b[2 * i + 1] = v.b[8 + i];
    return r;
  }
  // Byte i = v[idx[i]], or 0 where idx[i] has its top bit set (idx: 0..15 or 0x80).
  static V16 v16_shuffle(V16 v, const uint8_t* idx) {
    V16 r;
    for (int i = 0; i < 16; ++i) r.b[i] = (idx[i] & 0x80) ? 0 : v.b[idx[i] & 15];
    return r;
  }
  static V16 v16_or(V16 a, V16 b) {
    for (int i = 0; i < 16; ++i) a.b[i] = static_cast<int8_t>(a.b[i] | b.b[i]);
    return a;
  }
  // (v >> S) & mask[i] per byte; the mask must exclude the top S bits (x86 shifts 16-bit lanes).
  template <int S>
  static V16 v16_shr_and(V16 v, const uint8_t* mask) {
    for (int i = 0; i < 16; ++i) v.b[i] = static_cast<int8_t>((static_cast<uint8_t>(v.b[i]) >> S) & mask[i]);
    return v;
  }
  // Super-block scales prepared for scales_v (here: as they are).
  using SC = V16;
  static SC sc_prepare(V16 v) { return v; }
  static S16 scales_v(SC v, int c) { return S16{v.b[2 * c], v.b[2 * c + 1]}; }
  static MN mn_from_u8(V16 v) {
    MN r;
    for (int i = 0; i < 16; ++i) r.v[i] = static_cast<uint8_t>(v.b[i]);
    return r;
  }
  template <int S>
  static MN mn_from_i8(V16 v) {
    MN r;
    for (int i = 0; i < 16; ++i) r.v[i] = static_cast<int16_t>(v.b[i] * (1 << S));
    return r;
  }
  static MN mn_load(const int16_t* p) {
    MN r;
    std::memcpy(r.v, p, 32);
    return r;
  }
  static void mn_store(int16_t* p, MN m) { std::memcpy(p, m.v, 32); }
  static I32 dot_mins(MN m, const int16_t* bs) {
    int32_t s = 0;
    for (int i = 0; i < 16; ++i) s += m.v[i] * bs[i];
    return s;
  }
  static void prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }
};

}  // namespace
