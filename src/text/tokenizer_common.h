// What the SentencePiece and byte-level BPE tokenizers share: the vocabulary,
// special-token splitting, BOS/EOS, pieces and decoding. A subclass only
// tokenizes runs of plain text and spells its normal tokens.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "text/tokenizer.h"
#include "text/tokenizer_special.h"
#include "text/tokenizer_vocab.h"

namespace jetlm {

// Remembers the tokens of each distinct word during one encode call: prose
// repeats its words, and a word's tokens depend on its bytes alone. Keys view
// the caller's text, which outlives the cache.
class WordCache {
 public:
  // Appends the cached tokens of word to out; false when word is not cached.
  bool emit(std::string_view word, std::vector<int32_t>& out) const {
    const auto it = index_.find(word);
    if (it == index_.end()) return false;
    out.insert(out.end(), ids_.begin() + it->second.first, ids_.begin() + it->second.first + it->second.second);
    return true;
  }
  // Records the tokens out[from..] as those of word (long words rarely repeat: skipped).
  void store(std::string_view word, const std::vector<int32_t>& out, size_t from) {
    if (word.size() > 48) return;
    index_.emplace(word, std::make_pair(static_cast<uint32_t>(ids_.size()), static_cast<uint32_t>(out.size() - from)));
    ids_.insert(ids_.end(), out.begin() + static_cast<std::ptrdiff_t>(from), out.end());
  }

 private:
  std::unordered_map<std::string_view, std::pair<uint32_t, uint32_t>> index_;
  std::vector<int32_t> ids_;
};

class VocabTokenizer : public Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const override;
  std::vector<int32_t> encode_chat(std::string_view text, bool add_bos,
                                   const std::vector<std::pair<size_t, size_t>>& plain_spans) const override;
  std::string token_to_piece(int32_t id, bool render_special = false) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;

  int32_t n_vocab() const override { return vocab_.size(); }
  int32_t bos_id() const override { return vocab_.bos; }
  int32_t eos_id() const override { return vocab_.eos; }
  int32_t eot_id() const override { return vocab_.eot; }
  bool add_bos() const override { return vocab_.add_bos; }
  bool is_end_of_generation(int32_t id) const override { return vocab_.is_eog(id); }
  bool adds_space_prefix() const override { return vocab_.add_space_prefix; }

  const Vocab& vocab() const { return vocab_; }

 protected:
  VocabTokenizer(const GgufFile& file, VocabKind kind, bool default_add_bos);

  // Tokenizes one run of plain text (never empty) onto out. after_special:
  // the run starts the input or follows a special token.
  virtual void encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const = 0;
  // The output bytes of a normal (kAttrNormal) token.
  virtual std::string normal_piece(int32_t id) const = 0;

  Vocab vocab_;

 private:
  std::vector<int32_t> encode_split(std::string_view text, bool add_bos, bool parse_special,
                                    const SpecialSplitter::Spans* plain) const;
  SpecialSplitter splitter_;
};

}  // namespace jetlm
