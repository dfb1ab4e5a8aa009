// Python str semantics over UTF-8 std::string. Templates index, slice, strip
// and case-map strings the way Python does, which counts code points rather
// than bytes and knows Unicode whitespace; these helpers keep that exact.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace jetlm::jinja::pystr {

// Decoding is lossless: a byte that is not valid UTF-8 becomes U+DC80..U+DCFF
// (Python's surrogateescape) and encode() turns it back into the same byte.
std::vector<uint32_t> decode(const std::string& s);
std::string encode(const std::vector<uint32_t>& cps);
void append_utf8(std::string& out, uint32_t cp);
size_t length(const std::string& s);  // in code points

bool is_space(uint32_t cp);  // str.isspace() for one code point
bool is_cased_upper(uint32_t cp);
bool is_cased_lower(uint32_t cp);
uint32_t to_lower(uint32_t cp);
uint32_t to_upper(uint32_t cp);

// str.strip / lstrip / rstrip; chars == nullptr strips whitespace.
std::string strip(const std::string& s, const std::string* chars, bool left, bool right);
// str.split / rsplit; sep == nullptr splits on runs of whitespace. maxsplit < 0: no limit.
std::vector<std::string> split(const std::string& s, const std::string* sep, int64_t maxsplit);
std::vector<std::string> rsplit(const std::string& s, const std::string* sep, int64_t maxsplit);
std::vector<std::string> splitlines(const std::string& s, bool keepends);
std::string replace(const std::string& s, const std::string& old, const std::string& repl, int64_t count);

std::string lower(const std::string& s);
std::string upper(const std::string& s);
std::string capitalize(const std::string& s);  // str.capitalize()
std::string title(const std::string& s);       // str.title()
std::string swapcase(const std::string& s);
bool is_lower(const std::string& s);  // str.islower()
bool is_upper(const std::string& s);  // str.isupper()

}  // namespace jetlm::jinja::pystr
