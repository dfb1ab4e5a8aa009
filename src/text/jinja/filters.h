// jinja2's builtin filters and tests (the ones chat templates use), with
// transformers' `tojson` (no HTML escaping, keys in insertion order, indent).
#pragma once
#include <string>

#include "text/jinja/value.h"

namespace jetlm::jinja {

bool has_filter(const std::string& name);
bool has_test(const std::string& name);

// input | name(args...). Throws Error for bad arguments (jinja2's wording where it has one).
Value apply_filter(const std::string& name, const Value& input, const CallArgs& args);
// input is name(args...)
bool apply_test(const std::string& name, const Value& input, const CallArgs& args);

}  // namespace jetlm::jinja
