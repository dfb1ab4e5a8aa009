#include "text/jinja/format.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

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
  auto newline = [&](int lvl) {
    if (!opt.pretty) return;
    out += '\n';
    for (int k = 0; k < lvl; ++k) out += opt.indent;
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

static std::string pad(const std::string& s, int width, bool left, char fill) {
  const int len = static_cast<int>(pystr::length(s));
  if (width <= len) return s;
  const std::string padding(static_cast<size_t>(width - len), fill);
  if (left) return s + padding;
  if (fill == '0' && !s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) return s.substr(0, 1) + padding + s.substr(1);
  return padding + s;
}

static std::string format_number(char conv, const Value& arg, const std::string& flags, int precision) {
  if (!arg.is_number()) fail("TypeError: %", conv, " format: a real number is required, not ", arg.type_name());
  std::string f = "%";
  for (char c : flags)
    if (c == '+' || c == ' ' || c == '#') f += c;
  char buf[512];
  if (conv == 'd' || conv == 'i' || conv == 'u' || conv == 'x' || conv == 'X' || conv == 'o') {
    const double d = arg.as_double();
    const long long n = arg.is_float() ? static_cast<long long>(std::trunc(d)) : static_cast<long long>(arg.as_int());
    const char c = conv == 'i' || conv == 'u' ? 'd' : conv;
    if (c != 'd' && n < 0) {
      std::snprintf(buf, sizeof buf, (f + "ll" + c).c_str(), -n);
      return std::string("-") + buf;
    }
    std::snprintf(buf, sizeof buf, (f + "ll" + c).c_str(), n);
    return buf;
  }
  if (precision >= 0) f += "." + std::to_string(std::min(precision, 100));
  f += conv;
  std::snprintf(buf, sizeof buf, f.c_str(), arg.as_double());
  return buf;
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
    int width = 0, precision = -1;
    while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') width = width * 10 + (fmt[i++] - '0');
    if (i < fmt.size() && fmt[i] == '.') {
      precision = 0;
      ++i;
      while (i < fmt.size() && fmt[i] >= '0' && fmt[i] <= '9') precision = precision * 10 + (fmt[i++] - '0');
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
      else pystr::append_utf8(piece, static_cast<uint32_t>(arg->as_int()));
    } else if (std::string("diouxXeEfFgG").find(conv) != std::string::npos) {
      piece = format_number(conv, *arg, flags, precision);
    } else {
      fail("ValueError: unsupported format character '", conv, "'");
    }
    const bool left = flags.find('-') != std::string::npos;
    const bool zero = flags.find('0') != std::string::npos && conv != 's' && conv != 'r' && conv != 'c';
    out += pad(piece, width, left, zero && !left ? '0' : ' ');
  }
  if (!mapping && next_arg < list.size()) fail("TypeError: not all arguments converted during string formatting");
  return out;
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
    const size_t bang = field.find('!');
    const size_t colon = field.find(':');
    if (colon != std::string::npos) field = field.substr(0, colon);  // format specs are not supported; plain str()
    if (bang != std::string::npos && bang < field.size()) {
      conversion = field[bang + 1];
      field = field.substr(0, bang);
    }
    const Value* v = nullptr;
    if (field.empty()) {
      v = args.find(auto_index++, nullptr);
      if (!v) fail("IndexError: Replacement index ", auto_index - 1, " out of range for positional args tuple");
    } else if (field.find_first_not_of("0123456789") == std::string::npos) {
      v = args.find(static_cast<size_t>(std::stoul(field)), nullptr);
      if (!v) fail("IndexError: Replacement index ", field, " out of range for positional args tuple");
    } else {
      v = args.find(SIZE_MAX, field.c_str());
      if (!v) fail("KeyError: ", string_repr(field));
    }
    out += conversion == 'r' ? v->repr() : v->str();
  }
  return out;
}

}  // namespace jetlm::jinja
