// Byte-level BPE (tokenizer.ggml.model = "gpt2": GPT-2, Llama 3, Qwen2...):
// the pre-tokenizer regex cuts text into words, each word's bytes become
// GPT-2 characters, and adjacent symbols merge lowest rank first.
#pragma once
#include <utility>
#include <vector>

#include "text/bpe_merges.h"
#include "text/bpe_pretokenizer.h"
#include "text/tokenizer_common.h"

namespace jetlm {

class BpeTokenizer final : public VocabTokenizer {
 public:
  BpeTokenizer(const GgufFile& file, const BpePreConfig& pre);

 protected:
  void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const override;
  std::string normal_piece(int32_t id) const override;

 private:
  struct Scratch;
  void encode_word(std::string_view word, Scratch& sc, std::vector<int32_t>& out) const;
  void emit_symbol(int32_t sym, std::vector<int32_t>& out) const;

  BpePreConfig pre_;
  BpePretokenizer pretok_;
  BpeMerges merges_;
  int32_t single_byte_token_[256];  // token whose text is exactly that byte, -1 if none
};

}  // namespace jetlm
