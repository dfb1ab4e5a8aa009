#include "synth/presets.h"

#include <cctype>

#include "synth/synth_vocab.h"
#include "tools/args.h"
#include "util/error.h"

namespace jetlm {
namespace {

SynthConfig family(const std::string& arch) {
  SynthConfig c;
  c.arch = arch;
  if (arch == "llama") {
    c.vocab = VocabStyle::LlamaSpm;
    c.norm_eps = 1e-5f;
    c.rope_base = 10000.f;
  } else if (arch == "qwen2") {
    c.vocab = VocabStyle::Qwen2Bpe;
    c.norm_eps = 1e-6f;
    c.rope_base = 1000000.f;
    c.qkv_bias = true;
    c.tied_output = true;
  } else if (arch == "gemma3") {
    c.vocab = VocabStyle::GemmaSpm;
    c.norm_eps = 1e-6f;
    c.rope_base = 1000000.f;
    c.tied_output = true;
    c.explicit_head_dim = true;
  } else {
    throw UsageError("jetlm synth: arch: '" + arch + "' is not one of llama, qwen2, gemma3");
  }
  return c;
}

SynthConfig tinyllama_1_1b() {
  // TinyLlama/TinyLlama-1.1B-Chat-v1.0
  SynthConfig c = family("llama");
  c.preset = "tinyllama-1.1b";
  c.display_name = "TinyLlama 1.1B (synthetic weights)";
  c.n_vocab = 32000;
  c.n_ctx = 2048;
  c.n_embd = 2048;
  c.n_layer = 22;
  c.n_head = 32;
  c.n_head_kv = 4;
  c.head_dim = 64;
  c.n_ff = 5632;
  c.rope_base = 10000.f;
  return c;
}

SynthConfig llama_3_2(const char* preset, const char* name, int n_embd, int n_layer, int n_head, int head_dim) {
  // meta-llama/Llama-3.2-{1B,3B}: Llama 3 RoPE scaling (factor 32 from 8192 positions), tied output.
  SynthConfig c = family("llama");
  c.preset = preset;
  c.display_name = name;
  c.vocab = VocabStyle::Llama3Bpe;
  c.n_vocab = 128256;
  c.n_ctx = 131072;
  c.n_embd = n_embd;
  c.n_layer = n_layer;
  c.n_head = n_head;
  c.n_head_kv = 8;
  c.head_dim = head_dim;
  c.explicit_head_dim = true;
  c.n_ff = 8192;
  c.rope_base = 500000.f;
  c.tied_output = true;
  c.llama3_rope = true;
  c.llama3_factor = 32.f;
  c.llama3_low_freq_factor = 1.f;
  c.llama3_high_freq_factor = 4.f;
  c.llama3_original_ctx = 8192;
  return c;
}

SynthConfig qwen2_5(const char* preset, const char* name, int n_embd, int n_layer, int n_head, int n_ff) {
  // Qwen/Qwen2.5-{0.5B,1.5B,3B}: 151643 BPE tokens + 22 specials, padded to 151936 embedding rows.
  SynthConfig c = family("qwen2");
  c.preset = preset;
  c.display_name = name;
  c.n_vocab = 151936;
  c.n_tokenizer = 151665;
  c.n_ctx = 32768;
  c.n_embd = n_embd;
  c.n_layer = n_layer;
  c.n_head = n_head;
  c.n_head_kv = 2;
  c.head_dim = n_embd / n_head;
  c.n_ff = n_ff;
  return c;
}

SynthConfig gemma3_1b() {
  // google/gemma-3-1b-it
  SynthConfig c = family("gemma3");
  c.preset = "gemma3-1b";
  c.display_name = "Gemma 3 1B (synthetic weights)";
  c.n_vocab = 262144;
  c.n_ctx = 32768;
  c.n_embd = 1152;
  c.n_layer = 26;
  c.n_head = 4;
  c.n_head_kv = 1;
  c.head_dim = 256;
  c.n_ff = 6912;
  c.sliding_window = 512;
  return c;
}

SynthConfig gemma3_4b() {
  // google/gemma-3-4b-it, text_config: 262144 tokenizer entries, 64 more embedding rows (image tokens).
  SynthConfig c = family("gemma3");
  c.preset = "gemma3-4b";
  c.display_name = "Gemma 3 4B (synthetic weights)";
  c.n_vocab = 262208;
  c.n_tokenizer = 262144;
  c.n_ctx = 131072;
  c.n_embd = 2560;
  c.n_layer = 34;
  c.n_head = 8;
  c.n_head_kv = 4;
  c.head_dim = 256;
  c.n_ff = 10240;
  c.sliding_window = 1024;
  c.rope_linear_factor = 8.f;
  return c;
}

const std::vector<SynthConfig>& presets() {
  static const std::vector<SynthConfig> all = {
      tinyllama_1_1b(),
      llama_3_2("llama-3.2-1b", "Llama 3.2 1B (synthetic weights)", 2048, 16, 32, 64),
      llama_3_2("llama-3.2-3b", "Llama 3.2 3B (synthetic weights)", 3072, 28, 24, 128),
      qwen2_5("qwen2.5-0.5b", "Qwen2.5 0.5B (synthetic weights)", 896, 24, 14, 4864),
      qwen2_5("qwen2.5-1.5b", "Qwen2.5 1.5B (synthetic weights)", 1536, 28, 12, 8960),
      qwen2_5("qwen2.5-3b", "Qwen2.5 3B (synthetic weights)", 2048, 36, 16, 11008),
      gemma3_1b(),
      gemma3_4b(),
  };
  return all;
}

std::string lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

int positive_int(const std::string& key, const std::string& v) {
  const int64_t x = parse_int(v, "jetlm synth: --custom " + key);
  if (x <= 0 || x > (int64_t(1) << 28)) throw UsageError("jetlm synth: --custom " + key + ": " + v + " is out of range");
  return static_cast<int>(x);
}

bool flag_value(const std::string& key, const std::string& v) {
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  throw UsageError("jetlm synth: --custom " + key + ": expected 0 or 1, got '" + v + "'");
}

}  // namespace

const SynthConfig* find_synth_preset(const std::string& name) {
  for (const SynthConfig& c : presets())
    if (c.preset == lower(name)) return &c;
  return nullptr;
}

std::vector<std::string> synth_preset_list() {
  std::vector<std::string> v;
  for (const SynthConfig& c : presets()) v.push_back(c.preset);
  return v;
}

std::string synth_preset_names() {
  std::string s;
  for (const SynthConfig& c : presets()) s += (s.empty() ? "" : ", ") + c.preset;
  return s;
}

SynthConfig apply_custom(SynthConfig c, const std::string& spec) {
  const std::string from = c.preset;
  bool head_dim_given = false, name_given = false;
  size_t at = 0;
  while (at <= spec.size()) {
    size_t end = spec.find(',', at);
    if (end == std::string::npos) end = spec.size();
    const std::string item = spec.substr(at, end - at);
    at = end + 1;
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) throw UsageError("jetlm synth: --custom: expected key=value, got '" + item + "'");
    const std::string key = item.substr(0, eq), v = item.substr(eq + 1);
    if (key == "arch") {
      // A new family: its defaults, keeping the sizes given so far.
      SynthConfig f = family(v);
      f.n_vocab = c.n_vocab; f.n_ctx = c.n_ctx; f.n_embd = c.n_embd; f.n_layer = c.n_layer;
      f.n_head = c.n_head; f.n_head_kv = c.n_head_kv; f.head_dim = c.head_dim; f.n_ff = c.n_ff;
      f.display_name = c.display_name;
      c = f;
    } else if (key == "n_embd") c.n_embd = positive_int(key, v);
    else if (key == "n_layer") c.n_layer = positive_int(key, v);
    else if (key == "n_head") c.n_head = positive_int(key, v);
    else if (key == "n_head_kv") c.n_head_kv = positive_int(key, v);
    else if (key == "n_ff") c.n_ff = positive_int(key, v);
    else if (key == "n_vocab") { c.n_vocab = positive_int(key, v); c.n_tokenizer = 0; }
    else if (key == "head_dim") { c.head_dim = positive_int(key, v); head_dim_given = true; }
    else if (key == "n_ctx") c.n_ctx = positive_int(key, v);
    else if (key == "window") c.sliding_window = static_cast<int>(parse_int(v, "jetlm synth: --custom window"));
    else if (key == "rope_base") c.rope_base = static_cast<float>(parse_double(v, "jetlm synth: --custom rope_base"));
    else if (key == "norm_eps") c.norm_eps = static_cast<float>(parse_double(v, "jetlm synth: --custom norm_eps"));
    else if (key == "rope_scale") c.rope_linear_factor = static_cast<float>(parse_double(v, "jetlm synth: --custom rope_scale"));
    else if (key == "tied") c.tied_output = flag_value(key, v);
    else if (key == "bias") c.qkv_bias = flag_value(key, v);
    else if (key == "name") { c.display_name = v; name_given = true; }
    else
      throw UsageError("jetlm synth: --custom: unknown key '" + key +
                       "' (known: arch, n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, head_dim, n_ctx, "
                       "rope_base, norm_eps, tied, bias, window, rope_scale, name)");
  }
  c.preset = "custom";
  if (!name_given)
    c.display_name = from.empty() || from == "custom" ? "custom " + c.arch + " (synthetic weights)"
                                                      : c.display_name + " [" + spec + "]";
  if (!head_dim_given && c.n_head > 0 && (c.head_dim == 0 || !c.explicit_head_dim)) c.head_dim = c.n_embd / c.n_head;
  if (head_dim_given) c.explicit_head_dim = c.explicit_head_dim || c.head_dim * c.n_head != c.n_embd;
  if (c.n_ctx == 0) c.n_ctx = 2048;
  return c;
}

