#include "hub/listing.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "hub/cache.h"
#include "hub/fs.h"
#include "hub/quant.h"
#include "util/error.h"

namespace jetlm::hub {

static std::vector<std::string> gguf_files(const std::vector<std::string>& files) {
  std::vector<std::string> out;
  for (const std::string& f : files) {
    std::string l = f;
    std::transform(l.begin(), l.end(), l.begin(), ::tolower);
    if (l.size() > 5 && l.compare(l.size() - 5, 5, ".gguf") == 0 && l.find("mmproj") == std::string::npos) out.push_back(f);
  }
  return out;
}

// The models of a snapshot, each as its parts; an incomplete split model is left out.
static std::vector<std::vector<std::string>> models_of(const std::vector<std::string>& ggufs, const std::string& repo) {
  std::vector<std::vector<std::string>> out;
  for (const std::string& f : ggufs) {
    if (is_later_part(f)) continue;
    try {
      out.push_back(split_parts(ggufs, f, repo));
    } catch (const Error&) {
    }
  }
  return out;
}

std::vector<CachedModel> list_cached_models(const std::string& cache_dir) {
  std::vector<CachedModel> out;
  std::vector<std::string> folders = list_dir(cache_dir);
  std::sort(folders.begin(), folders.end());
  for (const std::string& folder : folders) {
    const std::string repo = repo_from_folder(folder);
    if (repo.empty()) continue;
    const RepoCache cache(cache_dir, repo);
    for (const std::string& commit : cache.snapshots()) {
      for (const auto& parts : models_of(gguf_files(cache.snapshot_files(commit)), repo)) {
        CachedModel m;
        m.repo = repo;
        m.file = parts[0];
        m.quant = quant_of(parts[0]);
        m.commit = commit;
        m.parts = static_cast<int>(parts.size());
        m.size = 0;
        for (const std::string& p : parts) {
          struct stat st;
          if (::stat(cache.snapshot_path(commit, p).c_str(), &st) != 0) continue;
          m.size += st.st_size;
          m.last_used = std::max({m.last_used, st.st_atime, st.st_mtime});
        }
        out.push_back(m);
      }
    }
  }
  return out;
}

// Blob ids the snapshots' links point at.
static std::set<std::string> linked_blobs(const RepoCache& cache) {
  std::set<std::string> ids;
  for (const std::string& commit : cache.snapshots())
    for (const std::string& f : cache.snapshot_files(commit)) {
      char buf[4096];
      const ssize_t n = ::readlink(cache.snapshot_path(commit, f).c_str(), buf, sizeof buf);
      if (n <= 0) continue;
      const std::string target(buf, static_cast<size_t>(n));
      ids.insert(target.substr(target.rfind('/') + 1));
    }
  return ids;
}

int64_t remove_cached_model(const std::string& cache_dir, const std::string& repo, const std::string& tag) {
  const RepoCache cache(cache_dir, repo);
  if (!is_dir(cache.dir())) fail(repo, " is not in the cache (", cache_dir, ")");
  std::set<std::string> candidates;  // blob ids whose links we removed
  int removed = 0;
  for (const std::string& commit : cache.snapshots()) {
    const std::vector<std::string> files = cache.snapshot_files(commit);
    std::vector<std::string> victims;
    if (tag.empty()) {
      victims = files;
    } else {
      try {
        victims = select_gguf(files, tag, repo);
      } catch (const Error&) {
        continue;
      }
    }
    for (const std::string& f : victims) {
      const std::string link = cache.snapshot_path(commit, f);
      char buf[4096];
      const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
      if (n > 0) {
        const std::string target(buf, static_cast<size_t>(n));
        candidates.insert(target.substr(target.rfind('/') + 1));
      }
      if (::unlink(link.c_str()) == 0) ++removed;
    }
  }
  if (removed == 0) fail(repo, ": nothing cached matches '", tag, "'");
  const std::set<std::string> still = linked_blobs(cache);
  int64_t freed = 0;
  for (const std::string& id : candidates) {
    if (still.count(id)) continue;
    const int64_t size = file_size(cache.blob_path(id));
    if (::unlink(cache.blob_path(id).c_str()) == 0) freed += size;
  }
  return freed;
}

}  // namespace jetlm::hub
