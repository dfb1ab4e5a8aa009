// KV-cache access shared by the attention kernels (attention.cu, attention_decode.cu).
#pragma once
#include "backends/cuda/device_common.cuh"

namespace jetlm {
namespace cuda {

// The first cache row of token t's slot, and the row of position p within a
// slot (a ring on sliding-window layers; p < ring elsewhere, so no division).
JDEV int64_t slot_base(const int32_t* seq, int t, int64_t ring) { return seq ? static_cast<int64_t>(seq[t]) * ring : 0; }
JDEV int64_t ring_row(int p, int64_t ring) { return p < ring ? p : p % ring; }

// Head h of cache row r (r: slot_base + ring_row).
JDEV char* kv_row(void* cache, int64_t row, int64_t r, int h, int dim, bool f16) {
  return static_cast<char*>(cache) + (r * row + static_cast<int64_t>(h) * dim) * (f16 ? 2 : 4);
}

// Stores value i of a cache row.
JDEV void kv_put(char* row, int i, float v, bool f16) {
  if (f16) reinterpret_cast<__half*>(row)[i] = __float2half_rn(v);
  else reinterpret_cast<float*>(row)[i] = v;
}

// 8 cache values as loaded (one 16-byte load of halves, two of floats), and
// as floats; a kernel can issue the load early and convert later.
template <typename T>
struct KvRaw8;
template <>
struct KvRaw8<__half> {
  uint4 u;
  JDEV void load(const __half* p) { u = __ldg(reinterpret_cast<const uint4*>(p)); }
  JDEV void clear() { u = make_uint4(0u, 0u, 0u, 0u); }
  JDEV void get(float* f) const {
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      f[2 * i] = h2f(w[i]);
      f[2 * i + 1] = h2f(w[i] >> 16);
    }
  }
};
template <>
struct KvRaw8<float> {
  float4 a, b;
  JDEV void load(const float* p) {
    a = __ldg(reinterpret_cast<const float4*>(p));
    b = __ldg(reinterpret_cast<const float4*>(p) + 1);
  }
  JDEV void clear() { a = b = make_float4(0.f, 0.f, 0.f, 0.f); }
  JDEV void get(float* f) const {
    f[0] = a.x; f[1] = a.y; f[2] = a.z; f[3] = a.w;
    f[4] = b.x; f[5] = b.y; f[6] = b.z; f[7] = b.w;
  }
};
// 8 cache values from a 16-byte (f16) or 32-byte (f32) aligned address.
template <typename T>
JDEV void load_kv8(const T* p, float* f) {
  KvRaw8<T> r;
  r.load(p);
  r.get(f);
}

// Flash-decoding arrival, after a block has written its split's partial
// results: whether it is the last of the S splits counted at `counter`, and
// so the one to combine them (the others' writes are then visible to it).
JDEV bool last_split_arrived(int* counter, int S) {
  __shared__ int s_last;
  __threadfence();
  __syncthreads();
  if (threadIdx.x == 0) s_last = atomicAdd(counter, 1) == S - 1;
  __syncthreads();
  const bool last = s_last != 0;
  if (last) __threadfence();
  return last;
}

// Flash-decoding combine, for the last block of a head to finish: values
// d .. d + W - 1 of the head's output from its ns published splits (partial
// sums po[i][hdv], running max and sum pml[i][2]), each split rescaled to the
// common max. The loads bypass L1: other blocks wrote them.
template <int W>
JDEV void combine_splits(const float* po, const float* pml, int ns, int hdv, int d, float (&out)[W]) {
  float M = -INFINITY;
  for (int i = 0; i < ns; ++i) M = fmaxf(M, __ldcg(pml + 2 * i));
  float L = 0.f;
#pragma unroll
  for (int w = 0; w < W; ++w) out[w] = 0.f;
  for (int i = 0; i < ns; ++i) {
    const float wt = __expf(__ldcg(pml + 2 * i) - M);
    L += __ldcg(pml + 2 * i + 1) * wt;
#pragma unroll
    for (int w = 0; w < W; ++w) out[w] += __ldcg(po + static_cast<int64_t>(i) * hdv + d + w) * wt;
  }
  const float inv_l = __fdividef(1.f, L);  // (L >= 1: the split with the max adds its own sum)
#pragma unroll
  for (int w = 0; w < W; ++w) out[w] *= inv_l;
}

// RoPE angle of rotation pair i at position p (the CPU reference's formula).
JDEV float rope_theta(const RopeArgs& ro, int p, int i) {
  float theta = static_cast<float>(p) * ro.freq_scale *
                powf(ro.freq_base, -2.f * static_cast<float>(i) / static_cast<float>(ro.n_rot));
  if (ro.freq_factors) theta /= ro.freq_factors[i];
  return theta;
}
// Indices of rotation pair i: neighbours, or i and i + n_rot/2 (NeoX).
JDEV void rope_pair(const RopeArgs& ro, int i, int& ia, int& ib) {
  ia = ro.neox ? i : 2 * i;
  ib = ro.neox ? i + ro.n_rot / 2 : 2 * i + 1;
}

// The one-token attention of attention_decode.cu: the positions one block
// reads in one batch of loads for these head sizes and a context of at most
// max_len positions (its chunk), 0 when it does not take the head sizes;
// whether it takes a launch (fused preparation, ...); its launcher.
int decode_attention_rows(int hdk, int hdv, int64_t max_len);
bool decode_attention_fits(const AttnArgs& a);
void launch_decode_attention(const AttnArgs& a, cudaStream_t s);
// The tiled attention of attention_prompt.cu for more than 8 query tokens:
// whether it takes the launch (head sizes), and its launcher.
bool prompt_attention_fits(const AttnArgs& a);
void launch_prompt_attention(const AttnArgs& a, cudaStream_t s);

}  // namespace cuda
}  // namespace jetlm
