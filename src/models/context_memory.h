// The memory a context needs, in one place: weights of a layer (from the
// layer tensor table), its KV cache (HParams::kv_layer_rows), the scratch of
// one backend and the logits. The offload fitter (gpu_fit.h), jetlm info and
// whoever sizes allocations use these, so an estimate cannot drift from what
// is allocated.
#pragma once
#include <cstdint>

#include "formats/tensor_type.h"
#include "models/hparams.h"
#include "models/weights.h"

namespace jetlm {

struct ContextShape {
  int64_t n_ctx = 0;
  int64_t n_seq = 1;  // sequence slots of the KV cache
  int64_t n_batch = 512;
  TensorType kv_type = TensorType::F16;
};

// Rows of logits the output matmul computes at once (Context::kLogitRows).
constexpr int64_t kContextLogitRows = 32;

int64_t tensor_bytes(const GgufTensor* t);
// File bytes of every tensor of a layer.
int64_t layer_weight_bytes(const LayerTensors& L);
// K and V of layer il for every sequence slot.
int64_t layer_kv_bytes(const HParams& hp, int il, const ContextShape& s);
// Activation buffers of one backend (Scratch in context.h) without the logits.
int64_t scratch_bytes(const HParams& hp, int64_t n_batch);
// The output backend's logits buffer(s): a block of rows, or a row per sequence slot.
int64_t logits_bytes(const HParams& hp, int64_t n_seq = 1);
// Output norm + output matrix, and the token table when it is another tensor.
int64_t output_weight_bytes(const ModelTensors& t, bool with_token_table);

// A whole context on one backend.
struct ContextMemory {
  int64_t weights = 0;
  int64_t kv = 0;
  int64_t scratch = 0;  // activations + logits
  int64_t total() const { return weights + kv + scratch; }
};
ContextMemory context_memory(const HParams& hp, const ModelTensors& t, const ContextShape& s);

}  // namespace jetlm
