#include "text/jinja/lexer.h"

#include <cerrno>

#include <cstdlib>

#include "text/jinja/pystr.h"
#include "util/error.h"

namespace jetlm::jinja {

const char* tok_kind_name(TokKind k) {
  switch (k) {
    case TokKind::Data: return "text";
    case TokKind::BlockBegin: return "'{%'";
    case TokKind::BlockEnd: return "end of statement block";
    case TokKind::VarBegin: return "'{{'";
    case TokKind::VarEnd: return "end of print statement";
    case TokKind::Name: return "name";
    case TokKind::String: return "string";
    case TokKind::Int: return "integer";
    case TokKind::Float: return "float";
    case TokKind::Op: return "operator";
    case TokKind::Eof: return "end of template";
  }
  return "?";
}

namespace {

// jinja2 turns every newline style into "\n" and, without keep_trailing_newline,
// drops exactly one newline at the very end of the source.
std::string normalize_source(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// Length of the whitespace code point at s[pos] (Python's \s), or 0.
size_t space_len(const std::string& s, size_t pos) {
  const unsigned char c = static_cast<unsigned char>(s[pos]);
  if (c < 0x80) return pystr::is_space(c) ? 1 : 0;
  size_t len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
  if (pos + len > s.size()) return 0;
  const std::vector<uint32_t> cp = pystr::decode(s.substr(pos, len));
  return cp.size() == 1 && pystr::is_space(cp[0]) ? len : 0;
}

bool all_space(const std::string& s, size_t from) {
  while (from < s.size()) {
    const size_t n = space_len(s, from);
    if (n == 0) return false;
    from += n;
  }
  return true;
}

std::string rstrip_space(const std::string& s) {
  return pystr::strip(s, nullptr, false, true);
}

bool is_name_start(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80; }
bool is_name_char(unsigned char c) { return is_name_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  Lexer(const std::string& source, const std::string& name) : src_(normalize_source(source)), name_(name) {}

  std::vector<Token> run() {
    while (pos_ < src_.size()) {
      size_t start = find_tag(pos_);
      if (start == std::string::npos) {
        emit_data(src_.substr(pos_));
        advance(src_.size());
        break;
      }
      const char kind = src_[start + 1];
      size_t after = start + 2;
      char sign = 0;
      if (after < src_.size() && (src_[after] == '-' || src_[after] == '+')) sign = src_[after++];
      std::string text = src_.substr(pos_, start - pos_);
      if (sign == '-') {
        text = rstrip_space(text);
      } else if (sign != '+' && kind != '{') {
        // lstrip_blocks: indentation alone on the line before a block/comment tag goes.
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting_) && l_pos < text.size() && all_space(text, l_pos)) text.resize(l_pos);
      }
      emit_data(text);
      advance(after);
      if (kind == '#') {
        lex_comment();
      } else if (kind == '%' && lex_raw()) {
        // raw block emitted as data
      } else {
        lex_tag(kind == '%');
      }
    }
    Token eof;
    eof.kind = TokKind::Eof;
    eof.line = line_;
    out_.push_back(eof);
    return std::move(out_);
  }

 private:
  [[noreturn]] void error(int line, const std::string& msg) const { fail(name_, ":", line, ": syntax error: ", msg); }

  size_t find_tag(size_t from) const {
    for (size_t i = src_.find('{', from); i != std::string::npos; i = src_.find('{', i + 1)) {
      if (i + 1 < src_.size() && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return std::string::npos;
  }

  void advance(size_t to) {
    for (size_t i = pos_; i < to; ++i)
      if (src_[i] == '\n') ++line_;
    pos_ = to;
  }

  size_t skip_space(size_t p) const {
    while (p < src_.size()) {
      const size_t n = space_len(src_, p);
      if (n == 0) break;
      p += n;
    }
    return p;
  }

  bool starts(size_t p, const char* s) const { return src_.compare(p, std::char_traits<char>::length(s), s) == 0; }

  void emit_data(const std::string& text) {
    if (text.empty()) return;
    Token t;
    t.kind = TokKind::Data;
    t.text = text;
    t.line = line_;
    out_.push_back(std::move(t));
  }

  void push(TokKind kind, std::string text, int line) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.line = line;
    out_.push_back(std::move(t));
  }

  // Called after "{#" and its sign. trim_blocks also applies to comments.
  void lex_comment() {
    const int line = line_;
    const size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) error(line, "missing end of comment tag");
    size_t stop = end + 2;
    if (end > pos_ && src_[end - 1] == '-') stop = skip_space(stop);
    else if (end > pos_ && src_[end - 1] == '+') {
    } else if (stop < src_.size() && src_[stop] == '\n') ++stop;
    line_starting_ = src_[stop - 1] == '\n';
    advance(stop);
  }

