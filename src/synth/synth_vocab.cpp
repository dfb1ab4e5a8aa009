#include "synth/synth_vocab.h"

#include <cstdio>
#include <cstring>

#include "gguf/gguf.h"
#include "util/error.h"

namespace jetlm {
namespace {

// llama.cpp's token types (tokenizer.ggml.token_type).
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

// Letters by English frequency, so the first (shortest, best-scored) tokens look familiar.
const char kAlphabet[] = "etaoinshrdlcumwfgypbvkjxqz";
constexpr int kLetters = 26;

const char kSpmSpace[] = "\xe2\x96\x81";  // U+2581, SentencePiece's word-start mark
const char kBpeSpace[] = "\xc4\xa0";      // U+0120, the byte-level alphabet's space

struct VocabBuilder {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  std::vector<std::string> merges;

  void add(std::string text, int32_t type, float score = 0.f) {
    tokens.push_back(std::move(text));
    types.push_back(type);
    scores.push_back(score);
  }
  int size() const { return static_cast<int>(tokens.size()); }
};

// The n-th string of `len` letters (base-26 digits over kAlphabet).
std::string letters(int64_t n, int len) {
  std::string s(static_cast<size_t>(len), ' ');
  for (int i = len - 1; i >= 0; --i) {
    s[static_cast<size_t>(i)] = kAlphabet[n % kLetters];
    n /= kLetters;
  }
  return s;
}

int64_t power26(int len) {
  int64_t p = 1;
  for (int i = 0; i < len; ++i) p *= kLetters;
  return p;
}

std::string utf8(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xc0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  } else {
    s += static_cast<char>(0xe0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
    s += static_cast<char>(0x80 | (cp & 0x3f));
  }
  return s;
}

// The byte-level BPE alphabet (GPT-2's bytes_to_unicode): printable bytes
// stand for themselves, the others for U+0100 upwards. Token ids 0..255 list
// the printable bytes first, as GPT-2, Llama 3 and Qwen2 vocabularies do.
void add_bpe_bytes(VocabBuilder& v) {
  auto printable = [](int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255); };
  for (int b = 0; b < 256; ++b)
    if (printable(b)) v.add(utf8(static_cast<uint32_t>(b)), kNormal);
  int n = 0;
  for (int b = 0; b < 256; ++b)
    if (!printable(b)) v.add(utf8(static_cast<uint32_t>(256 + n++)), kNormal);
}

// Ordinary BPE tokens up to `end` ids, each with the merge that makes it:
// "Ġ" + letters and plain letter strings, by length, so both halves of every
// merge (the string minus its last letter, and that letter) already exist.
void add_bpe_words(VocabBuilder& v, int end) {
  for (int len = 1; v.size() < end; ++len) {
    for (int64_t i = 0; i < power26(len) && v.size() < end; ++i) {
      const std::string s = letters(i, len);
      const std::string left = len == 1 ? std::string(kBpeSpace) : kBpeSpace + s.substr(0, s.size() - 1);
      v.add(kBpeSpace + s, kNormal);
      v.merges.push_back(left + " " + s.substr(s.size() - 1));
    }
    for (int64_t i = 0; i < power26(len + 1) && v.size() < end; ++i) {
      const std::string s = letters(i, len + 1);
      v.add(s, kNormal);
      v.merges.push_back(s.substr(0, s.size() - 1) + " " + s.substr(s.size() - 1));
    }
  }
}

void add_spm_bytes(VocabBuilder& v) {
  char buf[8];
  for (int b = 0; b < 256; ++b) {
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    v.add(buf, kByte);
  }
}

// Ordinary SentencePiece pieces: "▁", then "▁" + letters and plain letters,
// by length; scores fall with the id as in a trained model.
void add_spm_words(VocabBuilder& v, int end) {
  int k = 0;
  if (v.size() < end) v.add(kSpmSpace, kNormal, -static_cast<float>(k++));
  for (int len = 1; v.size() < end; ++len) {
    for (int64_t i = 0; i < power26(len) && v.size() < end; ++i) {
      const std::string s = letters(i, len);
      v.add(kSpmSpace + s, kNormal, -static_cast<float>(k++));
      if (v.size() < end) v.add(s, kNormal, -static_cast<float>(k++));
    }
  }
}

const char* const kQwen2Specials[] = {
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
    "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>",
    "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
};
constexpr int kQwen2SpecialCount = sizeof kQwen2Specials / sizeof kQwen2Specials[0];

// Llama 3's 256 specials: 11 named, the rest reserved.
std::string llama3_special(int k) {
  static const char* const named[] = {"<|begin_of_text|>", "<|end_of_text|>", nullptr, nullptr, "<|finetune_right_pad_id|>",
                                      nullptr, "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>",
                                      "<|python_tag|>"};
  if (k < 11 && named[k]) return named[k];
  const int reserved = k < 4 ? k - 2 : k == 5 ? 2 : k - 8;
  return "<|reserved_special_token_" + std::to_string(reserved) + "|>";
}
constexpr int kLlama3SpecialCount = 256;

constexpr int kGemmaFirstByte = 107;  // after <pad> <eos> <bos> <unk> <mask>, the filler and the turn markers

void put_u32(GgufMetadata& m, const char* key, int v) { m.set(key, GgufMetaValue::u32(static_cast<uint32_t>(v))); }

}  // namespace

