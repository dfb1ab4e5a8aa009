// The tensors of a model, bound by GGUF name with their expected shape.
// A missing tensor or a wrong shape/type is an Error that prints expected and actual.
#pragma once
#include <vector>

#include "models/hparams.h"

namespace jetlm {

struct GgufTensor;

// Shapes below are GGUF order [ne0, ne1]: ne0 is the input (row) length.
struct LayerTensors {
  const GgufTensor* attn_norm = nullptr;       // [n_embd] f32
  const GgufTensor* wq = nullptr;              // [n_embd, n_head*head_dim_k]
  const GgufTensor* wk = nullptr;              // [n_embd, n_head_kv*head_dim_k]
  const GgufTensor* wv = nullptr;              // [n_embd, n_head_kv*head_dim_v]
  const GgufTensor* wo = nullptr;              // [n_head*head_dim_v, n_embd]
  const GgufTensor* bq = nullptr;              // [n_head*head_dim_k] f32 (qwen2)
  const GgufTensor* bk = nullptr;              // [n_head_kv*head_dim_k] f32 (qwen2)
  const GgufTensor* bv = nullptr;              // [n_head_kv*head_dim_v] f32 (qwen2)
  const GgufTensor* q_norm = nullptr;          // [head_dim_k] f32 (gemma3)
  const GgufTensor* k_norm = nullptr;          // [head_dim_k] f32 (gemma3)
  const GgufTensor* post_attn_norm = nullptr;  // [n_embd] f32 (gemma3)
  const GgufTensor* ffn_norm = nullptr;        // [n_embd] f32
  const GgufTensor* w_gate = nullptr;          // [n_embd, n_ff]
  const GgufTensor* w_up = nullptr;            // [n_embd, n_ff]
  const GgufTensor* w_down = nullptr;          // [n_ff, n_embd]
  const GgufTensor* post_ffn_norm = nullptr;   // [n_embd] f32 (gemma3)
};

// Every tensor of a layer, once: whoever walks a layer's tensors (loading,
// sizing, placing) iterates this list instead of naming the fields again.
using LayerTensorField = const GgufTensor* LayerTensors::*;
inline constexpr LayerTensorField kLayerTensorFields[] = {
    &LayerTensors::attn_norm, &LayerTensors::wq,     &LayerTensors::wk,       &LayerTensors::wv,
    &LayerTensors::wo,        &LayerTensors::bq,     &LayerTensors::bk,       &LayerTensors::bv,
    &LayerTensors::q_norm,    &LayerTensors::k_norm, &LayerTensors::post_attn_norm,
    &LayerTensors::ffn_norm,  &LayerTensors::w_gate, &LayerTensors::w_up,     &LayerTensors::w_down,
    &LayerTensors::post_ffn_norm};
static_assert(sizeof(kLayerTensorFields) / sizeof(kLayerTensorFields[0]) * sizeof(const GgufTensor*) ==
                  sizeof(LayerTensors),
              "kLayerTensorFields lists every field of LayerTensors");

struct ModelTensors {
  const GgufTensor* tok_embd = nullptr;     // [n_embd, n_vocab]
  const GgufTensor* output_norm = nullptr;  // [n_embd] f32
  const GgufTensor* output = nullptr;       // [n_embd, n_vocab]; token_embd when tied
  const GgufTensor* rope_freqs = nullptr;   // [n_rot/2] f32, optional (Llama 3 frequency factors)
  std::vector<LayerTensors> layers;
};

// Binds every tensor the architecture needs; sets hp.n_vocab from token_embd.
ModelTensors bind_tensors(const GgufFile& f, HParams& hp);

}  // namespace jetlm
