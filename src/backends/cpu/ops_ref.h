// Scalar float32 reference implementations of every backend op. They define
// what the ops mean: the fast CPU kernels and the CUDA kernels are tested
// against these on random inputs. Plain loops, float32 accumulation.
#pragma once
#include <cstdint>

#include "backends/backend.h"

namespace jetlm {
namespace ref {

void embed(const Weight& table, const int32_t* ids, int n, float* out);
void rms_norm(const float* x, const float* w, float eps, int64_t rows, int64_t dim, float* out);
void matmul(const Weight& w, const float* x, int n, float* y);
void add_bias(float* y, const float* b, int n, int64_t dim);
// freq_factors: host array of n_rot/2 values or null.
void rope(float* x, int n, int n_head, int head_dim, const RopeParams& p, const float* freq_factors, const int32_t* pos);
// Each token of the batch (its slot b.seq_of(t), position b.pos[t]) over its own sequence.
void attention(const float* q, const float* k, const float* v, KvLayer& kv, const AttnParams& p, const Batch& b,
               float* out);
// Throws Error unless (seq, pos) is a place of kv.
void check_kv_slot(const KvLayer& kv, int seq, int pos);
void glu(Glu kind, const float* gate, const float* up, int64_t n, float* out);
float gelu_tanh(float x);
float silu(float x);

}  // namespace ref
}  // namespace jetlm
