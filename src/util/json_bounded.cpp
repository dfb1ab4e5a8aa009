#include "util/json_bounded.h"

#include "util/error.h"

namespace jetlm {

int json_nesting_depth(const std::string& text, int max_depth) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > max_depth) return deepest;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

nlohmann::ordered_json parse_json_bounded(const std::string& text, int max_depth, const std::string& what) {
  if (json_nesting_depth(text, max_depth) > max_depth)
    fail(what, ": JSON nested deeper than ", max_depth, " levels");
  try {
    return nlohmann::ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    fail(what, ": invalid JSON: ", e.what());
  }
}

}  // namespace jetlm
