#include "text/jinja/filters.h"

#include <algorithm>
#include <cmath>
#include <cerrno>
#include <cstdlib>

#include "text/jinja/budget.h"
#include "text/jinja/format.h"
#include "text/jinja/operators.h"
#include "text/jinja/pystr.h"
#include "util/error.h"

namespace jetlm::jinja {
namespace {

const char* const kFilters[] = {
    "abs", "attr", "batch", "capitalize", "center", "count", "d", "default", "dictsort", "e", "escape",
    "first", "float", "forceescape", "format", "indent", "int", "items", "join", "last", "length", "list",
    "lower", "map", "max", "min", "reject", "rejectattr", "replace", "reverse", "round", "safe", "select",
    "selectattr", "sort", "string", "sum", "title", "tojson", "trim", "unique", "upper", "wordcount"};

const char* const kTests[] = {
    "boolean", "callable", "defined", "divisibleby", "eq", "equalto", "escaped", "even", "false", "filter",
    "float", "ge", "gt", "greaterthan", "in", "integer", "iterable", "le", "lessthan", "lower", "lt",
    "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "test", "true", "undefined",
    "upper", "==", "!=", "<", "<=", ">", ">="};

// Positional argument i of a filter or test (after the input), or keyword `name`.
Value arg(const CallArgs& a, size_t i, const char* name, const Value& fallback) { return a.get(i, name, fallback); }

CallArgs tail_args(const CallArgs& a, size_t from) {
  CallArgs out;
  for (size_t k = from; k < a.pos.size(); ++k) out.pos.push_back(a.pos[k]);
  out.kw = a.kw;
  return out;
}

// jinja2's make_attrgetter: "a.b.0" looks up item by item; digits index lists.
Value lookup_path(const Value& item, const Value& attribute, const Value& dflt) {
  Value v = item;
  if (attribute.is_string()) {
    static const std::string kDot = ".";
    for (const std::string& part : pystr::split(attribute.as_string(), &kDot, -1)) {
      const bool digits = !part.empty() && part.find_first_not_of("0123456789") == std::string::npos;
      v = get_item(v, digits ? Value(static_cast<int64_t>(std::strtoll(part.c_str(), nullptr, 10))) : Value(part));
      if (v.is_undefined()) break;
    }
  } else {
    v = get_item(v, attribute);
  }
  if (v.is_undefined() && !dflt.is_undefined()) return dflt;
  return v;
}

Value sort_key(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value(pystr::lower(v.as_string()));
  return v;
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

// jinja2's title filter (not str.title): words start after runs of [-\s({\[<].
std::string jinja_title(const std::string& s) {
  std::string out;
  bool at_start = true;
  for (uint32_t c : pystr::decode(s)) {
    const bool sep = pystr::is_space(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
    if (sep) {
      pystr::append_utf8(out, c);
      at_start = true;
    } else if (at_start) {
      pystr::append_utf8(out, pystr::to_upper(c));
      at_start = false;
    } else {
      pystr::append_utf8(out, pystr::to_lower(c));
    }
  }
  return out;
}

Value filter_int(const Value& v, const CallArgs& a) {
  const Value dflt = arg(a, 0, "default", Value(0));
  if (v.is_float()) {
    const double f = v.as_double();
    if (std::isnan(f)) return dflt;  // jinja2 catches int()'s ValueError
    if (std::isinf(f)) fail("OverflowError: cannot convert float infinity to integer");
    if (f >= 9223372036854775808.0 || f < -9223372036854775808.0) fail("OverflowError: int(", float_repr(f), ") does not fit in 64 bits");
    return Value(v.as_int());
  }
  if (v.is_number()) return Value(v.as_int());
  if (v.is_string()) {
    const std::string s = pystr::strip(v.as_string(), nullptr, true, true);
    const int base = static_cast<int>(arg(a, 1, "base", Value(10)).as_int());
    std::string digits;
    for (char c : s)
      if (c != '_') digits += c;
    char* end = nullptr;
    if (base != 0 && (base < 2 || base > 36)) fail("ValueError: int() base must be >= 2 and <= 36, or 0");
    errno = 0;
    const long long n = std::strtoll(digits.c_str(), &end, base);
    if (!digits.empty() && end && *end == '\0') {
      if (errno == ERANGE) fail("OverflowError: int('", s, "') does not fit in 64 bits");
      return Value(static_cast<int64_t>(n));
    }
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0' && std::isfinite(d)) return filter_int(Value(d), a);
  }
  return dflt;
}

Value filter_float(const Value& v, const CallArgs& a) {
  if (v.is_number()) return Value(v.as_double());
  if (v.is_string()) {
    const std::string s = pystr::strip(v.as_string(), nullptr, true, true);
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == '\0') return Value(d);
  }
  return arg(a, 0, "default", Value(0.0));
}

// `n` spaces of indentation (none when negative), within the string budget.
std::string spaces(int64_t n) {
  if (n <= 0) return "";
  check_string_bytes(static_cast<uint64_t>(n));
  return std::string(static_cast<size_t>(n), ' ');
}

Value filter_tojson(const Value& v, const CallArgs& a) {
  JsonOptions opt;
  opt.ensure_ascii = arg(a, 0, "ensure_ascii", Value(false)).truthy();
  const Value indent = arg(a, 1, "indent", Value::none());
  if (!indent.is_none() && !indent.is_undefined()) {
    opt.pretty = true;
    opt.indent = indent.is_string() ? indent.as_string() : spaces(indent.as_int());
    opt.item_sep = ",";
  }
  const Value seps = arg(a, 2, "separators", Value::none());
  if (seps.is_list() && seps.items().size() == 2) {
    opt.item_sep = seps.items()[0].str();
    opt.key_sep = seps.items()[1].str();
  }
  opt.sort_keys = arg(a, 3, "sort_keys", Value(false)).truthy();
  return Value(to_json(v, opt));
}

Value filter_indent(const Value& v, const CallArgs& a) {
  const Value w = arg(a, 0, "width", Value(4));
  const std::string ind = w.is_string() ? w.as_string() : spaces(w.as_int());
  const bool first = arg(a, 1, "first", Value(false)).truthy();
  const bool blank = arg(a, 2, "blank", Value(false)).truthy();
  const std::vector<std::string> lines = pystr::splitlines(v.str() + "\n", false);
  std::string out;
  if (first) out = ind;
  for (size_t k = 0; k < lines.size(); ++k) {
    if (k > 0) {
      out += "\n";
      if (blank || !lines[k].empty()) append_bounded(out, ind);
    }
    append_bounded(out, lines[k]);
  }
  return Value(out);
}

Value select_or_reject(const Value& v, const CallArgs& a, bool select, bool by_attr) {
  const size_t off = by_attr ? 1 : 0;
  const Value attribute = by_attr ? arg(a, 0, nullptr, Value()) : Value();
  const bool has_test = a.pos.size() > off;
  const std::string test = has_test ? a.pos[off].str() : "";
  const CallArgs targs = tail_args(a, off + 1);
  ValueList out;
  for (const Value& item : iterate(v)) {
    const Value x = by_attr ? lookup_path(item, attribute, Value()) : item;
    const bool ok = has_test ? apply_test(test, x, targs) : x.truthy();
    if (ok == select) out.push_back(item);
  }
  return Value::list(std::move(out));
}

Value filter_map(const Value& v, const CallArgs& a) {
  ValueList out;
  if (a.pos.empty()) {
    const Value* attribute = a.find(SIZE_MAX, "attribute");
    if (!attribute) fail("map requires a filter name or attribute=");
    const Value dflt = a.get(SIZE_MAX, "default", Value());
    for (const Value& item : iterate(v)) out.push_back(lookup_path(item, *attribute, dflt));
  } else {
    const std::string name = a.pos[0].str();
    if (!has_filter(name)) fail("no filter named '", name, "'");
    const CallArgs fargs = tail_args(a, 1);
    for (const Value& item : iterate(v)) out.push_back(apply_filter(name, item, fargs));
  }
  return Value::list(std::move(out));
}

ValueList sorted_items(const Value& v, const CallArgs& a, size_t reverse_pos, size_t cs_pos, size_t attr_pos) {
  const bool reverse = reverse_pos != SIZE_MAX && arg(a, reverse_pos, "reverse", Value(false)).truthy();
  const bool cs = arg(a, cs_pos, "case_sensitive", Value(false)).truthy();
  const Value attribute = arg(a, attr_pos, "attribute", Value::none());
  ValueList items = iterate(v);
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& it : items)
    keyed.emplace_back(sort_key(attribute.is_none() ? it : lookup_path(it, attribute, Value()), cs), it);
  std::stable_sort(keyed.begin(), keyed.end(), [reverse](const auto& x, const auto& y) {
    return reverse ? py_less(y.first, x.first) : py_less(x.first, y.first);
  });
  ValueList out;
  for (auto& kv : keyed) out.push_back(kv.second);
  return out;
}

Value filter_minmax(const Value& v, const CallArgs& a, bool want_max) {
  ValueList items = sorted_items(v, a, SIZE_MAX, 0, 1);
  if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
  // sorted_items is stable, so the first of equal maxima is found by scanning.
  if (!want_max) return items.front();
  const bool cs = arg(a, 0, "case_sensitive", Value(false)).truthy();
  const Value attribute = arg(a, 1, "attribute", Value::none());
  auto key = [&](const Value& it) { return sort_key(attribute.is_none() ? it : lookup_path(it, attribute, Value()), cs); };
  Value best = items.back();
  for (const Value& it : items)
    if (py_equal(key(it), key(best))) return it;
  return best;
}

}  // namespace

bool has_filter(const std::string& name) {
  for (const char* f : kFilters)
    if (name == f) return true;
  return false;
}

bool has_test(const std::string& name) {
  for (const char* t : kTests)
    if (name == t) return true;
  return false;
}

Value apply_filter(const std::string& name, const Value& v, const CallArgs& a) {
  if (name == "length" || name == "count") return Value(py_len(v));
  if (name == "default" || name == "d") {
    const bool boolean = arg(a, 1, "boolean", Value(false)).truthy();
    if (v.is_undefined() || (boolean && !v.truthy())) return arg(a, 0, "default_value", Value(""));
    return v;
  }
  if (name == "trim") {
    const Value chars = arg(a, 0, "chars", Value::none());
    const std::string c = chars.str();
    return Value(pystr::strip(v.str(), chars.is_none() || chars.is_undefined() ? nullptr : &c, true, true));
  }
  if (name == "upper") return Value(pystr::upper(v.str()));
  if (name == "lower") return Value(pystr::lower(v.str()));
  if (name == "capitalize") return Value(pystr::capitalize(v.str()));
  if (name == "title") return Value(jinja_title(v.str()));
  if (name == "string") return Value(v.str());
  if (name == "safe") return v;
  if (name == "escape" || name == "e" || name == "forceescape") return Value(html_escape(v.str()));
  if (name == "replace") {
    const Value count = arg(a, 2, "count", Value::none());
    return Value(pystr::replace(v.str(), arg(a, 0, "old", Value("")).str(), arg(a, 1, "new", Value("")).str(),
                                count.is_none() ? -1 : count.as_int()));
  }
  if (name == "tojson") return filter_tojson(v, a);
  if (name == "int") return filter_int(v, a);
  if (name == "float") return filter_float(v, a);
  if (name == "list") return Value::list(iterate(v));
  if (name == "items") {
    if (v.is_undefined()) return Value::list();
    if (!v.is_dict() || v.is_namespace()) fail("TypeError: can only get item pairs from a mapping.");
    ValueList out;
    for (const auto& kv : v.dict_ref().entries) out.push_back(Value::tuple({kv.first, kv.second}));
    return Value::list(std::move(out));
  }
  if (name == "first" || name == "last") {
    ValueList items = iterate(v);
    if (items.empty()) return Value::undefined(std::string("No ") + name + " item, sequence was empty.");
    return name == "first" ? items.front() : items.back();
  }
  if (name == "join") {
    const std::string sep = arg(a, 0, "d", Value("")).str();
    const Value attribute = arg(a, 1, "attribute", Value::none());
    std::string out;
    bool first = true;
    for (const Value& it : iterate(v)) {
      if (!first) append_bounded(out, sep);
      append_bounded(out, (attribute.is_none() ? it : lookup_path(it, attribute, Value())).str());
      first = false;
    }
    return Value(out);
  }
  if (name == "select" || name == "reject") return select_or_reject(v, a, name == "select", false);
  if (name == "selectattr" || name == "rejectattr") return select_or_reject(v, a, name == "selectattr", true);
  if (name == "map") return filter_map(v, a);
  if (name == "sort") return Value::list(sorted_items(v, a, 0, 1, 2));
  if (name == "unique") {
    const bool cs = arg(a, 0, "case_sensitive", Value(false)).truthy();
    const Value attribute = arg(a, 1, "attribute", Value::none());
    ValueList out, seen;
    for (const Value& it : iterate(v)) {
      const Value k = sort_key(attribute.is_none() ? it : lookup_path(it, attribute, Value()), cs);
      if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return py_equal(s, k); })) {
        seen.push_back(k);
        out.push_back(it);
      }
    }
    return Value::list(std::move(out));
  }
  if (name == "reverse") {
    if (v.is_string()) {
      std::vector<uint32_t> cps = pystr::decode(v.as_string());
      std::reverse(cps.begin(), cps.end());
      return Value(pystr::encode(cps));
    }
    ValueList items = iterate(v);
    std::reverse(items.begin(), items.end());
    return Value::list(std::move(items));
  }
  if (name == "dictsort") {
    if (!v.is_dict()) fail("TypeError: dictsort expects a mapping");
    const bool cs = arg(a, 0, "case_sensitive", Value(false)).truthy();
    const bool by_value = arg(a, 1, "by", Value("key")).str() == "value";
    const bool reverse = arg(a, 2, "reverse", Value(false)).truthy();
    auto entries = v.dict_ref().entries;
    std::stable_sort(entries.begin(), entries.end(), [&](const auto& x, const auto& y) {
      const Value kx = sort_key(by_value ? x.second : x.first, cs), ky = sort_key(by_value ? y.second : y.first, cs);
      return reverse ? py_less(ky, kx) : py_less(kx, ky);
    });
    ValueList out;
    for (auto& kv : entries) out.push_back(Value::tuple({kv.first, kv.second}));
    return Value::list(std::move(out));
  }
  if (name == "sum") {
    const Value attribute = arg(a, 0, "attribute", Value::none());
    Value total = arg(a, 1, "start", Value(0));
    for (const Value& it : iterate(v)) total = binary_op("+", total, attribute.is_none() ? it : lookup_path(it, attribute, Value()));
    return total;
  }
  if (name == "max" || name == "min") return filter_minmax(v, a, name == "max");
  if (name == "abs") {
    v.require_defined();
    if (v.is_float()) return Value(std::fabs(v.as_double()));
    if (v.is_number()) return v.as_int() < 0 ? negate(v) : Value(v.as_int());  // negate rejects INT64_MIN
    fail("TypeError: bad operand type for abs(): '", v.type_name(), "'");
  }
  if (name == "round") {
    const int64_t precision = arg(a, 0, "precision", Value(0)).as_int();
    const std::string method = arg(a, 1, "method", Value("common")).str();
    const double scale = std::pow(10.0, static_cast<double>(precision));
    const double x = v.as_double() * scale;
    double r = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::nearbyint(x);
    return Value(r / scale);
  }
  if (name == "indent") return filter_indent(v, a);
  if (name == "center") {
    CallArgs ca;
    ca.pos.push_back(arg(a, 0, "width", Value(80)));
    Value method;
    find_method(Value(v.str()), "center", method);
    return method.function_ref().fn(ca);
  }
  if (name == "wordcount") {
    int64_t n = 0;
    bool in_word = false;
    for (uint32_t c : pystr::decode(v.str())) {
      const bool w = c == '_' || (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') || (c >= 0x80 && !pystr::is_space(c));
      if (w && !in_word) ++n;
      in_word = w;
    }
    return Value(n);
  }
  if (name == "format") {
    if (!a.pos.empty() && !a.kw.empty()) fail("can't handle positional and keyword arguments at the same time");
    if (!a.kw.empty()) {
      Value d = Value::dict();
      for (const auto& kv : a.kw) d.mutable_dict().set(Value(kv.first), kv.second);
      return Value(percent_format(v.str(), d));
    }
    return Value(percent_format(v.str(), Value::tuple(a.pos)));
  }
  if (name == "attr") return get_attr(v, arg(a, 0, "name", Value("")).str());
  if (name == "batch") {
    const int64_t n = arg(a, 0, "linecount", Value(1)).as_int();
    const Value fill = arg(a, 1, "fill_with", Value::none());
    if (n <= 0) fail("batch: linecount must be positive");
    ValueList out, cur;
    for (const Value& it : iterate(v)) {
      cur.push_back(it);
      if (static_cast<int64_t>(cur.size()) == n) {
        out.push_back(Value::list(std::move(cur)));
        cur.clear();
      }
    }
    if (!cur.empty()) {
      if (!fill.is_none()) {
        check_list_items(static_cast<uint64_t>(n));
        while (static_cast<int64_t>(cur.size()) < n) cur.push_back(fill);
      }
      out.push_back(Value::list(std::move(cur)));
    }
    return Value::list(std::move(out));
  }
  fail("no filter named '", name, "'");
}

