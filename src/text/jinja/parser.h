// Tokens -> syntax tree, following jinja2's grammar and operator precedence
// (e.g. `a + b | trim` filters only b; `not x is defined` negates the test).
#pragma once
#include <string>

#include "text/jinja/ast.h"

namespace jetlm::jinja {

struct ParsedTemplate {
  std::string name;  // used in error messages: "<name>:<line>: ..."
  StmtList body;
};

// Throws Error("<name>:<line>: syntax error: ...") like jinja2's TemplateSyntaxError,
// including for unknown filters and tests (jinja2 rejects those at compile time).
ParsedTemplate parse_template(const std::string& source, const std::string& name);

}  // namespace jetlm::jinja
