// Running the queued ops of the CUDA backend. Neighbouring ops that the model
// code always issues together become one launch each (JETLM_CUDA_FUSE=0 turns
// this off; every fused launch computes what the separate ops would,
// intermediate buffers included, except where noted):
//   rms_norm -> (matmul [-> add_bias]) x1..3 (same input) [-> add_bias..] [-> glu | -> add]
//       one matrix-vector launch (tokens <= 8): norm prologue, every weight,
//       bias/GLU/residual epilogue (the normalized input is not stored when
//       no later op reads it before it is overwritten);
//   [rms_norm q] [rms_norm k] [rope q] [rope k] -> attention
//       head preparation + KV store, then attention; for one token, one
//       attention launch that prepares q, k and v itself (the q and k
//       buffers are then left unrotated: nothing reads them afterwards);
//   rms_norm(y, in place) -> add(x, y)
//       one post-norm + residual launch (Gemma 3).
#include <algorithm>
#include <chrono>
#include <vector>

#include "backends/cuda/cuda_backend.h"
#include "backends/cuda/cuda_check.h"
#include "gguf/gguf.h"
#include "util/error.h"

namespace jetlm {
namespace cuda {

namespace {

const int64_t kGemmChunkValues = int64_t(16) << 20;  // float16 weight rows dequantized at a time

bool disjoint(const void* a, size_t abytes, const void* b, size_t bbytes) {
  const char* x = static_cast<const char*>(a);
  const char* y = static_cast<const char*>(b);
  return x + abytes <= y || y + bbytes <= x;
}

Act act_of(Glu g) { return g == Glu::SiLU ? Act::SiLU : Act::GeluTanh; }

bool is_quantized(TensorType t) { return t != TensorType::F32 && t != TensorType::F16 && t != TensorType::BF16; }

int matvec_tokens() { return matvec_tuning().max_tokens; }

bool use_matvec(const Weight& w, int n) {
  return n <= matvec_tokens() || (n <= matvec_tuning().chunked_tokens && is_quantized(w.type));
}

RopeArgs rope_args(const Op& r) {
  RopeArgs a;
  a.n_rot = r.rope.n_rot;
  a.freq_base = r.rope.freq_base;
  a.freq_scale = r.rope.freq_scale;
  a.neox = r.rope.neox;
  a.freq_factors = r.ff;
  return a;
}

bool same_rope(const Op& x, const Op& y) {
  return x.rope.n_rot == y.rope.n_rot && x.rope.freq_base == y.rope.freq_base &&
         x.rope.freq_scale == y.rope.freq_scale && x.rope.neox == y.rope.neox && x.ff == y.ff;
}

// Whether the queued ops from `from` on may read [buf, buf + bytes): true
// unless a norm or matrix product overwrites all of it before any op reads
// from it (read-modify-write ops count as reads; the end of the queue too,
// since the caller may read the buffer after the flush).
bool read_later(const std::vector<Op>& ops, size_t from, const float* buf, size_t bytes) {
  const char* lo = reinterpret_cast<const char*>(buf);
  const char* hi = lo + bytes;
  const auto inside = [&](const void* p) {
    const char* c = static_cast<const char*>(p);
    return p && c >= lo && c < hi;
  };
  for (size_t j = from; j < ops.size(); ++j) {
    const Op& o = ops[j];
    if (inside(o.a) || inside(o.b) || inside(o.c)) return true;
    if (o.kind == OpKind::AddBias || o.kind == OpKind::Rope || o.kind == OpKind::Scale) {
      if (inside(o.out)) return true;
      continue;
    }
    if (o.out == buf && o.kind == OpKind::RmsNorm && static_cast<size_t>(o.count * o.dim) * sizeof(float) >= bytes)
      return false;
    if (o.out == buf && o.kind == OpKind::Matmul && static_cast<size_t>(o.n) * o.w.rows * sizeof(float) >= bytes)
      return false;
  }
  return true;
}

}  // namespace

void CudaBackend::ensure_gemm(int n, int64_t cols, int64_t rows, TensorType type) {
  Weight probe;
  probe.type = type;
  if (use_matvec(probe, n) || type == TensorType::F32) {
    if (type == TensorType::F32 && !use_matvec(probe, n) && !blas_) blas_ = blas_create(stream_);
    return;
  }
  if (!blas_) blas_ = blas_create(stream_);
  const size_t xb = static_cast<size_t>(n) * cols * 2;
  if (xb > gemm_x_bytes_) {
    CUDA_CHECK(cudaStreamSynchronize(stream_));
    gemm_x_bytes_ = xb;
    gemm_x_ = dev_alloc(xb, "prompt activations (float16)");
  }
  if (type != TensorType::F16) {
    const int64_t rc = std::min<int64_t>(rows, std::max<int64_t>(1, kGemmChunkValues / cols));
    const size_t wb = static_cast<size_t>(rc * cols) * 2;
    if (wb > gemm_w_bytes_) {
      CUDA_CHECK(cudaStreamSynchronize(stream_));
      gemm_w_bytes_ = wb;
      gemm_w_ = dev_alloc(wb, "dequantized weight rows (float16)");
    }
  }
}

void CudaBackend::run_ops() {
  gemm_x_src_ = nullptr;
  auto t_op = std::chrono::steady_clock::now();
  for (size_t i = 0; i < ops_.size();) {
    if (ops_[i].kind != OpKind::Matmul) gemm_x_src_ = nullptr;
    size_t used = 0;
    if (fuse_) {
      used = try_matvec_group(i);
      if (!used) used = try_embed_scale(i);
      if (!used) used = try_attention(i);
      if (!used) used = try_norm_add(i);
    }
    if (!used) {
      run_single(ops_[i]);
      used = 1;
    }
    if (stats_) {
      const auto now = std::chrono::steady_clock::now();
      OpHostTime& h = op_host_[static_cast<int>(ops_[i].kind)];
      h.ms += std::chrono::duration<double, std::milli>(now - t_op).count();
      h.count += 1;
      t_op = now;
    }
    i += used;
  }
}

size_t CudaBackend::try_matvec_group(size_t i) {
  size_t j = i;
  const Op* norm = nullptr;
  if (ops_[j].kind == OpKind::RmsNorm) norm = &ops_[j++];
  if (j >= ops_.size() || ops_[j].kind != OpKind::Matmul) return 0;
  const Op& m0 = ops_[j];
  const int n = m0.n;
  if (n > matvec_tokens()) return 0;
  const int64_t cols = m0.w.cols;
  const size_t xbytes = static_cast<size_t>(n) * cols * sizeof(float);
  if (norm && !(norm->out == m0.a && norm->count == n && norm->dim == cols && disjoint(norm->a, xbytes, norm->out, xbytes)))
    return 0;
  const float* input = norm ? norm->a : m0.a;

  // Members: products of the same input, each with its bias when it comes
  // right after it. Those of the first product's type share this launch; with
  // fork_, up to two more of one other type (the Q6_K v of a Q4_K_M q/k) get a
  // launch of their own on the side stream, which runs beside this one.
  struct Members {
    const Op* mm[3] = {nullptr, nullptr, nullptr};
    const float* bias[3] = {nullptr, nullptr, nullptr};
    int n = 0;
  } same, other;
  while (j < ops_.size() && same.n + other.n < 3 && ops_[j].kind == OpKind::Matmul && ops_[j].a == m0.a &&
         ops_[j].n == n && ops_[j].w.cols == cols) {
    const Op& m = ops_[j];
    const bool is_same = m.w.type == m0.w.type;
    if (!is_same && !(fork_ && (other.n == 0 || m.w.type == other.mm[0]->w.type))) break;
    const size_t ybytes = static_cast<size_t>(n) * m.w.rows * sizeof(float);
    if (!disjoint(m.out, ybytes, m0.a, xbytes) || !disjoint(m.out, ybytes, input, xbytes)) break;
    Members& g = is_same ? same : other;
    g.mm[g.n] = &m;
    ++j;
    if (j < ops_.size() && ops_[j].kind == OpKind::AddBias && ops_[j].out == m.out && ops_[j].n == n &&
        ops_[j].dim == m.w.rows)
      g.bias[g.n] = ops_[j++].vec;
    ++g.n;
  }
  // Biases of any member that come later.
  while (j < ops_.size() && ops_[j].kind == OpKind::AddBias) {
    const Op& b = ops_[j];
    bool taken = false;
    for (Members* g : {&same, &other})
      for (int k = 0; k < g->n && !taken; ++k)
        if (b.out == g->mm[k]->out && b.n == n && b.dim == g->mm[k]->w.rows && !g->bias[k]) {
          g->bias[k] = b.vec;
          taken = true;
        }
    if (!taken) break;
    ++j;
  }
  const auto args_of = [&](const Members& g) {
    MatvecArgs a;
    const Weight& w = g.mm[0]->w;
    a.type = static_cast<WType>(w.type);
    a.row_bytes = static_cast<int64_t>(row_bytes(w.type, cols));
    a.cols = static_cast<int>(cols);
    a.n = n;
    a.x = input;
    a.n_seg = g.n;
    for (int k = 0; k < g.n; ++k) {
      a.seg[k].w = g.mm[k]->w.data;
      a.seg[k].y = g.mm[k]->out;
      a.seg[k].rows = static_cast<int>(g.mm[k]->w.rows);
      a.seg[k].bias = g.bias[k];
    }
    if (norm) {
      a.norm = true;
      a.norm_w = norm->vec;
      a.norm_eps = norm->f;
    }
    return a;
  };
  MatvecArgs a = args_of(same);
  if (norm) a.norm_out = norm->out;
  // Epilogues of a launch of one type: a GLU of a gate/up pair or a residual add of a single matrix.
  if (j < ops_.size() && other.n == 0) {
    const Op& e = ops_[j];
    const Op* const* mm = same.mm;
    const int n_mm = same.n;
    if (n_mm == 2 && e.kind == OpKind::Glu && e.a == mm[0]->out && e.b == mm[1]->out && e.out == mm[0]->out &&
        mm[0]->w.rows == mm[1]->w.rows && e.count == int64_t(n) * mm[0]->w.rows) {
      a.glu = act_of(e.glu);
      ++j;
    } else if (n_mm == 1 && e.kind == OpKind::Add && e.count == int64_t(n) * mm[0]->w.rows &&
               (e.a == mm[0]->out || e.b == mm[0]->out)) {
      const float* res = e.a == mm[0]->out ? e.b : e.a;
      const size_t ybytes = static_cast<size_t>(e.count) * sizeof(float);
      if (disjoint(e.out, ybytes, input, xbytes) && disjoint(e.out, ybytes, m0.a, xbytes) &&
          disjoint(res, ybytes, norm ? norm->out : m0.a, xbytes)) {
        a.seg[0].res = res;
        a.seg[0].res_out = e.out;
        ++j;
      }
    }
  }
  // The normalized input is stored only when something reads it later.
  if (a.norm_out && !read_later(ops_, j, a.norm_out, xbytes)) a.norm_out = nullptr;
  // A post-norm + residual launch next lets its successor start before its own wait.
  a.next_waits = !(j + 1 < ops_.size() && ops_[j].kind == OpKind::RmsNorm && ops_[j + 1].kind == OpKind::Add);
  if (other.n > 0) {
    // Fork: the other type's launch (normalizing the input itself, storing
    // nothing else) waits for what came before; the next op waits for both.
    CUDA_CHECK(cudaEventRecord(ev_fork_, stream_));
    CUDA_CHECK(cudaStreamWaitEvent(side_, ev_fork_, 0));
    launch_matvec(args_of(other), side_);
    CUDA_CHECK(cudaEventRecord(ev_join_, side_));
    launch_matvec(a, stream_);
    CUDA_CHECK(cudaStreamWaitEvent(stream_, ev_join_, 0));
  } else {
    launch_matvec(a, stream_);
  }
  return j - i;
}

size_t CudaBackend::try_embed_scale(size_t i) {
  if (i + 1 >= ops_.size()) return 0;
  const Op& e = ops_[i];
  const Op& sc = ops_[i + 1];
  if (e.kind != OpKind::Embed || sc.kind != OpKind::Scale || sc.out != e.out || sc.count != int64_t(e.n) * e.w.cols)
    return 0;
  launch_dequant(static_cast<WType>(e.w.type), e.w.data, static_cast<int64_t>(row_bytes(e.w.type, e.w.cols)),
                 static_cast<int>(e.w.cols), 0, e.n, d_ids_, sc.f, e.out, false, stream_);
  return 2;
}

size_t CudaBackend::try_attention(size_t i) {
  size_t j = i;
  while (j < ops_.size() && j < i + 5 && (ops_[j].kind == OpKind::RmsNorm || ops_[j].kind == OpKind::Rope)) ++j;
  if (j >= ops_.size() || ops_[j].kind != OpKind::Attention) return 0;
  const Op& at = ops_[j];
  const AttnParams& p = at.attn;
  const Op *qn = nullptr, *kn = nullptr, *qr = nullptr, *kr = nullptr;
  for (size_t k = i; k < j; ++k) {
    const Op& o = ops_[k];
    if (o.kind == OpKind::RmsNorm) {
      if (o.a != o.out || o.dim != p.head_dim_k) return 0;
      if (o.out == at.a && o.count == int64_t(at.n) * p.n_head && !qn && !qr) qn = &o;
      else if (o.out == at.b && o.count == int64_t(at.n) * p.n_head_kv && !kn && !kr) kn = &o;
      else return 0;
    } else {
      if (o.n != at.n || o.head_dim != p.head_dim_k) return 0;
      if (o.out == at.a && o.n_head == p.n_head && !qr) qr = &o;
      else if (o.out == at.b && o.n_head == p.n_head_kv && !kr) kr = &o;
      else return 0;
    }
  }
  if (qr && kr && !same_rope(*qr, *kr)) return 0;
  run_attention(qn, kn, qr, kr, at);
  return j - i + 1;
}

size_t CudaBackend::try_norm_add(size_t i) {
  if (i + 1 >= ops_.size()) return 0;
  const Op& nm = ops_[i];
  const Op& ad = ops_[i + 1];
  if (nm.kind != OpKind::RmsNorm || ad.kind != OpKind::Add || nm.a != nm.out) return 0;
  const int64_t total = nm.count * nm.dim;
  if (ad.count != total) return 0;
  float* y = nm.out;
  const float* x = nullptr;
  if (ad.b == y && ad.out == ad.a) x = ad.a;
  else if (ad.a == y && ad.out == ad.b) x = ad.b;
  else return 0;
  const size_t bytes = static_cast<size_t>(total) * sizeof(float);
  if (!disjoint(x, bytes, y, bytes) || nm.dim > INT32_MAX) return 0;
  launch_norm_add(y, nm.vec, nm.f, nm.count, static_cast<int>(nm.dim), ad.out, stream_);
  return 2;
}

void CudaBackend::run_attention(const Op* qn, const Op* kn, const Op* qr, const Op* kr, const Op& at) {
  const AttnParams& p = at.attn;
  const KvLayer& kv = at.kv;
  HeadPrepArgs h;
  h.n = at.n;
  h.pos = d_pos_;
  h.q = (qn || qr) ? const_cast<float*>(at.a) : nullptr;
  h.n_head_q = h.q ? p.n_head : 0;
  h.k = const_cast<float*>(at.b);
  h.n_head_k = p.n_head_kv;
  h.v = at.c;
  if (qn) {
    h.q_normed = true;
    h.q_norm = qn->vec;
    h.q_eps = qn->f;
  }
  if (kn) {
    h.k_normed = true;
    h.k_norm = kn->vec;
    h.k_eps = kn->f;
  }
  if (qr) {
    h.q_rope = true;
    h.rope = rope_args(*qr);
  }
  if (kr) {
    h.k_rope = true;
    h.rope = rope_args(*kr);
  }
  h.head_dim = p.head_dim_k;
  h.head_dim_v = p.head_dim_v;
  h.kc = kv.k;
  h.vc = kv.v;
  h.kv_f16 = kv.type == TensorType::F16;
  h.k_row = kv.k_row;
  h.v_row = kv.v_row;
  h.n_ctx = kv.n_ctx;
  if (p.head_dim_k * p.n_head_kv != kv.k_row || p.head_dim_v * p.n_head_kv != kv.v_row)
    fail("attention: KV rows of ", kv.k_row, "/", kv.v_row, " values do not match ", p.n_head_kv, " heads of ",
         p.head_dim_k, "/", p.head_dim_v);
  h.seq = d_seq_;
  h.ring = kv.ring;
  // A decode step prepares q, k and v inside the attention blocks (the rotated
  // q and k then live in shared memory only: nothing reads them afterwards).
  const bool fused = fuse_ && at.n == 1 && attn_heads_per_block(1, p.n_head, p.n_head_kv) == 1;
  if (!fused) launch_head_prep(h, stream_);
  for (const auto& r : attention_launches(at.n)) launch_attention_range(at, h, r.first, r.second, fused);
}

std::vector<std::pair<int, int>> CudaBackend::attention_launches(int n) const {
  // One sequence (or a batch the runs do not describe): one launch. Several:
  // each run of more than 8 tokens (a prompt chunk, for the tiled prompt
  // kernel, which reads one slot) alone; the short runs between them together
  // (the per-token kernels find every token's own slot).
  if (runs_.size() <= 1 || n != batch_n_) return {{0, n}};
  std::vector<std::pair<int, int>> out;
  bool last_short = false;
  for (const auto& r : runs_) {
    const bool lone = r.second > 8;
    if (!lone && last_short) out.back().second += r.second;
    else out.push_back(r);
    last_short = !lone;
  }
  return out;
}

void CudaBackend::launch_attention_range(const Op& at, const HeadPrepArgs& h, int t0, int n, bool fused) {
  const AttnParams& p = at.attn;
  const KvLayer& kv = at.kv;
  const int hpb = attn_heads_per_block(n, p.n_head, p.n_head_kv);
  AttnArgs a;
  a.n = n;
  a.pos = d_pos_ + t0;
  a.seq = d_seq_ + t0;
  a.ring = kv.ring;
  a.q = at.a + int64_t(t0) * p.n_head * p.head_dim_k;
  a.kc = kv.k;
  a.vc = kv.v;
  a.kv_f16 = h.kv_f16;
  a.k_row = kv.k_row;
  a.v_row = kv.v_row;
  a.n_ctx = kv.n_ctx;
  a.n_head = p.n_head;
  a.n_head_kv = p.n_head_kv;
  a.head_dim_k = p.head_dim_k;
  a.head_dim_v = p.head_dim_v;
  a.scale = p.scale;
  a.window = p.window;
  a.out = at.out + int64_t(t0) * p.n_head * p.head_dim_v;
  a.heads_per_block = hpb;
  a.n_splits = attn_splits(n, p.n_head / hpb, kv.n_ctx, p.window, n_sm_, p.head_dim_k, p.head_dim_v);
  a.chunk = attn_chunk(n, p.n_head / hpb, kv.n_ctx, p.window, n_sm_, p.head_dim_k, p.head_dim_v);
  a.fused_prep = fused;
  if (fused) {
    a.prep = h;
    if (!a.prep.q) {  // no q norm or RoPE: prep_head then just copies it
      a.prep.q = const_cast<float*>(at.a);
      a.prep.n_head_q = p.n_head;
    }
  }
  a.work = attn_work_;
  a.counters = attn_counters_;
  launch_attention(a, stream_);
}

void CudaBackend::run_matmul(const Weight& w, const float* x, int n, float* y) {
  const int64_t cols = w.cols, rows = w.rows;
  if (use_matvec(w, n)) {
    const int step = matvec_tokens();
    for (int t0 = 0; t0 < n; t0 += step) {
      MatvecArgs a;
      a.type = static_cast<WType>(w.type);
      a.row_bytes = static_cast<int64_t>(row_bytes(w.type, cols));
      a.cols = static_cast<int>(cols);
      a.n = std::min(step, n - t0);
      a.x = x + int64_t(t0) * cols;
      a.n_seg = 1;
      a.seg[0].w = w.data;
      a.seg[0].y = y + int64_t(t0) * rows;
      a.seg[0].rows = static_cast<int>(rows);
      launch_matvec(a, stream_);
    }
    return;
  }
  if (w.type == TensorType::F32) {
    gemm_f32(blas_, static_cast<const float*>(w.data), x, y, static_cast<int>(rows), n, static_cast<int>(cols),
             static_cast<int>(rows));
    return;
  }
  const int64_t xcount = int64_t(n) * cols;
  if (x != gemm_x_src_ || xcount != gemm_x_count_) {
    launch_f32_to_f16(x, xcount, gemm_x_, stream_);
    gemm_x_src_ = x;
    gemm_x_count_ = xcount;
  }
  if (!disjoint(y, static_cast<size_t>(n) * rows * sizeof(float), x, static_cast<size_t>(xcount) * sizeof(float)))
    gemm_x_src_ = nullptr;
  if (w.type == TensorType::F16) {
    gemm_f16(blas_, w.data, gemm_x_, y, static_cast<int>(rows), n, static_cast<int>(cols), static_cast<int>(rows));
    return;
  }
  const int64_t rc = std::min<int64_t>(rows, std::max<int64_t>(1, kGemmChunkValues / cols));
  const int64_t rb = static_cast<int64_t>(row_bytes(w.type, cols));
  for (int64_t r0 = 0; r0 < rows; r0 += rc) {
    const int64_t m = std::min(rc, rows - r0);
    launch_dequant(static_cast<WType>(w.type), w.data, rb, static_cast<int>(cols), r0, m, nullptr, 1.f, gemm_w_, true,
                   stream_);
    gemm_f16(blas_, gemm_w_, gemm_x_, y + r0, static_cast<int>(m), n, static_cast<int>(cols), static_cast<int>(rows));
  }
}

void CudaBackend::run_single(const Op& op) {
  switch (op.kind) {
    case OpKind::Embed:
      launch_dequant(static_cast<WType>(op.w.type), op.w.data, static_cast<int64_t>(row_bytes(op.w.type, op.w.cols)),
                     static_cast<int>(op.w.cols), 0, op.n, d_ids_, 1.f, op.out, false, stream_);
      break;
    case OpKind::RmsNorm:
      launch_rms_norm(op.a, op.vec, op.f, op.count, static_cast<int>(op.dim), op.out, stream_);
      break;
    case OpKind::Matmul:
      run_matmul(op.w, op.a, op.n, op.out);
      break;
    case OpKind::AddBias:
      launch_add_bias(op.out, op.vec, op.n, op.dim, stream_);
      break;
    case OpKind::Rope: {
      HeadPrepArgs h;
      h.n = op.n;
      h.pos = d_pos_;
      h.q = op.out;
      h.n_head_q = op.n_head;
      h.q_rope = true;
      h.rope = rope_args(op);
      h.head_dim = op.head_dim;
      launch_head_prep(h, stream_);
      break;
    }
    case OpKind::Attention:
      run_attention(nullptr, nullptr, nullptr, nullptr, op);
      break;
    case OpKind::Glu:
      launch_glu(act_of(op.glu), op.a, op.b, op.count, op.out, stream_);
      break;
    case OpKind::Add:
      launch_add(op.a, op.b, op.count, op.out, stream_);
      break;
    case OpKind::Scale:
      launch_scale(op.out, op.count, op.f, stream_);
      break;
    case OpKind::Copy:
      if (op.count > 0 && op.a != op.out)
        CUDA_CHECK(cudaMemcpyAsync(op.out, op.a, static_cast<size_t>(op.count) * sizeof(float), cudaMemcpyDeviceToDevice, stream_));
      break;
  }
}

}  // namespace cuda
}  // namespace jetlm
