#include "text/jinja/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "text/jinja/budget.h"
#include "text/jinja/pystr.h"
#include "util/error.h"

namespace jetlm::jinja {

std::string json_quote(const std::string& s, bool ensure_ascii) {
  std::string out = "\"";
  char buf[16];
  for (uint32_t c : pystr::decode(s)) {
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (c < 0x20 || (ensure_ascii && c >= 0x7F)) {
      if (c >= 0x10000) {  // UTF-16 surrogate pair, as Python writes it
        const uint32_t v = c - 0x10000;
        std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF));
      } else {
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
      }
      out += buf;
    } else {
      pystr::append_utf8(out, c);
    }
  }
  return out + "\"";
}

static std::string json_float(double f) {
  if (std::isnan(f)) return "NaN";
  if (std::isinf(f)) return f < 0 ? "-Infinity" : "Infinity";
  return float_repr(f);
}

static std::string json_key(const Value& k) {
  switch (k.kind()) {
    case Value::Kind::String: return k.as_string();
    case Value::Kind::Bool: return k.as_bool() ? "true" : "false";
    case Value::Kind::Int: return std::to_string(k.as_int());
    case Value::Kind::Float: return json_float(k.as_double());
    case Value::Kind::None: return "null";
    default: fail("TypeError: keys must be str, int, float, bool or None, not ", k.type_name());
  }
}

static void dump(const Value& v, const JsonOptions& opt, int level, std::string& out) {
  const ValueDepthGuard depth;
  // One list may hold the same big list many times: check the size as it grows.
  check_string_bytes(out.size());
  auto newline = [&](int lvl) {
    if (!opt.pretty) return;
    out += '\n';
    check_string_repeat(opt.indent.size(), static_cast<uint64_t>(lvl));
    for (int k = 0; k < lvl; ++k) append_bounded(out, opt.indent);
  };
  switch (v.kind()) {
    case Value::Kind::None: out += "null"; return;
    case Value::Kind::Bool: out += v.as_bool() ? "true" : "false"; return;
    case Value::Kind::Int: out += std::to_string(v.as_int()); return;
    case Value::Kind::Float: out += json_float(v.as_double()); return;
    case Value::Kind::String: out += json_quote(v.as_string(), opt.ensure_ascii); return;
    case Value::Kind::List: {
      const ValueList& items = v.items();
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t k = 0; k < items.size(); ++k) {
        if (k) out += opt.item_sep;
        newline(level + 1);
        dump(items[k], opt, level + 1, out);
      }
      newline(level);
      out += ']';
      return;
    }
    case Value::Kind::Dict: {
      if (v.is_namespace()) break;
      std::vector<std::pair<std::string, const Value*>> entries;
      for (const auto& kv : v.dict_ref().entries) entries.emplace_back(json_key(kv.first), &kv.second);
      if (opt.sort_keys)
        std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      if (entries.empty()) {
        out += "{}";
        return;
      }
      out += '{';
      for (size_t k = 0; k < entries.size(); ++k) {
        if (k) out += opt.item_sep;
        newline(level + 1);
        out += json_quote(entries[k].first, opt.ensure_ascii);
        out += opt.key_sep;
        dump(*entries[k].second, opt, level + 1, out);
      }
      newline(level);
      out += '}';
      return;
    }
    default:
      break;
  }
  fail("TypeError: Object of type ", v.type_name(), " is not JSON serializable");
}

std::string to_json(const Value& v, const JsonOptions& opt) {
  std::string out;
  dump(v, opt, 0, out);
  return out;
}

// ---- printf-style -----------------------------------------------------------

static std::string pad(const std::string& s, int64_t width, bool left, char fill) {
  const int64_t len = static_cast<int64_t>(pystr::length(s));
  if (width <= len) return s;
  check_string_bytes(static_cast<uint64_t>(width) + s.size());
  const std::string padding(static_cast<size_t>(width - len), fill);
  if (left) return s + padding;
  if (fill == '0' && !s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) return s.substr(0, 1) + padding + s.substr(1);
  return padding + s;
}

