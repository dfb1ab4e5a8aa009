#include "models/hparams.h"

#include <cmath>

#include "gguf/gguf.h"
#include "util/error.h"

namespace jetlm {

const char* supported_architectures() { return "llama, qwen2, gemma3"; }

static int positive(const GgufFile& f, const std::string& key, uint32_t v, uint32_t max = 1u << 24) {
  if (v == 0 || v > max) fail(f.path(), ": ", key, ": value ", v, " is out of range (1..", max, ")");
  return static_cast<int>(v);
}

HParams read_hparams(const GgufFile& f) {
  HParams hp;
  hp.arch_name = f.get_str("general.architecture");
  if (hp.arch_name == "llama") hp.arch = Arch::Llama;
  else if (hp.arch_name == "qwen2") hp.arch = Arch::Qwen2;
  else if (hp.arch_name == "gemma3") hp.arch = Arch::Gemma3;
  else fail(f.path(), ": general.architecture: unsupported architecture '", hp.arch_name, "' (supported: ", supported_architectures(), ")");

  const std::string a = hp.arch_name + ".";
  auto u32 = [&](const char* k) { return positive(f, a + k, f.get_u32(a + k)); };
  hp.n_embd = u32("embedding_length");
  hp.n_layer = positive(f, a + "block_count", f.get_u32(a + "block_count"), 4096);
  hp.n_head = positive(f, a + "attention.head_count", f.get_u32(a + "attention.head_count"), 4096);
  hp.n_head_kv = positive(f, a + "attention.head_count_kv",
                          f.get_u32_or(a + "attention.head_count_kv", static_cast<uint32_t>(hp.n_head)), 4096);
  hp.n_ctx_train = positive(f, a + "context_length", f.get_u32_or(a + "context_length", 2048), 1u << 26);
  if (const GgufValue* v = f.find(a + "feed_forward_length"); v && v->type == GgufType::ARRAY) {
    // Some converters write one value per layer; jetlm supports uniform FFNs.
    const std::vector<int64_t> ff = f.get_int_array(a + "feed_forward_length");
    if (ff.empty()) fail(f.path(), ": ", a, "feed_forward_length: empty array");
    for (int64_t x : ff)
      if (x != ff[0]) fail(f.path(), ": ", a, "feed_forward_length: per-layer FFN sizes are not supported");
    hp.n_ff = positive(f, a + "feed_forward_length", static_cast<uint32_t>(ff[0]));
  } else {
    hp.n_ff = u32("feed_forward_length");
  }
  if (hp.n_head % hp.n_head_kv != 0)
    fail(f.path(), ": ", a, "attention.head_count_kv: ", hp.n_head_kv, " does not divide head_count ", hp.n_head);
  if (!f.has(a + "attention.key_length") && hp.n_embd % hp.n_head != 0)
    fail(f.path(), ": ", a, "embedding_length: ", hp.n_embd, " is not a multiple of head_count ", hp.n_head);
  hp.head_dim_k = positive(f, a + "attention.key_length",
                           f.get_u32_or(a + "attention.key_length", static_cast<uint32_t>(hp.n_embd / hp.n_head)), 65536);
  hp.head_dim_v = positive(f, a + "attention.value_length",
                           f.get_u32_or(a + "attention.value_length", static_cast<uint32_t>(hp.head_dim_k)), 65536);
  hp.n_rot = positive(f, a + "rope.dimension_count",
                      f.get_u32_or(a + "rope.dimension_count", static_cast<uint32_t>(hp.head_dim_k)), 65536);
  if (hp.n_rot > hp.head_dim_k || hp.n_rot % 2 != 0)
    fail(f.path(), ": ", a, "rope.dimension_count: ", hp.n_rot, " must be even and at most the head size ", hp.head_dim_k);
  hp.norm_eps = f.get_f32_or(a + "attention.layer_norm_rms_epsilon", 1e-5f);
  if (!(hp.norm_eps > 0.f && hp.norm_eps < 1.f)) fail(f.path(), ": ", a, "attention.layer_norm_rms_epsilon: ", hp.norm_eps, " out of range");
  hp.rope_base = f.get_f32_or(a + "rope.freq_base", 10000.f);
  if (!(hp.rope_base > 1.f)) fail(f.path(), ": ", a, "rope.freq_base: ", hp.rope_base, " out of range");
  const std::string scaling = f.get_str_or(a + "rope.scaling.type", "none");
  if (scaling == "linear") {
    const float factor = f.get_f32_or(a + "rope.scaling.factor", 1.f);
    if (!(factor > 0.f)) fail(f.path(), ": ", a, "rope.scaling.factor: ", factor, " out of range");
    hp.rope_freq_scale = 1.f / factor;
  } else if (scaling != "none" && scaling != "llama3") {  // llama3 scaling arrives as the rope_freqs tensor
    fail(f.path(), ": ", a, "rope.scaling.type: unsupported '", scaling, "' (supported: none, linear)");
  }
  hp.attn_scale = 1.f / std::sqrt(static_cast<float>(hp.head_dim_k));
  hp.layer_swa.assign(static_cast<size_t>(hp.n_layer), false);

  switch (hp.arch) {
    case Arch::Llama:
      hp.rope_neox = false;
      break;
    case Arch::Qwen2:
      hp.rope_neox = true;
      break;
    case Arch::Gemma3: {
      hp.rope_neox = true;
      hp.embd_scale = std::sqrt(static_cast<float>(hp.n_embd));
      hp.rope_base_swa = f.get_f32_or(a + "rope.freq_base_swa", 10000.f);
      hp.sliding_window = static_cast<int>(f.get_u32_or(a + "attention.sliding_window", 0));
      // Gemma 3: five local (sliding-window) layers, then one global, unless the file says otherwise.
      uint32_t pattern = 6;
      if (const GgufValue* v = f.find(a + "attention.sliding_window_pattern")) {
        if (v->type == GgufType::ARRAY) {
          const std::vector<int64_t> per_layer = f.get_int_array(a + "attention.sliding_window_pattern");
          if (per_layer.size() != static_cast<size_t>(hp.n_layer))
            fail(f.path(), ": ", a, "attention.sliding_window_pattern: ", per_layer.size(), " entries for ", hp.n_layer, " layers");
          for (int il = 0; il < hp.n_layer; ++il) hp.layer_swa[static_cast<size_t>(il)] = per_layer[static_cast<size_t>(il)] != 0;
          pattern = 0;
        } else {
          pattern = f.get_u32(a + "attention.sliding_window_pattern");
        }
      }
      if (pattern > 0)
        for (int il = 0; il < hp.n_layer; ++il) hp.layer_swa[static_cast<size_t>(il)] = (il % pattern) < pattern - 1;
      if (hp.sliding_window == 0) hp.layer_swa.assign(static_cast<size_t>(hp.n_layer), false);
      break;
    }
  }
  return hp;
}

}  // namespace jetlm
