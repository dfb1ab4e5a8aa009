#include "text/spm_tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>

#include "text/unicode.h"
#include "util/error.h"

namespace jetlm {

namespace {

const char kSpace[] = "\xE2\x96\x81";  // U+2581, SentencePiece's visible space
constexpr uint64_t kEmptySlot = ~uint64_t{0};

// One piece of the text being merged; pieces form a linked list in text order.
struct Symbol {
  int32_t prev, next;
  uint32_t off, len;  // bytes of the escaped text; len 0 once merged into its left neighbour
};

// A queued merge is one 64-bit key: the score mapped so that a higher score
// is a smaller number, then the left symbol's position. The smallest key is
// the best score, then the leftmost pair: the order llama.cpp (and
// SentencePiece) merge in. 8 bytes an entry keeps long inputs small.
uint64_t bigram_key(float score, int32_t left) {
  if (score == 0) score = 0;  // -0 ties with +0, as a float comparison has it
  uint32_t bits;
  std::memcpy(&bits, &score, sizeof bits);
  const uint32_t ascending = (bits & 0x80000000u) ? ~bits : bits | 0x80000000u;  // float order as unsigned order
  return (uint64_t{~ascending} << 32) | static_cast<uint32_t>(left);
}

// The character starting at s[off], split the way the merger splits (by the
// lead byte alone), packed into 32 bits; *len receives its length.
uint32_t char_key(std::string_view s, size_t off, size_t* len) {
  const size_t n = std::min(utf8_seq_len(static_cast<uint8_t>(s[off])), s.size() - off);
  uint32_t k = 0;
  for (size_t i = 0; i < n; ++i) k |= static_cast<uint32_t>(static_cast<uint8_t>(s[off + i])) << (8 * i);
  *len = n;
  return k;
}

uint64_t mix(uint64_t k) {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  return k;
}

}  // namespace

struct SpmTokenizer::Scratch {
  std::vector<Symbol> sym;
  std::vector<uint64_t> heap;  // min-heap of bigram_key()
};

SpmTokenizer::SpmTokenizer(const GgufFile& file) : VocabTokenizer(file, VocabKind::Spm, true) {
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    int32_t id = vocab_.find(name);
    if (id < 0) id = vocab_.find(std::string(1, static_cast<char>(b)));
    byte_tokens_[b] = id;
  }

  std::vector<uint64_t> pairs;
  for (int32_t id = 0; id < vocab_.size(); ++id) {
    const std::string& t = vocab_.text(id);
    size_t len = 0;
    uint32_t prev = 0;
    for (size_t off = 0; off < t.size(); off += len) {
      const uint32_t k = char_key(t, off, &len);
      if (off > 0) pairs.push_back((uint64_t{prev} << 32) | k);
      prev = k;
    }
  }
  // Common pairs ("th", "▁t") recur in thousands of tokens: count them once.
  std::sort(pairs.begin(), pairs.end());
  pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
  size_t cap = 1024;
  while (cap < pairs.size() * 2) cap *= 2;
  pairs_.assign(cap, kEmptySlot);
  pairs_mask_ = cap - 1;
  for (const uint64_t p : pairs) {
    if (p == kEmptySlot) {
      pairs_has_empty_key_ = true;
      continue;
    }
    for (uint64_t i = mix(p) & pairs_mask_;; i = (i + 1) & pairs_mask_) {
      if (pairs_[i] == p) break;
      if (pairs_[i] == kEmptySlot) {
        pairs_[i] = p;
        break;
      }
    }
  }
}

bool SpmTokenizer::joinable(uint64_t pair) const {
  if (pair == kEmptySlot) return pairs_has_empty_key_;
  for (uint64_t i = mix(pair) & pairs_mask_;; i = (i + 1) & pairs_mask_) {
    if (pairs_[i] == pair) return true;
    if (pairs_[i] == kEmptySlot) return false;
  }
}

int32_t SpmTokenizer::byte_token(uint8_t b) const {
  if (byte_tokens_[b] >= 0) return byte_tokens_[b];
  // Vocabularies without byte fallback spell what they cannot cover as <unk>.
  if (vocab_.unk >= 0) return vocab_.unk;
  fail("SentencePiece vocabulary has neither a byte token <0x", "0123456789ABCDEF"[b >> 4], "0123456789ABCDEF"[b & 15],
       "> nor an unknown token for a character it cannot spell");
}

