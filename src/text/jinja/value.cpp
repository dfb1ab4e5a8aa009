#include "text/jinja/value.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "text/jinja/pystr.h"
#include "util/error.h"

namespace jetlm::jinja {

const Value* CallArgs::find(size_t index, const char* name) const {
  if (index < pos.size()) return &pos[index];
  if (name)
    for (const auto& kv : kw)
      if (kv.first == name) return &kv.second;
  return nullptr;
}

Value CallArgs::get(size_t index, const char* name, const Value& fallback) const {
  const Value* v = find(index, name);
  return v ? *v : fallback;
}

Value Value::undefined(std::string message) {
  Value v;
  v.s_ = std::move(message);
  return v;
}

// jinja2's object_type_repr: "None" for None, else "<type> object".
static std::string object_type_repr(const Value& v) {
  return v.is_none() ? "None" : v.type_name() + " object";
}

Value Value::missing_attribute(const Value& obj, const Value& name) {
  if (name.is_string()) return undefined(string_repr(object_type_repr(obj)) + " has no attribute " + name.repr());
  return undefined(object_type_repr(obj) + " has no element " + name.repr());
}

Value Value::none() {
  Value v;
  v.kind_ = Kind::None;
  return v;
}

Value Value::list(ValueList items) {
  Value v;
  v.kind_ = Kind::List;
  v.list_ = std::make_shared<ValueList>(std::move(items));
  return v;
}

Value Value::tuple(ValueList items) {
  Value v = list(std::move(items));
  v.tuple_ = true;
  return v;
}

Value Value::dict() {
  Value v;
  v.kind_ = Kind::Dict;
  v.dict_ = std::make_shared<Dict>();
  return v;
}

Value Value::make_namespace() {
  Value v = dict();
  v.dict_->is_namespace = true;
  return v;
}

Value Value::function(std::string name, NativeFn fn) {
  Value v;
  v.kind_ = Kind::Function;
  v.fn_ = std::make_shared<Function>(Function{std::move(name), std::move(fn)});
  return v;
}

template <class Json>
static Value value_from_json(const Json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned:
      return Value(static_cast<int64_t>(j.template get<uint64_t>()));
    case nlohmann::json::value_t::number_float:
      return Value(j.template get<double>());
    case nlohmann::json::value_t::string:
      return Value(j.template get<std::string>());
    case nlohmann::json::value_t::array: {
      ValueList items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(value_from_json(e));
      return Value::list(std::move(items));
    }
    case nlohmann::json::value_t::object: {
      Value d = Value::dict();
      for (auto it = j.begin(); it != j.end(); ++it)
        d.mutable_dict().entries.emplace_back(Value(it.key()), value_from_json(it.value()));
      return d;
    }
    default:
      fail("chat template: unsupported JSON value (binary or discarded)");
  }
}

Value Value::from_json(const nlohmann::json& j) { return value_from_json(j); }
Value Value::from_json(const nlohmann::ordered_json& j) { return value_from_json(j); }

bool Value::is_namespace() const { return kind_ == Kind::Dict && dict_->is_namespace; }

const void* Value::identity() const {
  if (list_) return list_.get();
  if (dict_) return dict_.get();
  if (fn_) return fn_.get();
  return nullptr;
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::Undefined:
    case Kind::None:
      return false;
    case Kind::Bool:
    case Kind::Int:
      return i_ != 0;
    case Kind::Float:
      return f_ != 0;
    case Kind::String:
      return !s_.empty();
    case Kind::List:
      return !list_->empty();
    case Kind::Dict:
      return dict_->is_namespace || !dict_->entries.empty();
    case Kind::Function:
      return true;
  }
  return false;
}

std::string Value::type_name() const {
  switch (kind_) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return tuple_ ? "tuple" : "list";
    case Kind::Dict: return dict_->is_namespace ? "Namespace" : "dict";
    case Kind::Function: return "function";
  }
  return "object";
}

std::string float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  if (v == 0) return std::signbit(v) ? "-0.0" : "0.0";
  char buf[64];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  // buf is "[-]d.ddde[+-]XX": split into sign, digits and decimal exponent.
  std::string s = buf;
  std::string sign;
  if (s[0] == '-') {
    sign = "-";
    s = s.substr(1);
  }
  const size_t e_pos = s.find('e');
  const int exp = std::atoi(s.c_str() + e_pos + 1);
  std::string digits;
  for (size_t k = 0; k < e_pos; ++k)
    if (s[k] != '.') digits += s[k];
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out;
  // Python switches to exponent notation outside 1e-4 <= |v| < 1e16.
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      std::string int_part = digits.substr(0, std::min(digits.size(), static_cast<size_t>(exp + 1)));
      while (static_cast<int>(int_part.size()) < exp + 1) int_part += '0';
      std::string frac = digits.size() > static_cast<size_t>(exp + 1) ? digits.substr(exp + 1) : "0";
      out = int_part + "." + frac;
    } else {
      out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
    }
  } else {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out += eb;
  }
  return sign + out;
}