  // "{% raw %}...{% endraw %}": the body is text, never parsed. Returns false if
  // this tag is not a raw begin (nothing consumed).
  bool lex_raw() {
    size_t p = skip_space(pos_);
    if (!starts(p, "raw")) return false;
    p = skip_space(p + 3);
    if (starts(p, "-%}")) p = skip_space(p + 3);
    else if (starts(p, "%}")) p += 2;  // jinja2 does not trim the newline after {% raw %}
    else return false;
    const int line = line_;
    advance(p);
    line_starting_ = src_[p - 1] == '\n';
    for (size_t i = src_.find("{%", pos_); i != std::string::npos; i = src_.find("{%", i + 1)) {
      size_t q = i + 2;
      char sign = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) sign = src_[q++];
      q = skip_space(q);
      if (!starts(q, "endraw")) continue;
      q = skip_space(q + 6);
      size_t stop;
      if (starts(q, "+%}")) stop = q + 3;
      else if (starts(q, "-%}")) stop = skip_space(q + 3);
      else if (starts(q, "%}")) stop = q + 2 + ((q + 2 < src_.size() && src_[q + 2] == '\n') ? 1 : 0);
      else continue;
      std::string text = src_.substr(pos_, i - pos_);
      if (sign == '-') {
        text = rstrip_space(text);
      } else if (sign != '+') {
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if ((l_pos > 0 || line_starting_) && l_pos < text.size() && all_space(text, l_pos)) text.resize(l_pos);
      }
      emit_data(text);
      line_starting_ = src_[stop - 1] == '\n';
      advance(stop);
      return true;
    }
    error(line, "missing end of raw directive");
  }

