#include "text/jinja/operators.h"

#include <cmath>

#include "text/jinja/budget.h"
#include "text/jinja/format.h"
#include "text/jinja/pystr.h"
#include "util/error.h"

namespace jetlm::jinja {

[[noreturn]] static void unsupported(const std::string& op, const Value& a, const Value& b) {
  fail("TypeError: unsupported operand type(s) for ", op, ": '", a.type_name(), "' and '", b.type_name(), "'");
}

// Bytes of the strings a shallow copy of `items` duplicates (lists and dicts inside are shared).
static uint64_t string_bytes(const ValueList& items) {
  uint64_t n = 0;
  for (const Value& v : items)
    if (v.is_string()) n += v.as_string().size();
  return n;
}

static Value repeat(const ValueList& items, int64_t n, bool tuple) {
  ValueList out;
  if (n > 0 && !items.empty()) {
    // Checked before building: `[x] * 10**12` must fail at once, not after allocating.
    check_list_items(items.size(), static_cast<uint64_t>(n));
    check_string_repeat(string_bytes(items), static_cast<uint64_t>(n));
    out.reserve(static_cast<size_t>(n) * items.size());
    for (int64_t k = 0; k < n; ++k) out.insert(out.end(), items.begin(), items.end());
  }
  return tuple ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

// Python's integers are unbounded; ours are int64, so a result that does not
// fit is an error rather than a wrapped (and silently wrong) number.
[[noreturn]] static void int_overflow(const char* op, int64_t a, int64_t b) {
  fail("OverflowError: integer result of ", a, " ", op, " ", b, " does not fit in 64 bits");
}

static int64_t checked_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) int_overflow("+", a, b);
  return r;
}

static int64_t checked_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) int_overflow("-", a, b);
  return r;
}

static int64_t checked_mul(int64_t a, int64_t b, const char* op = "*") {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) int_overflow(op, a, b);
  return r;
}

