// The fast CPU kernels, written once over the SIMD primitives P and
// instantiated by each ISA translation unit (kernels_<isa>.cpp), which
// includes this file inside its target region and fills its table with
// fill_table<P>(). The kernels themselves: decode_impl.h (block decoders),
// gemm_impl.h (prompt processing), gemv_impl.h (token generation),
// ops_impl.h (quantization, element-wise ops, attention).
#pragma once
#include <cstdint>

#include "backends/cpu/simd/decode_impl.h"
#include "backends/cpu/simd/gemm_impl.h"
#include "backends/cpu/simd/gemv_impl.h"
#include "backends/cpu/simd/kernels.h"
#include "backends/cpu/simd/ops_impl.h"

namespace {

template <class P>
void fill_table(CpuKernels* k, const char* name) {
  k->name = name;
  auto at = [](auto* table, TensorType t) -> auto& { return table[static_cast<uint32_t>(t)]; };
  at(k->decode, TensorType::F32) = decode_f32<P>;
  at(k->decode, TensorType::F16) = decode_half<P, false>;
  at(k->decode, TensorType::BF16) = decode_half<P, true>;
  at(k->gemv, TensorType::F32) = gemv_float<P, LoadF32<P>>;
  at(k->gemv, TensorType::F16) = gemv_float<P, LoadHalf<P, false>>;
  at(k->gemv, TensorType::BF16) = gemv_float<P, LoadHalf<P, true>>;
  auto legacy = [&](TensorType t, auto dec) {
    using D = decltype(dec);
    at(k->decode, t) = decode_legacy<P, D>;
    at(k->gemv, t) = gemv_legacy<P, D>;
  };
  legacy(TensorType::Q4_0, DecQ4_0<P>{});
  legacy(TensorType::Q4_1, DecQ4_1<P>{});
  legacy(TensorType::Q5_0, DecQ5_0<P>{});
  legacy(TensorType::Q5_1, DecQ5_1<P>{});
  legacy(TensorType::Q8_0, DecQ8_0<P>{});
  legacy(TensorType::IQ4_NL, DecIQ4_NL<P>{});
  auto kquant = [&](TensorType t, auto dec) {
    using D = decltype(dec);
    at(k->decode, t) = decode_k<P, D>;
    at(k->gemv, t) = gemv_k<P, D>;
  };
  kquant(TensorType::Q2_K, DecQ2_K<P>{});
  kquant(TensorType::Q3_K, DecQ3_K<P>{});
  kquant(TensorType::Q4_K, DecQ4_K<P>{});
  kquant(TensorType::Q5_K, DecQ5_K<P>{});
  kquant(TensorType::Q6_K, DecQ6_K<P>{});
  k->gemm[static_cast<int>(Family::Float)] = gemm<P, FloatTile>;
  k->gemm[static_cast<int>(Family::LegacySigned)] = gemm<P, LegacyTile<true>>;
  k->gemm[static_cast<int>(Family::LegacyMin)] = gemm<P, LegacyTile<false>>;
  k->gemm[static_cast<int>(Family::KQuant)] = gemm<P, KQuantTile>;
  k->quantize_row = quantize_row<P>;
  k->silu_mul = glu_mul<P, vsilu<P>>;
  k->gelu_mul = glu_mul<P, vgelu<P>>;
  k->rms_norm_row = rms_norm_row<P>;
  k->add = add<P>;
  k->scale = scale<P>;
  k->to_f16 = to_f16<P>;
  k->attend = attend<P>;
}

}  // namespace
