// Splits text on special-token strings before the tokenizer proper runs:
// "<|im_start|>user" becomes [<|im_start|>] + "user". Control and unknown
// tokens are split out only when the caller parses special tokens;
// user-defined tokens always are (Hugging Face treats added tokens so).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace jetlm {

class Vocab;

struct Fragment {
  int32_t token = -1;  // a special token, or -1 for plain text
  size_t offset = 0;   // plain text: where it starts in the input
  size_t length = 0;
};

class SpecialSplitter {
 public:
  explicit SpecialSplitter(const Vocab& vocab);

  // Fragments in text order; no plain fragment is empty. Tokens are taken
  // longest text first over the whole input (llama.cpp's order, which decides
  // what overlapping candidates become); whitespace next to tokens with
  // kAttrLstrip / kAttrRstrip is dropped.
  // plain: byte ranges (offset, length) where control tokens are not parsed
  // even with parse_special (user content inside a rendered chat prompt).
  using Spans = std::vector<std::pair<size_t, size_t>>;
  std::vector<Fragment> split(std::string_view text, bool parse_special, const Spans* plain = nullptr) const;

 private:
  // Byte trie over the special texts, so one pass over the input finds the
  // few tokens that occur at all; the ordered splitting then only runs for those.
  struct Node {
    int32_t rank = -1;  // index in vocab.special_tokens() of the token ending here
    std::vector<std::pair<uint8_t, int32_t>> next;  // byte -> child node
  };
  int32_t child(int32_t node, uint8_t b) const;
  // Ranks (positions in vocab.special_tokens()) of the tokens that occur in text, ascending.
  std::vector<int32_t> tokens_present(std::string_view text, bool parse_special) const;

  const Vocab& vocab_;
  std::vector<Node> trie_;
  bool first_byte_[256] = {};
};

}  // namespace jetlm
