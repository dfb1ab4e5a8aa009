// Attention of one new token (a decode step) with the head preparation fused
// in: grid (splits, query heads), one query head per block, 128 or 256 threads.
// Every phase uses the whole block, and the cache reads of a phase are issued
// together before any of them is used, so a step is a few round trips to
// memory whatever the head size:
//  1. prep: q (and, in the blocks whose chunk holds the new position, k and v)
//     loaded by all threads; the optional RMSNorms as block sums, RoPE one
//     rotation pair per thread (q and k share the angle); the first query
//     head of each kv head stores k and v to the cache. The new position's
//     score and value then come from shared memory, not from the cache.
//  2. per chunk of CH positions: scores with L = hdk/8 lanes per key row
//     (16-byte loads, a row is read by neighbouring lanes), an online softmax
//     on one warp, values with hdv/8 threads per row (8 values each).
//  3. splits > 1: the last block of a head to finish combines the splits.
// Shapes it takes: head sizes multiples of 8 up to 256, hdv a power of two,
// rows 16-byte aligned (see decode_attention_fits); others use attention.cu.
#include "backends/cuda/attention_common.cuh"

namespace jetlm {
namespace cuda {

namespace {

// Threads per block: 128, or 256 where that lets one split cover the context
// (decode_attention_rows, launch_decode_attention).
constexpr int kDecMaxThreads = 256;
constexpr int kDecMaxHead = 256;
constexpr int kDecMaxChunk = 128;
constexpr int kDecUnroll = 8;  // cache rows in flight per thread

// Lanes that share one key row: hdk/8 rounded up to a power of two.
JHD int key_lanes(int hdk) {
  int l = 1;
  while (l < 32 && 8 * l < hdk) l *= 2;
  return l;
}

// Shared memory, in floats: q[hdk] k[hdk] v[hdv] sc[kDecMaxChunk] red[2 * warps] part[threads / (hdv/8)][hdv].
struct DecSmem {
  int q, k, v, sc, red, part, total;
};
JHD DecSmem dec_smem(int hdk, int hdv, int threads) {
  DecSmem m;
  m.q = 0;
  m.k = m.q + hdk;
  m.v = m.k + hdk;
  m.sc = m.v + hdv;
  m.red = m.sc + kDecMaxChunk;
  m.part = m.red + 2 * (threads / 32);
  m.total = m.part + (threads / (hdv / 8)) * hdv;
  return m;
}

// Positions one block reads in one batch of loads with `threads` threads.
JHD int dec_rows(int hdk, int hdv, int threads) {
  const int key_rows = threads / 32 * (32 / key_lanes(hdk)) * kDecUnroll;
  const int value_rows = threads / (hdv / 8) * kDecUnroll;
  const int rows = key_rows < value_rows ? key_rows : value_rows;
  return rows < kDecMaxChunk ? rows : kDecMaxChunk;
}

template <typename T, int kDecThreads>
__global__ void __launch_bounds__(kDecThreads) decode_attention_kernel(const AttnArgs a) {
  constexpr int kDecWarps = kDecThreads / 32;
  extern __shared__ float4 dsh4[];  // float4: q and k rows are read as 16-byte vectors
  float* sh = reinterpret_cast<float*>(dsh4);
  __shared__ float s_m, s_l, s_alpha;
  KTrace trace(kTrAttention << 24 | 2u);
  const HeadPrepArgs& h = a.prep;
  const int hdk = a.head_dim_k, hdv = a.head_dim_v;
  const DecSmem lay = dec_smem(hdk, hdv, kDecThreads);
  float* qs = sh + lay.q;
  float* kn = sh + lay.k;
  float* vn = sh + lay.v;
  float* sc = sh + lay.sc;
  float* red = sh + lay.red;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int s = blockIdx.x, hq = blockIdx.y, S = a.n_splits;
  const int group = a.n_head / a.n_head_kv, hk = hq / group;
  // Before the wait: what no earlier kernel of this step writes. The position
  // (uploaded before the step), the norm weights, and the cache rows of this
  // split's first batch: rows before the new position were stored by earlier steps.
  const int p1 = a.pos[0];
  const int lo = a.window > 0 ? max(0, p1 - a.window + 1) : 0;
  const int CH = a.chunk;
  const int n_chunks = (p1 - lo + CH) / CH;
  const bool has_new = s == (n_chunks - 1) % S;
  const bool writer = has_new && hq % group == 0;
  // The token's slot (uploaded before the step, like its position).
  const int64_t sb = slot_base(a.seq, 0, a.ring);
  const T* kc = static_cast<const T*>(a.kc) + sb * a.k_row;
  const T* vc = static_cast<const T*>(a.vc) + sb * a.v_row;
  // L and VL are powers of two: shifts and masks, no divisions in the loops.
  const int L = key_lanes(hdk), lg = __ffs(L) - 1, P = 32 >> lg, PB = kDecWarps * P;  // key rows per warp / block step
  const int e = 8 * (lane & (L - 1));                                                  // this lane's 8 key values
  const int jr = warp * P + (lane >> lg);                                              // this lane's row of a step
  const bool lead = (lane & (L - 1)) == 0;                                             // stores the row's score
  const int VL = hdv / 8, vlg = __ffs(VL) - 1, VS = kDecThreads >> vlg;  // value threads per row, rows at once
  const int vd = 8 * (tid & (VL - 1)), vs = tid >> vlg;
  float qw[2], kw[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int i = tid + r * kDecThreads;
    qw[r] = h.q_normed && h.q_norm && i < hdk ? h.q_norm[i] : 1.f;
    kw[r] = has_new && h.k_normed && h.k_norm && i < hdk ? h.k_norm[i] : 1.f;
  }
  // The rotation of this thread's first RoPE pair: the angle needs only the
  // position and the frequencies (powf, sincosf, Llama 3's frequency factors).
  const bool roped = h.q_rope || (has_new && h.k_rope);
  float rsn = 0.f, rcs = 1.f;
  if (roped && tid < h.rope.n_rot / 2) sincosf(rope_theta(h.rope, p1, tid), &rsn, &rcs);
  KvRaw8<T> kr[kDecUnroll], vr[kDecUnroll];
#pragma unroll
  for (int u = 0; u < kDecUnroll; ++u) {  // rows a step does not load keep defined values (see below)
    kr[u].clear();
    vr[u].clear();
  }
  if (s < n_chunks) {
    const int j0 = lo + s * CH;
    const int cn = min(CH, p1 + 1 - j0);
#pragma unroll
    for (int u = 0; u < kDecUnroll; ++u) {
      const int j = u * PB + jr;
      if (j < cn && e < hdk && j0 + j != p1)
        kr[u].load(kc + ring_row(j0 + j, a.ring) * a.k_row + static_cast<int64_t>(hk) * hdk + e);
      const int jv = vs + u * VS;
      if (jv < cn && j0 + jv != p1)
        vr[u].load(vc + ring_row(j0 + jv, a.ring) * a.v_row + static_cast<int64_t>(hk) * hdv + vd);
    }
  }
  pdl_wait();
  trace.released();
  pdl_trigger();

  // 1. Head preparation (at most two values of a head per thread).
  float qv[2], kv[2];
  float sq = 0.f, sk = 0.f;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int i = tid + r * kDecThreads;
    qv[r] = i < hdk ? h.q[static_cast<int64_t>(hq) * hdk + i] : 0.f;
    kv[r] = has_new && i < hdk ? h.k[static_cast<int64_t>(hk) * hdk + i] : 0.f;
    if (has_new && i < hdv) vn[i] = h.v[static_cast<int64_t>(hk) * hdv + i];
    sq += qv[r] * qv[r];
    sk += kv[r] * kv[r];
  }
  if (h.q_normed || h.k_normed) {
    sq = warp_sum(sq);
    sk = warp_sum(sk);
    if (lane == 0) {
      red[warp] = sq;
      red[kDecWarps + warp] = sk;
    }
    __syncthreads();
    sq = sk = 0.f;
#pragma unroll
    for (int w = 0; w < kDecWarps; ++w) {
      sq += red[w];
      sk += red[kDecWarps + w];
    }
  }
  // (Fast reciprocals: an IEEE division's slow-path branches cost more here than they save.)
  const float inv_q = h.q_normed ? rsqrtf(__fdividef(sq, static_cast<float>(hdk)) + h.q_eps) : 1.f;
  const float inv_k = h.k_normed ? rsqrtf(__fdividef(sk, static_cast<float>(hdk)) + h.k_eps) : 1.f;
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int i = tid + r * kDecThreads;
    if (i < hdk) {
      qs[i] = h.q_normed ? qv[r] * inv_q * qw[r] : qv[r];
      if (has_new) kn[i] = h.k_normed ? kv[r] * inv_k * kw[r] : kv[r];
    }
  }
  __syncthreads();
  if (roped) {
    for (int i = tid; i < h.rope.n_rot / 2; i += kDecThreads) {
      float sn = rsn, cs = rcs;
      if (i != tid) sincosf(rope_theta(h.rope, p1, i), &sn, &cs);
      int ia, ib;
      rope_pair(h.rope, i, ia, ib);
      if (h.q_rope) {
        const float x0 = qs[ia], x1 = qs[ib];
        qs[ia] = x0 * cs - x1 * sn;
        qs[ib] = x0 * sn + x1 * cs;
      }
      if (has_new && h.k_rope) {
        const float x0 = kn[ia], x1 = kn[ib];
        kn[ia] = x0 * cs - x1 * sn;
        kn[ib] = x0 * sn + x1 * cs;
      }
    }
    __syncthreads();
  }
  if (writer) {
    const int64_t r1 = sb + ring_row(p1, a.ring);
    char* kd = kv_row(h.kc, h.k_row, r1, hk, hdk, h.kv_f16);
    char* vd_row = kv_row(h.vc, h.v_row, r1, hk, hdv, h.kv_f16);
    for (int i = tid; i < hdk; i += kDecThreads) kv_put(kd, i, kn[i], h.kv_f16);
    for (int i = tid; i < hdv; i += kDecThreads) kv_put(vd_row, i, vn[i], h.kv_f16);
  }
  trace.mark(0);

