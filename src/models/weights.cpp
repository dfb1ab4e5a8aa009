#include "models/weights.h"

#include <string>

#include "gguf/gguf.h"
#include "util/error.h"

namespace jetlm {

namespace {

enum class Need { Required, Optional };

class Binder {
 public:
  explicit Binder(const GgufFile& f) : f_(f) {}

  // A matrix [ne0, ne1] of any readable type.
  const GgufTensor* matrix(const std::string& name, int64_t ne0, int64_t ne1, Need need = Need::Required) {
    const GgufTensor* t = lookup(name, need);
    if (t && (t->n_dims != 2 || t->ne[0] != ne0 || t->ne[1] != ne1))
      fail(f_.path(), ": tensor ", name, ": expected shape [", ne0, ", ", ne1, "], found ", t->shape_str());
    return t;
  }
  // A float32 vector [n] (norm weights, biases).
  const GgufTensor* vector(const std::string& name, int64_t n, Need need = Need::Required) {
    const GgufTensor* t = lookup(name, need);
    if (!t) return t;
    if (t->n_elements() != n || t->ne[0] != n)
      fail(f_.path(), ": tensor ", name, ": expected shape [", n, "], found ", t->shape_str());
    if (t->type != TensorType::F32)
      fail(f_.path(), ": tensor ", name, ": expected type f32, found ", type_name(t->type));
    return t;
  }

 private:
  const GgufTensor* lookup(const std::string& name, Need need) {
    const GgufTensor* t = f_.find_tensor(name);
    if (!t && need == Need::Required) fail(f_.path(), ": missing tensor ", name);
    return t;
  }
  const GgufFile& f_;
};

}  // namespace

ModelTensors bind_tensors(const GgufFile& f, HParams& hp) {
  Binder b(f);
  ModelTensors m;
  const GgufTensor* embd = f.find_tensor("token_embd.weight");
  if (!embd) fail(f.path(), ": missing tensor token_embd.weight");
  if (embd->ne[1] <= 0 || embd->ne[1] > (1 << 24)) fail(f.path(), ": tensor token_embd.weight: vocabulary size ", embd->ne[1], " out of range");
  hp.n_vocab = static_cast<int>(embd->ne[1]);
  const int64_t E = hp.n_embd, V = hp.n_vocab, F = hp.n_ff;
  const int64_t Q = int64_t(hp.n_head) * hp.head_dim_k, K = hp.n_embd_k_gqa(), Vv = hp.n_embd_v_gqa();
  const int64_t O = int64_t(hp.n_head) * hp.head_dim_v;
  const bool gemma = hp.arch == Arch::Gemma3;
  const bool qwen = hp.arch == Arch::Qwen2;

  m.tok_embd = b.matrix("token_embd.weight", E, V);
  m.output_norm = b.vector("output_norm.weight", E);
  m.output = b.matrix("output.weight", E, V, Need::Optional);
  if (!m.output) m.output = m.tok_embd;  // tied embeddings
  m.rope_freqs = b.vector("rope_freqs.weight", hp.n_rot / 2, Need::Optional);

  m.layers.resize(static_cast<size_t>(hp.n_layer));
  for (int il = 0; il < hp.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    LayerTensors& L = m.layers[static_cast<size_t>(il)];
    L.attn_norm = b.vector(p + "attn_norm.weight", E);
    L.wq = b.matrix(p + "attn_q.weight", E, Q);
    L.wk = b.matrix(p + "attn_k.weight", E, K);
    L.wv = b.matrix(p + "attn_v.weight", E, Vv);
    L.wo = b.matrix(p + "attn_output.weight", O, E);
    // Qwen2 always has q/k/v biases; llama files may carry them too (optional there).
    const Need bias = qwen ? Need::Required : Need::Optional;
    L.bq = b.vector(p + "attn_q.bias", Q, bias);
    L.bk = b.vector(p + "attn_k.bias", K, bias);
    L.bv = b.vector(p + "attn_v.bias", Vv, bias);
    L.ffn_norm = b.vector(p + "ffn_norm.weight", E);
    L.w_gate = b.matrix(p + "ffn_gate.weight", E, F);
    L.w_up = b.matrix(p + "ffn_up.weight", E, F);
    L.w_down = b.matrix(p + "ffn_down.weight", F, E);
    if (gemma) {
      L.q_norm = b.vector(p + "attn_q_norm.weight", hp.head_dim_k);
      L.k_norm = b.vector(p + "attn_k_norm.weight", hp.head_dim_k);
      L.post_attn_norm = b.vector(p + "post_attention_norm.weight", E);
      L.post_ffn_norm = b.vector(p + "post_ffw_norm.weight", E);
    }
  }
  return m;
}

}  // namespace jetlm
