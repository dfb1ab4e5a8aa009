// AArch64 NEON primitives (same meaning as prims_scalar.h), for ARMv8.0
// cores such as the Jetson Nano's Cortex-A57 (kDot = false) and for ARMv8.2+
// cores with the dot-product extension (kDot = true: SDOT sums four byte
// products per int32 lane in one instruction).
//
// Without SDOT the byte products go through SMULL/SMLAL into int16 lanes:
// two products per lane stay below 32767 because weight codes are at most 63
// unsigned or 128 in magnitude signed (128*127*2 = 32512), and activations are
// quantized to [-127, 127]. fp16 arithmetic is not used (the A57 has none);
// fp16 <-> fp32 conversions (FCVTL/FCVTN) are baseline AArch64.
//
// Only for kernels_neon.cpp / kernels_dotprod.cpp.
#pragma once
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

namespace {

template <bool kDot>
struct NeonPrims {
  static constexpr int kLanes = 4;
  static constexpr int kGemvRows = 2;  // rows per pass of the fused matrix-vector kernels
  using B32 = uint8x16x2_t;
  using I32 = int32x4_t;
  using F32 = float32x4_t;
  struct S16 {
    int32_t s0, s1;
  };
  using WS = B32;

  static int8x16_t s8(uint8x16_t v) { return vreinterpretq_s8_u8(v); }

  static B32 load32(const void* p) {
    const uint8_t* b = static_cast<const uint8_t*>(p);
    return B32{{vld1q_u8(b), vld1q_u8(b + 16)}};
  }
  static void store32(void* p, B32 x) {
    uint8_t* b = static_cast<uint8_t*>(p);
    vst1q_u8(b, x.val[0]);
    vst1q_u8(b + 16, x.val[1]);
  }
  static B32 set1(uint8_t v) { return B32{{vdupq_n_u8(v), vdupq_n_u8(v)}}; }
  static B32 and_(B32 a, B32 b) { return B32{{vandq_u8(a.val[0], b.val[0]), vandq_u8(a.val[1], b.val[1])}}; }
  static B32 or_(B32 a, B32 b) { return B32{{vorrq_u8(a.val[0], b.val[0]), vorrq_u8(a.val[1], b.val[1])}}; }
  template <int S>
  static B32 shr_and(B32 x, uint8_t mask) {
    const uint8x16_t m = vdupq_n_u8(mask);
    if constexpr (S == 0) {
      return B32{{vandq_u8(x.val[0], m), vandq_u8(x.val[1], m)}};
    } else {
      return B32{{vandq_u8(vshrq_n_u8(x.val[0], S), m), vandq_u8(vshrq_n_u8(x.val[1], S), m)}};
    }
  }
  template <int S>
  static B32 shl_and(B32 x, uint8_t mask) {
    const uint8x16_t m = vdupq_n_u8(mask);
    return B32{{vandq_u8(vshlq_n_u8(x.val[0], S), m), vandq_u8(vshlq_n_u8(x.val[1], S), m)}};
  }
  static B32 test(B32 x, uint8_t bit) {
    const uint8x16_t m = vdupq_n_u8(bit);
    return B32{{vtstq_u8(x.val[0], m), vtstq_u8(x.val[1], m)}};
  }
  static B32 nibbles16(const uint8_t* p) {
    const uint8x16_t v = vld1q_u8(p);
    return B32{{vandq_u8(v, vdupq_n_u8(0xF)), vshrq_n_u8(v, 4)}};
  }
  static B32 bits32(uint32_t bits) {
    static const uint8_t kIdx[32] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,
                                     2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3};
    static const uint8_t kBit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    const uint8x16_t b = vreinterpretq_u8_u32(vdupq_n_u32(bits));
    const uint8x16_t m = vld1q_u8(kBit);
    return B32{{vtstq_u8(vqtbl1q_u8(b, vld1q_u8(kIdx)), m), vtstq_u8(vqtbl1q_u8(b, vld1q_u8(kIdx + 16)), m)}};
  }
  static B32 lookup16(B32 idx, const int8_t* table) {
    const uint8x16_t t = vreinterpretq_u8_s8(vld1q_s8(table));
    return B32{{vqtbl1q_u8(t, idx.val[0]), vqtbl1q_u8(t, idx.val[1])}};
  }