  // 2. The chunks of this split (the first batch of rows is already loaded).
  float acc[8];
#pragma unroll
  for (int k = 0; k < 8; ++k) acc[k] = 0.f;
  float m_run = -INFINITY, l_run = 0.f;  // (meaningful in warp 0)
  for (int c = s; c < n_chunks; c += S) {
    const int j0 = lo + c * CH;
    const int cn = min(CH, p1 + 1 - j0);
    // Scores: row j0 + j on lanes (j % P) * L .. of warp (j / P) % kDecWarps.
    const float4 q0 = e < hdk ? *reinterpret_cast<const float4*>(qs + e) : make_float4(0.f, 0.f, 0.f, 0.f);
    const float4 q1 = e < hdk ? *reinterpret_cast<const float4*>(qs + e + 4) : make_float4(0.f, 0.f, 0.f, 0.f);
    float knew[8];  // this lane's values of the new position's key
#pragma unroll
    for (int k = 0; k < 8; ++k) knew[k] = e < hdk ? kn[e + k] : 0.f;
    for (int u0 = 0; u0 < cn; u0 += PB * kDecUnroll) {
      if (c != s || u0 != 0) {
#pragma unroll
        for (int u = 0; u < kDecUnroll; ++u) {
          const int j = u0 + u * PB + jr;
          if (j < cn && e < hdk && j0 + j != p1)
            kr[u].load(kc + ring_row(j0 + j, a.ring) * a.k_row + static_cast<int64_t>(hk) * hdk + e);
        }
      }
#pragma unroll
      for (int u = 0; u < kDecUnroll; ++u) {
        const int j = u0 + u * PB + jr;
        // Selected, not branched on: the new position's key comes from shared
        // memory, a lane past the head adds nothing, a row past the chunk is not stored.
        float kf[8];
        kr[u].get(kf);
        const bool is_new = j0 + j == p1;
#pragma unroll
        for (int k = 0; k < 8; ++k) kf[k] = is_new ? knew[k] : kf[k];
        float d = q0.x * kf[0] + q0.y * kf[1] + q0.z * kf[2] + q0.w * kf[3] + q1.x * kf[4] + q1.y * kf[5] +
                  q1.z * kf[6] + q1.w * kf[7];
        d = e < hdk ? d : 0.f;
#pragma unroll
        for (int o = 16; o > 0; o >>= 1)
          if (o < L) d += __shfl_xor_sync(0xffffffffu, d, o);
        if (lead && j < cn) sc[j] = d * a.scale;
      }
    }
    __syncthreads();
    // Online softmax on warp 0.
    if (warp == 0) {
      float v[kDecMaxChunk / 32];
      float mx = -INFINITY;
#pragma unroll
      for (int i = 0; i < kDecMaxChunk / 32; ++i) {
        const int j = lane + 32 * i;
        v[i] = j < cn ? sc[j] : -INFINITY;
        mx = fmaxf(mx, v[i]);
      }
      mx = warp_max(mx);
      const float mn = fmaxf(m_run, mx);
      float sum = 0.f;
#pragma unroll
      for (int i = 0; i < kDecMaxChunk / 32; ++i) {
        const int j = lane + 32 * i;
        const float ex = j < cn ? __expf(v[i] - mn) : 0.f;
        if (j < cn) sc[j] = ex;
        sum += ex;
      }
      sum = warp_sum(sum);
      const float al = __expf(m_run - mn);
      l_run = l_run * al + sum;
      m_run = mn;
      if (lane == 0) s_alpha = al;
    }
    __syncthreads();
    // Values: row j0 + j on threads vs = j % VS, 8 values each.
    const float al = s_alpha;
#pragma unroll
    for (int k = 0; k < 8; ++k) acc[k] *= al;
    for (int u0 = vs; u0 < cn; u0 += VS * kDecUnroll) {
      if (c != s || u0 != vs) {
#pragma unroll
        for (int u = 0; u < kDecUnroll; ++u) {
          const int j = u0 + u * VS;
          if (j < cn && j0 + j != p1)
            vr[u].load(vc + ring_row(j0 + j, a.ring) * a.v_row + static_cast<int64_t>(hk) * hdv + vd);
        }
      }
#pragma unroll
      for (int u = 0; u < kDecUnroll; ++u) {
        const int j = u0 + u * VS;
        if (j < cn) {
          float vf[8];
          if (j0 + j != p1) {
            vr[u].get(vf);
          } else {
#pragma unroll
            for (int k = 0; k < 8; ++k) vf[k] = vn[vd + k];
          }
          const float pj = sc[j];
#pragma unroll
          for (int k = 0; k < 8; ++k) acc[k] = fmaf(pj, vf[k], acc[k]);
        }
      }
    }
    __syncthreads();  // sc is rewritten by the next chunk
  }
  if (tid == 0) {
    s_m = m_run;
    s_l = l_run;
  }
  // Sum the row slices.
  float* part = sh + lay.part;  // [VS][hdv]
#pragma unroll
  for (int k = 0; k < 8; ++k) part[vs * hdv + vd + k] = acc[k];
  __syncthreads();
  trace.mark(1);
  const int64_t head = hq;  // one token: output row [n_head][hdv]
  float o[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int d = tid + r * kDecThreads;
    o[r] = 0.f;
    if (d < hdv)
      for (int k = 0; k < VS; ++k) o[r] += part[k * hdv + d];
  }
  if (S == 1) {
    const float inv_l = __fdividef(1.f, s_l);
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int d = tid + r * kDecThreads;
      if (d < hdv) a.out[head * hdv + d] = o[r] * inv_l;
    }
    return;
  }