static std::string format_number(char conv, const Value& arg, const std::string& flags, int64_t precision) {
  if (!arg.is_number()) fail("TypeError: %", conv, " format: a real number is required, not ", arg.type_name());
  std::string f = "%";
  for (char c : flags)
    if (c == '+' || c == ' ' || c == '#') f += c;
  char buf[512];
  if (conv == 'd' || conv == 'i' || conv == 'u' || conv == 'x' || conv == 'X' || conv == 'o') {
    const double d = arg.as_double();
    if (arg.is_float()) {
      if (std::isnan(d)) fail("ValueError: cannot convert float NaN to integer");
      if (std::isinf(d)) fail("OverflowError: cannot convert float infinity to integer");
      if (d >= 9223372036854775808.0 || d < -9223372036854775808.0)
        fail("OverflowError: %", conv, " of ", float_repr(d), " does not fit in 64 bits");
    }
    const long long n = static_cast<long long>(arg.as_int());  // as_int truncates a float like int()
    const char c = conv == 'i' || conv == 'u' ? 'd' : conv;
    if (c != 'd' && n < 0) {
      // Python writes the magnitude with a minus sign; 0 - n in unsigned arithmetic is exact even for INT64_MIN.
      std::snprintf(buf, sizeof buf, (f + "ll" + c).c_str(), 0ULL - static_cast<unsigned long long>(n));
      return std::string("-") + buf;
    }
    std::snprintf(buf, sizeof buf, (f + "ll" + c).c_str(), n);
    return buf;
  }
  if (precision >= 0) f += "." + std::to_string(std::min<int64_t>(precision, 100));
  f += conv;
  std::snprintf(buf, sizeof buf, f.c_str(), arg.as_double());
  return buf;
}

// The decimal digits at fmt[i...] (a %-format width or precision), advancing
// i. Bounded by the string budget: '%99999999999d' must fail, not overflow or allocate.
static int64_t read_count(const std::string& fmt, size_t& i, const char* what) {
  const int64_t cap = static_cast<int64_t>(current_limits().max_string_bytes);
  int64_t n = 0;
  while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') {
    n = n * 10 + (fmt[i++] - '0');
    if (n > cap) fail("ValueError: format ", what, " too big (over ", cap, ")");
  }
  return n;
}

std::string percent_format(const std::string& fmt, const Value& args) {
  std::vector<Value> list;
  const bool mapping = args.is_dict();
  if (args.is_tuple()) list = args.items();
  else list.push_back(args);
  size_t next_arg = 0;
  std::string out;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (++i >= fmt.size()) fail("ValueError: incomplete format");
    const Value* arg = nullptr;
    Value keyed;
    if (fmt[i] == '(') {
      const size_t close = fmt.find(')', i);
      if (close == std::string::npos) fail("ValueError: incomplete format key");
      if (!mapping) fail("TypeError: format requires a mapping");
      const Value* found = args.dict_ref().find(fmt.substr(i + 1, close - i - 1));
      if (!found) fail("KeyError: ", string_repr(fmt.substr(i + 1, close - i - 1)));
      keyed = *found;
      arg = &keyed;
      i = close + 1;
    }
    std::string flags;
    while (i < fmt.size() && std::string("-+ #0").find(fmt[i]) != std::string::npos) flags += fmt[i++];
    const int64_t width = read_count(fmt, i, "width");
    int64_t precision = -1;
    if (i < fmt.size() && fmt[i] == '.') {
      ++i;
      precision = read_count(fmt, i, "precision");
    }
    if (i >= fmt.size()) fail("ValueError: incomplete format");
    const char conv = fmt[i];
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (!arg) {
      if (next_arg >= list.size()) fail("TypeError: not enough arguments for format string");
      arg = &list[next_arg++];
    }
    std::string piece;
    if (conv == 's' || conv == 'r' || conv == 'a') {
      piece = conv == 's' ? arg->str() : arg->repr();
      if (precision >= 0) {
        std::vector<uint32_t> cps = pystr::decode(piece);
        if (cps.size() > static_cast<size_t>(precision)) cps.resize(static_cast<size_t>(precision));
        piece = pystr::encode(cps);
      }
    } else if (conv == 'c') {
      if (arg->is_string()) piece = arg->as_string();
      else if (!arg->is_number() || arg->is_float()) fail("TypeError: %c requires an int or a unicode character, not ", arg->type_name());
      else if (arg->as_int() < 0 || arg->as_int() > 0x10FFFF) fail("OverflowError: %c arg not in range(0x110000)");
      else pystr::append_utf8(piece, static_cast<uint32_t>(arg->as_int()));
    } else if (std::string("diouxXeEfFgG").find(conv) != std::string::npos) {
      piece = format_number(conv, *arg, flags, precision);
    } else {
      fail("ValueError: unsupported format character '", conv, "'");
    }
    const bool left = flags.find('-') != std::string::npos;
    const bool zero = flags.find('0') != std::string::npos && conv != 's' && conv != 'r' && conv != 'c';
    append_bounded(out, pad(piece, width, left, zero && !left ? '0' : ' '));
  }
  if (!mapping && next_arg < list.size()) fail("TypeError: not all arguments converted during string formatting");
  return out;
}

