// The reference row codecs behind TypeTraits::dequant / TypeTraits::quant.
// Internal to src/formats (tensor_type.cpp builds the traits table from
// these); other code reaches them through type_traits(t).
//
// All take n values = a whole number of blocks (checked by the caller through
// row_bytes). Quantizers: imatrix, when non-null, holds one importance weight
// per value of the row and switches to ggml's imatrix-weighted search; row
// statistics are taken over the n values, so pass one row at a time then.
#pragma once
#include <cstdint>

namespace jetlm {

void dequant_row_f32(const void* src, float* dst, int64_t n);
void dequant_row_f16(const void* src, float* dst, int64_t n);
void dequant_row_bf16(const void* src, float* dst, int64_t n);
void dequant_row_q4_0(const void* src, float* dst, int64_t n);
void dequant_row_q4_1(const void* src, float* dst, int64_t n);
void dequant_row_q5_0(const void* src, float* dst, int64_t n);
void dequant_row_q5_1(const void* src, float* dst, int64_t n);
void dequant_row_q8_0(const void* src, float* dst, int64_t n);
void dequant_row_q8_1(const void* src, float* dst, int64_t n);
void dequant_row_q2_k(const void* src, float* dst, int64_t n);
void dequant_row_q3_k(const void* src, float* dst, int64_t n);
void dequant_row_q4_k(const void* src, float* dst, int64_t n);
void dequant_row_q5_k(const void* src, float* dst, int64_t n);
void dequant_row_q6_k(const void* src, float* dst, int64_t n);
void dequant_row_q8_k(const void* src, float* dst, int64_t n);
void dequant_row_iq4_nl(const void* src, float* dst, int64_t n);

// quant.cpp: plain floats and the 32-value formats.
void quant_row_f32(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_f16(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_bf16(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_q4_0(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_q4_1(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_q5_0(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_q5_1(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_q8_0(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_q8_1(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_iq4_nl(const float* src, void* dst, int64_t n, const float* imatrix);

// quant_kquants.cpp: the 256-value K formats.
void quant_row_q2_k(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_q3_k(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_q4_k(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_q5_k(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_q6_k(const float* src, void* dst, int64_t n, const float* imatrix);
void quant_row_q8_k(const float* src, void* dst, int64_t n, const float* imatrix);

}  // namespace jetlm
