#include "server/request_json.h"

#include <cmath>
#include <limits>

#include "util/json_bounded.h"

namespace jetlm {

using nlohmann::json;

// Nesting bounded before parsing (util/json_bounded.h): a hostile body cannot
// drive the recursive parser into a stack overflow.
static void check_depth(const std::string& body) {
  if (json_nesting_depth(body, kMaxJsonDepth) > kMaxJsonDepth)
    throw ApiError(400, str_cat("the request body nests deeper than ", kMaxJsonDepth, " levels"));
}

json parse_request_json(const std::string& body, bool object_only) {
  check_depth(body);
  json j;
  try {
    j = json::parse(body);
  } catch (const json::exception& e) {
    throw ApiError(400, str_cat("invalid JSON in the request body: ", e.what()));
  }
  if (object_only && !j.is_object()) throw ApiError(400, "the request body must be a JSON object");
  return j;
}

static const json* field(const json& j, const char* key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

[[noreturn]] static void bad_type(const char* key, const char* want) {
  throw ApiError(400, str_cat("'", key, "' must be ", want));
}

double num_field(const json& j, const char* key, double dflt, double lo, double hi) {
  const json* v = field(j, key);
  if (!v) return dflt;
  if (!v->is_number()) bad_type(key, "a number");
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi) throw ApiError(400, str_cat("'", key, "' must be in [", lo, ", ", hi, "], got ", x));
  return x;
}

int64_t int_field(const json& j, const char* key, int64_t dflt, int64_t lo, int64_t hi) {
  const json* v = field(j, key);
  if (!v) return dflt;
  int64_t x = 0;
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    x = u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? std::numeric_limits<int64_t>::max()
                                                                        : static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    x = v->get<int64_t>();
  } else if (v->is_number_float() && std::floor(v->get<double>()) == v->get<double>() && std::fabs(v->get<double>()) < 9e18) {
    x = static_cast<int64_t>(v->get<double>());  // 5.0 from clients that only have doubles
  } else {
    bad_type(key, "an integer");
  }
  if (x < lo || x > hi) throw ApiError(400, str_cat("'", key, "' must be in [", lo, ", ", hi, "], got ", x));
  return x;
}

bool bool_field(const json& j, const char* key, bool dflt) {
  const json* v = field(j, key);
  if (!v) return dflt;
  if (!v->is_boolean()) bad_type(key, "true or false");
  return v->get<bool>();
}

std::string str_field(const json& j, const char* key, const std::string& dflt) {
  const json* v = field(j, key);
  if (!v) return dflt;
  if (!v->is_string()) bad_type(key, "a string");
  return v->get<std::string>();
}

std::vector<std::string> str_list_field(const json& j, const char* key) {
  const json* v = field(j, key);
  std::vector<std::string> out;
  if (!v) return out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
  } else if (v->is_array()) {
    for (const auto& s : *v) {
      if (!s.is_string()) bad_type(key, "a string or a list of strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    bad_type(key, "a string or a list of strings");
  }
  for (const auto& s : out)
    if (s.empty()) throw ApiError(400, str_cat("'", key, "' must not contain empty strings"));
  return out;
}

const json& obj_field(const json& j, const char* key) {
  static const json empty = json::object();
  const json* v = field(j, key);
  if (!v) return empty;
  if (!v->is_object()) bad_type(key, "an object");
  return *v;
}

std::string to_wire(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace jetlm