int min_vocab_size(VocabStyle style) {
  switch (style) {
    case VocabStyle::LlamaSpm: return 3 + 256 + 1;
    case VocabStyle::GemmaSpm: return kGemmaFirstByte + 256 + 1;
    case VocabStyle::Qwen2Bpe: return 256 + kQwen2SpecialCount + 1;
    case VocabStyle::Llama3Bpe: return 256 + kLlama3SpecialCount;
  }
  return 0;
}

void add_synthetic_vocab(GgufMetadata& meta, VocabStyle style, int n_tokenizer, int n_vocab) {
  if (n_tokenizer < min_vocab_size(style) || n_tokenizer > n_vocab)
    fail("synthetic vocabulary: ", n_tokenizer, " tokens does not fit (at least ", min_vocab_size(style), ", at most ", n_vocab, ")");
  VocabBuilder v;
  const bool spm = style == VocabStyle::LlamaSpm || style == VocabStyle::GemmaSpm;
  switch (style) {
    case VocabStyle::LlamaSpm:
      v.add("<unk>", kUnknown);
      v.add("<s>", kControl);
      v.add("</s>", kControl);
      add_spm_bytes(v);
      add_spm_words(v, n_tokenizer);
      break;
    case VocabStyle::GemmaSpm:
      v.add("<pad>", kControl);
      v.add("<eos>", kControl);
      v.add("<bos>", kControl);
      v.add("<unk>", kUnknown);
      v.add("<mask>", kControl);
      for (int k = 0; v.size() < 105; ++k) v.add("<unused" + std::to_string(k) + ">", kControl);
      v.add("<start_of_turn>", kControl);
      v.add("<end_of_turn>", kControl);
      add_spm_bytes(v);
      add_spm_words(v, n_tokenizer);
      break;
    case VocabStyle::Qwen2Bpe:
      add_bpe_bytes(v);
      add_bpe_words(v, n_tokenizer - kQwen2SpecialCount);
      for (int k = 0; k < kQwen2SpecialCount; ++k) {
        // The tool-call markers are plain added tokens in Qwen2.5; the <|...|> ones are control tokens.
        const bool control = kQwen2Specials[k][1] == '|';
        v.add(kQwen2Specials[k], control ? kControl : kUserDefined);
      }
      break;
    case VocabStyle::Llama3Bpe:
      add_bpe_bytes(v);
      add_bpe_words(v, n_tokenizer - kLlama3SpecialCount);
      for (int k = 0; k < kLlama3SpecialCount; ++k) v.add(llama3_special(k), kControl);
      break;
  }
  while (v.size() < n_vocab) v.add("[PAD" + std::to_string(v.size()) + "]", kUnused, -1000.f);

  const int end_real = n_tokenizer;  // one past the last real token; [PADn] entries follow
  meta.set("tokenizer.ggml.model", GgufMetaValue::string(spm ? "llama" : "gpt2"));
  meta.set("tokenizer.ggml.pre", GgufMetaValue::string(style == VocabStyle::Qwen2Bpe    ? "qwen2"
                                                       : style == VocabStyle::Llama3Bpe ? "llama-bpe"
                                                                                        : "default"));
  meta.set("tokenizer.ggml.tokens", GgufMetaValue::string_array(std::move(v.tokens)));
  if (spm) meta.set("tokenizer.ggml.scores", GgufMetaValue::f32_array(v.scores));
  meta.set("tokenizer.ggml.token_type", GgufMetaValue::i32_array(v.types));
  if (!spm) meta.set("tokenizer.ggml.merges", GgufMetaValue::string_array(std::move(v.merges)));
  switch (style) {
    case VocabStyle::LlamaSpm:
      put_u32(meta, "tokenizer.ggml.bos_token_id", 1);
      put_u32(meta, "tokenizer.ggml.eos_token_id", 2);
      put_u32(meta, "tokenizer.ggml.unknown_token_id", 0);
      meta.set("tokenizer.ggml.add_bos_token", GgufMetaValue::boolean(true));
      meta.set("tokenizer.ggml.add_eos_token", GgufMetaValue::boolean(false));
      break;
    case VocabStyle::GemmaSpm:
      put_u32(meta, "tokenizer.ggml.bos_token_id", 2);
      put_u32(meta, "tokenizer.ggml.eos_token_id", 1);
      put_u32(meta, "tokenizer.ggml.unknown_token_id", 3);
      put_u32(meta, "tokenizer.ggml.padding_token_id", 0);
      meta.set("tokenizer.ggml.add_bos_token", GgufMetaValue::boolean(true));
      meta.set("tokenizer.ggml.add_eos_token", GgufMetaValue::boolean(false));
      meta.set("tokenizer.ggml.add_space_prefix", GgufMetaValue::boolean(false));
      break;
    case VocabStyle::Qwen2Bpe: {
      const int endoftext = end_real - kQwen2SpecialCount;
      put_u32(meta, "tokenizer.ggml.eos_token_id", endoftext + 2);  // <|im_end|>
      put_u32(meta, "tokenizer.ggml.padding_token_id", endoftext);
      put_u32(meta, "tokenizer.ggml.bos_token_id", endoftext);
      meta.set("tokenizer.ggml.add_bos_token", GgufMetaValue::boolean(false));
      break;
    }
    case VocabStyle::Llama3Bpe: {
      const int begin = end_real - kLlama3SpecialCount;
      put_u32(meta, "tokenizer.ggml.bos_token_id", begin);
      put_u32(meta, "tokenizer.ggml.eos_token_id", begin + 9);  // <|eot_id|>
      meta.set("tokenizer.ggml.add_bos_token", GgufMetaValue::boolean(true));
      break;
    }
  }
}

