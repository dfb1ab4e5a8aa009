// llama and qwen2: pre-norm transformer blocks with RMSNorm, RoPE, grouped-
// query attention and a SwiGLU feed-forward network. Qwen2 adds q/k/v biases
// (bound as optional tensors) and rotates NEOX-style (hparams.rope_neox).
#include "models/blocks.h"
#include "models/forward.h"

namespace jetlm {

void forward_llama(Context& c, const Batch& b) {
  const HParams& hp = c.model().hparams();
  const int n = b.n;
  const int64_t E = hp.n_embd;

  const AttnParams ap = attn_params(hp, 0);

  c.embed_batch(n, hp.embd_scale);
  for (int il = 0; il < hp.n_layer; ++il) {
    Backend& be = c.layer_backend(il);
    const LayerWeights& w = c.layer(il);
    Scratch& s = c.scratch(be);
    float* x = c.enter_layer(il, n);

    RopeParams rp;
    rp.n_rot = hp.n_rot;
    rp.freq_base = hp.rope_base;
    rp.freq_scale = hp.rope_freq_scale;
    rp.neox = hp.rope_neox;
    rp.freq_factors = w.rope_freqs ? &w.rope_freqs : nullptr;

    // Attention: h = norm(x); q, k, v = h W (+ b); rotate q, k; attend; x += att Wo.
    be.rms_norm(x, &w.attn_norm, hp.norm_eps, n, E, s.h);
    // (Each bias right after its product: a backend that fuses them sees each pair.)
    be.matmul(w.wq, s.h, n, s.q);
    if (w.bq) be.add_bias(s.q, w.bq, n, w.wq.rows);
    be.matmul(w.wk, s.h, n, s.k);
    if (w.bk) be.add_bias(s.k, w.bk, n, w.wk.rows);
    be.matmul(w.wv, s.h, n, s.v);
    if (w.bv) be.add_bias(s.v, w.bv, n, w.wv.rows);
    be.rope(s.q, n, hp.n_head, hp.head_dim_k, rp);
    be.rope(s.k, n, hp.n_head_kv, hp.head_dim_k, rp);
    be.attention(s.q, s.k, s.v, c.kv(il), ap, n, s.att);
    be.matmul(w.wo, s.att, n, s.out);
    be.add(x, s.out, n * E, x);

    // Feed-forward: x += W_down (silu(h W_gate) * h W_up), h = norm(x).
    be.rms_norm(x, &w.ffn_norm, hp.norm_eps, n, E, s.h);
    gated_ffn(be, w, s, n, hp.n_ff, Glu::SiLU);
    be.add(x, s.out, n * E, x);
  }
}

}  // namespace jetlm
