#include "models/context.h"

#include <algorithm>
#include <cstdio>
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
    p.kv = p.backend->alloc_kv(n_ctx_, hp.n_embd_k_gqa(), hp.n_embd_v_gqa(), opts_.kv_type);
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
  pos_.resize(static_cast<size_t>(B));
  logits_ = out_backend_->alloc_host(hp.n_vocab);
  if (!logits_) {
    logits_plain_.resize(static_cast<size_t>(hp.n_vocab));
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
  const HParams& hp = model_.hparams();
  const size_t esz = opts_.kv_type == TensorType::F32 ? 4 : 2;
  return static_cast<size_t>(n_ctx_) * hp.n_layer * (hp.n_embd_k_gqa() + hp.n_embd_v_gqa()) * esz;
}

std::string Context::backend_summary() const {
  std::string s;
  for (const auto& b : backends_) s += (s.empty() ? "" : "+") + b.backend->name();
  return s;
}

void Context::truncate(int n) {
  if (n < 0 || n > n_past_) fail("cannot truncate the KV cache to ", n, " tokens (it holds ", n_past_, ")");
  n_past_ = n;
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

void Context::output_rows(int first, int count, float* logits) {
  const HParams& hp = model_.hparams();
  Backend& be = *out_backend_;
  Scratch& s = scratch(be);
  // The rows read (the last layer's backend may be another).
  const float* x = move_residual(be, first, count) + int64_t(first) * hp.n_embd;
  for (int r = 0; r < count; r += kLogitRows) {
    const int m = std::min(kLogitRows, count - r);
    be.rms_norm(x + int64_t(r) * hp.n_embd, &output_norm_, hp.norm_eps, m, hp.n_embd, s.h);
    be.matmul(output_, s.h, m, s.logits);
    be.read(s.logits, logits + int64_t(r) * hp.n_vocab, int64_t(m) * hp.n_vocab);
  }
}

void Context::forward(const Batch& b, int first_logit, int n_logits, float* logits) {
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
  if (n_logits > 0) output_rows(first_logit, n_logits, logits);
}

void Context::decode(const int32_t* ids, int n, bool all_logits, float* logits) {
  const HParams& hp = model_.hparams();
  if (n <= 0) fail("decode: no tokens to process");
  if (!logits) {
    if (all_logits) fail("decode: all logits need a buffer");
    logits = logits_;
  }
  if (n_past_ + n > n_ctx_)
    fail("context overflow: ", n_past_, " cached + ", n, " new tokens exceed the context of ", n_ctx_, " tokens (raise -c)");
  for (int i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= hp.n_vocab) fail("token id ", ids[i], " is outside the vocabulary (", hp.n_vocab, " tokens)");
  for (int done = 0; done < n;) {
    const int m = std::min(opts_.n_batch, n - done);
    for (int i = 0; i < m; ++i) pos_[static_cast<size_t>(i)] = n_past_ + i;
    batch_ = Batch{ids + done, pos_.data(), m};
    batch_.repeats = m == 1;  // a one-token step's ops depend on nothing but the model (positions live in memory)
    const bool last_chunk = done + m == n;
    if (all_logits) forward(batch_, 0, m, logits + int64_t(done) * hp.n_vocab);
    else forward(batch_, m - 1, last_chunk ? 1 : 0, logits);  // earlier chunks only fill the cache
    n_past_ += m;
    done += m;
  }
}

}  // namespace jetlm
