// Operators and lookups with the semantics of Python objects inside jinja2's
// ImmutableSandboxedEnvironment: Python arithmetic and comparison, and
// jinja2's getattr/getitem (attribute first for `.x`, item first for `[x]`,
// missing -> Undefined). Errors use Python's exception wording.
#pragma once
#include <string>

#include "text/jinja/value.h"

namespace jetlm::jinja {

// op: + - * / // % ** ~
Value binary_op(const std::string& op, const Value& a, const Value& b);
Value negate(const Value& v);  // unary minus
bool contains(const Value& container, const Value& item);  // Python `item in container`
// What `for x in v` visits: list items, dict keys, string characters; Undefined is empty.
ValueList iterate(const Value& v);
Value get_attr(const Value& obj, const std::string& name);
Value get_item(const Value& obj, const Value& key);
// obj[start:stop:step]; parts may be None/Undefined (omitted).
Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step);
// Python len(); throws TypeError wording for values without a length.
int64_t py_len(const Value& v);

// The bound method `name` of a str, dict or list (see methods.cpp). Returns
// false when the object has no such method. Methods that would modify the
// object give an Undefined that raises jinja2's "unsafe" SecurityError text.
bool find_method(const Value& obj, const std::string& name, Value& out);

}  // namespace jetlm::jinja
