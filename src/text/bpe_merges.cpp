#include "text/bpe_merges.h"

#include "gguf/gguf.h"
#include "text/tokenizer_vocab.h"
#include "text/unicode.h"
#include "util/error.h"

namespace jetlm {

int32_t BpeMerges::symbol(const std::string& s, const Vocab& vocab) {
  const int32_t id = vocab.find(s);
  if (id >= 0) return id;
  const auto it = extra_index_.find(s);
  if (it != extra_index_.end()) return it->second;
  const int32_t extra = n_vocab_ + static_cast<int32_t>(extra_text_.size());
  extra_text_.push_back(s);
  extra_index_.emplace(s, extra);
  return extra;
}

BpeMerges::BpeMerges(const GgufFile& file, const Vocab& vocab) : n_vocab_(vocab.size()) {
  for (int b = 0; b < 256; ++b) byte_symbol_[b] = symbol(byte_to_unicode(static_cast<uint8_t>(b)), vocab);

  const GgufValue* v = file.find("tokenizer.ggml.merges");
  if (!v) fail(file.path(), ": tokenizer.ggml.merges: missing (a gpt2 tokenizer needs its merge rules)");
  const std::vector<std::string_view> merges = file.get_str_array("tokenizer.ggml.merges");
  if (merges.size() >= static_cast<size_t>(INT32_MAX)) fail(file.path(), ": tokenizer.ggml.merges: too many rules");

  size_t cap = 1024;
  while (cap < merges.size() * 2) cap *= 2;
  slots_.assign(cap, Slot{kEmpty, -1, -1});
  mask_ = cap - 1;

  std::string left, right, both;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string_view m = merges[rank];
    // The first space after the first byte separates the sides, as in
    // llama.cpp: a left side is never empty, so a rule may join a space.
    const size_t sp = m.size() > 1 ? m.find(' ', 1) : std::string_view::npos;
    if (sp == std::string_view::npos) continue;  // malformed rule: matches nothing
    left.assign(m.substr(0, sp));
    right.assign(m.substr(sp + 1));
    if (left.empty() || right.empty()) continue;
    both = left + right;
    const int32_t l = symbol(left, vocab), r = symbol(right, vocab), res = symbol(both, vocab);
    const uint64_t key = pack(l, r);
    for (uint64_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == key) break;  // a repeated rule keeps its first (higher-priority) rank
      if (s.key == kEmpty) {
        s = Slot{key, static_cast<int32_t>(rank), res};
        break;
      }
    }
  }
}

}  // namespace jetlm
