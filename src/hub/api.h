// The Hub's HTTP API, the documented endpoints only:
//   GET {endpoint}/api/models/{repo}/revision/{rev}               -> {"sha": commit}
//   GET {endpoint}/api/models/{repo}/tree/{commit}?recursive=true  -> [{type, path, size, oid, lfs{oid,size}}]
//       paginated with Link: <...>; rel="next"
//   GET {endpoint}/{repo}/resolve/{commit}/{file}                  -> the bytes (LFS: 302 to a CDN)
// The tree's top-level "oid" is the git sha1 of the LFS pointer; lfs.oid is the file's sha256.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "hub/config.h"
#include "hub/http.h"
#include "util/error.h"

namespace jetlm::hub {

// No answer at all (DNS, refused, reset): a cached copy may stand in.
class NetworkError : public Error {
 public:
  explicit NetworkError(const std::string& msg) : Error(msg) {}
};

struct RepoFile {
  std::string path;     // in the repository, e.g. "Q4_K_M/model-00001-of-00002.gguf"
  int64_t size = 0;     // bytes of the file itself (lfs.size for LFS files)
  std::string sha256;   // LFS files: the blob id in the cache
  std::string git_oid;  // the git blob sha1 (a non-LFS file's blob id)
  std::string blob_id() const { return sha256.empty() ? git_oid : sha256; }
};

struct RepoListing {
  std::string commit;
  std::vector<RepoFile> files;
};

RepoListing list_repo(const HubConfig& cfg, const std::string& repo, const std::string& revision);
std::string resolve_url(const HubConfig& cfg, const std::string& repo, const std::string& commit, const std::string& file);
HttpRequest hub_request(const HubConfig& cfg, const std::string& url);

// Throws the error line for a failed answer: NetworkError without one, else
// the 401/403/404 wording. what: "Qwen/X" or "Qwen/X/file.gguf".
void check_answer(const HttpResponse& r, const std::string& what);

}  // namespace jetlm::hub
