#include "models/gpu_fit.h"

#include <algorithm>

#include "models/context.h"

namespace jetlm {

namespace {

// CUDA context, cuBLAS handle and workspace, graph and launch bookkeeping:
// measured about 300-500 MiB on desktop GPUs, less on a Jetson; kept generous.
const int64_t kReserveBytes = int64_t(512) << 20;
// The prompt path dequantizes weight rows to float16 in chunks of 16M values.
const int64_t kDequantChunkBytes = int64_t(32) << 20;

int64_t tensor_bytes(const GgufTensor* t) { return t ? static_cast<int64_t>(t->nbytes) : 0; }

int64_t layer_weight_bytes(const LayerTensors& L) {
  const GgufTensor* all[] = {L.attn_norm, L.wq,       L.wk,     L.wv,           L.wo,     L.bq,
                             L.bk,        L.bv,       L.q_norm, L.k_norm,       L.post_attn_norm,
                             L.ffn_norm,  L.w_gate,   L.w_up,   L.w_down,       L.post_ffn_norm};
  int64_t b = 0;
  for (const GgufTensor* t : all) b += tensor_bytes(t);
  return b;
}

}  // namespace

int64_t GpuFit::bytes_for(int n, int n_layer) const {
  n = std::max(0, std::min(n, n_layer + 1));
  if (n == 0) return 0;
  return fixed_bytes + std::min(n, n_layer) * layer_bytes + (n > n_layer ? output_bytes : 0);
}

GpuFit estimate_gpu_fit(const HParams& hp, const ModelTensors& t, const GpuFitInputs& in) {
  GpuFit f;
  const int64_t esz = in.kv_type == TensorType::F32 ? 4 : 2;
  // The largest layer's KV cache (a sliding-window layer keeps a ring), for every slot.
  int64_t kv_rows = 0;
  for (int il = 0; il < hp.n_layer; ++il) kv_rows = std::max(kv_rows, hp.kv_layer_rows(il, in.n_ctx, in.n_batch));
  const int64_t kv = int64_t(in.n_seq) * kv_rows * (hp.n_embd_k_gqa() + hp.n_embd_v_gqa()) * esz;
  int64_t w = 0;
  for (const LayerTensors& L : t.layers) w = std::max(w, layer_weight_bytes(L));
  f.layer_bytes = (in.weights_in_place ? 0 : w) + kv;
  // With the output layer comes the token table (the same tensor when tied; see Context::embed_batch).
  f.output_bytes = in.weights_in_place ? 0
                                       : tensor_bytes(t.output_norm) + tensor_bytes(t.output) +
                                             (t.tok_embd != t.output ? tensor_bytes(t.tok_embd) : 0);

  const int64_t B = in.n_batch, E = hp.n_embd, F = hp.n_ff;
  const int64_t scratch = B * (3 * E + int64_t(hp.n_head) * hp.head_dim_k + hp.n_embd_k_gqa() + hp.n_embd_v_gqa() +
                               int64_t(hp.n_head) * hp.head_dim_v + 2 * F);
  const int64_t logits = int64_t(std::max(Context::kLogitRows, in.n_seq)) * hp.n_vocab;
  const int64_t prompt_f16 = B * std::max(E, F) * 2;  // float16 copy of a prompt batch for the GEMMs
  f.fixed_bytes = (scratch + logits) * 4 + prompt_f16 + kDequantChunkBytes + kReserveBytes;

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