  static I32 izero() { return vdupq_n_s32(0); }
  static I32 iadd(I32 a, I32 b) { return vaddq_s32(a, b); }
  static I32 isub(I32 a, I32 b) { return vsubq_s32(a, b); }
  // Sum of the 16 products of one group, spread over 4 int32 lanes.
  static int32x4_t group16(uint8x16_t w, uint8x16_t a) {
    if constexpr (kDot) {
      return vdotq_s32(vdupq_n_s32(0), s8(w), s8(a));
    } else {
      int16x8_t p = vmull_s8(vget_low_s8(s8(w)), vget_low_s8(s8(a)));
      p = vmlal_s8(p, vget_high_s8(s8(w)), vget_high_s8(s8(a)));
      return vpaddlq_s16(p);
    }
  }
  static I32 acc_ug(I32 acc, B32 w, B32 a, S16 s) {
    acc = vmlaq_n_s32(acc, group16(w.val[0], a.val[0]), s.s0);
    return vmlaq_n_s32(acc, group16(w.val[1], a.val[1]), s.s1);
  }
  static WS prep_s(B32 w) { return w; }
  static I32 acc_s(I32 acc, const WS& w, B32 a) {
    if constexpr (kDot) {
      acc = vdotq_s32(acc, s8(w.val[0]), s8(a.val[0]));
      return vdotq_s32(acc, s8(w.val[1]), s8(a.val[1]));
    } else {
      int16x8_t p0 = vmull_s8(vget_low_s8(s8(w.val[0])), vget_low_s8(s8(a.val[0])));
      p0 = vmlal_s8(p0, vget_high_s8(s8(w.val[0])), vget_high_s8(s8(a.val[0])));
      int16x8_t p1 = vmull_s8(vget_low_s8(s8(w.val[1])), vget_low_s8(s8(a.val[1])));
      p1 = vmlal_s8(p1, vget_high_s8(s8(w.val[1])), vget_high_s8(s8(a.val[1])));
      return vpadalq_s16(vpadalq_s16(acc, p0), p1);
    }
  }

