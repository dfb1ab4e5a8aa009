#include "text/jinja/value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "text/jinja/budget.h"
#include "text/jinja/pystr.h"
#include "util/error.h"

namespace jetlm::jinja {

// Lists and dicts are freed without recursion: a list nested a million levels
// deep (a template can build one, one level per loop step) would otherwise
// overflow the stack in its destructors. The outermost release frees its
// object; the objects released meanwhile wait in a queue and are freed by the
// same loop, so the stack depth stays constant.
namespace {

thread_local std::vector<ValueList*> t_dead_lists;
thread_local std::vector<Dict*> t_dead_dicts;
thread_local bool t_reaping = false;

template <class T>
void reap(T* p, std::vector<T*>& queue) {
  if (t_reaping) {
    try {
      queue.push_back(p);
      return;
    } catch (...) {
      // No memory for the queue: free it here (recursion, but only this once).
    }
    delete p;
    return;
  }
  t_reaping = true;
  delete p;
  while (!t_dead_lists.empty() || !t_dead_dicts.empty()) {
    if (!t_dead_lists.empty()) {
      ValueList* l = t_dead_lists.back();
      t_dead_lists.pop_back();
      delete l;
    } else {
      Dict* d = t_dead_dicts.back();
      t_dead_dicts.pop_back();
      delete d;
    }
  }
  t_reaping = false;
}

struct ListDeleter {
  void operator()(ValueList* p) const noexcept { reap(p, t_dead_lists); }
};
struct DictDeleter {
  void operator()(Dict* p) const noexcept { reap(p, t_dead_dicts); }
};

// The containers whose repr is being written on this thread: Python prints a
// container met again inside itself as [...] / {...} (reprlib's guard), which
// is how jinja2 prints a namespace that contains itself.
thread_local std::vector<const void*> t_repr_active;

struct ReprEnter {
  const void* id;
  bool again;
  explicit ReprEnter(const void* p) : id(p), again(std::find(t_repr_active.begin(), t_repr_active.end(), p) != t_repr_active.end()) {
    if (!again) t_repr_active.push_back(id);
  }
  ~ReprEnter() {
    if (!again) t_repr_active.pop_back();
  }
};

}  // namespace

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
  v.list_ = std::shared_ptr<ValueList>(new ValueList(std::move(items)), ListDeleter{});
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
  v.dict_ = std::shared_ptr<Dict>(new Dict(), DictDeleter{});
  return v;
}

Value Value::make_namespace() {
  Value v = dict();
  v.dict_->is_namespace = true;
  if (Budget* b = current_budget()) b->track_namespace(v.dict_);
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
  const ValueDepthGuard depth;  // the JSON may come from a caller that built it deep
  switch (j.type()) {
    case nlohmann::json::value_t::null:
      return Value::none();
    case nlohmann::json::value_t::boolean:
      return Value(j.template get<bool>());
    case nlohmann::json::value_t::number_integer:
      return Value(j.template get<int64_t>());
    case nlohmann::json::value_t::number_unsigned: {
      const uint64_t u = j.template get<uint64_t>();
      // Python's json keeps it exact; ours would wrap to a negative number.
      if (u > static_cast<uint64_t>(INT64_MAX)) fail("chat template: JSON integer ", u, " does not fit in 64 bits");
      return Value(static_cast<int64_t>(u));
    }
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
      const ReprEnter enter(list_.get());
      if (enter.again) return tuple_ ? "(...)" : "[...]";
      const ValueDepthGuard depth;
      std::string out = tuple_ ? "(" : "[";
      for (size_t k = 0; k < list_->size(); ++k) {
        if (k) out += ", ";
        append_bounded(out, (*list_)[k].repr());
      }
      if (tuple_ && list_->size() == 1) out += ",";
      return out + (tuple_ ? ")" : "]");
    }
    case Kind::Dict: {
      // jinja2's Namespace prints as "<Namespace " + repr(its attribute dict) + ">".
      const ReprEnter enter(dict_.get());
      const ValueDepthGuard depth;
      std::string out = "{";
      if (enter.again) {
        out = "{...}";
      } else {
        for (size_t k = 0; k < dict_->entries.size(); ++k) {
          if (k) out += ", ";
          append_bounded(out, dict_->entries[k].first.repr());
          out += ": ";
          append_bounded(out, dict_->entries[k].second.repr());
        }
        out += "}";
      }
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

int64_t float_to_int(double f) {
  if (std::isnan(f)) return 0;
  if (f >= 9223372036854775808.0) return INT64_MAX;
  if (f < -9223372036854775808.0) return INT64_MIN;
  return static_cast<int64_t>(f);
}

bool py_equal(const Value& a, const Value& b) {
  using K = Value::Kind;
  if (Budget* budget = current_budget()) budget->tick();  // unique/dict lookups over huge lists are quadratic
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) return a.as_int() == b.as_int();
    return a.as_double() == b.as_double();
  }
  if (a.kind() != b.kind()) return false;
  // The same list or dict is equal to itself without a walk, as in Python
  // (whose element comparison checks identity first): `l == l` on a list
  // nested 10 000 deep is True there, not a RecursionError.
  if (a.identity() && a.identity() == b.identity()) return true;
  // Lists and dicts compare element-wise; namespaces (the only way to a cycle) by identity.
  const ValueDepthGuard depth;
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
    const ValueDepthGuard depth;
    const ValueList& x = a.items();
    const ValueList& y = b.items();
    for (size_t k = 0; k < x.size() && k < y.size(); ++k)
      if (!py_equal(x[k], y[k])) return py_less(x[k], y[k]);
    return x.size() < y.size();
  }
  fail("TypeError: '<' not supported between instances of '", a.type_name(), "' and '", b.type_name(), "'");
}

}  // namespace jetlm::jinja
