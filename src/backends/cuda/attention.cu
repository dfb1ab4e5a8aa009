// Attention over the KV cache, in two launches:
//  1. head_prep: per head of q and k, the optional RMSNorm (Gemma's q/k norms)
//     and RoPE at the token's position (read from device memory, so a captured
//     decode graph stays valid as positions advance); k and v go to the cache.
//  2. attention: grid (splits, kv heads, tokens). Each block takes the query
//     heads of one kv head (GQA: K and V are read once for the group), walks
//     its share of the sequence in chunks of 32-128 positions with an online
//     softmax, and the last block of each (token, kv head) to finish combines
//     the splits (flash-decoding without a second launch). Positions past the
//     token's own (causal) or before its window (sliding-window layers) are
//     never read.
// A decode step (one token, fused_prep) is one launch of attention_decode.cu
// instead, which prepares the heads itself, and a prompt (more than 8 tokens)
// takes the tiled kernel of attention_prompt.cu; this kernel remains for a few
// tokens and for the head sizes the other two do not take.
#include <string>

#include "backends/cuda/attention_common.cuh"

namespace jetlm {
namespace cuda {

namespace {

const int kChunk = 128;     // positions per chunk = threads per block
const int kPrepWarps = 8;

// One head on one warp: src (dim values) into buf, RMSNorm (weights nw, may be
// null) when normed, RoPE at position p when rope; then the result back to vec
// (when set and changed) and to the cache row dst (when set).
JDEV void prep_head(const float* src, int dim, bool normed, const float* nw, float eps, bool rope, const RopeArgs& ro,
                    int p, float* buf, float* vec, char* dst, bool f16) {
  const int lane = threadIdx.x & 31;
  for (int i = lane; i < dim; i += 32) buf[i] = src[i];
  __syncwarp();
  if (normed) {
    float ss = 0.f;
    for (int i = lane; i < dim; i += 32) ss += buf[i] * buf[i];
    const float s = 1.f / sqrtf(warp_sum(ss) / static_cast<float>(dim) + eps);
    for (int i = lane; i < dim; i += 32) buf[i] = buf[i] * s * (nw ? nw[i] : 1.f);
    __syncwarp();
  }
  if (rope) {
    for (int i = lane; i < ro.n_rot / 2; i += 32) {
      float sn, cs;
      sincosf(rope_theta(ro, p, i), &sn, &cs);
      int ia, ib;
      rope_pair(ro, i, ia, ib);
      const float x0 = buf[ia], x1 = buf[ib];
      buf[ia] = x0 * cs - x1 * sn;
      buf[ib] = x0 * sn + x1 * cs;
    }
    __syncwarp();
  }
  if (vec && (normed || rope))
    for (int i = lane; i < dim; i += 32) vec[i] = buf[i];
  if (dst)
    for (int i = lane; i < dim; i += 32) kv_put(dst, i, buf[i], f16);
}

__global__ void head_prep_kernel(const HeadPrepArgs a) {
  extern __shared__ float sh[];
  KTrace trace(kTrPrep << 24);
  pdl_wait();
  trace.released();
  const int warp = threadIdx.x >> 5;
  const int t = blockIdx.x;
  const int hmax = a.head_dim > a.head_dim_v ? a.head_dim : a.head_dim_v;
  const bool store = a.kc != nullptr;
  const int total = a.n_head_q + a.n_head_k + (store ? a.n_head_k : 0);
  const int hi = blockIdx.y * kPrepWarps + warp;
  pdl_trigger();
  if (hi >= total) return;
  const int p = a.pos[t];
  const int64_t r = store ? slot_base(a.seq, t, a.ring) + ring_row(p, a.ring) : 0;  // the token's cache row
  float* buf = sh + warp * hmax;
  if (hi < a.n_head_q) {
    float* vec = a.q + (static_cast<int64_t>(t) * a.n_head_q + hi) * a.head_dim;
    prep_head(vec, a.head_dim, a.q_normed, a.q_norm, a.q_eps, a.q_rope, a.rope, p, buf, vec, nullptr, a.kv_f16);
  } else if (hi < a.n_head_q + a.n_head_k) {
    const int kh = hi - a.n_head_q;
    float* vec = a.k + (static_cast<int64_t>(t) * a.n_head_k + kh) * a.head_dim;
    char* dst = store ? kv_row(a.kc, a.k_row, r, kh, a.head_dim, a.kv_f16) : nullptr;
    prep_head(vec, a.head_dim, a.k_normed, a.k_norm, a.k_eps, a.k_rope, a.rope, p, buf, vec, dst, a.kv_f16);
  } else {
    const int vh = hi - a.n_head_q - a.n_head_k;
    const float* src = a.v + (static_cast<int64_t>(t) * a.n_head_k + vh) * a.head_dim_v;
    prep_head(src, a.head_dim_v, false, nullptr, 0.f, false, a.rope, p, buf, nullptr,
              kv_row(a.vc, a.v_row, r, vh, a.head_dim_v, a.kv_f16), a.kv_f16);
  }
}

JDEV float2 load_kv2(const __half* p) {
  const uint32_t w = __ldg(reinterpret_cast<const unsigned int*>(p));
  return make_float2(h2f(w), h2f(w >> 16));
}
JDEV float2 load_kv2(const float* p) { return __ldg(reinterpret_cast<const float2*>(p)); }

// Shared-memory float offset of the position slices' sums (one head per block):
// after the query, the scores and the three per-head values, float2-aligned.
JHD int attn_part_offset(int q_floats) { return (q_floats + kChunk + 3 + 3) & ~3; }

template <int kMaxG, typename T>
__global__ void __launch_bounds__(kChunk) attention_kernel(const AttnArgs a) {
  extern __shared__ float4 sh4[];  // float4: the query rows are read as 16-byte vectors
  float* sh = reinterpret_cast<float*>(sh4);
  KTrace trace(kTrAttention << 24);
  pdl_wait();
  trace.released();
  pdl_trigger();  // the next kernel may start on its weights (nothing it reads before its wait is ours)
  // This block takes query heads g0 .. g0 + G - 1 of kv head hk (all of the
  // group, or fewer to give a one-token step more blocks).
  const int group = a.n_head / a.n_head_kv;
  const int G = a.heads_per_block;
  const int blocks_per_kv = group / G;
  const int hk = blockIdx.y / blocks_per_kv, g0 = (blockIdx.y % blocks_per_kv) * G;
  const int hdk = a.head_dim_k, hdv = a.head_dim_v;
  float* qs = sh;                     // [G][hdk], pre-scaled
  float* sc = qs + G * hdk;           // [kMaxG][kChunk] scores, then probabilities
  float* m_run = sc + kMaxG * kChunk;  // running max per head
  float* l_run = m_run + kMaxG;        // running sum per head
  float* alpha = l_run + kMaxG;        // rescale of this chunk per head
  const int s = blockIdx.x, t = blockIdx.z, tid = threadIdx.x;
  const int lane = tid & 31, warp = tid >> 5;
  const int S = a.n_splits;
  const int p1 = a.pos[t];
  const int lo = a.window > 0 ? max(0, p1 - a.window + 1) : 0;
  const int CH = a.chunk;
  const int n_chunks = (p1 - lo + CH) / CH;
  // This token's slot (its rows start there; position j is row ring_row(j)).
  const int64_t sb = slot_base(a.seq, t, a.ring);
  const T* kc = static_cast<const T*>(a.kc) + sb * a.k_row;
  const T* vc = static_cast<const T*>(a.vc) + sb * a.v_row;

  const float* qg = a.q + (static_cast<int64_t>(t) * a.n_head + static_cast<int64_t>(hk) * group + g0) * hdk;
  for (int i = tid; i < G * hdk; i += kChunk) qs[i] = qg[i] * a.scale;
  if (tid < kMaxG) {
    m_run[tid] = -INFINITY;
    l_run[tid] = 0.f;
  }
  __syncthreads();

  // Output ownership: value pair dp of heads hs, hs + TPR, ... (V loads shared by those heads).
  // With one head per block (kMaxG == 1, a decode step) the TPR thread groups
  // instead take every TPR-th position of a chunk, and add up at the end.
  const int DP = hdv / 2, TPR = kChunk / DP;
  const int dp = tid % DP, hs = tid / DP;
  const int ps = kMaxG == 1 ? hs : 0, PS = kMaxG == 1 ? TPR : 1;
  const int ha = kMaxG == 1 ? 0 : hs;  // the first head this thread accumulates (outputs: hs)
  float2 acc[kMaxG];
#pragma unroll
  for (int k = 0; k < kMaxG; ++k) acc[k] = make_float2(0.f, 0.f);

  for (int c = s; c < n_chunks; c += S) {
    const int j0 = lo + c * CH;
    const int cn = min(CH, p1 + 1 - j0);
    // Scores: thread tid takes position j0 + tid against every head of the group.
    if (tid < cn) {
      const T* kr = kc + ring_row(j0 + tid, a.ring) * a.k_row + static_cast<int64_t>(hk) * hdk;
      float d[kMaxG];
#pragma unroll
      for (int h = 0; h < kMaxG; ++h) d[h] = 0.f;
#pragma unroll 8
      for (int e = 0; e < hdk; e += 8) {
        float kf[8];
        load_kv8(kr + e, kf);
#pragma unroll
        for (int h = 0; h < kMaxG; ++h) {
          if (h < G) {
            const float4 q0 = *reinterpret_cast<const float4*>(qs + h * hdk + e);
            const float4 q1 = *reinterpret_cast<const float4*>(qs + h * hdk + e + 4);
            d[h] += q0.x * kf[0] + q0.y * kf[1] + q0.z * kf[2] + q0.w * kf[3] + q1.x * kf[4] + q1.y * kf[5] +
                    q1.z * kf[6] + q1.w * kf[7];
          }
        }
      }
#pragma unroll
      for (int h = 0; h < kMaxG; ++h)
        if (h < G) sc[h * kChunk + tid] = d[h];
    } else {
#pragma unroll
      for (int h = 0; h < kMaxG; ++h)
        if (h < G) sc[h * kChunk + tid] = -INFINITY;
    }
    __syncthreads();
    // Online softmax: one warp per head.
    for (int h = warp; h < G; h += kChunk / 32) {
      float v[kChunk / 32];
      float mx = -INFINITY;
#pragma unroll
      for (int i = 0; i < kChunk / 32; ++i) {
        v[i] = sc[h * kChunk + lane + 32 * i];
        mx = fmaxf(mx, v[i]);
      }
      mx = warp_max(mx);
      const float mo = m_run[h];
      const float mn = fmaxf(mo, mx);
      float sum = 0.f;
#pragma unroll
      for (int i = 0; i < kChunk / 32; ++i) {
        const float e = __expf(v[i] - mn);
        sc[h * kChunk + lane + 32 * i] = e;
        sum += e;
      }
      sum = warp_sum(sum);
      if (lane == 0) {
        const float al = __expf(mo - mn);
        alpha[h] = al;
        l_run[h] = l_run[h] * al + sum;
        m_run[h] = mn;
      }
    }
    __syncthreads();
    // Values.
#pragma unroll
    for (int k = 0; k < kMaxG; ++k) {
      const int h = ha + k * TPR;
      if (h < G) {
        acc[k].x *= alpha[h];
        acc[k].y *= alpha[h];
      }
    }
    const T* vb = vc + static_cast<int64_t>(hk) * hdv + 2 * dp;
    // Unrolled so that several value rows are in flight: a one-token step is
    // otherwise one dependent load per position.
#pragma unroll 8
    for (int j = ps; j < cn; j += PS) {
      const float2 vv = load_kv2(vb + ring_row(j0 + j, a.ring) * a.v_row);
#pragma unroll
      for (int k = 0; k < kMaxG; ++k) {
        const int h = ha + k * TPR;
        if (h < G) {
          const float pj = sc[h * kChunk + j];
          acc[k].x += pj * vv.x;
          acc[k].y += pj * vv.y;
        }
      }
    }
    __syncthreads();
  }

  trace.mark(1);
  if (PS > 1) {
    // Sum the position slices.
    float2* part = reinterpret_cast<float2*>(sh + attn_part_offset(G * hdk));  // [PS][DP]
    part[ps * DP + dp] = acc[0];
    __syncthreads();
    if (ps == 0) {
      for (int k = 1; k < PS; ++k) {
        const float2 o = part[k * DP + dp];
        acc[0].x += o.x;
        acc[0].y += o.y;
      }
    }
  }
  const int64_t head0 = static_cast<int64_t>(t) * a.n_head + static_cast<int64_t>(hk) * group + g0;
  if (S == 1) {
#pragma unroll
    for (int k = 0; k < kMaxG; ++k) {
      const int h = hs + k * TPR;
      if (h < G) {
        const float inv = 1.f / l_run[h];
        *reinterpret_cast<float2*>(a.out + (head0 + h) * hdv + 2 * dp) = make_float2(acc[k].x * inv, acc[k].y * inv);
      }
    }
    return;
  }

  // Several splits: publish this one, and let the last block to arrive combine.
  float* po = a.work;                                               // [n][H][S][hdv]
  float* pml = a.work + static_cast<int64_t>(gridDim.z) * a.n_head * S * hdv;  // [n][H][S][2]
  if (s < n_chunks) {
#pragma unroll
    for (int k = 0; k < kMaxG; ++k) {
      const int h = hs + k * TPR;
      if (h < G) {
        const int64_t base = (head0 + h) * S + s;
        *reinterpret_cast<float2*>(po + base * hdv + 2 * dp) = acc[k];
        if (dp == 0) {
          pml[base * 2] = m_run[h];
          pml[base * 2 + 1] = l_run[h];
        }
      }
    }
  }
  const bool last = last_split_arrived(a.counters + static_cast<int64_t>(t) * gridDim.y + blockIdx.y, S);
  trace.mark(2);
  if (!last) return;
  const int ns = min(S, n_chunks);
#pragma unroll
  for (int k = 0; k < kMaxG; ++k) {
    const int h = hs + k * TPR;
    if (h >= G) continue;
    const int64_t base = (head0 + h) * S;
    float o[2];
    combine_splits<2>(po + base * hdv, pml + base * 2, ns, hdv, 2 * dp, o);
    *reinterpret_cast<float2*>(a.out + (head0 + h) * hdv + 2 * dp) = make_float2(o[0], o[1]);
  }
  if (tid == 0) a.counters[static_cast<int64_t>(t) * gridDim.y + blockIdx.y] = 0;
}

template <int kMaxG>
void run_attention(const AttnArgs& a, cudaStream_t s) {
  const int G = a.heads_per_block;
  // kMaxG == 1: the position slices' sums (2 * kChunk floats) follow.
  const size_t smem = (kMaxG == 1 ? attn_part_offset(G * a.head_dim_k) + 2 * kChunk
                                  : static_cast<size_t>(G) * a.head_dim_k + kMaxG * kChunk + 3 * kMaxG) * sizeof(float);
  const dim3 grid(a.n_splits, a.n_head / G, a.n);
  if (a.kv_f16) launch_kernel(attention_kernel<kMaxG, __half>, grid, dim3(kChunk), smem, s, a);
  else launch_kernel(attention_kernel<kMaxG, float>, grid, dim3(kChunk), smem, s, a);
}

}  // namespace

void launch_head_prep(const HeadPrepArgs& a, cudaStream_t s) {
  CUDA_REQUIRE(a.n > 0 && a.pos != nullptr, "n = " + std::to_string(a.n));
  CUDA_REQUIRE(a.head_dim > 0 && a.head_dim <= 1024 && a.head_dim_v <= 1024, "head size " + std::to_string(a.head_dim));
  CUDA_REQUIRE((a.q == nullptr) == (a.n_head_q == 0) && (a.k == nullptr) == (a.n_head_k == 0), "heads without data");
  CUDA_REQUIRE(!(a.q_rope || a.k_rope) || (a.rope.n_rot % 2 == 0 && a.rope.n_rot <= a.head_dim), "n_rot " + std::to_string(a.rope.n_rot));
  CUDA_REQUIRE(!a.kc || (a.k && a.v && a.vc && a.head_dim_v > 0 && a.ring > 0), "KV store needs k, v, both caches and the ring");
  const int total = a.n_head_q + a.n_head_k + (a.kc ? a.n_head_k : 0);
  CUDA_REQUIRE(total > 0, "no heads");
  const int hmax = a.head_dim > a.head_dim_v ? a.head_dim : a.head_dim_v;
  const dim3 grid(a.n, ceil_div(total, kPrepWarps));
  launch_kernel(head_prep_kernel, grid, dim3(32 * kPrepWarps), static_cast<size_t>(kPrepWarps) * hmax * sizeof(float), s, a);
}

int attn_heads_per_block(int n, int n_head, int n_head_kv) { return n <= 8 ? 1 : n_head / n_head_kv; }

namespace {
// Blocks wanted per (token, head block): two per multiprocessor in all.
int attn_want(int n, int head_blocks, int n_sm) {
  return ceil_div(2 * static_cast<int64_t>(n_sm), static_cast<int64_t>(head_blocks) * n);
}
int64_t attn_max_len(int64_t n_ctx, int window) { return window > 0 && window < n_ctx ? window : n_ctx; }
}  // namespace

int attn_chunk(int n, int head_blocks, int64_t n_ctx, int window, int n_sm, int hdk, int hdv) {
  const int64_t max_len = attn_max_len(n_ctx, window);
  const int rows = n == 1 ? decode_attention_rows(hdk, hdv, max_len) : 0;
  if (rows > 0) return rows;
  const int want = attn_want(n, head_blocks, n_sm);
  int chunk = kChunk;
  while (chunk > 32 && ceil_div(max_len, chunk) < want) chunk /= 2;
  return chunk;
}

int attn_splits(int n, int head_blocks, int64_t n_ctx, int window, int n_sm, int hdk, int hdv) {
  const int chunks = ceil_div(attn_max_len(n_ctx, window), attn_chunk(n, head_blocks, n_ctx, window, n_sm, hdk, hdv));
  if (n == 1 && decode_attention_rows(hdk, hdv, 1) > 0) return chunks < 64 ? chunks : 64;
  // At most one split per chunk.
  const int want = attn_want(n, head_blocks, n_sm);
  int sp = want < chunks ? want : chunks;
  if (sp > 64) sp = 64;
  return sp < 1 ? 1 : sp;
}

size_t attn_work_floats(int n, int n_head, int head_dim_v, int n_splits) {
  if (n_splits <= 1) return 0;
  return static_cast<size_t>(n) * n_head * n_splits * (head_dim_v + 2);
}

void launch_attention(const AttnArgs& a, cudaStream_t s) {
  CUDA_REQUIRE(a.n > 0 && a.pos && a.q && a.kc && a.vc && a.out && a.ring > 0, "null argument");
  CUDA_REQUIRE(a.n_head > 0 && a.n_head_kv > 0 && a.n_head % a.n_head_kv == 0, "heads " + std::to_string(a.n_head) + "/" + std::to_string(a.n_head_kv));
  const int group = a.n_head / a.n_head_kv;
  CUDA_REQUIRE(group <= 16, "GQA group of " + std::to_string(group) + " query heads per kv head (at most 16)");
  const int G = a.heads_per_block;
  CUDA_REQUIRE(G >= 1 && group % G == 0, "heads per block " + std::to_string(G));
  CUDA_REQUIRE(a.head_dim_k % 8 == 0 && a.k_row % 8 == 0, "key head size " + std::to_string(a.head_dim_k) + " must be a multiple of 8");
  CUDA_REQUIRE(a.head_dim_v >= 2 && a.head_dim_v <= 256 && (kChunk % (a.head_dim_v / 2)) == 0 && a.head_dim_v % 2 == 0 && a.v_row % 2 == 0,
               "value head size " + std::to_string(a.head_dim_v) + " must be a power of two up to 256");
  CUDA_REQUIRE(a.n_splits >= 1 && (a.n_splits == 1 || (a.work && a.counters)), "splits need a workspace");
  CUDA_REQUIRE(a.chunk >= 1 && a.chunk <= kChunk, "chunk of " + std::to_string(a.chunk) + " positions");
  CUDA_REQUIRE(!a.fused_prep || (a.n == 1 && G == 1 && a.prep.q && a.prep.k && a.prep.v && a.prep.kc && a.prep.vc),
               "fused head preparation needs one token, one head per block and a KV store");
  CUDA_REQUIRE((static_cast<size_t>(G) * a.head_dim_k + 16 * kChunk + 48 + a.head_dim_k + a.head_dim_v) * sizeof(float) <= 48 * 1024,
               "query heads too large for shared memory");
  if (a.fused_prep) {
    if (decode_attention_fits(a)) {
      launch_decode_attention(a, s);
      return;
    }
    // Shapes the one-token kernel does not take: prepare the heads first.
    launch_head_prep(a.prep, s);
    AttnArgs b = a;
    b.fused_prep = false;
    run_attention<1>(b, s);
    return;
  }
  if (prompt_attention_fits(a)) {
    launch_prompt_attention(a, s);
    return;
  }
  if (G <= 1) run_attention<1>(a, s);
  else if (G <= 2) run_attention<2>(a, s);
  else if (G <= 4) run_attention<4>(a, s);
  else if (G <= 8) run_attention<8>(a, s);
  else run_attention<16>(a, s);
}

}  // namespace cuda
}  // namespace jetlm