// Python's a // b (b != 0): rounds toward minus infinity. INT64_MIN // -1 is
// 2**63, which does not fit (and is a SIGFPE as a C++ division).
static int64_t floor_div(int64_t a, int64_t b) {
  if (b == -1) {
    if (a == INT64_MIN) int_overflow("//", a, b);
    return -a;
  }
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// Python's a % b (b != 0): the sign of b. INT64_MIN % -1 is 0 (a C++ SIGFPE).
static int64_t floor_mod(int64_t a, int64_t b) {
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

static int64_t int_pow(int64_t base, int64_t e) {
  const int64_t b0 = base, e0 = e;
  int64_t r = 1;
  // 0, 1 and -1 stay small for any exponent; other bases overflow within 63 squarings.
  if (base == 0) return e == 0 ? 1 : 0;
  if (base == 1) return 1;
  if (base == -1) return (e & 1) ? -1 : 1;
  for (; e > 0; e >>= 1) {
    if (e & 1) {
      if (__builtin_mul_overflow(r, base, &r)) int_overflow("**", b0, e0);
    }
    if (e > 1 && __builtin_mul_overflow(base, base, &base)) int_overflow("**", b0, e0);
  }
  return r;
}

// Python's float power: an error where C's pow would give inf from finite
// operands or divide by zero.
static double float_pow(double a, double b) {
  if (a == 0 && b < 0) fail("ZeroDivisionError: 0.0 cannot be raised to a negative power");
  const double r = std::pow(a, b);
  if (std::isinf(r) && std::isfinite(a) && std::isfinite(b)) fail("OverflowError: (34, 'Numerical result out of range')");
  if (std::isnan(r) && !std::isnan(a) && !std::isnan(b))
    fail("ValueError: a negative number raised to a fractional power is complex (not supported)");
  return r;
}

Value binary_op(const std::string& op, const Value& a, const Value& b) {
  if (op == "~") {
    std::string out = a.str();
    append_bounded(out, b.str());
    return Value(std::move(out));
  }
  a.require_defined();
  b.require_defined();
  const bool nums = a.is_number() && b.is_number();
  const bool ints = nums && !a.is_float() && !b.is_float();
  if (op == "+") {
    if (ints) return Value(checked_add(a.as_int(), b.as_int()));
    if (nums) return Value(a.as_double() + b.as_double());
    if (a.is_string() && b.is_string()) {
      std::string out = a.as_string();
      append_bounded(out, b.as_string());
      return Value(std::move(out));
    }
    if (a.is_list() && b.is_list() && a.is_tuple() == b.is_tuple()) {
      check_list_items(static_cast<uint64_t>(a.items().size()) + b.items().size());
      check_string_bytes(string_bytes(a.items()) + string_bytes(b.items()));
      ValueList out = a.items();
      out.insert(out.end(), b.items().begin(), b.items().end());
      return a.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
    }
    if (a.is_string()) fail("TypeError: can only concatenate str (not \"", b.type_name(), "\") to str");
    if (a.is_list()) fail("TypeError: can only concatenate ", a.type_name(), " (not \"", b.type_name(), "\") to ", a.type_name());
    unsupported(op, a, b);
  }
  if (op == "-") {
    if (ints) return Value(checked_sub(a.as_int(), b.as_int()));
    if (nums) return Value(a.as_double() - b.as_double());
    unsupported(op, a, b);
  }
  if (op == "*") {
    if (ints) return Value(checked_mul(a.as_int(), b.as_int()));
    if (nums) return Value(a.as_double() * b.as_double());
    const Value* seq = a.is_number() ? &b : &a;
    const Value* count = a.is_number() ? &a : &b;
    if (count->is_number() && !count->is_float()) {
      const int64_t n = count->as_int();
      if (seq->is_string()) {
        std::string out;
        if (n > 0 && !seq->as_string().empty()) {
          check_string_repeat(seq->as_string().size(), static_cast<uint64_t>(n));
          // Doubling copies: 'x' * 60000000 in a few memcpy calls, not 60M appends.
          const size_t total = static_cast<size_t>(n) * seq->as_string().size();
          out.reserve(total);
          out = seq->as_string();
          while (out.size() * 2 <= total) out.append(out);
          out.append(out, 0, total - out.size());
        }
        return Value(std::move(out));
      }
      if (seq->is_list()) return repeat(seq->items(), n, seq->is_tuple());
    }
    unsupported(op, a, b);
  }
  if (op == "/") {
    if (!nums) unsupported(op, a, b);
    if (b.as_double() == 0) fail("ZeroDivisionError: division by zero");
    return Value(a.as_double() / b.as_double());
  }
  if (op == "//") {
    if (!nums) unsupported(op, a, b);
    if (b.as_double() == 0) fail(ints ? "ZeroDivisionError: integer division or modulo by zero" : "ZeroDivisionError: float floor division by zero");
    if (ints) return Value(floor_div(a.as_int(), b.as_int()));
    return Value(std::floor(a.as_double() / b.as_double()));
  }
  if (op == "%") {
    if (a.is_string()) return Value(percent_format(a.as_string(), b));
    if (!nums) unsupported(op, a, b);
    if (b.as_double() == 0) fail(ints ? "ZeroDivisionError: integer division or modulo by zero" : "ZeroDivisionError: float modulo");
    if (ints) return Value(floor_mod(a.as_int(), b.as_int()));
    double r = std::fmod(a.as_double(), b.as_double());
    if (r != 0 && ((r < 0) != (b.as_double() < 0))) r += b.as_double();
    return Value(r);
  }
  if (op == "**") {
    if (!nums) unsupported(op, a, b);
    if (ints && b.as_int() >= 0) return Value(int_pow(a.as_int(), b.as_int()));
    return Value(float_pow(a.as_double(), b.as_double()));
  }
  fail("unknown operator ", op);
}

Value negate(const Value& v) {
  v.require_defined();
  if (v.is_float()) return Value(-v.as_double());
  if (v.is_number()) {
    if (v.as_int() == INT64_MIN) fail("OverflowError: integer result of -(", INT64_MIN, ") does not fit in 64 bits");
    return Value(-v.as_int());
  }
  fail("TypeError: bad operand type for unary -: '", v.type_name(), "'");
}

bool contains(const Value& container, const Value& item) {
  switch (container.kind()) {
    case Value::Kind::Undefined:
      return false;
    case Value::Kind::String:
      if (!item.is_string()) fail("TypeError: 'in <string>' requires string as left operand, not ", item.type_name());
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Kind::List:
      for (const Value& v : container.items())
        if (py_equal(v, item)) return true;
      return false;
    case Value::Kind::Dict:
      if (!container.is_namespace()) return container.dict_ref().find(item) != nullptr;
      break;
    default:
      break;
  }
  fail("TypeError: argument of type '", container.type_name(), "' is not iterable");
}

ValueList iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined:
      return {};
    case Value::Kind::List:
      return v.items();
    case Value::Kind::Dict:
      if (!v.is_namespace()) {
        ValueList keys;
        for (const auto& kv : v.dict_ref().entries) keys.push_back(kv.first);
        return keys;
      }
      break;
    case Value::Kind::String: {
      const std::vector<uint32_t> cps = pystr::decode(v.as_string());
      check_list_items(cps.size());  // each character becomes a Value of ~100 bytes
      ValueList chars;
      chars.reserve(cps.size());
      for (uint32_t c : cps) {
        std::string s;
        pystr::append_utf8(s, c);
        chars.emplace_back(std::move(s));
      }
      return chars;
    }
    default:
      break;
  }
  fail("TypeError: '", v.type_name(), "' object is not iterable");
}

