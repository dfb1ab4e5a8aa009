#include "synth/synth_weights.h"

#include <algorithm>
#include <cmath>

#include "quant/recipe.h"
#include "synth/random.h"
#include "util/error.h"

namespace jetlm {
namespace {

// Logits of a trained model spread over a few units; a gain of 2 on the
// output matrix (1/sqrt(n_embd) scale otherwise) gives a comparable spread.
constexpr float kOutputGain = 2.f;
constexpr float kNormSpread = 0.05f;
constexpr float kBiasSpread = 0.05f;

SynthTensor tensor(std::string name, int64_t ne0, int64_t ne1, SynthInit init, float gain = 1.f) {
  SynthTensor t;
  t.name = std::move(name);
  t.ne[0] = ne0;
  t.ne[1] = ne1;
  t.init = init;
  t.gain = gain;
  return t;
}

}  // namespace

std::vector<SynthTensor> synth_tensors(const SynthConfig& c) {
  const int64_t E = c.n_embd, V = c.n_vocab, F = c.n_ff, hd = c.head_dim;
  const int64_t Q = int64_t(c.n_head) * hd, KV = int64_t(c.n_head_kv) * hd;
  const bool gemma = c.arch == "gemma3";
  std::vector<SynthTensor> ts;
  ts.push_back(tensor("token_embd.weight", E, V, SynthInit::Matrix, c.tied_output ? kOutputGain : 1.f));
  ts.push_back(tensor("output_norm.weight", E, 1, SynthInit::Norm));
  if (!c.tied_output) ts.push_back(tensor("output.weight", E, V, SynthInit::Matrix, kOutputGain));
  if (c.llama3_rope) ts.push_back(tensor("rope_freqs.weight", hd / 2, 1, SynthInit::RopeFreqs));
  for (int il = 0; il < c.n_layer; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    ts.push_back(tensor(p + "attn_norm.weight", E, 1, SynthInit::Norm));
    ts.push_back(tensor(p + "attn_q.weight", E, Q, SynthInit::Matrix));
    ts.push_back(tensor(p + "attn_k.weight", E, KV, SynthInit::Matrix));
    ts.push_back(tensor(p + "attn_v.weight", E, KV, SynthInit::Matrix));
    if (c.qkv_bias) {
      ts.push_back(tensor(p + "attn_q.bias", Q, 1, SynthInit::Bias));
      ts.push_back(tensor(p + "attn_k.bias", KV, 1, SynthInit::Bias));
      ts.push_back(tensor(p + "attn_v.bias", KV, 1, SynthInit::Bias));
    }
    if (gemma) {
      ts.push_back(tensor(p + "attn_q_norm.weight", hd, 1, SynthInit::Norm));
      ts.push_back(tensor(p + "attn_k_norm.weight", hd, 1, SynthInit::Norm));
    }
    ts.push_back(tensor(p + "attn_output.weight", Q, E, SynthInit::Matrix));
    if (gemma) ts.push_back(tensor(p + "post_attention_norm.weight", E, 1, SynthInit::Norm));
    ts.push_back(tensor(p + "ffn_norm.weight", E, 1, SynthInit::Norm));
    ts.push_back(tensor(p + "ffn_gate.weight", E, F, SynthInit::Matrix));
    ts.push_back(tensor(p + "ffn_up.weight", E, F, SynthInit::Matrix));
    ts.push_back(tensor(p + "ffn_down.weight", F, E, SynthInit::Matrix));
    if (gemma) ts.push_back(tensor(p + "post_ffw_norm.weight", E, 1, SynthInit::Norm));
  }
  std::vector<std::string> names;
  for (const SynthTensor& t : ts) names.push_back(t.name);
  std::vector<SynthTensor> ordered;
  ordered.reserve(ts.size());
  for (size_t i : llama_tensor_order(names)) ordered.push_back(ts[i]);
  return ordered;
}

std::vector<float> llama3_rope_factors(const SynthConfig& c) {
  const int dim = c.head_dim;
  const float base = c.rope_base, factor = c.llama3_factor;
  const float low = c.llama3_low_freq_factor, high = c.llama3_high_freq_factor;
  const float old_ctx = static_cast<float>(c.llama3_original_ctx);
  const float low_wavelen = old_ctx / low, high_wavelen = old_ctx / high;
  std::vector<float> out;
  for (int i = 0; i < dim; i += 2) {
    const float freq = 1.0f / std::pow(base, static_cast<float>(i) / static_cast<float>(dim));
    const float wavelen = 6.28318530717958647692f / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.f);  // high frequencies: unchanged
    } else if (wavelen > low_wavelen) {
      out.push_back(factor);  // low frequencies: stretched by the full factor
    } else {
      const float smooth = (old_ctx / wavelen - low) / (high - low);
      out.push_back(1.f / ((1.f - smooth) / factor + smooth));
    }
  }
  return out;
}

RowSource synth_rows(const SynthConfig& c, const SynthTensor& t, uint64_t seed) {
  const int64_t ne0 = t.ne[0];
  if (t.init == SynthInit::RopeFreqs) {
    const std::vector<float> f = llama3_rope_factors(c);
    if (static_cast<int64_t>(f.size()) != ne0) fail("rope_freqs.weight: ", f.size(), " factors for ", ne0, " columns");
    return [f](int64_t first, int64_t n, float* dst) {
      for (int64_t r = 0; r < n; ++r) std::copy(f.begin(), f.end(), dst + r * static_cast<int64_t>(f.size()));
      (void)first;
    };
  }
  const uint64_t key = tensor_stream_key(seed, t.name);
  float scale = 0.f, offset = 0.f;
  switch (t.init) {
    case SynthInit::Matrix: scale = t.gain / std::sqrt(static_cast<float>(ne0)); break;
    case SynthInit::Norm: scale = kNormSpread; offset = 1.f; break;
    case SynthInit::Bias: scale = kBiasSpread; break;
    case SynthInit::RopeFreqs: break;
  }
  return [key, ne0, scale, offset](int64_t first, int64_t n, float* dst) {
    for (int64_t r = 0; r < n; ++r) {
      RowRandom rng(key, first + r);
      float* row = dst + r * ne0;
      for (int64_t k = 0; k < ne0; ++k) row[k] = offset + scale * rng.normal();
    }
  };
}

}  // namespace jetlm