// Python's format(value, spec) for the common part of the mini-language:
// [[fill]align][sign][0][width][.precision][type], type one of s d x X o b f F e E g G %.
// A width is bounded by the string budget before anything is padded.
static std::string format_spec(const Value& v, const std::string& spec) {
  if (spec.empty()) return v.str();
  const std::vector<uint32_t> cps = pystr::decode(spec);
  size_t i = 0;
  auto is_align = [](uint32_t c) { return c == '<' || c == '>' || c == '^' || c == '='; };
  std::string fill = " ";
  uint32_t align = 0;
  if (cps.size() >= 2 && is_align(cps[1])) {
    fill.clear();
    pystr::append_utf8(fill, cps[0]);
    align = cps[1];
    i = 2;
  } else if (!cps.empty() && is_align(cps[0])) {
    align = cps[0];
    i = 1;
  }
  char sign = '-';
  if (i < cps.size() && (cps[i] == '+' || cps[i] == '-' || cps[i] == ' ')) sign = static_cast<char>(cps[i++]);
  const bool number = v.is_number();
  if (i < cps.size() && cps[i] == '0' && align == 0) {
    fill = "0";
    align = number ? '=' : '<';  // zero padding goes after a number's sign
    ++i;
  }
  std::string digits;
  for (; i < cps.size() && cps[i] < 0x80; ++i) digits += static_cast<char>(cps[i]);  // the ASCII rest
  if (i < cps.size()) fail("ValueError: Invalid format specifier '", spec, "'");
  size_t k = 0;
  const int64_t width = read_count(digits, k, "width");
  int64_t precision = -1;
  if (k < digits.size() && digits[k] == '.') {
    ++k;
    if (k >= digits.size() || digits[k] < '0' || digits[k] > '9') fail("ValueError: Format specifier missing precision");
    precision = read_count(digits, k, "precision");
  }
  char type = 0;
  if (k < digits.size()) type = digits[k++];
  if (k < digits.size()) fail("ValueError: Invalid format specifier '", spec, "'");

  std::string body, prefix;  // prefix: the sign of a number, kept left of '=' padding
  if (type == 0 && number && !v.is_float()) {
    if (precision >= 0) fail("ValueError: Precision not allowed in integer format specifier");
    type = 'd';  // an int (or a bool, given a spec) formats as 'd'
  }
  if (type == 0 && v.is_float()) {
    const double d = v.as_double();
    body = precision >= 0 ? format_number('g', Value(std::fabs(d)), "", precision) : float_repr(std::fabs(d));
    prefix = std::signbit(d) ? "-" : sign == '+' ? "+" : sign == ' ' ? " " : "";
  } else if (type == 0 || type == 's') {
    if (type == 's' && number) fail("ValueError: Unknown format code 's' for object of type '", v.type_name(), "'");
    body = v.str();
    if (precision >= 0) {
      std::vector<uint32_t> b = pystr::decode(body);
      if (b.size() > static_cast<size_t>(precision)) b.resize(static_cast<size_t>(precision));
      body = pystr::encode(b);
    }
  } else if (std::string("dxXob").find(type) != std::string::npos) {
    if (!number || v.is_float()) fail("ValueError: Unknown format code '", type, "' for object of type '", v.type_name(), "'");
    const int64_t n = v.as_int();
    uint64_t mag = n < 0 ? 0 - static_cast<uint64_t>(n) : static_cast<uint64_t>(n);
    const unsigned base = type == 'd' ? 10 : type == 'o' ? 8 : type == 'b' ? 2 : 16;
    const char* digs = type == 'X' ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
      body.insert(body.begin(), digs[mag % base]);
      mag /= base;
    } while (mag);
    prefix = n < 0 ? "-" : sign == '+' ? "+" : sign == ' ' ? " " : "";
  } else if (std::string("fFeEgG%").find(type) != std::string::npos) {
    if (!number) fail("ValueError: Unknown format code '", type, "' for object of type '", v.type_name(), "'");
    const double d = type == '%' ? v.as_double() * 100 : v.as_double();
    body = format_number(type == '%' ? 'f' : type, Value(std::fabs(d)), "", precision < 0 ? 6 : precision);
    if (type == '%') body += '%';
    prefix = std::signbit(d) ? "-" : sign == '+' ? "+" : sign == ' ' ? " " : "";
  } else {
    fail("ValueError: Unknown format code '", type, "' for object of type '", v.type_name(), "'");
  }
  if (align == 0) align = number ? '>' : '<';
  const int64_t len = static_cast<int64_t>(pystr::length(prefix) + pystr::length(body));
  if (width <= len) return prefix + body;
  const uint64_t total = static_cast<uint64_t>(width - len);
  check_string_repeat(fill.size(), total);
  auto rep = [&](uint64_t n) {
    std::string o;
    for (uint64_t j = 0; j < n; ++j) o += fill;
    return o;
  };
  if (align == '<') return prefix + body + rep(total);
  if (align == '>') return rep(total) + prefix + body;
  if (align == '=') return prefix + rep(total) + body;
  return rep(total / 2) + prefix + body + rep(total - total / 2);  // '^': the odd fill goes right
}

