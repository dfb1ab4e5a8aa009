// Request bodies of the HTTP API: bounded JSON parsing, the error type every
// handler throws (HTTP status plus an OpenAI-style type and code), and typed
// field readers that name the field and the expected type on a mismatch.
// Absent and null fields take the default, unknown fields are ignored (as the
// peers do).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace jetlm {

// An error answered to the client: status 400/401/404/503..., the message,
// OpenAI's "type" (invalid_request_error, authentication_error, ...) and "code".
class ApiError : public Error {
 public:
  ApiError(int status, const std::string& msg, std::string type = "invalid_request_error", std::string code = "")
      : Error(msg), status(status), type(std::move(type)), code(std::move(code)) {}
  int status;
  std::string type, code;
};

// Nesting depth past which a body is refused before it reaches the recursive parser.
constexpr int kMaxJsonDepth = 64;

// Parses a request body: invalid JSON, nesting deeper than kMaxJsonDepth, or
// (object_only) anything but an object is an ApiError 400. The one place a body
// is parsed, so a shared depth-bounded parser can replace it.
nlohmann::json parse_request_json(const std::string& body, bool object_only = true);

// Typed optional fields of an object; ApiError 400 for a wrong type or a value outside [lo, hi].
double num_field(const nlohmann::json& j, const char* key, double dflt, double lo, double hi);
int64_t int_field(const nlohmann::json& j, const char* key, int64_t dflt, int64_t lo, int64_t hi);
bool bool_field(const nlohmann::json& j, const char* key, bool dflt);
std::string str_field(const nlohmann::json& j, const char* key, const std::string& dflt = "");
// A string or a list of strings (OpenAI's and ollama's "stop").
std::vector<std::string> str_list_field(const nlohmann::json& j, const char* key);
// The object under key (an empty one when absent or null).
const nlohmann::json& obj_field(const nlohmann::json& j, const char* key);

// Serialises for the wire: invalid UTF-8 in any string becomes U+FFFD, never an exception.
std::string to_wire(const nlohmann::json& j);

}  // namespace jetlm
