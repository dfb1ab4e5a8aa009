#include "models/context_memory.h"

#include "gguf/gguf.h"

namespace jetlm {

int64_t tensor_bytes(const GgufTensor* t) { return t ? static_cast<int64_t>(t->nbytes) : 0; }

int64_t layer_weight_bytes(const LayerTensors& L) {
  int64_t b = 0;
  for (LayerTensorField f : kLayerTensorFields) b += tensor_bytes(L.*f);
  return b;
}

int64_t layer_kv_bytes(const HParams& hp, int il, const ContextShape& s) {
  const int64_t esz = s.kv_type == TensorType::F32 ? 4 : 2;
  return s.n_seq * hp.kv_layer_rows(il, s.n_ctx, s.n_batch) * (int64_t(hp.n_embd_k_gqa()) + hp.n_embd_v_gqa()) * esz;
}

int64_t scratch_bytes(const HParams& hp, int64_t n_batch) {
  // x, h, out [B][E]; q [B][n_head*hdk]; k, v [B][kv]; att [B][n_head*hdv]; gate, up [B][F] (float32).
  const int64_t E = hp.n_embd, F = hp.n_ff;
  return n_batch * (3 * E + int64_t(hp.n_head) * hp.head_dim_k + hp.n_embd_k_gqa() + hp.n_embd_v_gqa() +
                    int64_t(hp.n_head) * hp.head_dim_v + 2 * F) * 4;
}

int64_t logits_bytes(const HParams& hp, int64_t n_seq) {
  return (n_seq > kContextLogitRows ? n_seq : kContextLogitRows) * hp.n_vocab * 4;
}

int64_t output_weight_bytes(const ModelTensors& t, bool with_token_table) {
  return tensor_bytes(t.output_norm) + tensor_bytes(t.output) +
         (with_token_table && t.tok_embd != t.output ? tensor_bytes(t.tok_embd) : 0);
}

ContextMemory context_memory(const HParams& hp, const ModelTensors& t, const ContextShape& s) {
  ContextMemory m;
  for (size_t il = 0; il < t.layers.size(); ++il) {
    m.weights += layer_weight_bytes(t.layers[il]);
    m.kv += layer_kv_bytes(hp, static_cast<int>(il), s);
  }
  m.weights += output_weight_bytes(t, true) + tensor_bytes(t.rope_freqs);
  m.scratch = scratch_bytes(hp, s.n_batch) + logits_bytes(hp, s.n_seq);
  return m;
}

}  // namespace jetlm
