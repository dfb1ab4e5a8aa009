#include "text/tokenizer.h"
#include "text/unicode.h"

namespace jetlm {

namespace {

const char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Moves the complete characters at the front of pending to out, replacing
// bytes that can never start one; keeps an unfinished character at the end
// unless at_end (then it is replaced too).
void drain(std::string& pending, std::string& out, bool at_end) {
  size_t pos = 0;
  while (pos < pending.size()) {
    const int n = utf8_valid_prefix(std::string_view(pending).substr(pos));
    if (n > 0) {
      out.append(pending, pos, static_cast<size_t>(n));
      pos += static_cast<size_t>(n);
    } else if (n == 0 && !at_end) {
      break;  // the next token may complete it
    } else {
      out += kReplacement;
      pos += utf8_bad_prefix_len(std::string_view(pending).substr(pos));
    }
  }
  pending.erase(0, pos);
}

}  // namespace

std::string StreamDecoder::push(int32_t id) {
  std::string piece = tok_.token_to_piece(id);
  if (first_) {
    // BOS prints nothing and does not count as the first token.
    if (id == tok_.bos_id()) return std::string();
    first_ = false;
    if (tok_.adds_space_prefix() && !piece.empty() && piece[0] == ' ') piece.erase(0, 1);
  }
  pending_ += piece;
  std::string out;
  drain(pending_, out, false);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  drain(pending_, out, true);
  return out;
}

}  // namespace jetlm