static bool is_printable(uint32_t c) {
  if (c < 0x20 || (c >= 0x7F && c <= 0xA0) || c == 0xAD) return false;
  if (c == 0x1680 || c == 0x180E || (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F)) return false;
  if ((c >= 0x205F && c <= 0x206F) || c == 0x3000 || c == 0xFEFF || (c >= 0xD800 && c <= 0xDFFF)) return false;
  return true;
}

std::string string_repr(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (uint32_t c : pystr::decode(s)) {
    if (c == static_cast<uint32_t>(quote) || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (!is_printable(c)) {
      char buf[16];
      if (c < 0x100) std::snprintf(buf, sizeof buf, "\\x%02x", c);
      else std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      pystr::append_utf8(out, c);
    }
  }
  out += quote;
  return out;
}

std::string Value::repr() const {
  switch (kind_) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "None";
    case Kind::Bool: return i_ ? "True" : "False";
    case Kind::Int: return std::to_string(i_);
    case Kind::Float: return float_repr(f_);
    case Kind::String: return string_repr(s_);
    case Kind::List: {
      std::string out = tuple_ ? "(" : "[";
      for (size_t k = 0; k < list_->size(); ++k) out += (k ? ", " : "") + (*list_)[k].repr();
      if (tuple_ && list_->size() == 1) out += ",";
      return out + (tuple_ ? ")" : "]");
    }
    case Kind::Dict: {
      std::string out = "{";
      for (size_t k = 0; k < dict_->entries.size(); ++k)
        out += (k ? ", " : "") + dict_->entries[k].first.repr() + ": " + dict_->entries[k].second.repr();
      out += "}";
      return dict_->is_namespace ? "<Namespace " + out + ">" : out;
    }
    case Kind::Function: return "<function " + fn_->name + ">";
  }
  return "?";
}

std::string Value::str() const {
  if (kind_ == Kind::Undefined) return "";
  if (kind_ == Kind::String) return s_;
  return repr();
}

const Value& Value::require_defined() const {
  if (kind_ == Kind::Undefined) fail(s_.empty() ? std::string("value is undefined") : s_);
  return *this;
}

const Value* Dict::find(const Value& key) const {
  for (const auto& kv : entries)
    if (py_equal(kv.first, key)) return &kv.second;
  return nullptr;
}

const Value* Dict::find(const std::string& key) const {
  for (const auto& kv : entries)
    if (kv.first.is_string() && kv.first.as_string() == key) return &kv.second;
  return nullptr;
}

void Dict::set(const Value& key, Value v) {
  for (auto& kv : entries)
    if (py_equal(kv.first, key)) {
      kv.second = std::move(v);
      return;
    }
  entries.emplace_back(key, std::move(v));
}

bool py_equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) return a.as_int() == b.as_int();
    return a.as_double() == b.as_double();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case K::Undefined:
    case K::None:
      return true;
    case K::String:
      return a.as_string() == b.as_string();
    case K::List: {
      if (a.is_tuple() != b.is_tuple() || a.items().size() != b.items().size()) return false;
      for (size_t k = 0; k < a.items().size(); ++k)
        if (!py_equal(a.items()[k], b.items()[k])) return false;
      return true;
    }
    case K::Dict: {
      if (a.is_namespace() || b.is_namespace()) return a.identity() == b.identity();
      const Dict& da = a.dict_ref();
      const Dict& db = b.dict_ref();
      if (da.entries.size() != db.entries.size()) return false;
      for (const auto& kv : da.entries) {
        const Value* other = db.find(kv.first);
        if (!other || !py_equal(kv.second, *other)) return false;
      }
      return true;
    }
    case K::Function:
      return a.identity() == b.identity();
    default:
      return false;
  }
}

bool py_less(const Value& a, const Value& b) {
  a.require_defined();
  b.require_defined();
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) return a.as_int() < b.as_int();
    return a.as_double() < b.as_double();
  }
  if (a.is_string() && b.is_string()) return a.as_string() < b.as_string();
  if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
    const ValueList& x = a.items();
    const ValueList& y = b.items();
    for (size_t k = 0; k < x.size() && k < y.size(); ++k)
      if (!py_equal(x[k], y[k])) return py_less(x[k], y[k]);
    return x.size() < y.size();
  }
  fail("TypeError: '<' not supported between instances of '", a.type_name(), "' and '", b.type_name(), "'");
}

}  // namespace jetlm::jinja