  // 3. Publish this split; the last block of the head to arrive combines them.
  float* po = a.work;                                 // [H][S][hdv]
  float* pml = a.work + static_cast<int64_t>(a.n_head) * S * hdv;  // [H][S][2]
  const int64_t base = head * S;
  if (s < n_chunks) {
#pragma unroll
    for (int r = 0; r < 2; ++r) {
      const int d = tid + r * kDecThreads;
      if (d < hdv) po[(base + s) * hdv + d] = o[r];
    }
    if (tid == 0) {
      pml[(base + s) * 2] = s_m;
      pml[(base + s) * 2 + 1] = s_l;
    }
  }
  const bool last = last_split_arrived(a.counters + hq, S);
  trace.mark(2);
  if (!last) return;
  const int ns = min(S, n_chunks);
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    const int d = tid + r * kDecThreads;
    if (d < hdv) {
      float v[1];
      combine_splits<1>(po + base * hdv, pml + base * 2, ns, hdv, d, v);
      a.out[head * hdv + d] = v[0];
    }
  }
  if (tid == 0) a.counters[hq] = 0;
}

}  // namespace

int decode_attention_rows(int hdk, int hdv, int64_t max_len) {
  if (hdk % 8 != 0 || hdk > kDecMaxHead || hdk < 8 || hdv % 8 != 0 || hdv > kDecMaxHead || hdv < 8 ||
      (hdv & (hdv - 1)) != 0)
    return 0;
  const int small = dec_rows(hdk, hdv, 128), large = dec_rows(hdk, hdv, kDecMaxThreads);
  // The larger block where it saves the combine of splits, and for heads of 256
  // values (Gemma 3), whose 32-position chunks of 128 threads made many splits:
  // there 256 threads gave 1.9% more tokens/s; for smaller heads, where splits
  // remain either way, they gave the same (docs/benchmarks.md, session 8).
  return hdk >= 256 || (max_len > small && max_len <= large) ? large : small;
}

