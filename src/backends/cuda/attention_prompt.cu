// Prompt attention (more than a few query tokens): flash attention on tiles.
// A block takes BQ consecutive query tokens of one head. The K and V rows of
// its kv head stream through shared memory BK positions at a time (converted
// to float once, then used by all BQ rows); scores, the online softmax and
// the output stay in registers. The general kernel of attention.cu instead
// gives every query token its own block, which reads each K and V row once
// per token: 146 us per TinyLlama layer at 512 tokens (docs/benchmarks.md).
//
// Thread (ty, tx) = (tid / 8, tid % 8) of 128 holds score rows ty * RQ ..
// + RQ - 1 of the tile against positions tx + 8 j (j < CK) of the K tile, and
// the output of the same rows, values 4 tx + 32 c .. + 3 (c < HD / 32): the 8
// lanes of a row reduce its max and sum with shuffles.
// Causal per token (positions come from device memory), sliding window aware.
#include <climits>
#include <string>

#include "backends/cuda/attention_common.cuh"

namespace jetlm {
namespace cuda {

namespace {

constexpr int kPaThreads = 128;

// Tiles: BQ query tokens, BK positions per K/V tile (shared memory: 43 KB
// at 64/32, under the 48 KB every GPU gives). Head sizes up to HD = 64; the
// larger heads (Qwen2.5 1.5B's 128, Gemma 3's 256) were slower this way than
// with the general kernel (docs/benchmarks.md).
template <int HD, int BQ, int BK>
struct PromptSmem {
  static const int QS = HD + 4;      // padded row stride of q and k (floats): conflict-free float4 reads
  static const int PSTR = BK + 1;    // row stride of the probabilities
  static const int kFloats = BQ * QS + BK * QS + BK * HD + BQ * PSTR;
};

// Rows [j0, j0 + BK) of one kv head's cache (`dim` <= HD values per row,
// zeros past jhi), loaded into registers as stored, so that the next tile's
// loads are in flight while the block works on this one; then converted
// into shared memory as floats.
template <typename T, int BK, int HD>
struct KvTile {
  static const int kItems = (BK * HD / 8 + kPaThreads - 1) / kPaThreads;  // 8-value items per thread
  KvRaw8<T> raw[kItems];
  // cache: the slot's first row; position j is row ring_row(j, ring).
  JDEV void load(const T* cache, int64_t row, int64_t ring, int hk, int dim, int j0, int jhi) {
    const int per_row = dim / 8;
#pragma unroll
    for (int u = 0; u < kItems; ++u) {
      const int i = threadIdx.x + u * kPaThreads, r = i / per_row;
      if (i < BK * per_row && j0 + r <= jhi)
        raw[u].load(cache + ring_row(j0 + r, ring) * row + static_cast<int64_t>(hk) * dim + 8 * (i % per_row));
      else
        raw[u].clear();
    }
  }
  JDEV void store(int dim, float* dst, int stride) const {
    const int per_row = dim / 8;
#pragma unroll
    for (int u = 0; u < kItems; ++u) {
      const int i = threadIdx.x + u * kPaThreads;
      if (i >= BK * per_row) continue;
      float f[8];
      raw[u].get(f);
      float4* d = reinterpret_cast<float4*>(dst + (i / per_row) * stride + 8 * (i % per_row));
      d[0] = make_float4(f[0], f[1], f[2], f[3]);
      d[1] = make_float4(f[4], f[5], f[6], f[7]);
    }
  }
};

JDEV float max8(float v) {
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 1));
  v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 2));
  return fmaxf(v, __shfl_xor_sync(0xffffffffu, v, 4));
}
JDEV float sum8(float v) {
  v += __shfl_xor_sync(0xffffffffu, v, 1);
  v += __shfl_xor_sync(0xffffffffu, v, 2);
  return v + __shfl_xor_sync(0xffffffffu, v, 4);
}

