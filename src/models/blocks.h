// Pieces the family forward passes share, so each family file reads as its
// reference does and the common steps live once.
#pragma once
#include "models/context.h"

namespace jetlm {

// Attention geometry of a model; window > 0 limits it to a sliding window.
inline AttnParams attn_params(const HParams& hp, int window) {
  AttnParams ap;
  ap.n_head = hp.n_head;
  ap.n_head_kv = hp.n_head_kv;
  ap.head_dim_k = hp.head_dim_k;
  ap.head_dim_v = hp.head_dim_v;
  ap.scale = hp.attn_scale;
  ap.window = window;
  return ap;
}

// Gated feed-forward network on the normed input s.h [n][n_embd]:
// s.out = W_down (act(s.h W_gate) * s.h W_up), using s.gate / s.up as scratch.
inline void gated_ffn(Backend& be, const LayerWeights& w, Scratch& s, int n, int64_t n_ff, Glu act) {
  be.matmul(w.w_gate, s.h, n, s.gate);
  be.matmul(w.w_up, s.h, n, s.up);
  be.glu(act, s.gate, s.up, int64_t(n) * n_ff, s.gate);
  be.matmul(w.w_down, s.gate, n, s.out);
}

}  // namespace jetlm
