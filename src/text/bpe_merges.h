// The merge rules of a byte-level BPE vocabulary (tokenizer.ggml.merges,
// "left right" strings, earlier = higher priority), turned into a table on
// symbol ids so that merging a word never builds or hashes a string.
//
// A symbol is a string that merging can produce. Strings that are tokens use
// their token id; the few that appear in rules without being tokens get ids
// from the vocabulary size upwards, so rules through them still apply and a
// word ending on one falls back exactly as a string-based merger would.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace jetlm {

class GgufFile;
class Vocab;

class BpeMerges {
 public:
  BpeMerges(const GgufFile& file, const Vocab& vocab);

  struct Rule {
    int32_t rank;    // position in tokenizer.ggml.merges, -1 when no rule applies
    int32_t result;  // symbol of the merged string
  };
  Rule find(int32_t left, int32_t right) const {
    const uint64_t key = pack(left, right);
    for (uint64_t i = mix(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.key == key) return Rule{s.rank, s.result};
      if (s.key == kEmpty) return Rule{-1, -1};
    }
  }
  // Symbol of one input byte: the token of its GPT-2 character.
  int32_t byte_symbol(uint8_t b) const { return byte_symbol_[b]; }
  // GPT-2-character text of a symbol that is not a token (id >= vocabulary size).
  const std::string& extra_text(int32_t id) const { return extra_text_[static_cast<size_t>(id - n_vocab_)]; }

 private:
  struct Slot {
    uint64_t key;
    int32_t rank, result;
  };
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t pack(int32_t l, int32_t r) { return (uint64_t{static_cast<uint32_t>(l)} << 32) | static_cast<uint32_t>(r); }
  static uint64_t mix(uint64_t k) {  // murmur3 finaliser: ids are dense, so spread them
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return k;
  }
  int32_t symbol(const std::string& s, const Vocab& vocab);

  int32_t n_vocab_ = 0;
  std::vector<Slot> slots_;
  uint64_t mask_ = 0;
  int32_t byte_symbol_[256];
  std::vector<std::string> extra_text_;
  std::unordered_map<std::string, int32_t> extra_index_;
};

}  // namespace jetlm
