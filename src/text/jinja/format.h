// Text formats templates produce: JSON as Python's json.dumps writes it (the
// `tojson` filter transformers installs), printf-style `%` formatting and
// str.format(). Byte-exact output matters: the prompt is tokenized as is.
#pragma once
#include <string>

#include "text/jinja/value.h"

namespace jetlm::jinja {

struct JsonOptions {
  bool pretty = false;        // indent given (even 0): newlines between items
  std::string indent;         // per nesting level
  bool ensure_ascii = false;  // transformers' default; json.dumps' default is true
  bool sort_keys = false;
  std::string item_sep = ", ";  // json.dumps: ", " without indent, "," with
  std::string key_sep = ": ";
};

// json.dumps(value, ...). Throws Error (TypeError wording) for values JSON cannot hold.
std::string to_json(const Value& v, const JsonOptions& opt);
// JSON string literal of s, as json.dumps writes it.
std::string json_quote(const std::string& s, bool ensure_ascii);

// Python's `fmt % args` (args: a tuple, a dict for %(name)s, or a single value).
std::string percent_format(const std::string& fmt, const Value& args);
// Python's fmt.format(*args, **kwargs): fields {}, {0}, {name}, {x!r}, with the
// common format specs ({:>10}, {:.2f}, {:05d}, ...; widths within the string budget).
std::string str_format(const std::string& fmt, const CallArgs& args);

}  // namespace jetlm::jinja
