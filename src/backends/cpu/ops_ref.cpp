#include "backends/cpu/ops_ref.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "formats/tensor_type.h"
#include "util/error.h"
#include "util/fp16.h"

namespace jetlm {
namespace ref {

static const uint8_t* row_ptr(const Weight& w, int64_t r) {
  return static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r) * row_bytes(w.type, w.cols);
}

void embed(const Weight& table, const int32_t* ids, int n, float* out) {
  const DequantRowFn dq = type_traits(table.type).dequant;
  for (int t = 0; t < n; ++t) {
    if (ids[t] < 0 || ids[t] >= table.rows) fail("token id ", ids[t], " is outside the vocabulary (", table.rows, " tokens)");
    dq(row_ptr(table, ids[t]), out + static_cast<int64_t>(t) * table.cols, table.cols);
  }
}

void rms_norm(const float* x, const float* w, float eps, int64_t rows, int64_t dim, float* out) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* o = out + r * dim;
    float ss = 0.f;
    for (int64_t i = 0; i < dim; ++i) ss += xr[i] * xr[i];
    const float s = 1.f / std::sqrt(ss / static_cast<float>(dim) + eps);
    for (int64_t i = 0; i < dim; ++i) o[i] = xr[i] * s * (w ? w[i] : 1.f);
  }
}

void matmul(const Weight& w, const float* x, int n, float* y) {
  const DequantRowFn dq = type_traits(w.type).dequant;
  std::vector<float> row(static_cast<size_t>(w.cols));
  for (int64_t r = 0; r < w.rows; ++r) {
    dq(row_ptr(w, r), row.data(), w.cols);
    for (int t = 0; t < n; ++t) {
      const float* xt = x + static_cast<int64_t>(t) * w.cols;
      float acc = 0.f;
      for (int64_t c = 0; c < w.cols; ++c) acc += row[c] * xt[c];
      y[static_cast<int64_t>(t) * w.rows + r] = acc;
    }
  }
}

void add_bias(float* y, const float* b, int n, int64_t dim) {
  for (int t = 0; t < n; ++t)
    for (int64_t i = 0; i < dim; ++i) y[t * dim + i] += b[i];
}

void rope(float* x, int n, int n_head, int head_dim, const RopeParams& p, const float* freq_factors, const int32_t* pos) {
  const int half = p.n_rot / 2;
  for (int t = 0; t < n; ++t) {
    const float position = static_cast<float>(pos[t]) * p.freq_scale;
    for (int h = 0; h < n_head; ++h) {
      float* v = x + (static_cast<int64_t>(t) * n_head + h) * head_dim;
      for (int i = 0; i < half; ++i) {
        float theta = position * std::pow(p.freq_base, -2.f * static_cast<float>(i) / static_cast<float>(p.n_rot));
        if (freq_factors) theta /= freq_factors[i];
        const float c = std::cos(theta), s = std::sin(theta);
        const int a = p.neox ? i : 2 * i;
        const int b = p.neox ? i + half : 2 * i + 1;
        const float x0 = v[a], x1 = v[b];
        v[a] = x0 * c - x1 * s;
        v[b] = x0 * s + x1 * c;
      }
    }
  }
}

static void store_row(const float* src, int64_t n, TensorType type, void* dst) {
  if (type == TensorType::F32) {
    std::copy(src, src + n, static_cast<float*>(dst));
  } else {
    uint16_t* d = static_cast<uint16_t*>(dst);
    for (int64_t i = 0; i < n; ++i) d[i] = f32_to_fp16(src[i]);
  }
}

static float load_at(const void* base, TensorType type, int64_t i) {
  return type == TensorType::F32 ? static_cast<const float*>(base)[i] : fp16_to_f32(static_cast<const uint16_t*>(base)[i]);
}

void check_kv_slot(const KvLayer& kv, int seq, int pos) {
  if (seq < 0 || seq >= kv.n_seq) fail("sequence slot ", seq, " is outside the KV cache's ", kv.n_seq, " slots");
  if (pos < 0 || pos >= kv.n_ctx) fail("position ", pos, " is outside the context of ", kv.n_ctx, " tokens");
}

void attention(const float* q, const float* k, const float* v, KvLayer& kv, const AttnParams& p, const Batch& b,
               float* out) {
  const size_t esz = kv.elem_size();
  const int n = b.n;
  for (int t = 0; t < n; ++t) {
    check_kv_slot(kv, b.seq_of(t), b.pos[t]);
    const int64_t row = kv.row_of(b.seq_of(t), b.pos[t]);
    store_row(k + static_cast<int64_t>(t) * kv.k_row, kv.k_row, kv.type, static_cast<uint8_t*>(kv.k) + row * kv.k_row * esz);
    store_row(v + static_cast<int64_t>(t) * kv.v_row, kv.v_row, kv.type, static_cast<uint8_t*>(kv.v) + row * kv.v_row * esz);
  }
  const int group = p.n_head / p.n_head_kv;
  std::vector<float> scores;
  for (int t = 0; t < n; ++t) {
    const int p1 = b.pos[t], s = b.seq_of(t);
    const int lo = p.window > 0 ? std::max(0, p1 - p.window + 1) : 0;
    scores.assign(static_cast<size_t>(p1 - lo + 1), 0.f);
    for (int h = 0; h < p.n_head; ++h) {
      const int hk = h / group;
      const float* qh = q + (static_cast<int64_t>(t) * p.n_head + h) * p.head_dim_k;
      float mx = -INFINITY;
      for (int j = lo; j <= p1; ++j) {
        const int64_t base = kv.row_of(s, j) * kv.k_row + static_cast<int64_t>(hk) * p.head_dim_k;
        float sc = 0.f;
        for (int d = 0; d < p.head_dim_k; ++d) sc += qh[d] * load_at(kv.k, kv.type, base + d);
        sc *= p.scale;
        scores[j - lo] = sc;
        mx = std::max(mx, sc);
      }
      float sum = 0.f;
      for (float& sc : scores) {
        sc = std::exp(sc - mx);
        sum += sc;
      }
      float* o = out + (static_cast<int64_t>(t) * p.n_head + h) * p.head_dim_v;
      std::fill(o, o + p.head_dim_v, 0.f);
      for (int j = lo; j <= p1; ++j) {
        const float wgt = scores[j - lo] / sum;
        const int64_t base = kv.row_of(s, j) * kv.v_row + static_cast<int64_t>(hk) * p.head_dim_v;
        for (int d = 0; d < p.head_dim_v; ++d) o[d] += wgt * load_at(kv.v, kv.type, base + d);
      }
    }
  }
}

float gelu_tanh(float x) {
  const float kSqrt2OverPi = 0.79788456080286535588f;
  return 0.5f * x * (1.f + std::tanh(kSqrt2OverPi * x * (1.f + 0.044715f * x * x)));
}

float silu(float x) { return x / (1.f + std::exp(-x)); }

void glu(Glu kind, const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = (kind == Glu::SiLU ? silu(gate[i]) : gelu_tanh(gate[i])) * up[i];
}

}  // namespace ref
}  // namespace jetlm
