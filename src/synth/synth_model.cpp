#include "synth/synth_model.h"

#include <algorithm>
#include <cstdio>
#include <thread>

#include "gguf/gguf.h"
#include "quant/quantize_model.h"
#include "quant/recipe.h"
#include "synth/synth_vocab.h"
#include "util/error.h"

namespace jetlm {
namespace {

void put_u32(GgufMetadata& m, const std::string& key, int v) { m.set(key, GgufMetaValue::u32(static_cast<uint32_t>(v))); }
void put_f32(GgufMetadata& m, const std::string& key, float v) { m.set(key, GgufMetaValue::f32(v)); }

// The keys llama.cpp's converter writes for these architectures (and its
// loader reads); values as the model's config.json gives them.
void add_model_keys(GgufMetadata& m, const SynthConfig& c, FileType ftype, uint64_t seed) {
  const std::string a = c.arch + ".";
  m.set("general.architecture", GgufMetaValue::string(c.arch));
  m.set("general.type", GgufMetaValue::string("model"));
  m.set("general.name", GgufMetaValue::string(c.display_name));
  m.set("general.description",
        GgufMetaValue::string("random weights with the shapes of " + c.preset + " (jetlm synth, seed " +
                              std::to_string(seed) + "); not a trained model"));
  put_u32(m, a + "context_length", c.n_ctx);
  put_u32(m, a + "embedding_length", c.n_embd);
  put_u32(m, a + "block_count", c.n_layer);
  put_u32(m, a + "feed_forward_length", c.n_ff);
  put_u32(m, a + "attention.head_count", c.n_head);
  put_u32(m, a + "attention.head_count_kv", c.n_head_kv);
  put_f32(m, a + "rope.freq_base", c.rope_base);
  put_f32(m, a + "attention.layer_norm_rms_epsilon", c.norm_eps);
  if (c.explicit_head_dim) {
    put_u32(m, a + "attention.key_length", c.head_dim);
    put_u32(m, a + "attention.value_length", c.head_dim);
  }
  if (c.arch == "llama") {
    put_u32(m, a + "rope.dimension_count", c.head_dim);
    put_u32(m, a + "vocab_size", c.n_vocab);
  }
  if (c.arch == "gemma3" && c.sliding_window > 0) put_u32(m, a + "attention.sliding_window", c.sliding_window);
  if (c.rope_linear_factor > 0) {
    m.set(a + "rope.scaling.type", GgufMetaValue::string("linear"));
    put_f32(m, a + "rope.scaling.factor", c.rope_linear_factor);
  }
  put_u32(m, "general.file_type", static_cast<int>(ftype));
  put_u32(m, "general.quantization_version", static_cast<int>(kQuantizationVersion));
}

}  // namespace

SynthPlan plan_synth_model(const SynthOptions& opt) {
  SynthPlan p;
  p.config = opt.config;
  validate_synth_config(p.config);

  GgufMetadata vocab;
  if (!opt.vocab_from.empty()) {
    const std::unique_ptr<GgufFile> vf = GgufFile::open(opt.vocab_from);
    const int n = add_vocab_from(vocab, *vf, p.config.n_vocab);
    if (n > p.config.n_vocab) {
      std::fprintf(stderr, "jetlm synth: %s has %d tokens: the embedding grows from %d to %d rows to match\n",
                   opt.vocab_from.c_str(), n, p.config.n_vocab, n);
      p.config.n_vocab = n;
    }
  } else {
    const int n_tok = p.config.n_tokenizer ? p.config.n_tokenizer : p.config.n_vocab;
    add_synthetic_vocab(vocab, p.config.vocab, n_tok, p.config.n_vocab);
  }
  add_model_keys(p.meta, p.config, opt.ftype, opt.seed);
  for (const auto& kv : vocab.entries()) p.meta.set(kv.first, kv.second);

  p.tensors = synth_tensors(p.config);
  std::vector<RecipeTensor> rt(p.tensors.size());
  for (size_t i = 0; i < rt.size(); ++i) {
    rt[i].name = p.tensors[i].name;
    std::copy(p.tensors[i].ne, p.tensors[i].ne + 4, rt[i].ne);
  }
  RecipeModel model;
  model.arch = p.config.arch;
  model.n_layer = p.config.n_layer;
  model.n_head = p.config.n_head;
  model.n_head_kv = p.config.n_head_kv;
  RecipeOptions ro;
  ro.ftype = opt.ftype;
  const RecipeResult r = choose_tensor_types(model, rt, ro);
  p.types = r.types;
  p.n_fallback = r.n_fallback;
  return p;
}

std::vector<TensorReport> write_synth_model(const std::string& out_path, const SynthOptions& opt) {
  const SynthPlan p = plan_synth_model(opt);
  std::vector<StreamTensor> out;
  out.reserve(p.tensors.size());
  for (size_t i = 0; i < p.tensors.size(); ++i) {
    const SynthTensor& t = p.tensors[i];
    StreamTensor s;
    s.out.name = t.name;
    s.out.type = p.types[i];
    std::copy(t.ne, t.ne + 4, s.out.ne);
    s.out.n_dims = gguf_n_dims(t.ne);
    s.rows = synth_rows(p.config, t, opt.seed);
    out.push_back(std::move(s));
  }
  StreamOptions so;
  so.n_threads = opt.n_threads > 0 ? opt.n_threads : std::max(1u, std::thread::hardware_concurrency());
  so.progress = opt.progress;
  return write_gguf_streaming(out_path, p.meta, out, so);
}

}  // namespace jetlm
