// A parsed jinja2 template and its renderer. Scoping follows jinja2: a for
// loop body gets a fresh scope each iteration (so `set` inside a loop does not
// leak out; templates use namespace() for that), `if` shares its scope, and
// macros close over the scope they were defined in.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "text/jinja/budget.h"
#include "text/jinja/parser.h"
#include "text/jinja/value.h"

namespace jetlm::jinja {

using Variables = std::vector<std::pair<std::string, Value>>;

class Template {
 public:
  // Parses at construction: a syntax error throws Error("<name>:<line>: syntax error: ...").
  Template(const std::string& source, const std::string& name);

  // Renders with `vars` as globals over jinja2's default globals (range, dict,
  // namespace, joiner). A runtime error, or a template exceeding `limits`,
  // throws Error("<name>:<line>: <message>").
  std::string render(const Variables& vars, const Limits& limits = Limits()) const;

  const std::string& name() const { return parsed_.name; }

 private:
  ParsedTemplate parsed_;
};

// jinja2's default global functions.
Variables default_globals();

}  // namespace jetlm::jinja
