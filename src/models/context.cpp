#include "models/context.h"

#include <algorithm>
#include <cstdio>
#include <climits>
#include <cstring>

#include "backends/cpu/cpu_backend.h"
#include "backends/gpu_factory.h"
#include "models/forward.h"
#include "models/gpu_fit.h"
#include "util/error.h"

namespace jetlm {

namespace {

Weight load_opt(Backend& be, const GgufTensor* t) { return t ? be.load_weight(*t) : Weight(); }

LayerWeights load_layer(Backend& be, const LayerTensors& L, const GgufTensor* rope_freqs) {
  LayerWeights w;
  w.attn_norm = load_opt(be, L.attn_norm);
  w.wq = load_opt(be, L.wq);
  w.wk = load_opt(be, L.wk);
  w.wv = load_opt(be, L.wv);
  w.wo = load_opt(be, L.wo);
  w.bq = load_opt(be, L.bq);
  w.bk = load_opt(be, L.bk);
  w.bv = load_opt(be, L.bv);
  w.q_norm = load_opt(be, L.q_norm);
  w.k_norm = load_opt(be, L.k_norm);
  w.post_attn_norm = load_opt(be, L.post_attn_norm);
  w.ffn_norm = load_opt(be, L.ffn_norm);
  w.w_gate = load_opt(be, L.w_gate);
  w.w_up = load_opt(be, L.w_up);
  w.w_down = load_opt(be, L.w_down);
  w.post_ffn_norm = load_opt(be, L.post_ffn_norm);
  w.rope_freqs = load_opt(be, rope_freqs);
  return w;
}

}  // namespace

Context::Context(const Model& model, const ContextOptions& opts) : model_(model), opts_(opts) {
  const HParams& hp = model.hparams();
  if (opts_.reference) opts_.kv_type = TensorType::F32;
  if (opts_.n_ctx < 0) throw UsageError(str_cat("context size ", opts_.n_ctx, " must be positive"));
  n_ctx_ = opts_.n_ctx > 0 ? opts_.n_ctx : std::min(hp.n_ctx_train, 4096);
  if (opts_.n_seq < 1) throw UsageError(str_cat("sequence slots ", opts_.n_seq, " must be at least 1"));
  n_seq_ = opts_.n_seq;
  seq_len_.assign(static_cast<size_t>(n_seq_), 0);
  if (opts_.n_batch <= 0) throw UsageError(str_cat("batch size ", opts_.n_batch, " must be positive"));
  opts_.n_batch = std::min(opts_.n_batch, n_ctx_);

  // Backends: the CPU always (embeddings and layers not offloaded), a GPU when layers go there.
  CpuOptions cpu;
  cpu.reference = opts_.reference;
  cpu.n_threads = opts_.n_threads;
  backends_.push_back(BackendSlot{make_cpu_backend(cpu), {}});
  Backend* cpu_be = backends_[0].backend.get();
  Backend* gpu_be = nullptr;
  // -ngl auto (< 0): every layer that fits when there is a GPU, else the CPU.
  const bool auto_ngl = opts_.n_gpu_layers < 0;
  int n_gpu = auto_ngl ? hp.n_layer + 1 : std::min(opts_.n_gpu_layers, hp.n_layer + 1);
  if (opts_.reference || (auto_ngl && !gpu_available())) n_gpu = 0;
  GpuFit fit;
  if (n_gpu > 0) {
    GpuOptions g;
    g.unified = opts_.unified;
    std::unique_ptr<Backend> gpu = make_gpu_backend(g);  // throws a clear Error when there is none
    size_t free_b = 0, total_b = 0;
    if (gpu->device_memory(&free_b, &total_b)) {
      GpuFitInputs in;
      in.n_ctx = n_ctx_;
      in.n_seq = n_seq_;
      in.n_batch = opts_.n_batch;
      in.kv_type = opts_.kv_type;
      in.weights_in_place = gpu->weights_in_place();
      in.free_bytes = free_b;
      fit = estimate_gpu_fit(hp, model.tensors(), in);
      if (auto_ngl && fit.max_layers < n_gpu) {
        n_gpu = fit.max_layers;
        std::fprintf(stderr, "jetlm: %d of %d layers fit in the GPU's %lld MiB free (-ngl %d)%s\n",
                     std::min(n_gpu, hp.n_layer), hp.n_layer, static_cast<long long>(free_b >> 20), n_gpu,
                     n_gpu > 0 ? "" : ": running on the CPU");
      }
    }
    if (n_gpu > 0) {
      backends_.push_back(BackendSlot{std::move(gpu), {}});
      gpu_be = backends_.back().backend.get();
    }
  }
  try {
    place_layers(n_gpu, cpu_be, gpu_be);
  } catch (const OutOfDeviceMemory& e) {
    if (fit.layer_bytes == 0 && fit.fixed_bytes == 0) throw;
    fail(e.what(), ": -ngl ", auto_ngl ? n_gpu : opts_.n_gpu_layers, " needs about ",
         fit.bytes_for(n_gpu, hp.n_layer) >> 20, " MiB; about ", fit.max_layers, " fit (try -ngl ", fit.max_layers,
         ", a smaller context -c, or leave -ngl out to fit automatically)");
  }
}

void Context::place_layers(int n_gpu, Backend* cpu_be, Backend* gpu_be) {
  const HParams& hp = model_.hparams();
  const ModelTensors& T = model_.tensors();
  const int first_gpu_layer = hp.n_layer - std::min(n_gpu, hp.n_layer);
  place_.resize(static_cast<size_t>(hp.n_layer));
  for (int il = 0; il < hp.n_layer; ++il) {
    Place& p = place_[static_cast<size_t>(il)];
    p.backend = (gpu_be && il >= first_gpu_layer) ? gpu_be : cpu_be;
    p.w = load_layer(*p.backend, T.layers[static_cast<size_t>(il)], T.rope_freqs);
    const int64_t ring = hp.kv_layer_rows(il, n_ctx_, opts_.n_batch);
    p.kv = p.backend->alloc_kv(n_seq_, n_ctx_, ring, hp.n_embd_k_gqa(), hp.n_embd_v_gqa(), opts_.kv_type);
  }
  // A ring of window + n_batch - 1 rows can forget its last n_batch positions
  // (the next batch's first token still finds its whole window).
  max_rewind_ = INT_MAX;
  for (int il = 0; il < hp.n_layer; ++il) {
    const int64_t ring = place_[static_cast<size_t>(il)].kv.ring;
    if (ring < n_ctx_) max_rewind_ = std::min<int>(max_rewind_, static_cast<int>(ring - hp.sliding_window + 1));
  }
  // Like llama.cpp, the output layer goes to the GPU only when every layer is there
  // and -ngl counts one more (it is the (n_layer + 1)-th layer).
  out_backend_ = (gpu_be && n_gpu > hp.n_layer) ? gpu_be : cpu_be;
  tok_embd_ = cpu_be->load_weight(*T.tok_embd);
  // With every layer and the output on the GPU (n_gpu > n_layer, where the fit
  // counts the table) the lookup runs there too, from the tied output matrix
  // or a copy of the table: nothing crosses the bus.
  embed_on_output_ = gpu_be && n_gpu > hp.n_layer && out_backend_ == gpu_be;
  output_norm_ = out_backend_->load_weight(*T.output_norm);
  output_ = out_backend_->load_weight(*T.output);
  if (embed_on_output_) out_embd_ = T.output == T.tok_embd ? output_ : out_backend_->load_weight(*T.tok_embd);

  // Scratch on every backend in use.
  const int64_t B = opts_.n_batch;
  const int64_t E = hp.n_embd, F = hp.n_ff;
  for (auto& bs : backends_) {
    Backend& be = *bs.backend;
    Scratch& s = bs.s;
    s.x = be.alloc(B * E);
    s.h = be.alloc(B * E);
    s.q = be.alloc(B * hp.n_head * hp.head_dim_k);
    s.k = be.alloc(B * hp.n_embd_k_gqa());
    s.v = be.alloc(B * hp.n_embd_v_gqa());
    s.att = be.alloc(B * hp.n_head * hp.head_dim_v);
    s.out = be.alloc(B * E);
    s.gate = be.alloc(B * F);
    s.up = be.alloc(B * F);
    s.logits = &be == out_backend_ ? be.alloc(int64_t(kLogitRows) * hp.n_vocab) : nullptr;
  }
  host_x_.resize(static_cast<size_t>(B * E));
  logits_ = out_backend_->alloc_host(int64_t(n_seq_) * hp.n_vocab);
  if (!logits_) {
    logits_plain_.resize(static_cast<size_t>(n_seq_) * static_cast<size_t>(hp.n_vocab));
    logits_ = logits_plain_.data();
  }
}

Context::~Context() = default;

Context::BackendSlot& Context::slot(Backend& be) {
  for (auto& s : backends_)
    if (s.backend.get() == &be) return s;
  fail("internal: backend not owned by this context");
}

Scratch& Context::scratch(Backend& be) { return slot(be).s; }

size_t Context::kv_bytes() const {
  size_t b = 0;
  for (const Place& p : place_) b += static_cast<size_t>(p.kv.n_seq * p.kv.ring * (p.kv.k_row + p.kv.v_row)) * p.kv.elem_size();
  return b;
}

std::string Context::backend_summary() const {
  std::string s;
  for (const auto& b : backends_) s += (s.empty() ? "" : "+") + b.backend->name();
  return s;
}

bool Context::can_truncate(int seq, int n) const {
  if (seq < 0 || seq >= n_seq_ || n < 0 || n > n_past(seq)) return false;
  return n == 0 || n_past(seq) - n <= max_rewind_;
}

void Context::truncate(int seq, int n) {
  if (!can_truncate(seq, n))
    fail("cannot truncate sequence slot ", seq, " to ", n, " tokens (it holds ", seq >= 0 && seq < n_seq_ ? n_past(seq) : 0,
         ")");
  seq_len_[static_cast<size_t>(seq)] = n;
}

void Context::copy_prefix(int src, int dst, int n) {
  if (!can_truncate(src, n) || dst < 0 || dst >= n_seq_)
    fail("cannot copy ", n, " positions of sequence slot ", src, " to slot ", dst);
  if (src == dst) return truncate(src, n);
  for (Place& p : place_) {
    const KvLayer& kv = p.kv;
    // Rows of positions [0, n) in a slot: the first n, or the whole ring.
    const size_t rows = static_cast<size_t>(std::min<int64_t>(n, kv.ring)), esz = kv.elem_size();
    char* k = static_cast<char*>(kv.k);
    char* v = static_cast<char*>(kv.v);
    const size_t ks = static_cast<size_t>(kv.k_row) * esz, vs = static_cast<size_t>(kv.v_row) * esz;
    p.backend->copy_bytes(k + static_cast<size_t>(kv.row_of(dst, 0)) * ks, k + static_cast<size_t>(kv.row_of(src, 0)) * ks,
                          rows * ks);
    p.backend->copy_bytes(v + static_cast<size_t>(kv.row_of(dst, 0)) * vs, v + static_cast<size_t>(kv.row_of(src, 0)) * vs,
                          rows * vs);
  }
  seq_len_[static_cast<size_t>(dst)] = n;
}

int DecodeBatch::n_logits() const {
  int k = 0;
  for (uint8_t w : logits) k += w ? 1 : 0;
  return k;
}

float* Context::embed_batch(int n, float scale) {
  Backend& be = embed_on_output_ ? *out_backend_ : *backends_[0].backend;
  Scratch& s = scratch(be);
  be.embed(embed_on_output_ ? out_embd_ : tok_embd_, s.x);
  if (scale != 1.f) be.scale(s.x, int64_t(n) * model_.hparams().n_embd, scale);
  residual_on_ = &be;
  return s.x;
}

float* Context::move_residual(Backend& be, int first, int count) {
  Scratch& dst = scratch(be);
  if (residual_on_ != &be) {
    const int64_t off = int64_t(first) * model_.hparams().n_embd, len = int64_t(count) * model_.hparams().n_embd;
    residual_on_->read(scratch(*residual_on_).x + off, host_x_.data(), len);
    be.write(dst.x + off, host_x_.data(), len);
    residual_on_ = &be;
  }
  return dst.x;
}

float* Context::enter_layer(int il, int n) { return move_residual(layer_backend(il), 0, n); }

void Context::output_block(const float* x, int count, float* logits) {
  const HParams& hp = model_.hparams();
  Backend& be = *out_backend_;
  Scratch& s = scratch(be);
  for (int r = 0; r < count; r += kLogitRows) {
    const int m = std::min(kLogitRows, count - r);
    be.rms_norm(x + int64_t(r) * hp.n_embd, &output_norm_, hp.norm_eps, m, hp.n_embd, s.h);
    be.matmul(output_, s.h, m, s.logits);
    be.read(s.logits, logits + int64_t(r) * hp.n_vocab, int64_t(m) * hp.n_vocab);
  }
}

void Context::output_rows(const uint8_t* want, int n, float* logits) {
  const int64_t E = model_.hparams().n_embd;
  // Runs of consecutive wanted rows: one run is read where it is; several are
  // gathered into the output backend's s.out first.
  std::vector<std::pair<int, int>> runs;
  for (int i = 0; i < n; ++i) {
    if (!want[i]) continue;
    if (!runs.empty() && runs.back().first + runs.back().second == i) ++runs.back().second;
    else runs.emplace_back(i, 1);
  }
  if (runs.empty()) return;
  Backend& be = *out_backend_;
  if (runs.size() == 1) {
    const float* x = move_residual(be, runs[0].first, runs[0].second) + runs[0].first * E;
    return output_block(x, runs[0].second, logits);
  }
  const float* x = move_residual(be, 0, n);
  float* g = scratch(be).out;
  int m = 0;
  for (const auto& r : runs) {
    be.copy(x + r.first * E, r.second * E, g + m * E);
    m += r.second;
  }
  output_block(g, m, logits);
}

void Context::forward(const Batch& b, const uint8_t* want, float* logits) {
  for (auto& s : backends_) s.backend->begin(b);
  switch (model_.hparams().arch) {
    case Arch::Llama:
    case Arch::Qwen2:
      forward_llama(*this, b);
      break;
    case Arch::Gemma3:
      forward_gemma3(*this, b);
      break;
  }
  output_rows(want, b.n, logits);
}

void Context::decode(const DecodeBatch& db, float* logits) {
  const HParams& hp = model_.hparams();
  const int n = db.size();
  if (n <= 0) fail("decode: no tokens to process");
  if (!logits) {
    if (db.n_logits() > n_seq_) fail("decode: ", db.n_logits(), " rows of logits need a buffer (logits() holds ", n_seq_, ")");
    logits = logits_;
  }
  // Validate everything before the cache changes: ids, slots, positions that continue each sequence.
  std::vector<int> next(seq_len_);
  for (int i = 0; i < n; ++i) {
    const int32_t id = db.ids[static_cast<size_t>(i)], s = db.seq[static_cast<size_t>(i)], p = db.pos[static_cast<size_t>(i)];
    if (id < 0 || id >= hp.n_vocab) fail("token id ", id, " is outside the vocabulary (", hp.n_vocab, " tokens)");
    if (s < 0 || s >= n_seq_) fail("sequence slot ", s, " is outside the ", n_seq_, " slots of the context");
    if (p >= n_ctx_)
      fail("context overflow: ", next[static_cast<size_t>(s)], " cached + new tokens exceed the context of ", n_ctx_,
           " tokens (raise -c)");
    if (p != next[static_cast<size_t>(s)])
      fail("position ", p, " does not continue sequence slot ", s, " (it holds ", next[static_cast<size_t>(s)], ")");
    if (i > 0 && s != db.seq[static_cast<size_t>(i - 1)] && next[static_cast<size_t>(s)] != seq_len_[static_cast<size_t>(s)])
      fail("the tokens of sequence slot ", s, " are not contiguous in the batch");
    ++next[static_cast<size_t>(s)];
  }
  for (int done = 0; done < n;) {
    const int m = std::min(opts_.n_batch, n - done);
    const size_t o = static_cast<size_t>(done);
    batch_ = Batch{db.ids.data() + o, db.pos.data() + o, db.seq.data() + o, m};
    // A step of single decode tokens (every one a different sequence, all wanted)
    // issues the ops of the previous such step of the same size: only positions,
    // ids and slots (device data) differ.
    bool step = true;
    for (int i = 0; i < m && step; ++i)
      step = db.logits[o + static_cast<size_t>(i)] && (i == 0 || db.seq[o + static_cast<size_t>(i)] != db.seq[o + static_cast<size_t>(i) - 1]);
    batch_.repeats = step && prev_decode_n_ == m;
    prev_decode_n_ = step ? m : 0;
    int rows = 0;
    for (int i = 0; i < done; ++i) rows += db.logits[static_cast<size_t>(i)] ? 1 : 0;
    forward(batch_, db.logits.data() + o, logits + int64_t(rows) * hp.n_vocab);
    for (int i = 0; i < m; ++i) seq_len_[static_cast<size_t>(db.seq[o + static_cast<size_t>(i)])]++;
    done += m;
  }
}

void Context::decode(const int32_t* ids, int n, bool all_logits, float* logits) {
  if (n <= 0) fail("decode: no tokens to process");
  if (!logits && all_logits) fail("decode: all logits need a buffer");
  if (n_past(0) + n > n_ctx_)
    fail("context overflow: ", n_past(0), " cached + ", n, " new tokens exceed the context of ", n_ctx_, " tokens (raise -c)");
  one_.clear();
  for (int i = 0; i < n; ++i) one_.add(ids[i], 0, n_past(0) + i, all_logits || i + 1 == n);
  decode(one_, logits);
}

}  // namespace jetlm
