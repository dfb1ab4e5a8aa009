// `jetlm quantize`'s engine: re-types a GGUF model tensor by tensor with
// llama.cpp's mixing rules (recipe.h), streaming from the mapped input to an
// atomically written output. Memory stays at a few MB of conversion buffers:
// input pages are released as soon as their rows are decoded (a tensor
// copied unchanged stays mapped until it is written).
//
// The output mirrors llama-quantize's: all metadata copied,
// general.quantization_version and general.file_type re-set (and so moved to
// the end), tensors in llama.cpp's order, data aligned as the input says.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "quant/file_type.h"
#include "quant/imatrix.h"
#include "quant/tensor_stream.h"

namespace jetlm {

struct QuantizeOptions {
  FileType ftype = FileType::Q8_0;
  int n_threads = 0;              // 0: every hardware thread
  bool pure = false;              // no mixing rules: every quantizable tensor gets the default type
  bool keep_output = false;       // output.weight keeps its type
  bool allow_requantize = false;  // accept already-quantized tensors (errors compound)
  const ImportanceMatrix* imatrix = nullptr;
  bool stats = false;             // per-tensor error against the input weights
  bool progress = false;          // progress bar on stderr
  bool dry_run = false;           // choose the types and sizes, write nothing
};

struct QuantizeResult {
  std::vector<TensorReport> tensors;  // output order
  size_t bytes_in = 0;                // tensor data of the input
  size_t bytes_out = 0;               // tensor data of the output
  int n_fallback = 0;                 // tensors whose rows forced a fallback type
};

// Throws Error (naming the file and tensor) on an unreadable input, a tensor
// that would need requantizing without allow_requantize, or a write failure;
// the output file then does not exist.
QuantizeResult quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& opt);

// The general.quantization_version jetlm writes (ggml's GGML_QNT_VERSION).
constexpr uint32_t kQuantizationVersion = 2;

}  // namespace jetlm