void SpmTokenizer::encode_text(std::string_view text, bool after_special, std::vector<int32_t>& out) const {
  std::string s;
  s.reserve(text.size() + 16);
  if (vocab_.add_space_prefix && after_special) s += kSpace;
  for (const char c : text) {
    if (c == ' ')
      s += kSpace;
    else
      s += c;
  }

  Scratch sc;
  WordCache cache;
  const auto segment = [&](size_t begin, size_t end) {
    const std::string_view seg = std::string_view(s).substr(begin, end - begin);
    if (cache.emit(seg, out)) return;
    const size_t from = out.size();
    merge_segment(s, begin, end, sc, out);
    cache.store(seg, out, from);
  };
  size_t begin = 0, len = 0;
  uint32_t prev = 0;
  for (size_t off = 0; off < s.size(); off += len) {
    const uint32_t k = char_key(s, off, &len);
    if (off > begin && !joinable((uint64_t{prev} << 32) | k)) {
      segment(begin, off);
      begin = off;
    }
    prev = k;
  }
  if (begin < s.size()) segment(begin, s.size());
}

void SpmTokenizer::merge_segment(const std::string& s, size_t begin, size_t end, Scratch& sc,
                                 std::vector<int32_t>& out) const {
  std::vector<Symbol>& sym = sc.sym;
  sym.clear();
  for (size_t off = begin; off < end;) {
    const size_t len = std::min(utf8_seq_len(static_cast<uint8_t>(s[off])), end - off);
    const int32_t i = static_cast<int32_t>(sym.size());
    sym.push_back(Symbol{i - 1, off + len == end ? -1 : i + 1, static_cast<uint32_t>(off), static_cast<uint32_t>(len)});
    off += len;
  }

  // A priority queue over the linked list of symbols: O(n log n) for n characters.
  std::vector<uint64_t>& heap = sc.heap;
  heap.clear();
  const std::string_view text(s);
  // The token the pair starting at symbol l would merge into, -1 if none.
  const auto pair_token = [&](int32_t l) {
    const Symbol& a = sym[static_cast<size_t>(l)];
    if (a.next < 0) return int32_t{-1};
    return vocab_.find(text.substr(a.off, a.len + sym[static_cast<size_t>(a.next)].len));
  };
  const auto queue = [&](int32_t l) {
    if (l < 0) return;
    const int32_t id = pair_token(l);
    if (id < 0) return;
    heap.push_back(bigram_key(vocab_.score(id), l));
    std::push_heap(heap.begin(), heap.end(), std::greater<uint64_t>());
  };
  heap.reserve(sym.size());
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(sym.size()); ++i) {
    const int32_t id = pair_token(i);
    if (id >= 0) heap.push_back(bigram_key(vocab_.score(id), i));
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<uint64_t>());

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<uint64_t>());
    const uint64_t key = heap.back();
    heap.pop_back();
    const auto left = static_cast<int32_t>(key & 0xFFFFFFFFu);
    Symbol& l = sym[static_cast<size_t>(left)];
    if (l.len == 0) continue;
    // The pair now at left may differ from the one queued; if it scores the
    // same it has an entry of this very key, so merging it now is what that
    // entry would do. Otherwise this entry is stale.
    const int32_t id = pair_token(left);
    if (id < 0 || bigram_key(vocab_.score(id), left) != key) continue;
    Symbol& r = sym[static_cast<size_t>(l.next)];
    l.len += r.len;
    r.len = 0;
    l.next = r.next;
    if (r.next >= 0) sym[static_cast<size_t>(r.next)].prev = left;
    queue(l.prev);
    queue(left);
  }

  for (int32_t i = sym.empty() ? -1 : 0; i >= 0; i = sym[static_cast<size_t>(i)].next) {
    const Symbol& x = sym[static_cast<size_t>(i)];
    const int32_t id = vocab_.find(text.substr(x.off, x.len));
    if (id >= 0) {
      out.push_back(id);
      continue;
    }
    for (uint32_t k = 0; k < x.len; ++k) out.push_back(byte_token(static_cast<uint8_t>(s[x.off + k])));
  }
}

std::string SpmTokenizer::normal_piece(int32_t id) const {
  const std::string& t = vocab_.text(id);
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    if (t.compare(i, 3, kSpace) == 0) {
      out += ' ';
      i += 2;
    } else {
      out += t[i];
    }
  }
  return out;
}

}  // namespace jetlm
