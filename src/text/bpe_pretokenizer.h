// The pre-tokenizers of byte-level BPE vocabularies: a regex cuts text into
// words (letters, digits, punctuation runs, whitespace) and BPE merges never
// cross a word boundary. tokenizer.ggml.pre names which regex and flags.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace jetlm {

struct BpePreConfig {
  const char* family;   // "gpt-2", "llama3", "qwen2": which split regex
  bool ignore_merges;   // a word that is a whole token is taken as it is (Llama 3)
  bool add_bos;         // default for tokenizer.ggml.add_bos_token
};

// The configuration for a tokenizer.ggml.pre value; throws Error listing the
// supported names when it is unknown. An empty name means the file has no
// .pre key: GPT-2's split, which is also what "default" names.
BpePreConfig bpe_pre_config(const std::string& pre);

class BpePretokenizer {
 public:
  explicit BpePretokenizer(const char* family);
  ~BpePretokenizer();
  BpePretokenizer(const BpePretokenizer&) = delete;
  BpePretokenizer& operator=(const BpePretokenizer&) = delete;

  // Appends the words of text (which must be well-formed UTF-8) as
  // (offset, length) pairs covering all of it in order.
  void split(std::string_view text, std::vector<std::pair<size_t, size_t>>& words) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jetlm
