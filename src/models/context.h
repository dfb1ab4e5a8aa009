// An inference context: backends, per-layer weights as each backend sees
// them, the KV cache and scratch buffers (all allocated once, here; nothing is
// allocated inside a forward pass). decode() runs a batch of tokens.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "backends/backend.h"
#include "models/model.h"

namespace jetlm {

struct ContextOptions {
  int n_ctx = 0;          // 0: the model's training context, at most 4096
  int n_batch = 512;      // tokens per forward call (longer inputs are split)
  TensorType kv_type = TensorType::F16;  // F32 forced by reference
  bool reference = false;  // scalar float32 reference path
  int n_threads = 0;       // CPU threads, 0: physical cores
  int n_gpu_layers = 0;    // layers on the GPU (CUDA builds), from the last layer down; < 0: all that fit
                           // when there is a GPU (none otherwise)
  bool unified = false;    // GPU reads the mmap in place (integrated GPUs; forced for testing)
};

// Weights of one layer as one backend sees them (unset Weight = absent tensor).
struct LayerWeights {
  Weight attn_norm, wq, wk, wv, wo, bq, bk, bv, q_norm, k_norm, post_attn_norm;
  Weight ffn_norm, w_gate, w_up, w_down, post_ffn_norm;
  Weight rope_freqs;  // shared by all layers; on each layer's backend
};

// Activation buffers on one backend, sized for n_batch tokens.
struct Scratch {
  float* x = nullptr;       // [n_batch][n_embd] residual stream
  float* h = nullptr;       // [n_batch][n_embd] normed input of a block
  float* q = nullptr;       // [n_batch][n_head*head_dim_k]
  float* k = nullptr;       // [n_batch][n_head_kv*head_dim_k]
  float* v = nullptr;       // [n_batch][n_head_kv*head_dim_v]
  float* att = nullptr;     // [n_batch][n_head*head_dim_v]
  float* out = nullptr;     // [n_batch][n_embd] block output before the residual add
  float* gate = nullptr;    // [n_batch][n_ff]
  float* up = nullptr;      // [n_batch][n_ff]
  float* logits = nullptr;  // [kLogitRows][n_vocab]
};

class Context {
 public:
  static constexpr int kLogitRows = 32;  // output rows computed per output matmul

  Context(const Model& model, const ContextOptions& opts);
  ~Context();

  // Runs n tokens at positions n_past() .. n_past()+n-1 and appends them to
  // the KV cache. logits: all_logits ? [n][n_vocab] : [n_vocab] of the last token;
  // nullptr (not with all_logits): the last token's go to logits() below.
  // Throws Error on context overflow or an id outside the vocabulary.
  void decode(const int32_t* ids, int n, bool all_logits, float* logits);
  // [n_vocab] logits of the last decode() given no buffer: memory the output
  // backend copies into directly (page-locked for a GPU). The caller may modify them.
  float* logits() { return logits_; }

  int n_past() const { return n_past_; }
  int n_ctx() const { return n_ctx_; }
  // Forget cached positions >= n (n = 0 clears the cache).
  void truncate(int n);

  const Model& model() const { return model_; }
  const ContextOptions& options() const { return opts_; }
  size_t kv_bytes() const;
  std::string backend_summary() const;

  // --- used by the family forward passes (src/models/<family>.cpp) ---
  Backend& layer_backend(int il) { return *place_[static_cast<size_t>(il)].backend; }
  const LayerWeights& layer(int il) const { return place_[static_cast<size_t>(il)].w; }
  KvLayer& kv(int il) { return place_[static_cast<size_t>(il)].kv; }
  Scratch& scratch(Backend& be);
  // Makes the residual stream current on layer il's backend (copies it across a CPU/GPU boundary).
  float* enter_layer(int il, int n);
  // Embedding of the current batch into the residual stream of the first layer's backend.
  float* embed_batch(int n, float scale);
  // Final norm + output matmul for rows [first, first+count) of the batch into host logits.
  void output_rows(int first, int count, float* logits);

 private:
  struct Place {
    Backend* backend = nullptr;
    LayerWeights w;
    KvLayer kv;
  };
  struct BackendSlot {
    std::unique_ptr<Backend> backend;
    Scratch s;
  };
  // Runs one batch; writes logits of rows [first_logit, first_logit + n_logits) (none when 0).
  void forward(const Batch& b, int first_logit, int n_logits, float* logits);
  BackendSlot& slot(Backend& be);
  // Rows [first, first + count) of the residual stream onto `be` (through the host
  // when it is on another backend, which it then leaves: only those rows are then
  // valid on `be`, so a partial move is the batch's last, as in output_rows);
  // returns be's stream.
  float* move_residual(Backend& be, int first, int count);
  // Layers il >= n_layer - n_gpu on gpu_be (the output too when n_gpu > n_layer), the rest on
  // cpu_be; the KV cache and the scratch of every backend.
  void place_layers(int n_gpu, Backend* cpu_be, Backend* gpu_be);
  Backend* residual_on_ = nullptr;

  const Model& model_;
  ContextOptions opts_;
  int n_ctx_ = 0;
  int n_past_ = 0;
  std::vector<BackendSlot> backends_;
  std::vector<Place> place_;
  Backend* out_backend_ = nullptr;
  Weight tok_embd_, output_norm_, output_;
  bool embed_on_output_ = false;  // token lookup on the output backend, which runs every layer
  Weight out_embd_;               // ... from this table there (output_ when tied)
  std::vector<float> host_x_;       // staging for CPU/GPU boundary copies
  float* logits_ = nullptr;         // [n_vocab]: the output backend's host memory or logits_plain_
  std::vector<float> logits_plain_;
  std::vector<int32_t> pos_;        // positions of the current batch
  Batch batch_;
};

}  // namespace jetlm
