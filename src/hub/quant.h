// Which .gguf of a repository a tag means, as llama-cli -hf picks it: the file
// whose name contains the tag (case-insensitive, an exact quantization name
// preferred), without a tag Q4_K_M, else Q8_0, else the first; never an mmproj
// (vision projector) file; a split model (-00001-of-0000N.gguf) is all its parts.
#pragma once
#include <string>
#include <vector>

namespace jetlm::hub {

// "qwen2.5-0.5b-instruct-q4_k_m.gguf" -> "Q4_K_M"; "" when the name has none.
// The directory is looked at too ("Q4_K_M/model-00001-of-00002.gguf").
std::string quant_of(const std::string& path);

// The chosen model's files (split parts in order, first part first). Throws
// Error naming the repo: no GGUF at all, or no match (listing what there is).
std::vector<std::string> select_gguf(const std::vector<std::string>& paths, const std::string& tag, const std::string& repo);

// A split model's parts in order, given its first (just {first} for a single
// file). Throws Error when a part is missing.
std::vector<std::string> split_parts(const std::vector<std::string>& paths, const std::string& first, const std::string& repo);
// "-00002-of-00003.gguf" and on: a part that is not the one to open.
bool is_later_part(const std::string& path);

// "org/name:Q4_K_M" -> repo "org/name", tag "Q4_K_M"; UsageError if malformed.
struct HubRef {
  std::string repo, tag;
};
HubRef parse_hub_ref(const std::string& text);

}  // namespace jetlm::hub
