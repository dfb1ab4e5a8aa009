// The split regexes run on PCRE2 (UTF + UCP, JIT-compiled): a well-kept,
// widely packaged library that implements the Unicode property classes
// \p{L} and \p{N} these patterns are written in, for the whole of Unicode,
// and whose JIT matches them at hundreds of MB/s. std::regex has neither the
// properties nor the speed; hand-written matchers would need their own
// category tables and would drift from the published regexes.
#include "text/bpe_pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cstring>

#include "text/unicode.h"
#include "util/error.h"

namespace jetlm {

namespace {

// Unicode White_Space, spelled out: PCRE2's \s (even with UCP) leaves out
// U+0085, which the tokenizers' own engines (Rust regex, Oniguruma, Python
// regex) count as whitespace.
#define JETLM_WS "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

// The published patterns with \s / \S replaced by that class. The case-
// insensitive contractions are spelled per letter, as llama.cpp adapted them,
// so that no Unicode case folding (e.g. U+017F long s) sneaks in.
const char kGpt2Pattern[] =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^" JETLM_WS "\\p{L}\\p{N}]+|[" JETLM_WS "]+(?![^" JETLM_WS
    "])|[" JETLM_WS "]+";

#define JETLM_LLAMA3_LIKE(DIGITS)                                                                                     \
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|" DIGITS                   \
  "| ?[^" JETLM_WS "\\p{L}\\p{N}]+[\\r\\n]*|[" JETLM_WS "]*[\\r\\n]+|[" JETLM_WS "]+(?![^" JETLM_WS "])|[" JETLM_WS \
  "]+"

const char kLlama3Pattern[] = JETLM_LLAMA3_LIKE("\\p{N}{1,3}");
const char kQwen2Pattern[] = JETLM_LLAMA3_LIKE("\\p{N}");

struct PreEntry {
  const char* name;
  BpePreConfig config;
};

// tokenizer.ggml.pre values whose split regex and flags are exactly one of
// the three families above (the grouping follows llama.cpp's table).
const PreEntry kPres[] = {
    {"gpt-2", {"gpt-2", false, false}},
    {"default", {"gpt-2", false, false}},
    {"phi-2", {"gpt-2", false, false}},
    {"mpt", {"gpt-2", false, false}},
    {"olmo", {"gpt-2", false, false}},
    {"jais", {"gpt-2", false, false}},
    {"gigachat", {"gpt-2", false, false}},
    {"exaone4", {"gpt-2", false, false}},
    {"llama-bpe", {"llama3", true, true}},
    {"llama3", {"llama3", true, true}},
    {"llama-v3", {"llama3", true, true}},
    {"falcon3", {"llama3", true, true}},
    {"dbrx", {"llama3", false, false}},
    {"smaug-bpe", {"llama3", false, false}},
    {"qwen2", {"qwen2", false, false}},
    {"deepseek-r1-qwen", {"qwen2", false, false}},
    {"megrez", {"qwen2", false, false}},
    {"stablelm2", {"qwen2", false, false}},
};

}  // namespace

BpePreConfig bpe_pre_config(const std::string& pre) {
  if (pre.empty()) return kPres[0].config;
  for (const PreEntry& e : kPres)
    if (pre == e.name) return e.config;
  std::string names;
  for (const PreEntry& e : kPres) names += str_cat(names.empty() ? "" : ", ", e.name);
  fail("unsupported tokenizer.ggml.pre '", pre, "' (supported: ", names, ")");
}

struct BpePretokenizer::Impl {
  pcre2_code* code = nullptr;
  bool jit = false;
};

BpePretokenizer::BpePretokenizer(const char* family) : impl_(new Impl) {
  const char* pattern = !std::strcmp(family, "llama3")  ? kLlama3Pattern
                        : !std::strcmp(family, "qwen2") ? kQwen2Pattern
                                                        : kGpt2Pattern;
  int err = 0;
  PCRE2_SIZE err_off = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern), PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                              &err, &err_off, nullptr);
  if (!impl_->code) {
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(err, msg, sizeof msg);
    fail("pre-tokenizer regex for ", family, ": ", reinterpret_cast<const char*>(msg), " at offset ", err_off);
  }
  // Without JIT (some platforms lack it) the interpreter gives the same words, slower.
  impl_->jit = pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE) == 0;
}

BpePretokenizer::~BpePretokenizer() { pcre2_code_free(impl_->code); }

void BpePretokenizer::split(std::string_view text, std::vector<std::pair<size_t, size_t>>& words) const {
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  if (!md) fail("out of memory for the pre-tokenizer");
  const auto subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t pos = 0;
  while (pos < text.size()) {
    // The input was made well-formed by the caller, so the UTF check is skipped.
    const int rc = impl_->jit ? pcre2_jit_match(impl_->code, subject, text.size(), pos, 0, md, nullptr)
                              : pcre2_match(impl_->code, subject, text.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      pcre2_match_data_free(md);
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(rc, msg, sizeof msg);
      fail("pre-tokenizer regex failed: ", reinterpret_cast<const char*>(msg));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t start = ov[0], end = ov[1];
    // Text the regex steps over stays a word of its own (none of the
    // patterns leaves any, but llama.cpp's splitter keeps such text too).
    if (start > pos) words.emplace_back(pos, start - pos);
    if (end == start) {  // an empty match would not advance: take one character
      if (start >= text.size()) break;
      end = start + std::min(utf8_seq_len(static_cast<uint8_t>(text[start])), text.size() - start);
    }
    words.emplace_back(start, end - start);
    pos = end;
  }
  if (pos < text.size()) words.emplace_back(pos, text.size() - pos);
  pcre2_match_data_free(md);
}

}  // namespace jetlm
