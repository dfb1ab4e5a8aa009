// An inference context: backends, per-layer weights as each backend sees
// them (one copy, shared by every sequence), the KV cache of n_seq sequence
// slots and scratch buffers (all allocated once, here; nothing is allocated
// inside a forward pass). decode() runs a batch of tokens of any sequences.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "backends/backend.h"
#include "models/model.h"

namespace jetlm {

struct ContextOptions {
  int n_ctx = 0;          // positions per sequence slot; 0: the model's training context, at most 4096
  int n_seq = 1;          // sequence slots in the KV cache (KV memory grows with n_seq * n_ctx)
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

// The tokens of one decode(): entry i is token ids[i] of sequence slot seq[i]
// at position pos[i]; logits[i] != 0: its logits are wanted. A sequence's
// entries are contiguous and continue it: positions n_past(seq), n_past(seq)+1...
struct DecodeBatch {
  std::vector<int32_t> ids, pos, seq;
  std::vector<uint8_t> logits;
  void clear() { ids.clear(), pos.clear(), seq.clear(), logits.clear(); }
  void add(int32_t id, int s, int p, bool want) {
    ids.push_back(id), seq.push_back(s), pos.push_back(p), logits.push_back(want ? 1 : 0);
  }
  int size() const { return static_cast<int>(ids.size()); }
  int n_logits() const;
};

class Context {
 public:
  static constexpr int kLogitRows = 32;  // output rows computed per output matmul

  Context(const Model& model, const ContextOptions& opts);
  ~Context();

  // Runs the batch (in forward passes of at most n_batch tokens) and appends
  // its tokens to their sequences' KV cache. logits: [b.n_logits()][n_vocab],
  // the wanted rows in batch order; nullptr: into logits() below (at most
  // n_seq rows). Throws Error for an id outside the vocabulary, a slot or
  // position out of range or a position that does not continue its sequence.
  void decode(const DecodeBatch& b, float* logits);
  // Slot 0 alone: n tokens at positions n_past() ..; logits: all_logits ? [n][n_vocab]
  // : [n_vocab] of the last token; nullptr (not with all_logits): into logits().
  void decode(const int32_t* ids, int n, bool all_logits, float* logits);
  // [n_seq][n_vocab]: the wanted logits of the last decode() given no buffer, in
  // batch order; memory the output backend copies into directly (page-locked for a
  // GPU). The caller may modify them.
  float* logits(int row = 0) { return logits_ + int64_t(row) * model_.hparams().n_vocab; }

  int n_seq() const { return n_seq_; }
  int n_ctx() const { return n_ctx_; }  // positions per slot
  int n_past(int seq = 0) const { return seq_len_[static_cast<size_t>(seq)]; }
  // Whether slot seq can forget positions >= n and continue from n (always for
  // n == 0; a sliding-window ring only keeps the last n_batch positions rewindable).
  bool can_truncate(int seq, int n) const;
  // Forget cached positions >= n of slot seq (n = 0 clears it); throws unless can_truncate.
  void truncate(int seq, int n);
  void truncate(int n) { truncate(0, n); }
  // Slot dst holds the first n positions of slot src (the same keys and values
  // as computing them again); throws unless can_truncate(src, n).
  void copy_prefix(int src, int dst, int n);

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
  // Final norm + output matmul for the rows of the batch with want[i] into host logits.
  void output_rows(const uint8_t* want, int n, float* logits);

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
  // Runs one forward pass; writes the logits of the rows with want[i] (in order).
  void forward(const Batch& b, const uint8_t* want, float* logits);
  // Norm + output matmul of count contiguous rows x on the output backend into host logits.
  void output_block(const float* x, int count, float* logits);
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
  int n_seq_ = 1;
  int max_rewind_ = 0;          // positions a ring layer can forget (INT_MAX without rings)
  std::vector<int> seq_len_;    // [n_seq] positions each slot holds
  std::vector<BackendSlot> backends_;
  std::vector<Place> place_;
  Backend* out_backend_ = nullptr;
  Weight tok_embd_, output_norm_, output_;
  bool embed_on_output_ = false;  // token lookup on the output backend, which runs every layer
  Weight out_embd_;               // ... from this table there (output_ when tied)
  std::vector<float> host_x_;       // staging for CPU/GPU boundary copies
  float* logits_ = nullptr;         // [n_vocab]: the output backend's host memory or logits_plain_
  std::vector<float> logits_plain_;
  DecodeBatch one_;                 // the slot-0 decode's batch
  int prev_decode_n_ = 0;           // size of the last forward pass when it was all decode steps
  Batch batch_;
};

}  // namespace jetlm
