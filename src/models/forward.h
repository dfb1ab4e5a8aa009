// The forward pass of each model family, written against Context and Backend
// so that one body of model code runs on every backend and offload split.
#pragma once
#include "backends/backend.h"

namespace jetlm {

class Context;

// llama (TinyLlama, Llama 3.x, stories) and qwen2 (same graph plus q/k/v biases, NEOX RoPE).
void forward_llama(Context& c, const Batch& b);
// gemma3: scaled embeddings, per-head q/k norms, sandwich norms, GELU FFN, sliding-window layers.
void forward_gemma3(Context& c, const Batch& b);

}  // namespace jetlm
