#include "text/jinja/pystr.h"

#include "text/jinja/budget.h"
#include "text/unicode.h"

#include "util/error.h"

namespace jetlm::jinja::pystr {

// The code point at p[i] (of n bytes) and its length in bytes; a byte that
// does not start valid UTF-8 is one code point U+DC80..U+DCFF (see decode).
static size_t next_cp(const unsigned char* p, size_t n, size_t i, uint32_t& out) {
  const unsigned char c = p[i];
  if (c < 0x80) {
    out = c;
    return 1;
  }
  int len = 0;
  uint32_t cp = 0;
  if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  }
  bool ok = len > 0 && i + static_cast<size_t>(len) <= n;
  for (int k = 1; ok && k < len; ++k) {
    if ((p[i + k] & 0xC0) != 0x80) ok = false;
    else cp = (cp << 6) | (p[i + k] & 0x3F);
  }
  // Overlong 3/4-byte forms, surrogates and values past U+10FFFF are not UTF-8.
  if (ok && len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
  if (ok && len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ok = false;
  if (!ok) {
    out = 0xDC00 + c;
    return 1;
  }
  out = cp;
  return static_cast<size_t>(len);
}

std::vector<uint32_t> decode(const std::string& s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size();) {
    i += next_cp(p, s.size(), i, cp);
    out.push_back(cp);
  }
  return out;
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp >= 0xDC80 && cp <= 0xDCFF) {
    out += static_cast<char>(cp - 0xDC00);  // a raw byte kept by decode()
  } else {
    jetlm::append_utf8(out, cp);
  }
}

std::string encode(const std::vector<uint32_t>& cps) {
  std::string out;
  out.reserve(cps.size());
  for (uint32_t cp : cps) append_utf8(out, cp);
  return out;
}

size_t length(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t count = 0;
  uint32_t cp = 0;
  for (size_t i = 0; i < s.size(); ++count) i += next_cp(p, s.size(), i, cp);
  return count;
}

bool is_space(uint32_t cp) {
  if (cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F)) return true;
  if (cp < 0x85) return false;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Case tables cover ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic:
// the scripts chat templates and their messages realistically case-map.
uint32_t to_lower(uint32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c <= 0xDE) return c == 0xD7 ? c : c + 32;
  if (c >= 0x100 && c <= 0x137) return c | 1;
  if (c >= 0x139 && c <= 0x148) return (c & 1) ? c + 1 : c;
  if (c >= 0x14A && c <= 0x177) return c | 1;
  if (c == 0x178) return 0xFF;
  if (c >= 0x179 && c <= 0x17E) return (c & 1) ? c + 1 : c;
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  return c;
}

uint32_t to_upper(uint32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c < 0xB5) return c;
  if (c == 0xB5) return 0x39C;
  if (c >= 0xE0 && c <= 0xFE) return c == 0xF7 ? c : c - 32;
  if (c == 0xFF) return 0x178;
  if (c >= 0x100 && c <= 0x137) return c & ~1u;
  if (c >= 0x139 && c <= 0x148) return (c & 1) ? c : c - 1;
  if (c >= 0x14A && c <= 0x177) return c & ~1u;
  if (c >= 0x179 && c <= 0x17E) return (c & 1) ? c : c - 1;
  if (c >= 0x3B1 && c <= 0x3CB && c != 0x3C2) return c - 32;
  if (c == 0x3C2) return 0x3A3;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

bool is_cased_upper(uint32_t c) { return to_lower(c) != c; }
bool is_cased_lower(uint32_t c) { return to_upper(c) != c || c == 0xDF; }
static bool is_cased(uint32_t c) { return is_cased_upper(c) || is_cased_lower(c); }

static void append_upper(std::string& out, uint32_t c) {
  if (c == 0xDF) {
    out += "SS";  // Python: 'ß'.upper() == 'SS'
    return;
  }
  append_utf8(out, to_upper(c));
}

std::string strip(const std::string& s, const std::string* chars, bool left, bool right) {
  const std::vector<uint32_t> cps = decode(s);
  std::vector<uint32_t> set;
  if (chars) set = decode(*chars);
  auto strippable = [&](uint32_t c) {
    if (!chars) return is_space(c);
    for (uint32_t x : set)
      if (x == c) return true;
    return false;
  };
  size_t b = 0, e = cps.size();
  if (left)
    while (b < e && strippable(cps[b])) ++b;
  if (right)
    while (e > b && strippable(cps[e - 1])) --e;
  return encode(std::vector<uint32_t>(cps.begin() + static_cast<std::ptrdiff_t>(b), cps.begin() + static_cast<std::ptrdiff_t>(e)));
}

// Splitting a long string into many small pieces multiplies its memory
// (each piece costs a std::string, then a Value): bound the count.
static void push_piece(std::vector<std::string>& out, std::string piece) {
  check_list_items(out.size() + 1);
  out.push_back(std::move(piece));
}

