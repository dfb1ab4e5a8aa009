#include "text/tokenizer_common.h"

#include "util/error.h"

namespace jetlm {

namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

}  // namespace

VocabTokenizer::VocabTokenizer(const GgufFile& file, VocabKind kind, bool default_add_bos)
    : vocab_(file, kind, default_add_bos), splitter_(vocab_) {}

std::vector<int32_t> VocabTokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  return encode_split(text, add_bos, parse_special, nullptr);
}

std::vector<int32_t> VocabTokenizer::encode_chat(std::string_view text, bool add_bos,
                                                 const std::vector<std::pair<size_t, size_t>>& plain_spans) const {
  return encode_split(text, add_bos, true, &plain_spans);
}

std::vector<int32_t> VocabTokenizer::encode_split(std::string_view text, bool add_bos, bool parse_special,
                                                  const SpecialSplitter::Spans* plain) const {
  std::vector<int32_t> out;
  out.reserve(text.size() / 3 + 4);
  if (add_bos && vocab_.add_bos) out.push_back(vocab_.bos);
  bool after_special = true;
  for (const Fragment& f : splitter_.split(text, parse_special, plain)) {
    if (f.token >= 0) {
      out.push_back(f.token);
      after_special = true;
    } else {
      encode_text(text.substr(f.offset, f.length), after_special, out);
      after_special = false;
    }
  }
  if (add_bos && vocab_.add_eos) out.push_back(vocab_.eos);
  return out;
}

std::string VocabTokenizer::token_to_piece(int32_t id, bool render_special) const {
  if (!vocab_.valid(id)) fail("token id ", id, " is out of range (the vocabulary has ", vocab_.size(), " tokens)");
  const uint32_t a = vocab_.attr(id);
  if (a & (kAttrControl | kAttrUnknown)) return render_special ? vocab_.text(id) : std::string();
  // User-defined tokens are spelled as written: they were added as literal
  // strings, not in the tokenizer's internal alphabet.
  if (a & kAttrUserDefined) return vocab_.text(id);
  if (a & kAttrNormal) return normal_piece(id);
  if (a & kAttrByte) {
    const std::string& t = vocab_.text(id);  // "<0xNN>"
    if (t.size() == 6 && hex_digit(t[3]) >= 0 && hex_digit(t[4]) >= 0)
      return std::string(1, static_cast<char>(hex_digit(t[3]) * 16 + hex_digit(t[4])));
    return t;
  }
  return std::string();  // unused / undefined tokens print nothing
}

std::string VocabTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  size_t first = 0;
  if (!ids.empty() && ids[0] == vocab_.bos) first = 1;
  for (size_t i = 0; i < ids.size(); ++i) {
    std::string piece = token_to_piece(ids[i]);
    // The space encode() put in front of the text is not part of it.
    if (i == first && vocab_.add_space_prefix && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
    out += piece;
  }
  return out;
}

}  // namespace jetlm