std::string str_format(const std::string& fmt, const CallArgs& args) {
  std::string out;
  size_t auto_index = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    const char c = fmt[i];
    if (c == '}') {
      if (i + 1 < fmt.size() && fmt[i + 1] == '}') ++i;
      else fail("ValueError: Single '}' encountered in format string");
      out += '}';
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '{') {
      out += '{';
      ++i;
      continue;
    }
    const size_t close = fmt.find('}', i);
    if (close == std::string::npos) fail("ValueError: Single '{' encountered in format string");
    std::string field = fmt.substr(i + 1, close - i - 1);
    i = close;
    char conversion = 's';
    std::string spec;
    const size_t colon = field.find(':');
    if (colon != std::string::npos) {
      spec = field.substr(colon + 1);
      field = field.substr(0, colon);
    }
    const size_t bang = field.find('!');
    if (bang != std::string::npos && bang < field.size()) {
      conversion = field[bang + 1];
      field = field.substr(0, bang);
    }
    const Value* v = nullptr;
    if (field.empty()) {
      v = args.find(auto_index++, nullptr);
      if (!v) fail("IndexError: Replacement index ", auto_index - 1, " out of range for positional args tuple");
    } else if (field.find_first_not_of("0123456789") == std::string::npos) {
      // More digits than any argument count: clamp before converting (stoul would throw out_of_range).
      v = field.size() > 9 ? nullptr : args.find(static_cast<size_t>(std::stoul(field)), nullptr);
      if (!v) fail("IndexError: Replacement index ", field, " out of range for positional args tuple");
    } else {
      v = args.find(SIZE_MAX, field.c_str());
      if (!v) fail("KeyError: ", string_repr(field));
    }
    const Value shown = conversion == 'r' ? Value(v->repr()) : *v;
    append_bounded(out, format_spec(shown, spec));
  }
  return out;
}

}  // namespace jetlm::jinja
