// Whole-file quantization types ("Q4_K_M"), numbered as llama.cpp's
// llama_ftype so general.file_type means the same in jetlm and llama.cpp.
// A file type names a mix: a default tensor type plus the per-tensor rules
// of recipe.h (the _S/_M/_L suffixes differ only in those rules).
#pragma once
#include <cstdint>
#include <string>

#include "formats/tensor_type.h"

namespace jetlm {

enum class FileType : uint32_t {
  F32 = 0,  // LLAMA_FTYPE_ALL_F32
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q8_0 = 7,
  Q5_0 = 8,
  Q5_1 = 9,
  Q2_K = 10,
  Q3_K_S = 11,
  Q3_K_M = 12,
  Q3_K_L = 13,
  Q4_K_S = 14,
  Q4_K_M = 15,
  Q5_K_S = 16,
  Q5_K_M = 17,
  Q6_K = 18,
  IQ4_NL = 25,
  BF16 = 32,
};

// Case-insensitive: "q4_k_m", "Q8_0", "f16", "bf16", "iq4_nl".
bool parse_file_type(const std::string& s, FileType* out);
// The canonical spelling ("Q4_K_M"); "?" for a number jetlm does not write.
const char* file_type_name(FileType t);
// The tensor type most tensors of the mix get.
TensorType default_tensor_type(FileType t);
// "F32, F16, BF16, Q8_0, ..." for usage messages.
std::string file_type_list();

}  // namespace jetlm
