// Parsing JSON that comes from outside (a --messages file, a server request
// body) with its nesting bounded: a document nested 20 000 levels deep is a
// few kilobytes, and every recursive walk over it (conversion, printing,
// dumping) would overflow the stack. Depth is checked on the text before any
// tree is built.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace jetlm {

// Parses `text` (object keys keep their order), throwing Error("<what>: ...")
// for invalid JSON or for arrays/objects nested deeper than `max_depth`
// (a scalar is depth 0, [1] is depth 1).
nlohmann::ordered_json parse_json_bounded(const std::string& text, int max_depth, const std::string& what);

// The deepest array/object nesting of `text`, stopping early once past
// `max_depth` (returns max_depth + 1 then). Strings are skipped, so brackets
// inside them do not count; the text need not be valid JSON.
int json_nesting_depth(const std::string& text, int max_depth);

}  // namespace jetlm
