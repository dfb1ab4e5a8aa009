#include "backends/cpu/cpu_rope.h"

#include <cmath>

namespace jetlm {

const RopeCache::Table& RopeCache::table(int n, const RopeParams& p, const float* ff, const int32_t* pos) {
  for (size_t i = 0; i < n_used_; ++i) {
    const Table& t = tables_[i];
    if (t.n_rot == p.n_rot && t.n == n && t.base == p.freq_base && t.scale == p.freq_scale && t.ff == ff) return t;
  }
  if (n_used_ == tables_.size()) tables_.emplace_back();
  Table& t = tables_[n_used_++];
  t.n_rot = p.n_rot;
  t.n = n;
  t.base = p.freq_base;
  t.scale = p.freq_scale;
  t.ff = ff;
  const int half = p.n_rot / 2;
  t.cs.resize(static_cast<size_t>(n) * static_cast<size_t>(half) * 2);
  for (int k = 0; k < n; ++k) {
    const float position = static_cast<float>(pos[k]) * p.freq_scale;
    float* cs = t.cs.data() + static_cast<size_t>(k) * static_cast<size_t>(half) * 2;
    for (int i = 0; i < half; ++i) {
      // The reference's expression, term for term (ops_ref.cpp).
      float theta = position * std::pow(p.freq_base, -2.f * static_cast<float>(i) / static_cast<float>(p.n_rot));
      if (ff) theta /= ff[i];
      cs[2 * i] = std::cos(theta);
      cs[2 * i + 1] = std::sin(theta);
    }
  }
  return t;
}

void RopeCache::apply(float* x, int n, int n_head, int head_dim, const RopeParams& p, const float* ff,
                      const int32_t* pos) {
  const Table& t = table(n, p, ff, pos);
  const int half = p.n_rot / 2;
  for (int k = 0; k < n; ++k) {
    const float* cs = t.cs.data() + static_cast<size_t>(k) * static_cast<size_t>(half) * 2;
    for (int h = 0; h < n_head; ++h) {
      float* v = x + (static_cast<int64_t>(k) * n_head + h) * head_dim;
      if (p.neox) {
        for (int i = 0; i < half; ++i) {
          const float c = cs[2 * i], s = cs[2 * i + 1];
          const float x0 = v[i], x1 = v[i + half];
          v[i] = x0 * c - x1 * s;
          v[i + half] = x0 * s + x1 * c;
        }
      } else {
        for (int i = 0; i < half; ++i) {
          const float c = cs[2 * i], s = cs[2 * i + 1];
          const float x0 = v[2 * i], x1 = v[2 * i + 1];
          v[2 * i] = x0 * c - x1 * s;
          v[2 * i + 1] = x0 * s + x1 * c;
        }
      }
    }
  }
}

}  // namespace jetlm