int64_t py_len(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::Undefined: return 0;
    case Value::Kind::String: return static_cast<int64_t>(pystr::length(v.as_string()));
    case Value::Kind::List: return static_cast<int64_t>(v.items().size());
    case Value::Kind::Dict:
      if (!v.is_namespace()) return static_cast<int64_t>(v.dict_ref().entries.size());
      break;
    default: break;
  }
  fail("TypeError: object of type '", v.type_name(), "' has no len()");
}

Value get_attr(const Value& obj, const std::string& name) {
  obj.require_defined();
  Value method;
  if (find_method(obj, name, method)) return method;
  if (obj.is_dict())
    if (const Value* v = obj.dict_ref().find(name)) return *v;
  return Value::missing_attribute(obj, Value(name));
}

Value get_item(const Value& obj, const Value& key) {
  obj.require_defined();
  if ((obj.is_list() || obj.is_string()) && key.is_number() && !key.is_float()) {
    int64_t idx = key.as_int();
    if (obj.is_list()) {
      const int64_t n = static_cast<int64_t>(obj.items().size());
      if (idx < 0) idx += n;
      if (idx >= 0 && idx < n) return obj.items()[static_cast<size_t>(idx)];
    } else {
      const std::vector<uint32_t> cps = pystr::decode(obj.as_string());
      const int64_t n = static_cast<int64_t>(cps.size());
      if (idx < 0) idx += n;
      if (idx >= 0 && idx < n) {
        std::string s;
        pystr::append_utf8(s, cps[static_cast<size_t>(idx)]);
        return Value(s);
      }
    }
  } else if (obj.is_dict()) {
    if (const Value* v = obj.dict_ref().find(key)) return *v;
  }
  // jinja2 falls back to the attribute of that name: d['items'] is the method.
  if (key.is_string()) {
    Value method;
    if (find_method(obj, key.as_string(), method)) return method;
  }
  return Value::missing_attribute(obj, key);
}

Value get_slice(const Value& obj, const Value& start, const Value& stop, const Value& step) {
  obj.require_defined();
  auto bound = [](const Value& v, const char* what) -> bool {
    if (v.is_undefined() || v.is_none()) return false;
    if (!v.is_number() || v.is_float()) fail("TypeError: slice indices must be integers or None (", what, " is ", v.type_name(), ")");
    return true;
  };
  const int64_t st = bound(step, "step") ? step.as_int() : 1;
  if (st == 0) fail("ValueError: slice step cannot be zero");
  std::vector<uint32_t> cps;
  int64_t n = 0;
  if (obj.is_list()) n = static_cast<int64_t>(obj.items().size());
  else if (obj.is_string()) n = static_cast<int64_t>((cps = pystr::decode(obj.as_string())).size());
  else return Value::undefined(obj.type_name() + " object has no element slice");
  auto clamp = [&](const Value& v, const char* what, int64_t dflt) {
    if (!bound(v, what)) return dflt;
    int64_t i = v.as_int();
    if (i < 0) i += n;
    if (st > 0) return i < 0 ? 0 : (i > n ? n : i);
    return i < 0 ? -1 : (i >= n ? n - 1 : i);
  };
  const int64_t b = clamp(start, "start", st > 0 ? 0 : n - 1);
  const int64_t e = clamp(stop, "stop", st > 0 ? n : -1);
  // Count the picks first: stepping i += st past the end could overflow
  // int64 with a huge step ([::9223372036854775807]).
  std::vector<size_t> picks;
  if (st > 0 ? b < e : b > e) {
    const uint64_t span = static_cast<uint64_t>(st > 0 ? e - b : b - e);  // |e - b| <= n + 1
    const uint64_t stride = st > 0 ? static_cast<uint64_t>(st) : 0 - static_cast<uint64_t>(st);
    const uint64_t count = (span - 1) / stride + 1;
    for (uint64_t k = 0; k < count; ++k) {
      const int64_t off = static_cast<int64_t>(k * stride);  // k * stride < span
      picks.push_back(static_cast<size_t>(st > 0 ? b + off : b - off));
    }
  }
  if (obj.is_list()) {
    ValueList out;
    for (size_t i : picks) out.push_back(obj.items()[i]);
    return obj.is_tuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
  }
  std::string out;
  for (size_t i : picks) pystr::append_utf8(out, cps[i]);
  return Value(out);
}

}  // namespace jetlm::jinja
