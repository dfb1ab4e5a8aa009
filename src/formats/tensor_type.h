// Tensor element formats, numbered exactly as ggml numbers them in GGUF files.
// Each format stores a row of n values as n / block_size blocks of type_size
// bytes; the block layouts are in blocks.h, the reference codecs in
// dequant.cpp / quant.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace jetlm {

enum class TensorType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ4_NL = 20,
  BF16 = 30,
};

// Dequantize one row (or any whole number of blocks): n values from src to dst.
using DequantRowFn = void (*)(const void* src, float* dst, int64_t n);
// Quantize n values (a whole number of blocks). imatrix: optional per-column
// importance weights (n values) for the error-minimising searches; may be null.
using QuantRowFn = void (*)(const float* src, void* dst, int64_t n, const float* imatrix);

struct TypeTraits {
  TensorType type;
  const char* name;      // "q4_K" style, as ggml names it
  int64_t block_size;    // values per block
  size_t type_size;      // bytes per block
  DequantRowFn dequant;  // reference dequantizer; null if the format cannot be read
  QuantRowFn quant;      // reference quantizer; null if jetlm cannot write it
};

// Traits of a format, or null when the id is not a format jetlm knows.
const TypeTraits* find_type_traits(uint32_t id);
// Traits of a format jetlm knows (throws Error otherwise).
const TypeTraits& type_traits(TensorType t);
const char* type_name(TensorType t);
// Parse a name such as "q4_0", "Q4_K", "f16", "bf16", "iq4_nl" (case-insensitive).
bool parse_type_name(const std::string& s, TensorType* out);

// Bytes of one row of n values; throws Error when n is not a whole number of blocks.
size_t row_bytes(TensorType t, int64_t n);

}  // namespace jetlm