template <int HD, int BQ, int BK, typename T>
__global__ void __launch_bounds__(kPaThreads) prompt_attention_kernel(const AttnArgs a) {
  typedef PromptSmem<HD, BQ, BK> S;
  const int QS = S::QS, PSTR = S::PSTR;
  const int RQ = BQ / 16, CK = BK / 8, NC = HD / 32;
  extern __shared__ float4 sh4[];
  float* qs = reinterpret_cast<float*>(sh4);  // [BQ][QS], pre-scaled
  float* ks = qs + BQ * QS;                    // [BK][QS]
  float* vs = ks + BK * QS;                    // [BK][HD]
  float* ps = vs + BK * HD;                    // [BQ][PSTR] probabilities of the tile
  __shared__ int s_pos[BQ], s_lo[BQ];
  __shared__ int s_range[2];
  pdl_wait();
  pdl_trigger();

  const int hdk = a.head_dim_k, hdv = a.head_dim_v;
  const int h = blockIdx.y, hk = h / (a.n_head / a.n_head_kv);
  const int t0 = (gridDim.x - 1 - blockIdx.x) * BQ;  // the longest tiles first
  const int tid = threadIdx.x, ty = tid / 8, tx = tid % 8;

  if (tid < BQ) {
    const int t = t0 + tid;
    const int p = t < a.n ? a.pos[t] : -1;
    s_pos[tid] = p;
    s_lo[tid] = p < 0 ? INT_MAX : (a.window > 0 ? max(0, p - a.window + 1) : 0);
  }
  for (int i = tid; i < BQ * (hdk / 4); i += kPaThreads) {
    const int r = i / (hdk / 4), e = 4 * (i % (hdk / 4));
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    if (t0 + r < a.n) {
      v = __ldg(reinterpret_cast<const float4*>(a.q + (static_cast<int64_t>(t0 + r) * a.n_head + h) * hdk + e));
      v = make_float4(v.x * a.scale, v.y * a.scale, v.z * a.scale, v.w * a.scale);
    }
    *reinterpret_cast<float4*>(qs + r * QS + e) = v;
  }
  __syncthreads();
  if (tid == 0) {
    int lo = INT_MAX, hi = -1;
    for (int r = 0; r < BQ; ++r) {
      lo = min(lo, s_lo[r]);
      hi = max(hi, s_pos[r]);
    }
    s_range[0] = lo;
    s_range[1] = hi;
  }
  __syncthreads();
  const int jlo = s_range[0], jhi = s_range[1];

  int rp[RQ], rlo[RQ];
  float m[RQ], l[RQ], o[RQ][NC][4];
#pragma unroll
  for (int i = 0; i < RQ; ++i) {
    rp[i] = s_pos[ty * RQ + i];
    rlo[i] = s_lo[ty * RQ + i];
    m[i] = -INFINITY;
    l[i] = 0.f;
#pragma unroll
    for (int c = 0; c < NC; ++c)
#pragma unroll
      for (int k = 0; k < 4; ++k) o[i][c][k] = 0.f;
  }

  // One launch is one sequence: every token's slot is seq[0]'s.
  const int64_t sb = slot_base(a.seq, 0, a.ring);
  const T* kc = static_cast<const T*>(a.kc) + sb * a.k_row;
  const T* vc = static_cast<const T*>(a.vc) + sb * a.v_row;
  KvTile<T, BK, HD> kt, vt;
  if (jlo <= jhi) {
    kt.load(kc, a.k_row, a.ring, hk, hdk, jlo, jhi);
    vt.load(vc, a.v_row, a.ring, hk, hdv, jlo, jhi);
  }
  for (int j0 = jlo; j0 <= jhi; j0 += BK) {
    kt.store(hdk, ks, QS);
    vt.store(hdv, vs, HD);
    __syncthreads();
    if (j0 + BK <= jhi) {
      kt.load(kc, a.k_row, a.ring, hk, hdk, j0 + BK, jhi);
      vt.load(vc, a.v_row, a.ring, hk, hdv, j0 + BK, jhi);
    }

    float s[RQ][CK];
#pragma unroll
    for (int i = 0; i < RQ; ++i)
#pragma unroll
      for (int j = 0; j < CK; ++j) s[i][j] = 0.f;
    for (int e = 0; e < hdk; e += 4) {
      float4 kv[CK];
#pragma unroll
      for (int j = 0; j < CK; ++j) kv[j] = *reinterpret_cast<const float4*>(ks + (tx + 8 * j) * QS + e);
#pragma unroll
      for (int i = 0; i < RQ; ++i) {
        const float4 q = *reinterpret_cast<const float4*>(qs + (ty * RQ + i) * QS + e);
#pragma unroll
        for (int j = 0; j < CK; ++j) s[i][j] += q.x * kv[j].x + q.y * kv[j].y + q.z * kv[j].z + q.w * kv[j].w;
      }
    }

    // Online softmax of each row over this tile.
#pragma unroll
    for (int i = 0; i < RQ; ++i) {
      float mx = -INFINITY;
#pragma unroll
      for (int j = 0; j < CK; ++j) {
        const int jp = j0 + tx + 8 * j;
        if (jp > rp[i] || jp < rlo[i]) s[i][j] = -INFINITY;
        mx = fmaxf(mx, s[i][j]);
      }
      const float mn = fmaxf(m[i], max8(mx));
      const float base = mn == -INFINITY ? 0.f : mn;  // a row with nothing visible yet
      const float alpha = __expf(m[i] - base);
      float sum = 0.f;
#pragma unroll
      for (int j = 0; j < CK; ++j) {
        const float p = __expf(s[i][j] - base);
        ps[(ty * RQ + i) * PSTR + tx + 8 * j] = p;
        sum += p;
      }
      l[i] = l[i] * alpha + sum8(sum);
      m[i] = mn;
#pragma unroll
      for (int c = 0; c < NC; ++c)
#pragma unroll
        for (int k = 0; k < 4; ++k) o[i][c][k] *= alpha;
    }
    __syncthreads();

    // Values.
#pragma unroll 4
    for (int k = 0; k < BK; ++k) {
      float4 v[NC];
#pragma unroll
      for (int c = 0; c < NC; ++c) v[c] = *reinterpret_cast<const float4*>(vs + k * HD + 4 * tx + 32 * c);
#pragma unroll
      for (int i = 0; i < RQ; ++i) {
        const float p = ps[(ty * RQ + i) * PSTR + k];
#pragma unroll
        for (int c = 0; c < NC; ++c) {
          o[i][c][0] += p * v[c].x;
          o[i][c][1] += p * v[c].y;
          o[i][c][2] += p * v[c].z;
          o[i][c][3] += p * v[c].w;
        }
      }
    }
    __syncthreads();
  }

#pragma unroll
  for (int i = 0; i < RQ; ++i) {
    const int t = t0 + ty * RQ + i;
    if (t >= a.n) continue;
    const float inv = l[i] > 0.f ? 1.f / l[i] : 0.f;
    float* out = a.out + (static_cast<int64_t>(t) * a.n_head + h) * hdv;
#pragma unroll
    for (int c = 0; c < NC; ++c) {
      const int d = 4 * tx + 32 * c;
      if (d < hdv)
        *reinterpret_cast<float4*>(out + d) =
            make_float4(o[i][c][0] * inv, o[i][c][1] * inv, o[i][c][2] * inv, o[i][c][3] * inv);
    }
  }
}