void validate_synth_config(const SynthConfig& c) {
  auto bad = [&](const std::string& what) { throw UsageError("jetlm synth: " + c.preset + ": " + what); };
  if (c.arch != "llama" && c.arch != "qwen2" && c.arch != "gemma3") bad("arch must be llama, qwen2 or gemma3 (give arch=...)");
  if (c.n_embd <= 0 || c.n_layer <= 0 || c.n_head <= 0 || c.n_head_kv <= 0 || c.n_ff <= 0 || c.n_vocab <= 0 || c.head_dim <= 0)
    bad("n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab and head_dim must all be given and positive");
  if (c.n_head % c.n_head_kv != 0) bad("n_head_kv " + std::to_string(c.n_head_kv) + " does not divide n_head " + std::to_string(c.n_head));
  if (c.head_dim % 2 != 0) bad("head_dim must be even (RoPE rotates pairs)");
  if (c.n_layer > 4096) bad("n_layer is too large");
  const int n_tok = c.n_tokenizer ? c.n_tokenizer : c.n_vocab;
  if (n_tok > c.n_vocab) bad("the tokenizer is larger than n_vocab");
  if (n_tok < min_vocab_size(c.vocab))
    bad("n_vocab must be at least " + std::to_string(min_vocab_size(c.vocab)) + " for its vocabulary style");
  if (c.sliding_window < 0) bad("window must be >= 0");
  if (!(c.rope_base > 1.f)) bad("rope_base must be > 1");
  if (!(c.norm_eps > 0.f && c.norm_eps < 1.f)) bad("norm_eps must be in (0, 1)");
  if (c.rope_linear_factor < 0) bad("rope_scale must be >= 0");
}

}  // namespace jetlm
