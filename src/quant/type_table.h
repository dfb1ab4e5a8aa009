// Tensor-type tables: the text format the recipe tests keep llama.cpp's
// choices in (tests/data/quant/README.md describes it and its provenance).
//
//   # comment
//   model arch=llama n_layer=2 n_head=4 n_head_kv=2 n_expert=0
//   ftype Q4_K_M
//   blk.0.attn_v.weight 256x128 f32 q6_K
#pragma once
#include <string>
#include <vector>

#include "quant/file_type.h"
#include "quant/recipe.h"

namespace jetlm {

struct TypeTable {
  RecipeModel model;
  FileType ftype = FileType::F32;
  std::vector<RecipeTensor> tensors;   // name, input type and shape, in the table's order
  std::vector<TensorType> expected;    // index-aligned with tensors
};

// Throws Error naming the file and line on a malformed table.
TypeTable read_type_table(const std::string& path);

}  // namespace jetlm
