#include "text/unicode.h"

#include <array>

namespace jetlm {

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int utf8_valid_prefix(std::string_view s) {
  if (s.empty()) return 0;
  const auto b0 = static_cast<uint8_t>(s[0]);
  if (b0 < 0x80) return 1;
  // The second byte's allowed range depends on the lead byte: this is what
  // rules out overlong forms (E0 80.., F0 80..), surrogates (ED A0..) and
  // code points past U+10FFFF (F4 90..), per the Unicode table of
  // well-formed byte sequences.
  int len;
  uint8_t lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return -1;
  }
  for (int k = 1; k < len; ++k) {
    if (static_cast<size_t>(k) >= s.size()) return 0;
    const auto b = static_cast<uint8_t>(s[k]);
    const uint8_t klo = k == 1 ? lo : 0x80, khi = k == 1 ? hi : 0xBF;
    if (b < klo || b > khi) return -1;
  }
  return len;
}

size_t utf8_bad_prefix_len(std::string_view s) {
  // Grow the prefix while utf8_valid_prefix still calls it unfinished.
  size_t k = 1;
  while (k < s.size() && k < 4 && utf8_valid_prefix(s.substr(0, k + 1)) == 0) ++k;
  return k;
}

uint32_t utf8_decode_at(std::string_view s, size_t pos, size_t len) {
  const auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(s[pos + k])); };
  switch (len) {
    case 1: return b(0);
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    default: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
  }
}

bool sanitize_utf8(std::string_view text, std::string& out) {
  out.clear();
  size_t pos = 0, copied = 0;
  bool changed = false;
  while (pos < text.size()) {
    if (static_cast<uint8_t>(text[pos]) < 0x80) {
      ++pos;
      continue;
    }
    const int n = utf8_valid_prefix(text.substr(pos));
    if (n > 0) {
      pos += static_cast<size_t>(n);
      continue;
    }
    // One replacement per offending byte, as llama.cpp's decoder steps.
    if (!changed) out.reserve(text.size() + 16);
    changed = true;
    out.append(text.data() + copied, pos - copied);
    out += "\xEF\xBF\xBD";
    ++pos;
    copied = pos;
  }
  if (changed) out.append(text.data() + copied, text.size() - copied);
  return changed;
}

namespace {

struct ByteTable {
  std::array<std::string, 256> to_unicode;
  std::array<int16_t, 324> to_byte;  // code points 0..323 cover the whole table

  ByteTable() {
    to_byte.fill(-1);
    const auto printable = [](int b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); };
    int next = 256;
    for (int b = 0; b < 256; ++b) {
      const int cp = printable(b) ? b : next++;
      append_utf8(to_unicode[b], static_cast<uint32_t>(cp));
      to_byte[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteTable& byte_table() {
  static const ByteTable table;
  return table;
}

}  // namespace

const std::string& byte_to_unicode(uint8_t b) { return byte_table().to_unicode[b]; }

int unicode_to_byte(uint32_t cp) {
  const ByteTable& t = byte_table();
  return cp < t.to_byte.size() ? t.to_byte[cp] : -1;
}

}  // namespace jetlm