int add_vocab_from(GgufMetadata& meta, const GgufFile& from, int n_vocab) {
  const GgufValue* tokens = from.find("tokenizer.ggml.tokens");
  if (!tokens || tokens->type != GgufType::ARRAY || tokens->elem_type != GgufType::STRING)
    fail(from.path(), ": tokenizer.ggml.tokens: missing (not a file with a vocabulary)");
  const int n_tokens = static_cast<int>(tokens->count);
  for (const auto& kv : from.metadata())
    if (kv.first.compare(0, 10, "tokenizer.") == 0) meta.set(kv.first, GgufMetaValue::copy_of(kv.second));
  if (n_tokens >= n_vocab) return n_tokens;

  // Pad like llama.cpp's converter: "[PADn]" entries of type unused, score -1000.
  GgufMetaValue* t = meta.find("tokenizer.ggml.tokens");
  for (int id = n_tokens; id < n_vocab; ++id) t->strs.push_back("[PAD" + std::to_string(id) + "]");
  t->count = t->strs.size();
  auto pad_fixed = [&](const char* key, GgufType want, const void* value) {
    GgufMetaValue* a = meta.find(key);
    if (!a) return;
    if (a->type != GgufType::ARRAY || a->elem_type != want || a->count != static_cast<uint64_t>(n_tokens))
      fail(from.path(), ": ", key, ": expected ", n_tokens, " values of type ", gguf_type_name(want));
    for (int id = n_tokens; id < n_vocab; ++id) a->raw.insert(a->raw.end(), static_cast<const uint8_t*>(value), static_cast<const uint8_t*>(value) + 4);
    a->count = static_cast<uint64_t>(n_vocab);
  };
  const float score = -1000.f;
  const int32_t unused = kUnused;
  pad_fixed("tokenizer.ggml.scores", GgufType::F32, &score);
  pad_fixed("tokenizer.ggml.token_type", GgufType::I32, &unused);
  return n_vocab;
}

}  // namespace jetlm
