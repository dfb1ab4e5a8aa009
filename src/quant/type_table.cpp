#include "quant/type_table.h"

#include <fstream>
#include <sstream>

#include "util/error.h"

namespace jetlm {
namespace {

int64_t to_int(const std::string& s, const std::string& where) {
  try {
    size_t used = 0;
    const long long v = std::stoll(s, &used);
    if (used != s.size() || v < 0) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    fail(where, ": expected a non-negative integer, got '", s, "'");
  }
}

TensorType to_type(const std::string& s, const std::string& where) {
  TensorType t;
  if (!parse_type_name(s, &t)) fail(where, ": unknown tensor type '", s, "'");
  return t;
}

}  // namespace

TypeTable read_type_table(const std::string& path) {
  std::ifstream in(path);
  if (!in) fail(path, ": cannot open");
  TypeTable table;
  bool have_model = false, have_ftype = false;
  std::string line;
  for (int lineno = 1; std::getline(in, line); ++lineno) {
    const std::string where = path + ":" + std::to_string(lineno);
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ss(line);
    std::string first;
    ss >> first;
    if (first == "model") {
      std::string kv;
      while (ss >> kv) {
        const size_t eq = kv.find('=');
        if (eq == std::string::npos) fail(where, ": expected key=value, got '", kv, "'");
        const std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
        if (k == "arch") table.model.arch = v;
        else if (k == "n_layer") table.model.n_layer = static_cast<int>(to_int(v, where));
        else if (k == "n_head") table.model.n_head = static_cast<int>(to_int(v, where));
        else if (k == "n_head_kv") table.model.n_head_kv = static_cast<int>(to_int(v, where));
        else if (k == "n_expert") table.model.n_expert = static_cast<int>(to_int(v, where));
        else fail(where, ": unknown model key '", k, "'");
      }
      have_model = true;
    } else if (first == "ftype") {
      std::string name;
      ss >> name;
      if (!parse_file_type(name, &table.ftype)) fail(where, ": unknown file type '", name, "'");
      have_ftype = true;
    } else {
      RecipeTensor t;
      t.name = first;
      std::string shape, from, to;
      if (!(ss >> shape >> from >> to)) fail(where, ": expected: name shape input-type chosen-type");
      int d = 0;
      std::istringstream dims(shape);
      for (std::string n; std::getline(dims, n, 'x');) {
        if (d == 4) fail(where, ": more than 4 dimensions");
        t.ne[d++] = to_int(n, where);
      }
      t.type = to_type(from, where);
      table.tensors.push_back(t);
      table.expected.push_back(to_type(to, where));
    }
  }
  if (!have_model || !have_ftype) fail(path, ": missing the model or ftype line");
  return table;
}

}  // namespace jetlm
