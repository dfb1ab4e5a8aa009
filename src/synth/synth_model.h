// `jetlm synth`'s engine: a whole synthetic model (metadata, vocabulary,
// random weights) streamed tensor by tensor through the same type rules and
// codecs as `jetlm quantize`, so a synthetic Q4_K_M file is laid out exactly
// as llama-quantize would lay out the real model. Memory stays at one chunk
// of rows; the output is the same bytes for the same options.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "gguf/gguf_writer.h"
#include "quant/file_type.h"
#include "quant/tensor_stream.h"
#include "synth/presets.h"
#include "synth/synth_weights.h"

namespace jetlm {

struct SynthOptions {
  SynthConfig config;
  FileType ftype = FileType::Q4_K_M;
  uint64_t seed = 0;
  std::string vocab_from;  // GGUF file whose tokenizer.* keys are copied (empty: generated)
  int n_threads = 0;       // 0: every hardware thread
  bool progress = false;
};

// Everything about the file except the weights.
struct SynthPlan {
  SynthConfig config;                // n_vocab raised if --vocab-from has more tokens
  GgufMetadata meta;
  std::vector<SynthTensor> tensors;  // in file order
  std::vector<TensorType> types;     // index-aligned with tensors
  int n_fallback = 0;
};

SynthPlan plan_synth_model(const SynthOptions& opt);

// Writes the model atomically; returns per-tensor sizes.
std::vector<TensorReport> write_synth_model(const std::string& out_path, const SynthOptions& opt);

}  // namespace jetlm
