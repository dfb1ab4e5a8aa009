// Rotary position embedding for the fast CPU path. The reference evaluates
// pow, cos and sin for every head of every token; here the rotation of each
// (token, frequency) pair is computed once per batch and parameter set (q and
// k of every layer share it; Gemma 3 has two sets, local and global) with the
// reference's float formula, so results match it exactly.
#pragma once
#include <cstdint>
#include <vector>

#include "backends/backend.h"

namespace jetlm {

class RopeCache {
 public:
  // Forget the tables (a new batch has new positions).
  void reset() { n_used_ = 0; }
  // Rotate every head of x [n][n_head][head_dim] in place; freq_factors: [n_rot/2] or null.
  void apply(float* x, int n, int n_head, int head_dim, const RopeParams& p, const float* freq_factors,
             const int32_t* pos);

 private:
  struct Table {
    int n_rot = 0, n = 0;
    float base = 0.f, scale = 0.f;
    const float* ff = nullptr;
    std::vector<float> cs;  // [n][n_rot/2] pairs (cos, sin); capacity kept across batches
  };
  const Table& table(int n, const RopeParams& p, const float* ff, const int32_t* pos);
  std::vector<Table> tables_;
  size_t n_used_ = 0;
};

}  // namespace jetlm
