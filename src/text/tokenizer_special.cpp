#include "text/tokenizer_special.h"

#include <algorithm>

#include "text/tokenizer_vocab.h"

namespace jetlm {

namespace {

// C-locale isspace, which is what llama.cpp strips next to lstrip/rstrip tokens.
bool is_c_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

bool eligible(const Vocab& v, int32_t id, bool parse_special) {
  return parse_special || !(v.attr(id) & (kAttrControl | kAttrUnknown));
}

}  // namespace

SpecialSplitter::SpecialSplitter(const Vocab& vocab) : vocab_(vocab) {
  trie_.emplace_back();
  const std::vector<int32_t>& special = vocab.special_tokens();
  for (size_t r = 0; r < special.size(); ++r) {
    const std::string& t = vocab.text(special[r]);
    int32_t node = 0;
    for (const char c : t) {
      const auto b = static_cast<uint8_t>(c);
      int32_t nx = child(node, b);
      if (nx < 0) {
        nx = static_cast<int32_t>(trie_.size());
        trie_[static_cast<size_t>(node)].next.emplace_back(b, nx);
        trie_.emplace_back();
      }
      node = nx;
    }
    if (node != 0 && trie_[static_cast<size_t>(node)].rank < 0) trie_[static_cast<size_t>(node)].rank = static_cast<int32_t>(r);
    if (!t.empty()) first_byte_[static_cast<uint8_t>(t[0])] = true;
  }
}

int32_t SpecialSplitter::child(int32_t node, uint8_t b) const {
  for (const auto& e : trie_[static_cast<size_t>(node)].next)
    if (e.first == b) return e.second;
  return -1;
}

std::vector<int32_t> SpecialSplitter::tokens_present(std::string_view text, bool parse_special) const {
  std::vector<int32_t> ranks;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!first_byte_[static_cast<uint8_t>(text[i])]) continue;
    int32_t node = 0;
    for (size_t j = i; j < text.size(); ++j) {
      node = child(node, static_cast<uint8_t>(text[j]));
      if (node < 0) break;
      const int32_t r = trie_[static_cast<size_t>(node)].rank;
      if (r >= 0 && eligible(vocab_, vocab_.special_tokens()[static_cast<size_t>(r)], parse_special))
        ranks.push_back(r);
    }
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  return ranks;
}

std::vector<Fragment> SpecialSplitter::split(std::string_view text, bool parse_special, const Spans* plain) const {
  std::vector<Fragment> frags;
  if (text.empty()) return frags;
  frags.push_back(Fragment{-1, 0, text.size()});

  // Inside a plain span (user content of a chat prompt) control tokens stay text.
  auto shielded = [&](int32_t id, size_t at, size_t n) {
    if (!plain || !(vocab_.attr(id) & (kAttrControl | kAttrUnknown))) return false;
    for (const auto& sp : *plain)
      if (at < sp.first + sp.second && sp.first < at + n) return true;
    return false;
  };
  std::vector<Fragment> next;
  for (const int32_t r : tokens_present(text, parse_special)) {
    const int32_t id = vocab_.special_tokens()[static_cast<size_t>(r)];
    const std::string& tok = vocab_.text(id);
    const bool lstrip = vocab_.attr(id) & kAttrLstrip, rstrip = vocab_.attr(id) & kAttrRstrip;
    next.clear();
    for (const Fragment& f : frags) {
      if (f.token >= 0) {
        next.push_back(f);
        continue;
      }
      size_t off = f.offset, len = f.length, from = f.offset;
      while (len > 0) {
        const size_t at = text.substr(0, off + len).find(tok, from);
        if (at == std::string_view::npos) break;
        if (shielded(id, at, tok.size())) {
          from = at + 1;
          continue;
        }
        size_t left = at - off;
        if (lstrip)
          while (left > 0 && is_c_space(text[off + left - 1])) --left;
        if (left > 0) next.push_back(Fragment{-1, off, left});
        next.push_back(Fragment{id, 0, 0});
        size_t right_off = at + tok.size();
        size_t right = off + len - right_off;
        if (rstrip)
          while (right > 0 && is_c_space(text[right_off])) ++right_off, --right;
        off = right_off;
        len = right;
        from = off;
      }
      if (len > 0) next.push_back(Fragment{-1, off, len});
    }
    frags.swap(next);
  }
  return frags;
}

}  // namespace jetlm
