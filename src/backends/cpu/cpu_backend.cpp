#include "backends/cpu/cpu_backend.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/cpu_features.h"
#include "backends/cpu/cpu_matmul.h"
#include "backends/cpu/cpu_rope.h"
#include "backends/cpu/ops_ref.h"
#include "backends/cpu/thread_pool.h"
#include "gguf/gguf.h"
#include "util/error.h"

namespace jetlm {

namespace {

// Element-wise work below this many values runs on the calling thread (waking
// the pool costs more than it saves).
constexpr int64_t kParallelMin = 1 << 15;

class CpuBackend : public Backend {
 public:
  explicit CpuBackend(const CpuOptions& o) : opts_(o) {
    if (opts_.reference) return;
    kern_ = &cpu_kernels(select_cpu_isa(opts_.isa));
    pool_ = std::make_unique<ThreadPool>(opts_.n_threads > 0 ? opts_.n_threads : physical_cores());
    mm_ = std::make_unique<CpuMatmul>(*pool_, *kern_);
  }
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

  KvLayer alloc_kv(int64_t n_seq, int64_t n_ctx, int64_t ring, int64_t k_row, int64_t v_row, TensorType type) override {
    if (type != TensorType::F32 && type != TensorType::F16) fail("KV cache type must be f32 or f16");
    KvLayer kv;
    kv.type = type;
    kv.n_seq = n_seq;
    kv.n_ctx = n_ctx;
    kv.ring = ring;
    kv.k_row = k_row;
    kv.v_row = v_row;
    const size_t rows = static_cast<size_t>(n_seq * ring);
    kv_store_.emplace_back(rows * static_cast<size_t>(k_row + v_row) * kv.elem_size());
    kv.k = kv_store_.back().data();
    kv.v = kv_store_.back().data() + rows * static_cast<size_t>(k_row) * kv.elem_size();
    return kv;
  }

  void copy_bytes(void* dst, const void* src, size_t bytes) override { std::memmove(dst, src, bytes); }

  void write(float* dst, const float* host, int64_t n) override {
    std::memcpy(dst, host, static_cast<size_t>(n) * 4);
  }
  void read(const float* src, float* host, int64_t n) override { std::memcpy(host, src, static_cast<size_t>(n) * 4); }

  void begin(const Batch& b) override {
    batch_ = b;
    rope_.reset();
  }

  void embed(const Weight& table, float* out) override {
    ref::embed(table, batch_.ids, batch_.n, out);
  }

  void rms_norm(const float* x, const Weight* w, float eps, int64_t rows, int64_t dim, float* out) override {
    const float* wd = w ? static_cast<const float*>(w->data) : nullptr;
    if (fast()) {
      for_ranges(rows, rows * dim, [&](int64_t r0, int64_t r1) {
        for (int64_t r = r0; r < r1; ++r) kern_->rms_norm_row(x + r * dim, wd, eps, dim, out + r * dim);
      });
    } else {
      ref::rms_norm(x, wd, eps, rows, dim, out);
    }
  }

  void matmul(const Weight& w, const float* x, int n, float* y) override {
    if (fast() && mm_->supports(w.type)) {
      mm_->run(w, x, n, y);
    } else {
      ref::matmul(w, x, n, y);
    }
  }

  void add_bias(float* y, const Weight& b, int n, int64_t dim) override {
    ref::add_bias(y, static_cast<const float*>(b.data), n, dim);
  }

  void rope(float* x, int n, int n_head, int head_dim, const RopeParams& p) override {
    const float* ff = p.freq_factors ? static_cast<const float*>(p.freq_factors->data) : nullptr;
    if (fast()) rope_.apply(x, n, n_head, head_dim, p, ff, batch_.pos);
    else ref::rope(x, n, n_head, head_dim, p, ff, batch_.pos);
  }

  void attention(const float* q, const float* k, const float* v, KvLayer& kv, const AttnParams& p, int n,
                 float* out) override {
    if (fast()) attention_fast(q, k, v, kv, p, n, out);
    else ref::attention(q, k, v, kv, p, batch_, out);
  }

  void glu(Glu kind, const float* gate, const float* up, int64_t n, float* out) override {
    if (!fast()) return ref::glu(kind, gate, up, n, out);
    const auto fn = kind == Glu::SiLU ? kern_->silu_mul : kern_->gelu_mul;
    for_ranges(n, n, [&](int64_t i0, int64_t i1) { fn(gate + i0, up + i0, i1 - i0, out + i0); });
  }

  void add(const float* a, const float* b, int64_t n, float* out) override {
    if (!fast()) {
      for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
      return;
    }
    for_ranges(n, n, [&](int64_t i0, int64_t i1) { kern_->add(a + i0, b + i0, i1 - i0, out + i0); });
  }

  void scale(float* x, int64_t n, float s) override {
    if (!fast()) {
      for (int64_t i = 0; i < n; ++i) x[i] *= s;
      return;
    }
    for_ranges(n, n, [&](int64_t i0, int64_t i1) { kern_->scale(x + i0, i1 - i0, s); });
  }

