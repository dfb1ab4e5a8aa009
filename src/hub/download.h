// One blob into the cache, checked against its id while it streams:
// a lock file keeps a second process from fetching the same blob (it waits,
// then finds it done), the bytes go to blobs/{id}.incomplete and are renamed
// to blobs/{id} only once complete and verified; an interrupted transfer is
// resumed with Range (retried with backoff within a run, and on the next run).
#pragma once
#include <cstdint>
#include <string>

#include "hub/cache.h"
#include "hub/config.h"

namespace jetlm::hub {

struct BlobSpec {
  std::string url;      // {endpoint}/{repo}/resolve/{commit}/{file}
  std::string name;     // shown in progress and errors (the repo path)
  std::string id;       // sha256 (LFS) or git sha1
  bool is_sha256 = true;
  int64_t size = 0;
  bool gguf = false;  // must start with the GGUF magic (checked before it enters the cache)
};

// Returns blob_path(id) once it holds the verified bytes. Throws Error with one
// line: network (after retries), HTTP status, disk full, checksum mismatch.
std::string fetch_blob(const HubConfig& cfg, const RepoCache& cache, const BlobSpec& spec);

}  // namespace jetlm::hub
