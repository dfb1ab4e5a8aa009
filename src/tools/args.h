// Command-line options for the jetlm subcommands. Hand-written rather than
// CLI11 because llama.cpp's flags are single-dash long names (-ngl, -pg, -fa)
// that CLI11 cannot express; users of llama.cpp expect them unchanged.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace jetlm {

class Args {
 public:
  // usage: one line shown in errors and --help, e.g. "jetlm eval -m MODEL --tokens IDS --logits OUT".
  Args(std::string command, std::string usage);

  // Declare options before parse(). names: "-m,--model". A flag takes no value.
  void flag(const std::string& names, const std::string& help);
  void option(const std::string& names, const std::string& metavar, const std::string& help,
              const std::string& default_value = "");
  // Positional arguments are collected in order (see positional()).
  void allow_positional(const std::string& metavar, size_t min_count, size_t max_count);

  // Parses argv (without the program and command names). Throws UsageError on an
  // unknown flag, a missing value or a wrong positional count. Returns false when
  // --help was given (the help text has been printed to stdout).
  bool parse(int argc, char** argv);

  bool has(const std::string& name) const;  // flag given, or option given explicitly
  std::string get(const std::string& name) const;  // value or default
  // Typed values; a malformed number is a UsageError naming the option.
  int64_t get_int(const std::string& name) const;
  double get_double(const std::string& name) const;
  // ... within [lo, hi] (lo excluded when lo_open); NaN, infinities and
  // anything outside are a UsageError that gives the allowed range.
  int64_t get_int(const std::string& name, int64_t lo, int64_t hi) const;
  double get_double(const std::string& name, double lo, double hi, bool lo_open = false) const;
  // Comma-separated lists (llama-bench style): "1,2,3".
  std::vector<std::string> get_list(const std::string& name) const;
  std::vector<int64_t> get_int_list(const std::string& name) const;
  // Every value of an option given several times (--stop A --stop B), in order.
  std::vector<std::string> get_all(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

  std::string help_text() const;

 private:
  struct Opt {
    std::vector<std::string> names;
    std::string metavar, help, value;
    std::vector<std::string> all;  // every value given, in order
    bool is_flag = false, given = false;
  };
  Opt* find(const std::string& name);
  const Opt* find(const std::string& name) const;

  std::string command_, usage_;
  std::vector<Opt> opts_;
  std::vector<std::string> positional_;
  std::string pos_metavar_;
  size_t pos_min_ = 0, pos_max_ = 0;
};

// Parse helpers shared by commands (UsageError naming `what` on failure).
// Numbers are parsed strictly: the whole text, in range, finite.
int64_t parse_int(const std::string& s, const std::string& what);
double parse_double(const std::string& s, const std::string& what);
int64_t parse_int_in(const std::string& s, const std::string& what, int64_t lo, int64_t hi);
double parse_double_in(const std::string& s, const std::string& what, double lo, double hi, bool lo_open = false);

}  // namespace jetlm
