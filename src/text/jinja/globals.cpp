// jinja2's default globals: range (sandbox-limited), dict, namespace, joiner.
#include <memory>

#include "text/jinja/interpreter.h"
#include "util/error.h"

namespace jetlm::jinja {
namespace {

// jinja2's sandbox refuses ranges longer than this (MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

int64_t int_arg(const Value& v, const char* what) {
  if (!v.is_number() || v.is_float()) fail("TypeError: range() ", what, " must be an integer, not ", v.type_name());
  return v.as_int();
}

Value range_fn(const CallArgs& a) {
  if (!a.kw.empty()) fail("TypeError: range() takes no keyword arguments");
  if (a.pos.empty() || a.pos.size() > 3) fail("TypeError: range expected 1 to 3 arguments, got ", a.pos.size());
  int64_t start = 0, stop = 0, step = 1;
  if (a.pos.size() == 1) {
    stop = int_arg(a.pos[0], "stop");
  } else {
    start = int_arg(a.pos[0], "start");
    stop = int_arg(a.pos[1], "stop");
    if (a.pos.size() == 3) step = int_arg(a.pos[2], "step");
  }
  if (step == 0) fail("ValueError: range() arg 3 must not be zero");
  ValueList out;
  for (int64_t i = start; step > 0 ? i < stop : i > stop;) {
    if (static_cast<int64_t>(out.size()) >= kMaxRange)
      fail("OverflowError: Range too big. The sandbox blocks ranges larger than MAX_RANGE (", kMaxRange, ").");
    out.emplace_back(i);
    if (__builtin_add_overflow(i, step, &i)) break;  // the next value is past any int64 stop
  }
  return Value::list(std::move(out));
}

// dict(mapping_or_pairs?, **kwargs) into `target` (namespace() takes the same arguments).
void fill_mapping(Value& target, const CallArgs& a, const char* fn) {
  if (a.pos.size() > 1) fail("TypeError: ", fn, " expected at most 1 argument, got ", a.pos.size());
  if (!a.pos.empty()) {
    const Value& src = a.pos[0];
    if (src.is_dict()) {
      for (const auto& kv : src.dict_ref().entries) target.mutable_dict().set(kv.first, kv.second);
    } else if (src.is_list()) {
      for (const Value& pair : src.items()) {
        if (!pair.is_list() || pair.items().size() != 2) fail("ValueError: ", fn, " sequence elements must have length 2");
        target.mutable_dict().set(pair.items()[0], pair.items()[1]);
      }
    } else {
      fail("TypeError: '", src.type_name(), "' object is not iterable");
    }
  }
  for (const auto& kv : a.kw) target.mutable_dict().set(Value(kv.first), kv.second);
}

}  // namespace

Variables default_globals() {
  Variables g;
  g.emplace_back("range", Value::function("range", range_fn));
  g.emplace_back("dict", Value::function("dict", [](const CallArgs& a) {
                   Value d = Value::dict();
                   fill_mapping(d, a, "dict");
                   return d;
                 }));
  g.emplace_back("namespace", Value::function("namespace", [](const CallArgs& a) {
                   Value ns = Value::make_namespace();
                   fill_mapping(ns, a, "namespace");
                   return ns;
                 }));
  g.emplace_back("joiner", Value::function("joiner", [](const CallArgs& a) {
                   const std::string sep = a.get(0, "sep", Value(", ")).str();
                   auto used = std::make_shared<bool>(false);
                   return Value::function("joiner", [sep, used](const CallArgs&) {
                     if (!*used) {
                       *used = true;
                       return Value("");
                     }
                     return Value(sep);
                   });
                 }));
  return g;
}

}  // namespace jetlm::jinja
