// Python methods of str, dict and list that chat templates call
// (message.content.strip(), tool.get('x'), d.items() ...).
#include <algorithm>

#include "text/jinja/budget.h"
#include "text/jinja/format.h"
#include "text/jinja/operators.h"
#include "text/jinja/pystr.h"
#include "util/error.h"

namespace jetlm::jinja {
namespace {

const std::string* opt_string(const CallArgs& a, size_t i, const char* name) {
  const Value* v = a.find(i, name);
  if (!v || v->is_none()) return nullptr;
  if (!v->is_string()) fail("TypeError: ", name, " must be str or None, not ", v->type_name());
  return &v->as_string();
}

int64_t opt_int(const CallArgs& a, size_t i, const char* name, int64_t fallback) {
  const Value* v = a.find(i, name);
  if (!v || v->is_none()) return fallback;
  if (!v->is_number() || v->is_float()) fail("TypeError: ", name, " must be an integer, not ", v->type_name());
  return v->as_int();
}

const std::string& req_string(const CallArgs& a, size_t i, const char* name) {
  const Value* v = a.find(i, name);
  if (!v) fail("TypeError: missing required argument '", name, "'");
  if (!v->is_string()) fail("TypeError: must be str, not ", v->type_name());
  return v->as_string();
}

Value string_list(const std::vector<std::string>& parts) {
  ValueList out;
  for (const auto& p : parts) out.emplace_back(p);
  return Value::list(std::move(out));
}

// Code-point window [start, end) of s for find/count/startswith's optional bounds, as a byte range.
std::pair<size_t, size_t> byte_window(const std::string& s, const CallArgs& a, size_t first) {
  const std::vector<uint32_t> cps = pystr::decode(s);
  const int64_t n = static_cast<int64_t>(cps.size());
  auto norm = [n](int64_t i) { return i < 0 ? std::max<int64_t>(0, i + n) : std::min(i, n); };
  const int64_t b = norm(opt_int(a, first, "start", 0));
  const int64_t e = norm(opt_int(a, first + 1, "end", n));
  size_t bb = 0, eb = 0;
  std::string prefix;
  for (int64_t k = 0; k < n; ++k) {
    if (k == b) bb = prefix.size();
    if (k == e) eb = prefix.size();
    pystr::append_utf8(prefix, cps[static_cast<size_t>(k)]);
  }
  if (b >= n) bb = prefix.size();
  if (e >= n) eb = prefix.size();
  return {bb, std::max(bb, eb)};
}

bool is_all(const std::string& s, bool (*pred)(uint32_t)) {
  const std::vector<uint32_t> cps = pystr::decode(s);
  if (cps.empty()) return false;
  for (uint32_t c : cps)
    if (!pred(c)) return false;
  return true;
}

bool cp_digit(uint32_t c) { return c >= '0' && c <= '9'; }
bool cp_alpha(uint32_t c) { return (c | 32) >= 'a' && (c | 32) <= 'z' ? true : (c >= 0x80 && (pystr::is_cased_upper(c) || pystr::is_cased_lower(c) || c >= 0x3040)); }
bool cp_alnum(uint32_t c) { return cp_digit(c) || cp_alpha(c); }
bool cp_space(uint32_t c) { return pystr::is_space(c); }

Value string_method(const std::string& s, const std::string& name, const CallArgs& a) {
  if (name == "strip" || name == "lstrip" || name == "rstrip")
    return Value(pystr::strip(s, opt_string(a, 0, "chars"), name != "rstrip", name != "lstrip"));
  if (name == "lower" || name == "casefold") return Value(pystr::lower(s));
  if (name == "upper") return Value(pystr::upper(s));
  if (name == "title") return Value(pystr::title(s));
  if (name == "capitalize") return Value(pystr::capitalize(s));
  if (name == "swapcase") return Value(pystr::swapcase(s));
  if (name == "startswith" || name == "endswith") {
    const Value* p = a.find(0, "prefix");
    if (!p) fail("TypeError: ", name, "() takes at least 1 argument (0 given)");
    const auto win = byte_window(s, a, 1);
    const std::string part = s.substr(win.first, win.second - win.first);
    ValueList options = p->is_tuple() ? p->items() : ValueList{*p};
    for (const Value& o : options) {
      if (!o.is_string()) fail("TypeError: ", name, " first arg must be str or a tuple of str, not ", o.type_name());
      const std::string& x = o.as_string();
      if (x.size() > part.size()) continue;
      if (name == "startswith" ? part.compare(0, x.size(), x) == 0 : part.compare(part.size() - x.size(), x.size(), x) == 0)
        return Value(true);
    }
    return Value(false);
  }
  if (name == "split") return string_list(pystr::split(s, opt_string(a, 0, "sep"), opt_int(a, 1, "maxsplit", -1)));
  if (name == "rsplit") return string_list(pystr::rsplit(s, opt_string(a, 0, "sep"), opt_int(a, 1, "maxsplit", -1)));
  if (name == "splitlines") return string_list(pystr::splitlines(s, a.get(0, "keepends", Value(false)).truthy()));
  if (name == "replace")
    return Value(pystr::replace(s, req_string(a, 0, "old"), req_string(a, 1, "new"), opt_int(a, 2, "count", -1)));
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    const std::string& sub = req_string(a, 0, "sub");
    const auto win = byte_window(s, a, 1);
    const std::string part = s.substr(win.first, win.second - win.first);
    if (name == "count") {
      if (sub.empty()) return Value(static_cast<int64_t>(pystr::length(part) + 1));
      int64_t n = 0;
      for (size_t at = part.find(sub); at != std::string::npos; at = part.find(sub, at + sub.size())) ++n;
      return Value(n);
    }
    const size_t at = name[0] == 'r' ? part.rfind(sub) : part.find(sub);
    if (at == std::string::npos) {
      if (name == "index" || name == "rindex") fail("ValueError: substring not found");
      return Value(-1);
    }
    return Value(static_cast<int64_t>(pystr::length(s.substr(0, win.first + at))));
  }
  if (name == "join") {
    std::string out;
    bool first = true;
    for (const Value& v : iterate(a.get(0, "iterable", Value::list()))) {
      if (!v.is_string()) fail("TypeError: sequence item: expected str instance, ", v.type_name(), " found");
      if (!first) append_bounded(out, s);
      append_bounded(out, v.as_string());
      first = false;
    }
    return Value(out);
  }
  if (name == "format") return Value(str_format(s, a));
  if (name == "partition" || name == "rpartition") {
    const std::string& sep = req_string(a, 0, "sep");
    const size_t at = name[0] == 'r' ? s.rfind(sep) : s.find(sep);
    if (at == std::string::npos)
      return name[0] == 'r' ? Value::tuple({Value(""), Value(""), Value(s)}) : Value::tuple({Value(s), Value(""), Value("")});
    return Value::tuple({Value(s.substr(0, at)), Value(sep), Value(s.substr(at + sep.size()))});
  }
  if (name == "removeprefix" || name == "removesuffix") {
    const std::string& x = req_string(a, 0, name == "removeprefix" ? "prefix" : "suffix");
    if (name == "removeprefix" && s.compare(0, x.size(), x) == 0) return Value(s.substr(x.size()));
    if (name == "removesuffix" && !x.empty() && s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0)
      return Value(s.substr(0, s.size() - x.size()));
    return Value(s);
  }
  if (name == "center" || name == "ljust" || name == "rjust" || name == "zfill") {
    const int64_t width = opt_int(a, 0, "width", 0);
    const int64_t len = static_cast<int64_t>(pystr::length(s));
    if (width <= len) return Value(s);
    const size_t total = static_cast<size_t>(width - len);
    std::string fill = name == "zfill" ? "0" : " ";
    if (name != "zfill")
      if (const std::string* f = opt_string(a, 1, "fillchar")) fill = *f;
    if (pystr::length(fill) != 1) fail("TypeError: The fill character must be exactly one character long");
    check_string_repeat(fill.size(), total);  // before padding: center(10**12) must not allocate
    auto rep = [&](size_t k) {
      std::string o;
      for (size_t i = 0; i < k; ++i) o += fill;
      return o;
    };
    if (name == "ljust") return Value(s + rep(total));
    if (name == "rjust") return Value(rep(total) + s);
    if (name == "zfill") {
      if (!s.empty() && (s[0] == '-' || s[0] == '+')) return Value(s.substr(0, 1) + rep(total) + s.substr(1));
      return Value(rep(total) + s);
    }
    // Python's center puts the extra fill on the left when the width is odd and the length even.
    const size_t left = total / 2 + (total & static_cast<size_t>(width) & 1);
    return Value(rep(left) + s + rep(total - left));
  }
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric") return Value(is_all(s, cp_digit));
  if (name == "isalpha") return Value(is_all(s, cp_alpha));
  if (name == "isalnum") return Value(is_all(s, cp_alnum));
  if (name == "isspace") return Value(is_all(s, cp_space));
  if (name == "islower") return Value(pystr::is_lower(s));
  if (name == "isupper") return Value(pystr::is_upper(s));
  fail("AttributeError: 'str' object has no attribute '", name, "'");
}

const char* const kStringMethods[] = {
    "strip", "lstrip", "rstrip", "lower", "casefold", "upper", "title", "capitalize", "swapcase", "startswith",
    "endswith", "split", "rsplit", "splitlines", "replace", "find", "rfind", "index", "rindex", "count", "join",
    "format", "partition", "rpartition", "removeprefix", "removesuffix", "center", "ljust", "rjust", "zfill",
    "isdigit", "isdecimal", "isnumeric", "isalpha", "isalnum", "isspace", "islower", "isupper"};

Value dict_method(const Value& d, const std::string& name, const CallArgs& a) {
  const Dict& dict = d.dict_ref();
  if (name == "get") {
    const Value* key = a.find(0, "key");
    if (!key) fail("TypeError: get expected at least 1 argument, got 0");
    const Value* v = dict.find(*key);
    return v ? *v : a.get(1, "default", Value::none());
  }
  ValueList out;
  if (name == "items") {
    for (const auto& kv : dict.entries) out.push_back(Value::tuple({kv.first, kv.second}));
  } else if (name == "keys") {
    for (const auto& kv : dict.entries) out.push_back(kv.first);
  } else if (name == "values") {
    for (const auto& kv : dict.entries) out.push_back(kv.second);
  } else if (name == "copy") {
    Value c = Value::dict();
    c.mutable_dict().entries = dict.entries;
    return c;
  } else {
    fail("AttributeError: 'dict' object has no attribute '", name, "'");
  }
  return Value::list(std::move(out));
}

Value list_method(const Value& l, const std::string& name, const CallArgs& a) {
  const Value* x = a.find(0, "value");
  if (name == "copy") return Value::list(l.items());
  if (!x) fail("TypeError: ", name, "() takes exactly one argument (0 given)");
  int64_t n = 0;
  for (size_t k = 0; k < l.items().size(); ++k) {
    if (!py_equal(l.items()[k], *x)) continue;
    if (name == "index") return Value(static_cast<int64_t>(k));
    ++n;
  }
  if (name == "index") fail("ValueError: ", x->repr(), " is not in list");
  return Value(n);
}

bool in_list(const std::string& name, std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (name == n) return true;
  return false;
}

Value unsafe(const Value& obj, const std::string& name) {
  return Value::undefined("access to attribute " + string_repr(name) + " of " + string_repr(obj.type_name()) + " object is unsafe.");
}

}  // namespace

bool find_method(const Value& obj, const std::string& name, Value& out) {
  if (obj.is_string()) {
    for (const char* m : kStringMethods)
      if (name == m) {
        const std::string s = obj.as_string();
        out = Value::function("str." + name, [s, name](const CallArgs& a) { return string_method(s, name, a); });
        return true;
      }
    return false;
  }
  if (obj.is_dict() && !obj.is_namespace()) {
    if (in_list(name, {"get", "items", "keys", "values", "copy"})) {
      out = Value::function("dict." + name, [obj, name](const CallArgs& a) { return dict_method(obj, name, a); });
      return true;
    }
    if (in_list(name, {"pop", "popitem", "setdefault", "update", "clear"})) {
      out = unsafe(obj, name);
      return true;
    }
    return false;
  }
  if (obj.is_list()) {
    if (in_list(name, {"index", "count"}) || (name == "copy" && !obj.is_tuple())) {
      out = Value::function("list." + name, [obj, name](const CallArgs& a) { return list_method(obj, name, a); });
      return true;
    }
    if (!obj.is_tuple() && in_list(name, {"append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear"})) {
      out = unsafe(obj, name);
      return true;
    }
  }
  return false;
}

}  // namespace jetlm::jinja
