#include "models/gpu_fit.h"

#include <algorithm>

#include "models/context.h"
#include "models/context_memory.h"

namespace jetlm {

namespace {

// CUDA context, cuBLAS handle and workspace, graph and launch bookkeeping:
// measured about 300-500 MiB on desktop GPUs, less on a Jetson; kept generous.
const int64_t kReserveBytes = int64_t(512) << 20;
// The prompt path dequantizes weight rows to float16 in chunks of 16M values.
const int64_t kDequantChunkBytes = int64_t(32) << 20;
static_assert(Context::kLogitRows == kContextLogitRows, "one logits row count");

}  // namespace

int64_t GpuFit::bytes_for(int n, int n_layer) const {
  n = std::max(0, std::min(n, n_layer + 1));
  if (n == 0) return 0;
  int64_t layers = 0;
  const int on_gpu = std::min(n, n_layer);
  for (int i = 0; i < on_gpu; ++i) {
    const size_t il = static_cast<size_t>(n_layer - 1 - i);  // offload goes from the last layer down
    layers += il < layer_each.size() ? layer_each[il] : layer_bytes;
  }
  return fixed_bytes + layers + (n > n_layer ? output_bytes : 0);
}

GpuFit estimate_gpu_fit(const HParams& hp, const ModelTensors& t, const GpuFitInputs& in) {
  GpuFit f;
  ContextShape shape;
  shape.n_ctx = in.n_ctx;
  shape.n_seq = in.n_seq;
  shape.n_batch = in.n_batch;
  shape.kv_type = in.kv_type;
  f.layer_each.resize(t.layers.size());
  for (size_t il = 0; il < t.layers.size(); ++il) {
    f.layer_each[il] = (in.weights_in_place ? 0 : layer_weight_bytes(t.layers[il])) +
                       layer_kv_bytes(hp, static_cast<int>(il), shape);
    f.layer_bytes = std::max(f.layer_bytes, f.layer_each[il]);
  }
  // With the output layer comes the token table (the same tensor when tied; see Context::embed_batch).
  f.output_bytes = in.weights_in_place ? 0 : output_weight_bytes(t, true);

  const int64_t B = in.n_batch;
  const int64_t prompt_f16 = B * std::max(hp.n_embd, hp.n_ff) * 2;  // float16 copy of a prompt batch for the GEMMs
  f.fixed_bytes = scratch_bytes(hp, B) + logits_bytes(hp, in.n_seq) + prompt_f16 + kDequantChunkBytes + kReserveBytes;

  const int64_t free_b = static_cast<int64_t>(in.free_bytes);
  f.max_layers = 0;
  for (int n = hp.n_layer + 1; n >= 1; --n) {
    if (f.bytes_for(n, hp.n_layer) <= free_b) {
      f.max_layers = n;
      break;
    }
  }
  return f;
}

}  // namespace jetlm