  void copy(const float* src, int64_t n, float* dst) override {
    std::memmove(dst, src, static_cast<size_t>(n) * 4);
  }

 private:
  bool fast() const { return kern_ != nullptr; }

  // fn(begin, end) over [0, count), split across the pool when `work` values justify waking it.
  // Ranges are multiples of 16 items so threads do not write the same cache line.
  template <class F>
  void for_ranges(int64_t count, int64_t work, F&& fn) {
    const int nth = pool_->size();
    if (nth == 1 || work < kParallelMin || count < 2) return fn(0, count);
    pool_->run([&](int ith, int n) {
      const int64_t per = (count + n - 1) / n;
      const int64_t step = count >= 16 * n ? (per + 15) / 16 * 16 : per;
      const int64_t i0 = std::min(count, ith * step), i1 = std::min(count, i0 + step);
      if (i0 < i1) fn(i0, i1);
    });
  }

  void attention_fast(const float* q, const float* k, const float* v, KvLayer& kv, const AttnParams& p, int n,
                      float* out) {
    const int32_t* pos = batch_.pos;
    const bool f16 = kv.type == TensorType::F16;
    const size_t esz = kv.elem_size();
    uint8_t* kc = static_cast<uint8_t*>(kv.k);
    uint8_t* vc = static_cast<uint8_t*>(kv.v);
    for (int t = 0; t < n; ++t) {
      ref::check_kv_slot(kv, batch_.seq_of(t), pos[t]);
      const float* kt = k + static_cast<int64_t>(t) * kv.k_row;
      const float* vt = v + static_cast<int64_t>(t) * kv.v_row;
      const size_t row = static_cast<size_t>(kv.row_of(batch_.seq_of(t), pos[t]));
      uint8_t* kd = kc + row * static_cast<size_t>(kv.k_row) * esz;
      uint8_t* vd = vc + row * static_cast<size_t>(kv.v_row) * esz;
      if (f16) {
        kern_->to_f16(kt, kv.k_row, reinterpret_cast<uint16_t*>(kd));
        kern_->to_f16(vt, kv.v_row, reinterpret_cast<uint16_t*>(vd));
      } else {
        std::memcpy(kd, kt, static_cast<size_t>(kv.k_row) * 4);
        std::memcpy(vd, vt, static_cast<size_t>(kv.v_row) * 4);
      }
    }
    // One task per (token, KV head): the query heads of a GQA group read each K/V row once.
    const int group = p.n_head / p.n_head_kv;
    const int64_t n_tasks = static_cast<int64_t>(n) * p.n_head_kv;
    auto task = [&](int64_t i) {
      const int t = static_cast<int>(i / p.n_head_kv), hk = static_cast<int>(i % p.n_head_kv);
      cpu::AttnTask a;
      a.q = q + (static_cast<int64_t>(t) * p.n_head + static_cast<int64_t>(hk) * group) * p.head_dim_k;
      a.q_stride = p.head_dim_k;
      a.group = group;
      // The token's slot: its rows start at slot * ring; position j is row j % ring.
      const size_t slot = static_cast<size_t>(batch_.seq_of(t)) * static_cast<size_t>(kv.ring);
      a.k = kc + (slot * static_cast<size_t>(kv.k_row) + static_cast<size_t>(hk) * static_cast<size_t>(p.head_dim_k)) * esz;
      a.v = vc + (slot * static_cast<size_t>(kv.v_row) + static_cast<size_t>(hk) * static_cast<size_t>(p.head_dim_v)) * esz;
      a.ring = static_cast<int>(kv.ring);
      a.k_stride = kv.k_row;
      a.v_stride = kv.v_row;
      a.f16 = f16;
      a.head_dim_k = p.head_dim_k;
      a.head_dim_v = p.head_dim_v;
      a.scale = p.scale;
      a.hi = pos[t];
      a.lo = p.window > 0 ? std::max(0, pos[t] - p.window + 1) : 0;
      a.out = out + (static_cast<int64_t>(t) * p.n_head + static_cast<int64_t>(hk) * group) * p.head_dim_v;
      a.out_stride = p.head_dim_v;
      kern_->attend(a);
    };
    if (n_tasks == 1 || pool_->size() == 1) {
      for (int64_t i = 0; i < n_tasks; ++i) task(i);
      return;
    }
    WorkQueue queue;
    pool_->run([&](int, int) {
      for (int64_t i = queue.take(); i < n_tasks; i = queue.take()) task(i);
    });
  }

  CpuOptions opts_;
  const cpu::CpuKernels* kern_ = nullptr;  // null in reference mode
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<CpuMatmul> mm_;
  RopeCache rope_;
  Batch batch_;
  std::vector<std::vector<float>> buffers_;
  std::vector<std::vector<uint8_t>> kv_store_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(const CpuOptions& opts) { return std::make_unique<CpuBackend>(opts); }

}  // namespace jetlm
