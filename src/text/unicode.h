// UTF-8 helpers and GPT-2's byte <-> printable-character table, shared by
// the tokenizers and the stream decoder. Unicode categories themselves come
// from PCRE2 (see bpe_pretokenizer.cpp); nothing here needs a property table.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace jetlm {

// Length of the UTF-8 sequence a lead byte announces, judged from its high
// bits only (continuation and invalid bytes count as 1), as llama.cpp splits
// text into characters for SentencePiece and BPE merging.
inline size_t utf8_seq_len(uint8_t lead) {
  static const uint8_t kLen[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
  return kLen[lead >> 4];
}

// Appends the UTF-8 encoding of a code point (caller passes cp <= 0x10FFFF).
void append_utf8(std::string& out, uint32_t cp);

// Length of the complete, well-formed UTF-8 character starting at s[0]
// (no overlongs, no surrogates, <= U+10FFFF); 0 when s is only the start of a
// character that more bytes could complete; -1 when s[0] can never begin a
// valid character here (the caller replaces it).
int utf8_valid_prefix(std::string_view s);

// Length of the bytes at s[0] to replace by one U+FFFD when s does not start
// with a complete character: the longest prefix that could still have begun
// one (at least 1), as Unicode recommends and Python's decoder does.
size_t utf8_bad_prefix_len(std::string_view s);

// Copies text with every byte that is not part of a well-formed character
// replaced by U+FFFD, the way llama.cpp's BPE path reads broken sequences
// (it lets overlong forms and surrogates through; PCRE2 cannot take those,
// so here they are replaced too). Returns false when nothing changed and out
// is left empty, so the common case costs no copy.
bool sanitize_utf8(std::string_view text, std::string& out);

// GPT-2 byte-level BPE shows every byte as a printable character: bytes that
// are printable Latin-1 map to themselves, the other 68 to U+0100 upwards.
// byte_to_unicode(b) is that character in UTF-8.
const std::string& byte_to_unicode(uint8_t b);
// Inverse: the byte a code point stands for, or -1 for code points outside the table.
int unicode_to_byte(uint32_t cp);

// Decodes the well-formed character at s[pos] (as utf8_valid_prefix > 0 found it).
uint32_t utf8_decode_at(std::string_view s, size_t pos, size_t len);

}  // namespace jetlm
