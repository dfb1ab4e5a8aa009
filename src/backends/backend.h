// The operations a transformer forward pass needs, as small as the model code
// needs them. Every backend (CPU reference, CPU SIMD, CUDA) implements this
// interface; the CPU scalar reference is what every other one is tested
// against (tests/test_backend_ops.cpp).
//
// Conventions: activations are float32, row-major [n_tokens][dim], in buffers
// the backend allocated (host memory for the CPU, device memory for CUDA).
// Weights are GGUF matrices W with ne0 = cols (input dim) and ne1 = rows
// (output dim); matmul computes y[t][r] = sum_c W[r][c] * x[t][c].
// Ops are asynchronous on backends that can be (CUDA): results are visible
// after read() or sync().
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "formats/tensor_type.h"

namespace jetlm {

struct GgufTensor;

// A weight as a backend sees it.
struct Weight {
  const GgufTensor* src = nullptr;  // name, type, shape in the file
  TensorType type = TensorType::F32;
  int64_t cols = 0;  // ne0: values per row
  int64_t rows = 0;  // ne1 (times ne2, ne3): number of rows
  const void* data = nullptr;  // where this backend reads it (mmap on the CPU, device memory on a GPU)
  explicit operator bool() const { return data != nullptr; }
};

// Tokens processed by one forward call (host memory): token i is ids[i] of
// sequence slot seq[i] at position pos[i] of that sequence. Tokens of one
// sequence are contiguous and in position order; seq == nullptr: all in slot 0.
struct Batch {
  const int32_t* ids = nullptr;
  const int32_t* pos = nullptr;  // pos[i] = position of token i in its sequence
  const int32_t* seq = nullptr;  // seq[i] = KV slot of token i's sequence
  int n = 0;
  // The caller's promise: this batch issues the same ops (and host writes) as
  // the previous batch of the same size, and running its step twice is
  // harmless (everything a step reads it wrote earlier, or is cache at other
  // positions). A backend may then start the recorded step before the ops
  // arrive, checking them as they come.
  bool repeats = false;
  int seq_of(int i) const { return seq ? seq[i] : 0; }
};

struct RopeParams {
  int n_rot = 0;             // leading dims of each head that rotate (even)
  float freq_base = 10000.f;
  float freq_scale = 1.f;    // linear position scaling (1 / rope.scaling.factor)
  bool neox = false;         // false: rotate pairs (2i, 2i+1); true: pairs (i, i + n_rot/2)
  const Weight* freq_factors = nullptr;  // optional [n_rot/2] divisors of each frequency (Llama 3 rope_freqs)
};

struct AttnParams {
  int n_head = 0, n_head_kv = 0;
  int head_dim_k = 0, head_dim_v = 0;
  float scale = 1.f;  // applied to q.k
  int window = 0;     // sliding window: token at p sees p' with p - p' < window; 0 = unlimited
};

// One layer's KV cache on a backend, for n_seq sequence slots: K
// [n_seq][ring][n_head_kv * head_dim_k], V likewise. A slot addresses
// positions 0 .. n_ctx-1; position p of slot s is row s * ring + p % ring, so a
// sliding-window layer keeps only a ring of its last positions
// (HParams::kv_layer_rows; ring == n_ctx elsewhere).
struct KvLayer {
  void* k = nullptr;
  void* v = nullptr;
  TensorType type = TensorType::F32;  // F32 or F16
  int64_t n_seq = 1;
  int64_t n_ctx = 0;
  int64_t ring = 0;
  int64_t k_row = 0, v_row = 0;  // values per position
  int64_t row_of(int seq, int pos) const { return int64_t(seq) * ring + pos % ring; }
  size_t elem_size() const { return type == TensorType::F32 ? 4 : 2; }
};

enum class Glu { SiLU, GeluTanh };

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;

  // Make a file tensor usable by this backend (the CPU uses the map in place).
  virtual Weight load_weight(const GgufTensor& t) = 0;
  // Scratch float buffers and KV storage, freed with the backend. Never called inside a forward pass.
  virtual float* alloc(int64_t n_floats) = 0;
  // KV storage of n_seq slots of `ring` rows each, addressing n_ctx positions (KvLayer).
  virtual KvLayer alloc_kv(int64_t n_seq, int64_t n_ctx, int64_t ring, int64_t k_row, int64_t v_row,
                           TensorType type) = 0;
  // Copies bytes between two places of this backend's memory (KV rows).
  virtual void copy_bytes(void* dst, const void* src, size_t bytes) = 0;
  // Host <-> backend copies of float buffers.
  virtual void write(float* dst, const float* host, int64_t n) = 0;
  virtual void read(const float* src, float* host, int64_t n) = 0;
  // Host memory that read() fills fastest (page-locked for a GPU: copied straight
  // into, no staging), freed with the backend; nullptr: plain memory is as good.
  virtual float* alloc_host(int64_t n_floats) {
    (void)n_floats;
    return nullptr;
  }
  virtual void sync() {}
  // Device memory free/total, for backends with their own memory (false: none).
  virtual bool device_memory(size_t* free_bytes, size_t* total_bytes) const {
    (void)free_bytes;
    (void)total_bytes;
    return false;
  }
  // True when weights stay where the model's map has them (no copy to count).
  virtual bool weights_in_place() const { return false; }

  // Announces the batch the following ops work on (ids/pos are staged where the backend needs them).
  virtual void begin(const Batch& batch) = 0;

  // out[t][:] = table row ids[t] (dequantized), for the current batch; out [n][table.cols].
  virtual void embed(const Weight& table, float* out) = 0;
  // out[r] = x[r] / rms(x[r]) * w (w may be null); rows of dim values; in place allowed.
  virtual void rms_norm(const float* x, const Weight* w, float eps, int64_t rows, int64_t dim, float* out) = 0;
  // y [n][w.rows] = x [n][w.cols] * W^T.
  virtual void matmul(const Weight& w, const float* x, int n, float* y) = 0;
  // y [n][dim] += b [dim].
  virtual void add_bias(float* y, const Weight& b, int n, int64_t dim) = 0;
  // Rotate every head of x [n][n_head][head_dim] in place at the batch's positions.
  virtual void rope(float* x, int n, int n_head, int head_dim, const RopeParams& p) = 0;
  // Store k, v [n][n_head_kv*head_dim] at the batch's (slot, position) rows of kv, then
  // out [n][n_head*head_dim_v] = softmax(q k^T * scale, causal + window) v, GQA,
  // each token over its own sequence's positions.
  virtual void attention(const float* q, const float* k, const float* v, KvLayer& kv, const AttnParams& p, int n,
                         float* out) = 0;
  // out[i] = act(gate[i]) * up[i], n values.
  virtual void glu(Glu kind, const float* gate, const float* up, int64_t n, float* out) = 0;
  // out[i] = a[i] + b[i]; out may alias a.
  virtual void add(const float* a, const float* b, int64_t n, float* out) = 0;
  virtual void scale(float* x, int64_t n, float s) = 0;
  // dst[i] = src[i] (within this backend).
  virtual void copy(const float* src, int64_t n, float* dst) = 0;
};

}  // namespace jetlm