bool decode_attention_fits(const AttnArgs& a) {
  const int align = a.kv_f16 ? 8 : 4;  // values per 16 bytes
  return a.fused_prep && a.n == 1 && a.heads_per_block == 1 && decode_attention_rows(a.head_dim_k, a.head_dim_v, 1) > 0 &&
         a.k_row % align == 0 && a.v_row % align == 0 && a.chunk <= kDecMaxChunk &&
         ((!a.prep.q_rope && !a.prep.k_rope) || a.prep.rope.n_rot <= a.head_dim_k);
}

void launch_decode_attention(const AttnArgs& a, cudaStream_t s) {
  const dim3 grid(a.n_splits, a.n_head, 1);
  const bool large = a.chunk > dec_rows(a.head_dim_k, a.head_dim_v, 128);
  const int threads = large ? kDecMaxThreads : 128;
  const size_t smem = static_cast<size_t>(dec_smem(a.head_dim_k, a.head_dim_v, threads).total) * sizeof(float);
  if (large) {
    if (a.kv_f16) launch_kernel(decode_attention_kernel<__half, kDecMaxThreads>, grid, dim3(threads), smem, s, a);
    else launch_kernel(decode_attention_kernel<float, kDecMaxThreads>, grid, dim3(threads), smem, s, a);
  } else {
    if (a.kv_f16) launch_kernel(decode_attention_kernel<__half, 128>, grid, dim3(threads), smem, s, a);
    else launch_kernel(decode_attention_kernel<float, 128>, grid, dim3(threads), smem, s, a);
  }
}

}  // namespace cuda
}  // namespace jetlm