template <int BQ, int BK>
void run_prompt(const AttnArgs& a, cudaStream_t s) {
  const size_t smem = PromptSmem<64, BQ, BK>::kFloats * sizeof(float);
  const dim3 grid(ceil_div(a.n, BQ), a.n_head);
  if (a.kv_f16) launch_kernel(prompt_attention_kernel<64, BQ, BK, __half>, grid, dim3(kPaThreads), smem, s, a);
  else launch_kernel(prompt_attention_kernel<64, BQ, BK, float>, grid, dim3(kPaThreads), smem, s, a);
}

}  // namespace

// Taken when tiles of 32 tokens or more give two blocks per multiprocessor:
// with fewer heads (Qwen2.5 0.5B: 14 of 2 kv heads) the tiles would have to
// shrink to 16 tokens, and the general kernel, which reads K and V once per
// GQA group and token, was faster (78k against 66k t/s at 512 tokens).
bool prompt_attention_fits(const AttnArgs& a) {
  return a.n > 8 && a.head_dim_k <= 64 && a.head_dim_v <= 64 && a.head_dim_k % 8 == 0 && a.head_dim_v % 8 == 0 &&
         a.k_row % 8 == 0 && a.v_row % 8 == 0 &&
         static_cast<int64_t>(ceil_div(a.n, 32)) * a.n_head >= 2 * static_cast<int64_t>(sm_count());
}

void launch_prompt_attention(const AttnArgs& a, cudaStream_t s) {
  CUDA_REQUIRE(prompt_attention_fits(a), "prompt attention: head sizes " + std::to_string(a.head_dim_k) + "/" +
                                             std::to_string(a.head_dim_v));
  // Tiles of 64 tokens where they still give two blocks per multiprocessor
  // (a block walks its tokens' whole causal range: too few blocks leave the
  // GPU waiting for the longest).
  if (static_cast<int64_t>(ceil_div(a.n, 64)) * a.n_head >= 2 * static_cast<int64_t>(sm_count())) run_prompt<64, 32>(a, s);
  else run_prompt<32, 32>(a, s);
}

}  // namespace cuda
}  // namespace jetlm
