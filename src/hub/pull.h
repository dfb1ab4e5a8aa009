// REPO[:QUANT] -> local GGUF path(s) in the Hub cache: list the repo, pick the
// file(s), fetch the missing blobs, link the snapshot, record the ref. Offline
// (or when the Hub cannot be reached and a copy is cached) the cache alone answers.
#pragma once
#include <string>
#include <vector>

#include "hub/config.h"

namespace jetlm::hub {

struct PullResult {
  std::vector<std::string> paths;  // snapshot paths, first part (the one to open) first
  std::string commit;
};

PullResult pull_model(const HubConfig& cfg, const std::string& ref, const std::string& revision = "main");

// The same answer from the cache only; empty paths when it is not there.
PullResult find_cached(const HubConfig& cfg, const std::string& repo, const std::string& tag, const std::string& revision);

}  // namespace jetlm::hub