  // Expression tokens up to the closing %} or }}, then that closing token.
  void lex_tag(bool block) {
    push(block ? TokKind::BlockBegin : TokKind::VarBegin, "", line_);
    const int open_line = line_;
    std::vector<char> brackets;
    while (true) {
      if (pos_ >= src_.size()) error(open_line, block ? "unexpected end of template, expected '%}'" : "unexpected end of template, expected '}}'");
      if (brackets.empty() && end_tag(block)) return;
      const size_t ws = skip_space(pos_);
      if (ws != pos_) {
        advance(ws);
        continue;
      }
      const char c = src_[pos_];
      const int line = line_;
      if (is_digit(c)) {
        lex_number();
      } else if (is_name_start(static_cast<unsigned char>(c))) {
        size_t e = pos_;
        while (e < src_.size() && is_name_char(static_cast<unsigned char>(src_[e]))) ++e;
        push(TokKind::Name, src_.substr(pos_, e - pos_), line);
        advance(e);
      } else if (c == '\'' || c == '"') {
        lex_string();
      } else {
        static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<",
                                           ">", "=", ".", ":", "|", ",", ";", "(", ")", "[", "]", "{", "}"};
        const char* op = nullptr;
        for (const char* o : kOps)
          if (starts(pos_, o)) {
            op = o;
            break;
          }
        if (!op) error(line, str_cat("unexpected char '", c, "'"));
        if (op[0] == '(' || op[0] == '[' || op[0] == '{') brackets.push_back(op[0]);
        if (op[0] == ')' || op[0] == ']' || op[0] == '}') {
          const char want = op[0] == ')' ? '(' : op[0] == ']' ? '[' : '{';
          if (brackets.empty() || brackets.back() != want) error(line, str_cat("unexpected '", op, "'"));
          brackets.pop_back();
        }
        push(TokKind::Op, op, line);
        advance(pos_ + std::char_traits<char>::length(op));
      }
    }
  }

  bool end_tag(bool block) {
    const int line = line_;
    size_t stop = 0;
    if (block) {
      if (starts(pos_, "-%}")) stop = skip_space(pos_ + 3);
      else if (starts(pos_, "+%}")) stop = pos_ + 3;
      else if (starts(pos_, "%}")) stop = pos_ + 2 + ((pos_ + 2 < src_.size() && src_[pos_ + 2] == '\n') ? 1 : 0);
    } else {
      if (starts(pos_, "-}}")) stop = skip_space(pos_ + 3);
      else if (starts(pos_, "}}")) stop = pos_ + 2;
    }
    if (stop == 0) return false;
    push(block ? TokKind::BlockEnd : TokKind::VarEnd, "", line);
    line_starting_ = src_[stop - 1] == '\n';
    advance(stop);
    return true;
  }

  size_t digits(size_t p) const {
    // (\d+_)*\d+ : underscores only between digits
    size_t e = p;
    while (e < src_.size() && is_digit(src_[e])) {
      ++e;
      if (e + 1 < src_.size() && src_[e] == '_' && is_digit(src_[e + 1])) ++e;
    }
    return e;
  }

  void lex_number() {
    const int line = line_;
    size_t e = digits(pos_);
    bool is_float = false;
    if (e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
      e = digits(e + 1);
      is_float = true;
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t q = e + 1;
      if (q < src_.size() && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < src_.size() && is_digit(src_[q])) {
        e = digits(q);
        is_float = true;
      }
    }
    std::string text;
    for (size_t k = pos_; k < e; ++k)
      if (src_[k] != '_') text += src_[k];
    Token t;
    t.line = line;
    t.text = text;
    if (is_float) {
      t.kind = TokKind::Float;
      t.fval = std::strtod(text.c_str(), nullptr);
    } else {
      t.kind = TokKind::Int;
      errno = 0;
      t.ival = std::strtoll(text.c_str(), nullptr, 10);
      // Python's integers are unbounded; ours are int64, and strtoll would saturate silently.
      if (errno == ERANGE) error(line, "integer literal " + text + " does not fit in 64 bits");
    }
    out_.push_back(std::move(t));
    advance(e);
  }

  // Python's unicode-escape rules, which jinja2 applies to string literals.
  void lex_string() {
    const int line = line_;
    const char quote = src_[pos_];
    size_t p = pos_ + 1;
    std::string val;
    while (true) {
      if (p >= src_.size()) error(line, "unterminated string");
      const char c = src_[p];
      if (c == quote) break;
      if (c != '\\') {
        val += c;
        ++p;
        continue;
      }
      if (p + 1 >= src_.size()) error(line, "unterminated string");
      const char e = src_[p + 1];
      p += 2;
      switch (e) {
        case '\n': break;
        case '\\': val += '\\'; break;
        case '\'': val += '\''; break;
        case '"': val += '"'; break;
        case 'a': val += '\a'; break;
        case 'b': val += '\b'; break;
        case 'f': val += '\f'; break;
        case 'n': val += '\n'; break;
        case 'r': val += '\r'; break;
        case 't': val += '\t'; break;
        case 'v': val += '\v'; break;
        case 'x':
        case 'u':
        case 'U': {
          const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          if (p + n > src_.size()) error(line, str_cat("truncated \\", e, " escape in string"));
          uint32_t cp = 0;
          for (size_t k = 0; k < n; ++k) {
            const char h = src_[p + k];
            int d = (h >= '0' && h <= '9') ? h - '0' : (h >= 'a' && h <= 'f') ? h - 'a' + 10 : (h >= 'A' && h <= 'F') ? h - 'A' + 10 : -1;
            if (d < 0) error(line, str_cat("truncated \\", e, " escape in string"));
            cp = cp * 16 + static_cast<uint32_t>(d);
          }
          p += n;
          pystr::append_utf8(val, cp);
          break;
        }
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = static_cast<uint32_t>(e - '0');
            for (int k = 0; k < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++k) cp = cp * 8 + static_cast<uint32_t>(src_[p++] - '0');
            pystr::append_utf8(val, cp);
          } else {
            val += '\\';  // unknown escapes stay as written
            val += e;
          }
      }
    }
    push(TokKind::String, val, line);
    advance(p + 1);
  }

  std::string src_;
  std::string name_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> tokenize(const std::string& source, const std::string& name) { return Lexer(source, name).run(); }

}  // namespace jetlm::jinja
