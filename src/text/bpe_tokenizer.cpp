#include "text/bpe_tokenizer.h"

#include <algorithm>

#include "text/unicode.h"

namespace jetlm {

namespace {

struct Pair {
  int32_t rank;
  int32_t left, right;          // symbol positions in the word
  int32_t left_sym, right_sym;  // what they held when queued; a change makes the entry stale
  int32_t result;
};

// std heap keeps the "largest" on top: make that the lowest rank, then the leftmost.
struct PairAfter {
  bool operator()(const Pair& a, const Pair& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

struct Sym {
  int32_t id;  // symbol (token id, or a BpeMerges extra id)
  int32_t prev, next;
  bool alive;
};

}  // namespace

// Buffers reused across the words of one encode call.
struct BpeTokenizer::Scratch {
  std::vector<Sym> sym;
  std::vector<Pair> heap;
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
                                      i + 1 < n ? i + 1 : -1, true};

  std::vector<Pair>& heap = sc.heap;
  heap.clear();
  const auto queue = [&](int32_t l, int32_t r) {
    if (l < 0 || r < 0) return;
    const int32_t ls = sym[static_cast<size_t>(l)].id, rs = sym[static_cast<size_t>(r)].id;
    const BpeMerges::Rule rule = merges_.find(ls, rs);
    if (rule.rank < 0) return;
    heap.push_back(Pair{rule.rank, l, r, ls, rs, rule.result});
    std::push_heap(heap.begin(), heap.end(), PairAfter());
  };
  for (int32_t i = 1; i < n; ++i) queue(i - 1, i);

  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), PairAfter());
    const Pair p = heap.back();
    heap.pop_back();
    Sym& l = sym[static_cast<size_t>(p.left)];
    Sym& r = sym[static_cast<size_t>(p.right)];
    // Symbols only ever grow to the right, so both holding what they held
    // when queued means they are still that adjacent pair.
    if (!l.alive || !r.alive || l.id != p.left_sym || r.id != p.right_sym) continue;
    l.id = p.result;
    r.alive = false;
    l.next = r.next;
    if (r.next >= 0) sym[static_cast<size_t>(r.next)].prev = p.left;
    queue(l.prev, p.left);
    queue(p.left, l.next);
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
