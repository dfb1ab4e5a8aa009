// Hyperparameters of a model, read from GGUF metadata ("<arch>.<key>").
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace jetlm {

class GgufFile;

enum class Arch { Llama, Qwen2, Gemma3 };

struct HParams {
  Arch arch = Arch::Llama;
  std::string arch_name;  // general.architecture
  int n_vocab = 0;        // rows of token_embd
  int n_ctx_train = 0;    // context_length
  int n_embd = 0;         // embedding_length
  int n_layer = 0;        // block_count
  int n_ff = 0;           // feed_forward_length
  int n_head = 0;         // attention.head_count
  int n_head_kv = 0;      // attention.head_count_kv (GQA)
  int head_dim_k = 0;     // attention.key_length, default n_embd / n_head
  int head_dim_v = 0;     // attention.value_length, default head_dim_k
  int n_rot = 0;          // rope.dimension_count, default head_dim_k
  float norm_eps = 1e-5f;  // attention.layer_norm_rms_epsilon
  float rope_base = 10000.f;      // rope.freq_base
  float rope_base_swa = 10000.f;  // rope.freq_base_swa (Gemma 3 local layers)
  float rope_freq_scale = 1.f;    // 1 / rope.scaling.factor when rope.scaling.type is linear
  bool rope_neox = false;         // NEOX-style rotation (Qwen2, Gemma 3)
  int sliding_window = 0;         // attention.sliding_window (0: none)
  std::vector<bool> layer_swa;    // per layer: uses the sliding window
  float attn_scale = 1.f;         // multiplies q.k
  float embd_scale = 1.f;         // multiplies the token embeddings (Gemma: sqrt(n_embd))

  int n_embd_k_gqa() const { return n_head_kv * head_dim_k; }
  int n_embd_v_gqa() const { return n_head_kv * head_dim_v; }
  // KV positions layer il keeps per sequence for a context of n_ctx and batches of
  // n_batch tokens: the whole context, or on a sliding-window layer a ring of
  // window + n_batch - 1 positions (a batch's earliest token still sees its whole
  // window after the batch's own keys are written). The one source of the KV size.
  int64_t kv_layer_rows(int il, int64_t n_ctx, int64_t n_batch) const {
    const bool local = sliding_window > 0 && il >= 0 && static_cast<size_t>(il) < layer_swa.size() &&
                       layer_swa[static_cast<size_t>(il)];
    if (!local) return n_ctx;
    const int64_t ring = int64_t(sliding_window) + n_batch - 1;
    return ring < n_ctx ? ring : n_ctx;
  }
};

// Reads and validates; an unknown architecture or missing key throws Error
// naming the key (and, for the architecture, what is supported).
HParams read_hparams(const GgufFile& f);

const char* supported_architectures();

}  // namespace jetlm
