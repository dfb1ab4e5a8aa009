#include "backends/cpu/cpu_backend.h"

#include <cstring>
#include <vector>

#include "backends/cpu/ops_ref.h"
#include "gguf/gguf.h"
#include "util/error.h"

namespace jetlm {

namespace {

class CpuBackend : public Backend {
 public:
  explicit CpuBackend(const CpuOptions& o) : opts_(o) {}
  std::string name() const override { return opts_.reference ? "CPU (reference)" : "CPU"; }

  Weight load_weight(const GgufTensor& t) override {
    Weight w;
    w.src = &t;
    w.type = t.type;
    w.cols = t.ne[0];
    w.rows = t.n_rows();
    w.data = t.data;
    return w;
  }

  float* alloc(int64_t n) override {
    buffers_.emplace_back(static_cast<size_t>(n));
    return buffers_.back().data();
  }

  KvLayer alloc_kv(int64_t n_ctx, int64_t k_row, int64_t v_row, TensorType type) override {
    if (type != TensorType::F32 && type != TensorType::F16) fail("KV cache type must be f32 or f16");
    const size_t esz = type == TensorType::F32 ? 4 : 2;
    KvLayer kv;
    kv.type = type;
    kv.n_ctx = n_ctx;
    kv.k_row = k_row;
    kv.v_row = v_row;
    kv_store_.emplace_back(static_cast<size_t>(n_ctx * (k_row + v_row)) * esz);
    kv.k = kv_store_.back().data();
    kv.v = kv_store_.back().data() + static_cast<size_t>(n_ctx * k_row) * esz;
    return kv;
  }

  void write(float* dst, const float* host, int64_t n) override { std::memcpy(dst, host, static_cast<size_t>(n) * 4); }
  void read(const float* src, float* host, int64_t n) override { std::memcpy(host, src, static_cast<size_t>(n) * 4); }

  void begin(const Batch& b) override { batch_ = b; }

  void embed(const Weight& table, float* out) override { ref::embed(table, batch_.ids, batch_.n, out); }
  void rms_norm(const float* x, const Weight* w, float eps, int64_t rows, int64_t dim, float* out) override {
    ref::rms_norm(x, w ? static_cast<const float*>(w->data) : nullptr, eps, rows, dim, out);
  }
  void matmul(const Weight& w, const float* x, int n, float* y) override { ref::matmul(w, x, n, y); }
  void add_bias(float* y, const Weight& b, int n, int64_t dim) override {
    ref::add_bias(y, static_cast<const float*>(b.data), n, dim);
  }
  void rope(float* x, int n, int n_head, int head_dim, const RopeParams& p) override {
    ref::rope(x, n, n_head, head_dim, p, p.freq_factors ? static_cast<const float*>(p.freq_factors->data) : nullptr,
              batch_.pos);
  }
  void attention(const float* q, const float* k, const float* v, KvLayer& kv, const AttnParams& p, int n,
                 float* out) override {
    ref::attention(q, k, v, kv, p, n, batch_.pos, out);
  }
  void glu(Glu kind, const float* gate, const float* up, int64_t n, float* out) override {
    ref::glu(kind, gate, up, n, out);
  }
  void add(const float* a, const float* b, int64_t n, float* out) override {
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
  }
  void scale(float* x, int64_t n, float s) override {
    for (int64_t i = 0; i < n; ++i) x[i] *= s;
  }
  void copy(const float* src, int64_t n, float* dst) override { std::memmove(dst, src, static_cast<size_t>(n) * 4); }

 private:
  CpuOptions opts_;
  Batch batch_;
  std::vector<std::vector<float>> buffers_;
  std::vector<std::vector<uint8_t>> kv_store_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const CpuOptions& opts) { return std::make_unique<CpuBackend>(opts); }

}  // namespace jetlm
