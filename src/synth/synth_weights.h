// The tensors of a synthetic model: names and shapes as llama.cpp's converter
// writes them for each architecture, and deterministic random values scaled
// so a forward pass behaves like a trained model's in magnitude (finite
// activations, logits with a spread) without meaning anything.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "quant/tensor_stream.h"
#include "synth/presets.h"

namespace jetlm {

// How a tensor's values are drawn.
enum class SynthInit {
  Matrix,     // normal(0, gain / sqrt(row length)): a unit-variance input gives unit-variance outputs
  Norm,       // 1 + normal(0, 0.05): RMSNorm weights near one (Gemma's files store 1 + w as well)
  Bias,       // normal(0, 0.05)
  RopeFreqs,  // Llama 3 RoPE frequency factors, computed exactly (not random)
};

struct SynthTensor {
  std::string name;
  int64_t ne[4] = {1, 1, 1, 1};
  SynthInit init = SynthInit::Matrix;
  float gain = 1.f;  // Matrix: multiplies the 1/sqrt(fan-in) scale
};

// Every tensor of the model, in llama-quantize's order (the order written).
std::vector<SynthTensor> synth_tensors(const SynthConfig& c);

// Float rows of a tensor: the same values for the same (seed, name) whatever
// the rows asked for.
RowSource synth_rows(const SynthConfig& c, const SynthTensor& t, uint64_t seed);

// Llama 3 RoPE factors (head_dim / 2 values) as llama.cpp's converter computes
// them from rope_scaling (factor, low/high_freq_factor, original context), in
// float32 like the converter's torch arithmetic.
std::vector<float> llama3_rope_factors(const SynthConfig& c);

}  // namespace jetlm
