// Template source -> tokens, with jinja2's whitespace handling as configured
// by transformers: trim_blocks (drop the newline after a block or comment tag),
// lstrip_blocks (drop indentation before one), and the -/+ tag modifiers.
// Whitespace is settled here so the parser and interpreter never see it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace jetlm::jinja {

enum class TokKind {
  Data,        // literal text between tags
  BlockBegin,  // {%
  BlockEnd,    // %}
  VarBegin,    // {{
  VarEnd,      // }}
  Name,
  String,      // text holds the unescaped value
  Int,
  Float,
  Op,          // text holds the operator: + - * / // % ** ~ == != < <= > >= = . : | , ( ) [ ] { }
  Eof,
};

struct Token {
  TokKind kind = TokKind::Eof;
  std::string text;
  int64_t ival = 0;
  double fval = 0;
  int line = 1;
};

// Throws Error("<name>:<line>: <reason>") for an unterminated tag, comment or string.
std::vector<Token> tokenize(const std::string& source, const std::string& name);

const char* tok_kind_name(TokKind k);

}  // namespace jetlm::jinja
