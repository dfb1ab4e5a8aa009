// Importance matrices: per-column weights for the error-minimising quantizer
// searches, one vector per weight tensor, as llama.cpp's llama-imatrix
// computes them (mean squared input activation of every column, over a
// calibration text). A quantizer given one spends its precision on the
// columns that matter most to the layer's output.
//
// The driver and the quantizers already take them (QuantizeOptions::imatrix,
// TypeTraits::quant's imatrix argument); reading llama-imatrix's files is not
// written yet, so load_imatrix() throws.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

namespace jetlm {

struct ImportanceMatrix {
  // Tensor name -> ne[0] weights (ne[0] * n_expert for 3-D expert tensors,
  // expert after expert).
  std::unordered_map<std::string, std::vector<float>> weights;

  // Weights of a tensor, or null when the matrix has none for it.
  const std::vector<float>* find(const std::string& tensor) const {
    const auto it = weights.find(tensor);
    return it == weights.end() ? nullptr : &it->second;
  }
};

// Throws Error: the llama-imatrix file formats are not supported yet.
ImportanceMatrix load_imatrix(const std::string& path);

}  // namespace jetlm
