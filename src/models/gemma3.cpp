// gemma3: embeddings scaled by sqrt(n_embd); each block normalises q and k per
// head, wraps attention and FFN in "sandwich" norms (pre and post), uses a
// GELU(tanh)-gated FFN, and attends within a sliding window on local layers
// (which also use their own RoPE base). Norm weights arrive with Gemma's +1
// already folded in by the GGUF converter.
#include "models/blocks.h"
#include "models/forward.h"

namespace jetlm {

void forward_gemma3(Context& c, const Batch& b) {
  const HParams& hp = c.model().hparams();
  const int n = b.n;
  const int64_t E = hp.n_embd;

  c.embed_batch(n, hp.embd_scale);
  for (int il = 0; il < hp.n_layer; ++il) {
    Backend& be = c.layer_backend(il);
    const LayerWeights& w = c.layer(il);
    Scratch& s = c.scratch(be);
    float* x = c.enter_layer(il, n);
    const bool local = hp.layer_swa[static_cast<size_t>(il)];

    RopeParams rp;
    rp.n_rot = hp.n_rot;
    rp.neox = hp.rope_neox;
    // Local layers: their own base and no position scaling; global layers: the model's.
    rp.freq_base = local ? hp.rope_base_swa : hp.rope_base;
    rp.freq_scale = local ? 1.f : hp.rope_freq_scale;

    const AttnParams ap = attn_params(hp, local ? hp.sliding_window : 0);

    // Attention block.
    be.rms_norm(x, &w.attn_norm, hp.norm_eps, n, E, s.h);
    be.matmul(w.wq, s.h, n, s.q);
    be.matmul(w.wk, s.h, n, s.k);
    be.matmul(w.wv, s.h, n, s.v);
    be.rms_norm(s.q, &w.q_norm, hp.norm_eps, int64_t(n) * hp.n_head, hp.head_dim_k, s.q);
    be.rms_norm(s.k, &w.k_norm, hp.norm_eps, int64_t(n) * hp.n_head_kv, hp.head_dim_k, s.k);
    be.rope(s.q, n, hp.n_head, hp.head_dim_k, rp);
    be.rope(s.k, n, hp.n_head_kv, hp.head_dim_k, rp);
    be.attention(s.q, s.k, s.v, c.kv(il), ap, n, s.att);
    be.matmul(w.wo, s.att, n, s.out);
    be.rms_norm(s.out, &w.post_attn_norm, hp.norm_eps, n, E, s.out);
    be.add(x, s.out, n * E, x);

    // Feed-forward block.
    be.rms_norm(x, &w.ffn_norm, hp.norm_eps, n, E, s.h);
    gated_ffn(be, w, s, n, hp.n_ff, Glu::GeluTanh);
    be.rms_norm(s.out, &w.post_ffn_norm, hp.norm_eps, n, E, s.out);
    be.add(x, s.out, n * E, x);
  }
}

}  // namespace jetlm