std::vector<std::string> split(const std::string& s, const std::string* sep, int64_t maxsplit) {
  std::vector<std::string> out;
  if (sep) {
    if (sep->empty()) fail("ValueError: empty separator");
    size_t pos = 0;
    while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
      const size_t at = s.find(*sep, pos);
      if (at == std::string::npos) break;
      push_piece(out, s.substr(pos, at - pos));
      pos = at + sep->size();
    }
    push_piece(out, s.substr(pos));
    return out;
  }
  const std::vector<uint32_t> cps = decode(s);
  size_t i = 0;
  const size_t n = cps.size();
  while (true) {
    while (i < n && is_space(cps[i])) ++i;
    if (i == n) break;
    if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
      push_piece(out, encode(std::vector<uint32_t>(cps.begin() + static_cast<std::ptrdiff_t>(i), cps.end())));
      break;
    }
    size_t j = i;
    while (j < n && !is_space(cps[j])) ++j;
    push_piece(out, encode(std::vector<uint32_t>(cps.begin() + static_cast<std::ptrdiff_t>(i), cps.begin() + static_cast<std::ptrdiff_t>(j))));
    i = j;
  }
  return out;
}

std::vector<std::string> rsplit(const std::string& s, const std::string* sep, int64_t maxsplit) {
  if (maxsplit < 0) return split(s, sep, maxsplit);
  std::vector<std::string> rev;
  if (sep) {
    if (sep->empty()) fail("ValueError: empty separator");
    size_t end = s.size();
    while (static_cast<int64_t>(rev.size()) < maxsplit && end >= sep->size()) {
      const size_t at = s.rfind(*sep, end - sep->size());
      if (at == std::string::npos) break;
      push_piece(rev, s.substr(at + sep->size(), end - at - sep->size()));
      end = at;
    }
    push_piece(rev, s.substr(0, end));
  } else {
    const std::vector<uint32_t> cps = decode(s);
    size_t j = cps.size();
    while (true) {
      while (j > 0 && is_space(cps[j - 1])) --j;
      if (j == 0) break;
      if (static_cast<int64_t>(rev.size()) == maxsplit) {
        push_piece(rev, encode(std::vector<uint32_t>(cps.begin(), cps.begin() + static_cast<std::ptrdiff_t>(j))));
        break;
      }
      size_t i = j;
      while (i > 0 && !is_space(cps[i - 1])) --i;
      push_piece(rev, encode(std::vector<uint32_t>(cps.begin() + static_cast<std::ptrdiff_t>(i), cps.begin() + static_cast<std::ptrdiff_t>(j))));
      j = i;
    }
  }
  return std::vector<std::string>(rev.rbegin(), rev.rend());
}

static bool is_line_break(uint32_t c) {
  return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E) || c == 0x85 || c == 0x2028 ||
         c == 0x2029;
}

std::vector<std::string> splitlines(const std::string& s, bool keepends) {
  const std::vector<uint32_t> cps = decode(s);
  std::vector<std::string> out;
  std::string cur;
  for (size_t i = 0; i < cps.size(); ++i) {
    const uint32_t c = cps[i];
    if (!is_line_break(c)) {
      append_utf8(cur, c);
      continue;
    }
    std::string brk;
    append_utf8(brk, c);
    if (c == '\r' && i + 1 < cps.size() && cps[i + 1] == '\n') {
      brk += '\n';
      ++i;
    }
    if (keepends) cur += brk;
    push_piece(out, cur);
    cur.clear();
  }
  if (!cur.empty()) push_piece(out, cur);
  return out;
}

std::string replace(const std::string& s, const std::string& old, const std::string& repl, int64_t count) {
  std::string out;
  if (old.empty()) {
    // Python inserts the replacement between every code point and at both ends.
    const std::vector<uint32_t> cps = decode(s);
    int64_t done = 0;
    for (size_t i = 0; i <= cps.size(); ++i) {
      if (count < 0 || done < count) {
        append_bounded(out, repl);
        ++done;
      }
      if (i < cps.size()) append_utf8(out, cps[i]);
    }
    return out;
  }
  size_t pos = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    const size_t at = s.find(old, pos);
    if (at == std::string::npos) break;
    out.append(s, pos, at - pos);
    append_bounded(out, repl);
    pos = at + old.size();
    ++done;
  }
  out.append(s, pos, std::string::npos);
  return out;
}

std::string lower(const std::string& s) {
  std::string out;
  for (uint32_t c : decode(s)) append_utf8(out, to_lower(c));
  return out;
}

std::string upper(const std::string& s) {
  std::string out;
  for (uint32_t c : decode(s)) append_upper(out, c);
  return out;
}

std::string capitalize(const std::string& s) {
  std::string out;
  bool first = true;
  for (uint32_t c : decode(s)) {
    if (first) append_upper(out, c);
    else append_utf8(out, to_lower(c));
    first = false;
  }
  return out;
}

std::string title(const std::string& s) {
  std::string out;
  bool prev_cased = false;
  for (uint32_t c : decode(s)) {
    if (prev_cased) append_utf8(out, to_lower(c));
    else append_upper(out, c);
    prev_cased = is_cased(c);
  }
  return out;
}

std::string swapcase(const std::string& s) {
  std::string out;
  for (uint32_t c : decode(s)) {
    if (is_cased_upper(c)) append_utf8(out, to_lower(c));
    else append_upper(out, c);
  }
  return out;
}

bool is_lower(const std::string& s) {
  bool any = false;
  for (uint32_t c : decode(s)) {
    if (is_cased_upper(c)) return false;
    if (is_cased_lower(c)) any = true;
  }
  return any;
}

bool is_upper(const std::string& s) {
  bool any = false;
  for (uint32_t c : decode(s)) {
    if (is_cased_lower(c)) return false;
    if (is_cased_upper(c)) any = true;
  }
  return any;
}

}  // namespace jetlm::jinja::pystr
