// The table of formats jetlm knows: names, block geometry and reference codecs.
#include "formats/tensor_type.h"

#include <cctype>

#include "formats/blocks.h"
#include "formats/codecs.h"
#include "util/error.h"

namespace jetlm {
namespace {

// Indexed by nothing in particular: lookups scan it (16 entries).
const TypeTraits kTraits[] = {
    {TensorType::F32, "f32", 1, 4, dequant_row_f32, quant_row_f32},
    {TensorType::F16, "f16", 1, 2, dequant_row_f16, quant_row_f16},
    {TensorType::BF16, "bf16", 1, 2, dequant_row_bf16, quant_row_bf16},
    {TensorType::Q4_0, "q4_0", QK4_0, sizeof(BlockQ4_0), dequant_row_q4_0, quant_row_q4_0},
    {TensorType::Q4_1, "q4_1", QK4_1, sizeof(BlockQ4_1), dequant_row_q4_1, quant_row_q4_1},
    {TensorType::Q5_0, "q5_0", QK5_0, sizeof(BlockQ5_0), dequant_row_q5_0, quant_row_q5_0},
    {TensorType::Q5_1, "q5_1", QK5_1, sizeof(BlockQ5_1), dequant_row_q5_1, quant_row_q5_1},
    {TensorType::Q8_0, "q8_0", QK8_0, sizeof(BlockQ8_0), dequant_row_q8_0, quant_row_q8_0},
    {TensorType::Q8_1, "q8_1", QK8_1, sizeof(BlockQ8_1), dequant_row_q8_1, quant_row_q8_1},
    {TensorType::Q2_K, "q2_K", QK_K, sizeof(BlockQ2_K), dequant_row_q2_k, quant_row_q2_k},
    {TensorType::Q3_K, "q3_K", QK_K, sizeof(BlockQ3_K), dequant_row_q3_k, quant_row_q3_k},
    {TensorType::Q4_K, "q4_K", QK_K, sizeof(BlockQ4_K), dequant_row_q4_k, quant_row_q4_k},
    {TensorType::Q5_K, "q5_K", QK_K, sizeof(BlockQ5_K), dequant_row_q5_k, quant_row_q5_k},
    {TensorType::Q6_K, "q6_K", QK_K, sizeof(BlockQ6_K), dequant_row_q6_k, quant_row_q6_k},
    {TensorType::Q8_K, "q8_K", QK_K, sizeof(BlockQ8_K), dequant_row_q8_k, quant_row_q8_k},
    {TensorType::IQ4_NL, "iq4_nl", QK4_NL, sizeof(BlockIQ4_NL), dequant_row_iq4_nl, quant_row_iq4_nl},
};

bool equal_ignore_case(const char* a, const std::string& b) {
  size_t i = 0;
  for (; a[i] != '\0'; ++i) {
    if (i >= b.size()) return false;
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  }
  return i == b.size();
}

}  // namespace

const TypeTraits* find_type_traits(uint32_t id) {
  for (const TypeTraits& t : kTraits) {
    if (static_cast<uint32_t>(t.type) == id) return &t;
  }
  return nullptr;
}

const TypeTraits& type_traits(TensorType t) {
  const TypeTraits* traits = find_type_traits(static_cast<uint32_t>(t));
  if (!traits) fail("unknown tensor type id ", static_cast<uint32_t>(t));
  return *traits;
}

const char* type_name(TensorType t) { return type_traits(t).name; }

bool parse_type_name(const std::string& s, TensorType* out) {
  for (const TypeTraits& t : kTraits) {
    if (equal_ignore_case(t.name, s)) {
      if (out) *out = t.type;
      return true;
    }
  }
  return false;
}

size_t row_bytes(TensorType t, int64_t n) {
  const TypeTraits& traits = type_traits(t);
  if (n < 0 || n % traits.block_size != 0) {
    fail("a row of ", n, " values is not a whole number of ", traits.name, " blocks (", traits.block_size,
         " values each)");
  }
  return static_cast<size_t>(n / traits.block_size) * traits.type_size;
}

}  // namespace jetlm