bool apply_test(const std::string& name, const Value& v, const CallArgs& a) {
  using K = Value::Kind;
  const K k = v.kind();
  if (name == "defined") return k != K::Undefined;
  if (name == "undefined") return k == K::Undefined;
  if (name == "none") return k == K::None;
  if (name == "boolean") return k == K::Bool;
  if (name == "true") return k == K::Bool && v.as_bool();
  if (name == "false") return k == K::Bool && !v.as_bool();
  if (name == "integer") return k == K::Int;
  if (name == "float") return k == K::Float;
  if (name == "number") return v.is_number();
  if (name == "string") return k == K::String;
  if (name == "mapping") return k == K::Dict && !v.is_namespace();
  // Undefined is iterable and a sequence in jinja2 (it has __iter__, __len__ and __getitem__).
  if (name == "iterable" || name == "sequence")
    return k == K::String || k == K::List || (k == K::Dict && !v.is_namespace()) || k == K::Undefined;
  if (name == "callable") return k == K::Function;
  if (name == "escaped") return false;
  if (name == "lower") return k == K::String && pystr::is_lower(v.as_string());
  if (name == "upper") return k == K::String && pystr::is_upper(v.as_string());
  if (name == "filter") return has_filter(v.str());
  if (name == "test") return has_test(v.str());
  if (name == "odd" || name == "even") {
    v.require_defined();
    if (!v.is_number()) fail("TypeError: unsupported operand type(s) for %: '", v.type_name(), "' and 'int'");
    const int64_t r = binary_op("%", v, Value(2)).as_int();
    return name == "odd" ? r == 1 : r == 0;
  }
  const Value* other = a.find(0, nullptr);
  if (!other) fail("TypeError: test '", name, "' takes an argument");
  if (name == "divisibleby") return binary_op("%", v, *other).as_double() == 0;
  if (name == "eq" || name == "equalto" || name == "==") return py_equal(v, *other);
  if (name == "ne" || name == "!=") return !py_equal(v, *other);
  if (name == "lt" || name == "lessthan" || name == "<") return py_less(v, *other);
  if (name == "le" || name == "<=") return !py_less(*other, v);
  if (name == "gt" || name == "greaterthan" || name == ">") return py_less(*other, v);
  if (name == "ge" || name == ">=") return !py_less(v, *other);
  if (name == "in") return contains(*other, v);
  if (name == "sameas") {
    if (v.kind() != other->kind()) return false;
    if (v.identity() || other->identity()) return v.identity() == other->identity();
    return py_equal(v, *other);
  }
  fail("no test named '", name, "'");
}

}  // namespace jetlm::jinja
