#include "text/bpe_tokenizer.h"

#include <algorithm>
#include <cstdint>
#include <functional>

#include "text/unicode.h"

namespace jetlm {

namespace {

// A queued merge is one 64-bit key, (rank << 32) | left position, so that
// the smallest key is the lowest rank, then the leftmost pair; the right
// symbol is left's next. 8 bytes an entry keeps the queue of a long word
// (8 MB of one letter is one word) small and quick to reorder.
uint64_t pair_key(int32_t rank, int32_t left) {
  return (uint64_t{static_cast<uint32_t>(rank)} << 32) | static_cast<uint32_t>(left);
}

struct Sym {
  int32_t id;  // symbol (token id, or a BpeMerges extra id); -1 once merged into its left neighbour
  int32_t prev, next;
};

}  // namespace

// Buffers reused across the words of one encode call.
struct BpeTokenizer::Scratch {
  std::vector<Sym> sym;
  std::vector<uint64_t> heap;  // min-heap of pair_key()
  std::string mapped;
};

BpeTokenizer::BpeTokenizer(const GgufFile& file, const BpePreConfig& pre)
    : VocabTokenizer(file, VocabKind::Bpe, pre.add_bos), pre_(pre), pretok_(pre.family), merges_(file, vocab_) {
  for (int b = 0; b < 256; ++b) single_byte_token_[b] = vocab_.find(std::string(1, static_cast<char>(b)));
}

void BpeTokenizer::encode_text(std::string_view text, bool /*after_special*/, std::vector<int32_t>& out) const {
  // Ill-formed UTF-8 is read as U+FFFD per bad byte, as llama.cpp does
  // before its regex; the regex engine needs well-formed input anyway.
  std::string clean;
  if (sanitize_utf8(text, clean)) text = clean;
  std::vector<std::pair<size_t, size_t>> words;
  words.reserve(text.size() / 4 + 1);
  pretok_.split(text, words);
  Scratch sc;
  WordCache cache;
  for (const auto& w : words) {
    const std::string_view word = text.substr(w.first, w.second);
    if (cache.emit(word, out)) continue;
    const size_t from = out.size();
    encode_word(word, sc, out);
    cache.store(word, out, from);
  }
}

void BpeTokenizer::emit_symbol(int32_t sym, std::vector<int32_t>& out) const {
  if (sym < vocab_.size()) {
    out.push_back(sym);
    return;
  }
  // A string no token spells: llama.cpp then looks up each of its bytes as
  // a one-byte token and drops the bytes that have none.
  for (const char c : merges_.extra_text(sym)) {
    const int32_t id = single_byte_token_[static_cast<uint8_t>(c)];
    if (id >= 0) out.push_back(id);
  }
}

void BpeTokenizer::encode_word(std::string_view word, Scratch& sc, std::vector<int32_t>& out) const {
  if (pre_.ignore_merges) {
    sc.mapped.clear();
    for (const char c : word) sc.mapped += byte_to_unicode(static_cast<uint8_t>(c));
    const int32_t id = vocab_.find(sc.mapped);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  const auto n = static_cast<int32_t>(word.size());
  if (n == 1) {
    emit_symbol(merges_.byte_symbol(static_cast<uint8_t>(word[0])), out);
    return;
  }

  std::vector<Sym>& sym = sc.sym;
  sym.resize(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i)
    sym[static_cast<size_t>(i)] = Sym{merges_.byte_symbol(static_cast<uint8_t>(word[static_cast<size_t>(i)])), i - 1,
                                      i + 1 < n ? i + 1 : -1};

  // Lowest rank first, then leftmost: a priority queue over the linked list
  // of symbols, O(n log n) for a word of n bytes.
  std::vector<uint64_t>& heap = sc.heap;
  heap.clear();
  const auto rule_at = [&](int32_t l) {
    const int32_t r = sym[static_cast<size_t>(l)].next;
    return r < 0 ? BpeMerges::Rule{-1, -1} : merges_.find(sym[static_cast<size_t>(l)].id, sym[static_cast<size_t>(r)].id);
  };
  const auto queue = [&](int32_t l) {
    if (l < 0) return;
    const int32_t rank = rule_at(l).rank;
    if (rank < 0) return;
    heap.push_back(pair_key(rank, l));
    std::push_heap(heap.begin(), heap.end(), std::greater<uint64_t>());
  };
  for (int32_t i = 0; i + 1 < n; ++i) {
    const int32_t rank = rule_at(i).rank;
    if (rank >= 0) heap.push_back(pair_key(rank, i));
  }
  std::make_heap(heap.begin(), heap.end(), std::greater<uint64_t>());

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), std::greater<uint64_t>());
    const uint64_t key = heap.back();
    heap.pop_back();
    const auto left = static_cast<int32_t>(key & 0xFFFFFFFFu);
    const auto rank = static_cast<int32_t>(key >> 32);
    Sym& l = sym[static_cast<size_t>(left)];
    if (l.id < 0) continue;
    // Each rank is one rule, one pair of symbols: the pair at left still
    // having this rank means it is still the pair this entry was queued for.
    const BpeMerges::Rule rule = rule_at(left);
    if (rule.rank != rank) continue;
    Sym& r = sym[static_cast<size_t>(l.next)];
    l.id = rule.result;
    r.id = -1;
    l.next = r.next;
    if (r.next >= 0) sym[static_cast<size_t>(r.next)].prev = left;
    queue(l.prev);
    queue(left);
  }

  for (int32_t i = 0; i >= 0; i = sym[static_cast<size_t>(i)].next) emit_symbol(sym[static_cast<size_t>(i)].id, out);
}

std::string BpeTokenizer::normal_piece(int32_t id) const {
  // Token texts are in GPT-2 characters; each stands for one byte.
  const std::string& t = vocab_.text(id);
  std::string out;
  out.reserve(t.size());
  for (size_t i = 0; i < t.size();) {
    const int len = utf8_valid_prefix(std::string_view(t).substr(i));
    if (len <= 0) {
      out += t[i++];
      continue;
    }
    const int b = unicode_to_byte(utf8_decode_at(t, i, static_cast<size_t>(len)));
    if (b >= 0)
      out += static_cast<char>(b);
    else
      out.append(t, i, static_cast<size_t>(len));  // not a GPT-2 character: keep it as written
    i += static_cast<size_t>(len);
  }
  return out;
}

}  // namespace jetlm