  static F32 fzero() { return vdupq_n_f32(0.f); }
  static F32 fset1(float v) { return vdupq_n_f32(v); }
  static F32 fload(const float* p) { return vld1q_f32(p); }
  static void fstore(float* p, F32 v) { vst1q_f32(p, v); }
  static F32 fadd(F32 a, F32 b) { return vaddq_f32(a, b); }
  static F32 fsub(F32 a, F32 b) { return vsubq_f32(a, b); }
  static F32 fmul(F32 a, F32 b) { return vmulq_f32(a, b); }
  static F32 fdiv(F32 a, F32 b) { return vdivq_f32(a, b); }
  static F32 fmadd(F32 a, F32 b, F32 c) { return vfmaq_f32(c, a, b); }
  static F32 fmax(F32 a, F32 b) { return vmaxq_f32(a, b); }
  static F32 fmin(F32 a, F32 b) { return vminq_f32(a, b); }
  static F32 fabs_(F32 a) { return vabsq_f32(a); }
  static F32 cvt(I32 v) { return vcvtq_f32_s32(v); }
  static float hsum(F32 v) { return vaddvq_f32(v); }
  static float hmax(F32 v) { return vmaxvq_f32(v); }
  static F32 round_(F32 v) { return vrndnq_f32(v); }
  static F32 pow2n(F32 n) {
    const int32x4_t e = vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
  // __fp16 scalars convert with FCVT (no fp16 arithmetic involved).
  static float h2f(uint16_t h) {
    __fp16 v;
    std::memcpy(&v, &h, 2);
    return static_cast<float>(v);
  }
  static uint16_t f2h(float f) {
    const __fp16 v = static_cast<__fp16>(f);
    uint16_t h;
    std::memcpy(&h, &v, 2);
    return h;
  }
  static F32 h2f_bcast(const uint16_t* p) { return vdupq_n_f32(h2f(*p)); }
  static float lane0(F32 v) { return vgetq_lane_f32(v, 0); }
  static F32 load_f16(const uint16_t* p) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p))); }
  static F32 load_bf16(const uint16_t* p) { return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(p), 16)); }
  static void store_f16(uint16_t* p, F32 v) { vst1_u16(p, vreinterpret_u16_f16(vcvt_f16_f32(v))); }
  // FCVTNS rounds to nearest even, like nearbyint.
  static void round_q8(const float* x, float id, int8_t* q) {
    for (int i = 0; i < 32; i += 8) {
      const int32x4_t a = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + i), id));
      const int32x4_t b = vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + i + 4), id));
      vst1_s8(q + i, vqmovn_s16(vcombine_s16(vqmovn_s32(a), vqmovn_s32(b))));
    }
  }
  static void bsums32(const int8_t* q, int16_t* out) {
    out[0] = static_cast<int16_t>(vaddlvq_s8(vld1q_s8(q)));
    out[1] = static_cast<int16_t>(vaddlvq_s8(vld1q_s8(q + 16)));
  }

  // ---- 16-byte vectors and int16 x 16 (super-block scales and mins) ----
  using V16 = int8x16_t;
  using MN = int16x8x2_t;
  static V16 v16_load(const void* p) { return vld1q_s8(static_cast<const int8_t*>(p)); }
  static void v16_store(void* p, V16 v) { vst1q_s8(static_cast<int8_t*>(p), v); }
  static V16 v16_from_u64(uint64_t lo, uint64_t hi) { return vcombine_s8(vcreate_s8(lo), vcreate_s8(hi)); }
  static V16 v16_and(V16 v, uint8_t m) { return vandq_s8(v, vdupq_n_s8(static_cast<int8_t>(m))); }
  static V16 v16_shr4(V16 v) { return vreinterpretq_s8_u8(vshrq_n_u8(vreinterpretq_u8_s8(v), 4)); }
  static V16 v16_sub(V16 v, uint8_t s) { return vsubq_s8(v, vdupq_n_s8(static_cast<int8_t>(s))); }
  static V16 v16_zip_lo(V16 v) { return vzip1q_s8(v, v); }
  static V16 v16_zip_hi(V16 v) { return vzip2q_s8(v, v); }
  // tbl gives 0 for any index >= 16 (the 0x80 entries).
  static V16 v16_shuffle(V16 v, const uint8_t* idx) { return vqtbl1q_s8(v, vld1q_u8(idx)); }
  static V16 v16_or(V16 a, V16 b) { return vorrq_s8(a, b); }
  template <int S>
  static V16 v16_shr_and(V16 v, const uint8_t* mask) {
    const uint8x16_t u = vreinterpretq_u8_s8(v);
    if constexpr (S == 0) {
      return vreinterpretq_s8_u8(vandq_u8(u, vld1q_u8(mask)));
    } else {
      return vreinterpretq_s8_u8(vandq_u8(vshrq_n_u8(u, S), vld1q_u8(mask)));
    }
  }
  using SC = V16;
  static SC sc_prepare(V16 v) { return v; }
  static S16 scales_v(SC v, int c) {
    int8_t t[16];
    vst1q_s8(t, v);
    return S16{t[2 * c], t[2 * c + 1]};
  }
  static MN mn_from_u8(V16 v) {
    const uint8x16_t u = vreinterpretq_u8_s8(v);
    return MN{{vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(u))), vreinterpretq_s16_u16(vmovl_high_u8(u))}};
  }
  template <int S>
  static MN mn_from_i8(V16 v) {
    return MN{{vshlq_n_s16(vmovl_s8(vget_low_s8(v)), S), vshlq_n_s16(vmovl_high_s8(v), S)}};
  }
  static MN mn_load(const int16_t* p) { return MN{{vld1q_s16(p), vld1q_s16(p + 8)}}; }
  static void mn_store(int16_t* p, MN m) {
    vst1q_s16(p, m.val[0]);
    vst1q_s16(p + 8, m.val[1]);
  }
  static I32 dot_mins(MN m, const int16_t* bs) {
    const int16x8_t b0 = vld1q_s16(bs), b1 = vld1q_s16(bs + 8);
    int32x4_t s = vmull_s16(vget_low_s16(m.val[0]), vget_low_s16(b0));
    s = vmlal_high_s16(s, m.val[0], b0);
    s = vmlal_s16(s, vget_low_s16(m.val[1]), vget_low_s16(b1));
    return vmlal_high_s16(s, m.val[1], b1);
  }
  static void prefetch(const void* p) { __builtin_prefetch(p, 0, 3); }
};

}  // namespace
