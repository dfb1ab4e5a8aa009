// What the Hub cache holds, for `jetlm models` and `jetlm models rm`.
#pragma once
#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

namespace jetlm::hub {

struct CachedModel {
  std::string repo;     // "org/name"
  std::string file;     // path in the repo (first part of a split model)
  std::string quant;    // from the name, "" if none
  std::string commit;
  int64_t size = 0;     // bytes, all parts together
  int parts = 1;
  std::time_t last_used = 0;  // the newest access time of its blobs
};

// GGUF model files (mmproj files left out) of every snapshot, sorted by repo and file.
std::vector<CachedModel> list_cached_models(const std::string& cache_dir);

// Removes the snapshot links of REPO's files matching tag (all of them when
// tag is empty), and each blob no remaining link points at. Returns the
// bytes freed; throws Error when nothing matched.
int64_t remove_cached_model(const std::string& cache_dir, const std::string& repo, const std::string& tag);

}  // namespace jetlm::hub
