// The values a template computes with, modelled on the Python objects jinja2
// sees: None, bool, int, float, str, list/tuple, dict (insertion-ordered),
// namespace, callables, and jinja2's Undefined. Lists and dicts are shared by
// reference as in Python, which namespace() assignment relies on.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace jetlm::jinja {

class Value;
using ValueList = std::vector<Value>;

// Arguments of a call: positional, then keyword in the order written.
struct CallArgs {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;

  // The argument at position `index` or named `name`, or nullptr when absent.
  const Value* find(size_t index, const char* name) const;
  // Same, with a fallback.
  Value get(size_t index, const char* name, const Value& fallback) const;
};

using NativeFn = std::function<Value(const CallArgs&)>;

struct Function {
  std::string name;
  NativeFn fn;
};

struct Dict;

// Truncates toward zero like Python's int(), saturating outside int64 (NaN: 0):
// a plain cast there is undefined behaviour. Callers that need exactness check first.
int64_t float_to_int(double f);

class Value {
 public:
  enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Function };

  Value() = default;  // Undefined with jinja2's generic message
  Value(bool b) : kind_(Kind::Bool), i_(b) {}
  Value(int v) : kind_(Kind::Int), i_(v) {}
  Value(int64_t v) : kind_(Kind::Int), i_(v) {}
  Value(double v) : kind_(Kind::Float), f_(v) {}
  Value(std::string s) : kind_(Kind::String), s_(std::move(s)) {}
  Value(const char* s) : kind_(Kind::String), s_(s) {}

  // Undefined carrying the message jinja2 raises when the value is used.
  static Value undefined(std::string message);
  // jinja2's message for a missing attribute or element of `obj`.
  static Value missing_attribute(const Value& obj, const Value& name);
  static Value none();
  static Value list(ValueList items = {});
  static Value tuple(ValueList items);
  static Value dict();
  static Value make_namespace();
  static Value function(std::string name, NativeFn fn);

  static Value from_json(const nlohmann::json& j);
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::Undefined; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_int() const { return kind_ == Kind::Int; }  // not bool
  bool is_float() const { return kind_ == Kind::Float; }
  bool is_number() const { return kind_ == Kind::Int || kind_ == Kind::Float || kind_ == Kind::Bool; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_list() const { return kind_ == Kind::List; }  // list or tuple
  bool is_tuple() const { return kind_ == Kind::List && tuple_; }
  bool is_dict() const { return kind_ == Kind::Dict; }  // dict or namespace
  bool is_namespace() const;
  bool is_function() const { return kind_ == Kind::Function; }

  bool as_bool() const { return i_ != 0; }
  int64_t as_int() const { return kind_ == Kind::Float ? float_to_int(f_) : i_; }  // Int or Bool
  double as_double() const { return kind_ == Kind::Float ? f_ : static_cast<double>(i_); }
  const std::string& as_string() const { return s_; }
  const std::string& undefined_message() const { return s_; }
  const ValueList& items() const { return *list_; }
  ValueList& mutable_items() { return *list_; }
  const Dict& dict_ref() const { return *dict_; }
  Dict& mutable_dict() { return *dict_; }
  const Function& function_ref() const { return *fn_; }
  // Identity of a shared object (list, dict, function), for `is sameas`.
  const void* identity() const;

  bool truthy() const;
  std::string str() const;   // Python str(); Undefined prints as ""
  std::string repr() const;  // Python repr()
  std::string type_name() const;  // Python type name: 'str', 'dict', 'NoneType', ...

  // Throws Error with the Undefined's message when this value is Undefined.
  const Value& require_defined() const;

 private:
  Kind kind_ = Kind::Undefined;
  bool tuple_ = false;
  int64_t i_ = 0;
  double f_ = 0;
  std::string s_;
  std::shared_ptr<ValueList> list_;
  std::shared_ptr<Dict> dict_;
  std::shared_ptr<Function> fn_;
};

// An insertion-ordered mapping. Lookups are linear: template dicts are small.
struct Dict {
  std::vector<std::pair<Value, Value>> entries;
  bool is_namespace = false;

  const Value* find(const Value& key) const;
  const Value* find(const std::string& key) const;
  void set(const Value& key, Value v);
};

// Python ==, with 1 == 1.0 == True and list/tuple never equal.
bool py_equal(const Value& a, const Value& b);
// Python <; throws Error (TypeError wording) for unorderable kinds.
bool py_less(const Value& a, const Value& b);
// Python's float repr: shortest text that reads back to the same double.
std::string float_repr(double v);
// Python's repr of a str.
std::string string_repr(const std::string& s);

}  // namespace jetlm::jinja
