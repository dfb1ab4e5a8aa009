// Which type each tensor gets in a quantized file: llama.cpp's mixing rules
// (llama_tensor_get_type in src/llama-quant.cpp, 2026 revision) for the file
// types jetlm writes, so a jetlm Q4_K_M file has llama.cpp's Q4_K_M layout.
//
// In short: 1-D tensors, norms and a few special tensors keep their type;
// the output matrix (or token_embd when the output is tied to it) gets Q6_K
// (Q8_0 when its rows are not a multiple of the default type's block);
// attn_v and ffn_down get more bits in some layers for the _M/_L mixes; when
// a row length does not divide into 256-value K blocks the type falls back
// (Q2_K/Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, then F16).
//
// Some rules count tensors in the order llama.cpp processes them (by layer,
// then by name), so the types are chosen for a whole list at once.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "formats/tensor_type.h"
#include "quant/file_type.h"

namespace jetlm {

class GgufFile;

// What the rules need to know about the model (llama.cpp reads the same keys).
struct RecipeModel {
  std::string arch;   // general.architecture
  int n_layer = 0;    // <arch>.block_count
  int n_head = 0;     // <arch>.attention.head_count (layer 0)
  int n_head_kv = 0;  // <arch>.attention.head_count_kv (layer 0; defaults to n_head)
  int n_expert = 0;   // <arch>.expert_count

  int n_gqa() const { return n_head_kv > 0 ? n_head / n_head_kv : 0; }
  // llama.cpp's LLM_TYPE_70B, which gets a larger attn_v.
  bool is_70b() const;
};

// Reads RecipeModel from a GGUF file's metadata (throws Error on a missing block_count).
RecipeModel recipe_model_of(const GgufFile& f);

struct RecipeTensor {
  std::string name;
  TensorType type = TensorType::F32;  // type in the input
  int64_t ne[4] = {1, 1, 1, 1};
};

struct RecipeOptions {
  FileType ftype = FileType::Q8_0;
  bool pure = false;             // every quantizable tensor gets the default type (still with fallbacks)
  bool quantize_output = true;   // false: output.weight keeps its type (llama-quantize --leave-output-tensor)
  bool has_imatrix = false;      // a few rules differ when an importance matrix is given
};

struct RecipeResult {
  std::vector<TensorType> types;  // index-aligned with the input list
  int n_fallback = 0;             // tensors whose rows did not fit the chosen type
};

// Output type of every tensor. Throws Error when a tensor's rows fit no type
// llama.cpp would fall back to.
RecipeResult choose_tensor_types(const RecipeModel& model, const std::vector<RecipeTensor>& tensors,
                                 const RecipeOptions& opt);

// Whether llama.cpp quantizes a tensor at all (2-D or more, named *weight,
// not a norm, not one of the small special tensors).
bool tensor_is_quantizable(const std::string& name, const int64_t ne[4], bool quantize_output);

// The order llama-quantize processes and writes tensors in: tensors outside
// blk.N first, then by layer number, then by name. Returns a permutation.
std::vector<size_t> llama_tensor_order(const std::vector<std::string>& names);

}  // namespace jetlm
