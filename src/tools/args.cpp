#include "tools/args.h"

#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "util/error.h"

namespace jetlm {

static std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

int64_t parse_int(const std::string& s, const std::string& what) {
  if (s.empty()) throw UsageError(str_cat(what, ": expected an integer, got an empty value"));
  errno = 0;
  char* end = nullptr;
  // strtoll skips leading white space; a flag value must be the number alone.
  const long long v = std::isspace(static_cast<unsigned char>(s[0])) ? 0 : std::strtoll(s.c_str(), &end, 10);
  if (end == nullptr || end == s.c_str() || *end != '\0')
    throw UsageError(str_cat(what, ": expected an integer, got '", s, "'"));
  if (errno == ERANGE) throw UsageError(str_cat(what, ": '", s, "' is out of range (allowed: [", INT64_MIN, ", ", INT64_MAX, "])"));
  return v;
}

double parse_double(const std::string& s, const std::string& what) {
  if (s.empty()) throw UsageError(str_cat(what, ": expected a number, got an empty value"));
  errno = 0;
  char* end = nullptr;
  const double v = std::isspace(static_cast<unsigned char>(s[0])) ? 0 : std::strtod(s.c_str(), &end);
  if (end == nullptr || end == s.c_str() || *end != '\0')
    throw UsageError(str_cat(what, ": expected a number, got '", s, "'"));
  // strtod reads "nan" and "inf", and sets ERANGE on overflow and on underflow
  // (1e-400 is a fine way to write 0, but inf is no setting of anything).
  if (!std::isfinite(v)) throw UsageError(str_cat(what, ": expected a finite number, got '", s, "'"));
  return v;
}

int64_t parse_int_in(const std::string& s, const std::string& what, int64_t lo, int64_t hi) {
  const auto range = [&] { return UsageError(str_cat(what, ": expected an integer in [", lo, ", ", hi, "], got '", s, "'")); };
  int64_t v;
  try {
    v = parse_int(s, what);
  } catch (const UsageError&) {
    throw range();
  }
  if (v < lo || v > hi) throw range();
  return v;
}

double parse_double_in(const std::string& s, const std::string& what, double lo, double hi, bool lo_open) {
  const auto range = [&] {
    return UsageError(str_cat(what, ": expected a number in ", lo_open ? "(" : "[", lo, ", ", hi, "], got '", s, "'"));
  };
  double v;
  try {
    v = parse_double(s, what);
  } catch (const UsageError&) {
    throw range();
  }
  if (v < lo || v > hi || (lo_open && v == lo)) throw range();
  return v;
}

Args::Args(std::string command, std::string usage) : command_(std::move(command)), usage_(std::move(usage)) {
  flag("-h,--help", "show this help");
}

void Args::flag(const std::string& names, const std::string& help) {
  Opt o;
  o.names = split(names, ',');
  o.help = help;
  o.is_flag = true;
  opts_.push_back(o);
}

void Args::option(const std::string& names, const std::string& metavar, const std::string& help,
                  const std::string& default_value) {
  Opt o;
  o.names = split(names, ',');
  o.metavar = metavar;
  o.help = help;
  o.value = default_value;
  opts_.push_back(o);
}

void Args::allow_positional(const std::string& metavar, size_t min_count, size_t max_count) {
  pos_metavar_ = metavar;
  pos_min_ = min_count;
  pos_max_ = max_count;
}

Args::Opt* Args::find(const std::string& name) {
  for (auto& o : opts_)
    for (const auto& n : o.names)
      if (n == name) return &o;
  return nullptr;
}

const Args::Opt* Args::find(const std::string& name) const { return const_cast<Args*>(this)->find(name); }

bool Args::parse(int argc, char** argv) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && (std::isdigit(static_cast<unsigned char>(a[1])) || a[1] == '.'))) {
      std::string value;
      bool inline_value = false;
      const size_t eq = a.find('=');
      if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
        value = a.substr(eq + 1);
        a = a.substr(0, eq);
        inline_value = true;
      }
      Opt* o = find(a);
      if (!o) throw UsageError(str_cat("jetlm ", command_, ": unknown option '", a, "' (see jetlm ", command_, " --help)"));
      o->given = true;
      if (o->is_flag) {
        if (inline_value) throw UsageError(str_cat("jetlm ", command_, ": option ", a, " takes no value"));
        if (a == "-h" || a == "--help") {
          std::fputs(help_text().c_str(), stdout);
          return false;
        }
        continue;
      }
      if (!inline_value) {
        if (i + 1 >= argc) throw UsageError(str_cat("jetlm ", command_, ": option ", a, " needs a value (", o->metavar, ")"));
        value = argv[++i];
      }
      o->value = value;
      o->all.push_back(value);
    } else {
      positional_.push_back(a);
    }
  }
  if (positional_.size() < pos_min_ || positional_.size() > pos_max_) {
    if (pos_max_ == 0)
      throw UsageError(str_cat("jetlm ", command_, ": unexpected argument '", positional_[0], "' (usage: ", usage_, ")"));
    throw UsageError(str_cat("jetlm ", command_, ": expected ", pos_min_ == pos_max_ ? std::to_string(pos_min_) : str_cat(pos_min_, "-", pos_max_),
                             " ", pos_metavar_, " argument(s), got ", positional_.size(), " (usage: ", usage_, ")"));
  }
  return true;
}

bool Args::has(const std::string& name) const {
  const Opt* o = find(name);
  if (!o) throw Error(str_cat("internal: option ", name, " not declared for ", command_));
  return o->given;
}

std::string Args::get(const std::string& name) const {
  const Opt* o = find(name);
  if (!o) throw Error(str_cat("internal: option ", name, " not declared for ", command_));
  return o->value;
}

int64_t Args::get_int(const std::string& name) const { return parse_int(get(name), name); }
double Args::get_double(const std::string& name) const { return parse_double(get(name), name); }
int64_t Args::get_int(const std::string& name, int64_t lo, int64_t hi) const { return parse_int_in(get(name), name, lo, hi); }
double Args::get_double(const std::string& name, double lo, double hi, bool lo_open) const {
  return parse_double_in(get(name), name, lo, hi, lo_open);
}

std::vector<std::string> Args::get_list(const std::string& name) const {
  const std::string v = get(name);
  if (v.empty()) return {};
  return split(v, ',');
}

std::vector<std::string> Args::get_all(const std::string& name) const {
  const Opt* o = find(name);
  if (!o) throw Error(str_cat("internal: option ", name, " not declared for ", command_));
  return o->all;
}

std::vector<int64_t> Args::get_int_list(const std::string& name) const {
  std::vector<int64_t> out;
  for (const auto& s : get_list(name)) out.push_back(parse_int(s, name));
  return out;
}

std::string Args::help_text() const {
  std::ostringstream os;
  os << "usage: " << usage_ << "\n\noptions:\n";
  for (const auto& o : opts_) {
    std::string n;
    for (size_t k = 0; k < o.names.size(); ++k) n += (k ? ", " : "") + o.names[k];
    if (!o.is_flag) n += " " + o.metavar;
    os << "  " << n;
    if (n.size() < 28) os << std::string(28 - n.size(), ' ');
    else os << "\n" << std::string(30, ' ');
    os << o.help;
    if (!o.is_flag && !o.value.empty()) os << " (default: " << o.value << ")";
    os << "\n";
  }
  return os.str();
}

}  // namespace jetlm
