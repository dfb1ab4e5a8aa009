// Shapes and hyperparameters of real models, for `jetlm synth`: random
// weights with the exact tensor shapes, metadata and vocabulary size of a
// published model let benchmarks and tests run at real sizes without the
// real (large, licensed) weights. Values are the models' Hugging Face
// config.json fields; `--custom` builds a config from key=value pairs.
#pragma once
#include <string>
#include <vector>

namespace jetlm {

// Tokenizer families (synth_vocab.h builds a vocabulary of each).
enum class VocabStyle {
  LlamaSpm,   // SentencePiece, Llama 2 / TinyLlama layout: <unk> <s> </s>, 256 byte tokens
  GemmaSpm,   // SentencePiece, Gemma 3 layout: <pad> <eos> <bos> <unk> ... <start_of_turn> <end_of_turn>
  Qwen2Bpe,   // byte-level BPE, Qwen2 pre-tokenizer, <|endoftext|> <|im_start|> ... after the merges
  Llama3Bpe,  // byte-level BPE, Llama 3 pre-tokenizer, 256 <|...|> specials after the merges
};

struct SynthConfig {
  std::string preset;         // preset name, or "custom"
  std::string display_name;   // general.name
  std::string arch;           // llama | qwen2 | gemma3
  int n_vocab = 0;            // rows of token_embd
  int n_ctx = 0;              // context_length
  int n_embd = 0;
  int n_layer = 0;
  int n_head = 0;
  int n_head_kv = 0;
  int head_dim = 0;           // per head, q/k/v alike
  bool explicit_head_dim = false;  // config.json states head_dim: key/value_length are written
  int n_ff = 0;
  float norm_eps = 1e-5f;
  float rope_base = 10000.f;
  bool tied_output = false;   // no output.weight: the output reuses token_embd
  bool qkv_bias = false;      // attn_{q,k,v}.bias (Qwen2)
  int sliding_window = 0;     // Gemma 3 local layers (0: none)
  float rope_linear_factor = 0;  // rope.scaling.type linear with this factor (0: none)
  // Llama 3 frequency-dependent RoPE scaling, written as the rope_freqs tensor.
  bool llama3_rope = false;
  float llama3_factor = 0, llama3_low_freq_factor = 0, llama3_high_freq_factor = 0;
  int llama3_original_ctx = 0;
  VocabStyle vocab = VocabStyle::LlamaSpm;
  int n_tokenizer = 0;        // real tokenizer entries; ids above are [PADn] filler (0: n_vocab)
};

// The preset of that name (case-insensitive), or null.
const SynthConfig* find_synth_preset(const std::string& name);
// "tinyllama-1.1b, llama-3.2-1b, ..." for usage messages.
std::string synth_preset_names();
std::vector<std::string> synth_preset_list();

// Applies "key=value,key=value" to a config: arch, n_embd, n_layer, n_head,
// n_head_kv, n_ff, n_vocab, head_dim, n_ctx, rope_base, norm_eps, tied,
// bias, window, rope_scale, name. Changing arch resets the family defaults
// (vocabulary style, biases, tying). Throws UsageError on an unknown key or
// bad value.
SynthConfig apply_custom(SynthConfig base, const std::string& spec);

// Checks the shapes are consistent (heads divide, sizes positive, the
// vocabulary fits its style); throws UsageError naming the field.
void validate_synth_config(const SynthConfig& c);

}  // namespace jetlm
