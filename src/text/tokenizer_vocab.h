// The vocabulary half of a tokenizer: token texts, scores and attributes,
// the special ids and flags, read once from tokenizer.ggml.* and owned here
// (nothing points into the GGUF map afterwards). Both the SentencePiece and
// the byte-level BPE tokenizer are built on it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace jetlm {

class GgufFile;

// Token attributes, as llama.cpp derives them from tokenizer.ggml.token_type
// (1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte) plus the
// whitespace-stripping flags some models give their special tokens.
enum TokenAttr : uint32_t {
  kAttrNormal = 1u << 0,
  kAttrUnknown = 1u << 1,
  kAttrControl = 1u << 2,
  kAttrUserDefined = 1u << 3,
  kAttrUnused = 1u << 4,
  kAttrByte = 1u << 5,
  kAttrUndefined = 1u << 6,
  kAttrLstrip = 1u << 7,  // eat whitespace before the token when it is split out of text
  kAttrRstrip = 1u << 8,  // eat whitespace after it
};

enum class VocabKind { Spm, Bpe };

class Vocab {
 public:
  // default_add_bos: the tokenizer family's default, overridden by
  // tokenizer.ggml.add_bos_token when the file has it.
  Vocab(const GgufFile& file, VocabKind kind, bool default_add_bos);
  // Tokenizers keep one for their lifetime; copying 100k+ strings is never meant.
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  int32_t size() const { return static_cast<int32_t>(text_.size()); }
  bool valid(int32_t id) const { return id >= 0 && id < size(); }
  const std::string& text(int32_t id) const { return text_[static_cast<size_t>(id)]; }
  float score(int32_t id) const { return score_[static_cast<size_t>(id)]; }
  uint32_t attr(int32_t id) const { return attr_[static_cast<size_t>(id)]; }
  // Token id of an exact text, -1 when there is none. The tokenizers call
  // this for every candidate merge, hence the flat table below.
  int32_t find(std::string_view s) const {
    const uint64_t h = hash(s);
    for (uint64_t i = h & mask_;; i = (i + 1) & mask_) {
      const uint64_t slot = slots_[i];
      if (slot == 0) return -1;
      const auto id = static_cast<int32_t>(static_cast<uint32_t>(slot) - 1);
      if ((slot >> 32) == (h >> 32) && text_[static_cast<size_t>(id)] == s) return id;
    }
  }

  int32_t bos = -1, eos = -1, eot = -1, eom = -1, unk = -1, pad = -1;
  bool add_bos = false, add_eos = false;
  bool add_space_prefix = false;  // SentencePiece's leading "▁"
  const std::string& name() const { return name_; }

  // Tokens split out of the text before the tokenizer proper runs (control,
  // user-defined, unknown), longest text first: that order decides overlaps.
  const std::vector<int32_t>& special_tokens() const { return special_; }
  bool is_eog(int32_t id) const { return valid(id) && eog_[static_cast<size_t>(id)]; }

 private:
  void read_special_ids(const GgufFile& file);
  void detect_special_by_text();
  void apply_model_quirks(const GgufFile& file);

  // FNV-1a over the bytes (tokens are short), then a final mix so that both
  // the low bits (the slot) and the high bits (the tag) are well spread.
  static uint64_t hash(std::string_view s) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ s.size();
    for (const char c : s) h = (h ^ static_cast<uint8_t>(c)) * 0x100000001B3ULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    return h ^ (h >> 32);
  }

  std::string name_;
  std::vector<std::string> text_;
  std::vector<float> score_;
  std::vector<uint32_t> attr_;
  // Text -> id, open addressing: (hash tag << 32) | (id + 1) per slot, 0 when
  // empty; a tag match is confirmed against the text itself.
  std::vector<uint64_t> slots_;
  uint64_t mask_ = 0;
  std::vector<int32_t> special_;
  std::vector<bool> eog_;
  int32_t fim_pre_ = -1, fim_suf_ = -1, fim_mid_ = -1, fim_pad_ = -1, fim_rep_ = -1, fim_sep_ = -1;
};

}  // namespace jetlm
