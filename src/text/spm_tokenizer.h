// SentencePiece-style tokenizer (tokenizer.ggml.model = "llama": Llama 2,
// TinyLlama, Phi-3, Gemma...): spaces become U+2581, then adjacent pieces
// are merged best-score first while the merged text is a token; characters
// no token covers fall back to byte tokens <0xNN>.
#pragma once
#include <cstdint>
#include <vector>

#include "text/tokenizer_common.h"

namespace jetlm {

class SpmTokenizer final : public VocabTokenizer {
 public:
  explicit SpmTokenizer(const GgufFile& file);

 protected:
  void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const override;
  std::string normal_piece(int32_t id) const override;

 private:
  struct Scratch;
  void merge_segment(const std::string& s, size_t begin, size_t end, Scratch& sc, std::vector<int32_t>& out) const;
  int32_t byte_token(uint8_t b) const;
  bool joinable(uint64_t pair) const;

  int32_t byte_tokens_[256];  // <0xNN> (or the bare byte) per byte value, -1 when absent
  // Every pair of adjacent characters inside some token, as (char << 32 | char)
  // with characters packed in a uint32 (open addressing, ~0 = empty slot).
  // Where the text has a pair that no token contains, no merge can ever
  // cross, so the text is merged in independent segments: same result as
  // one queue over everything, without a queue the size of the input.
  std::vector<uint64_t> pairs_;
  uint64_t pairs_mask_ = 0;
  bool pairs_has_empty_key_ = false;
};

}  // namespace jetlm
