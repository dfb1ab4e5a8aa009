#include "hub/pull.h"

#include <cstdio>

#include "hub/api.h"
#include "hub/cache.h"
#include "hub/download.h"
#include "hub/fs.h"
#include "hub/quant.h"
#include "util/error.h"

namespace jetlm::hub {

PullResult find_cached(const HubConfig& cfg, const std::string& repo, const std::string& tag, const std::string& revision) {
  const RepoCache cache(cfg.cache_dir, repo);
  PullResult r;
  r.commit = cache.commit_of(revision);
  if (r.commit.empty()) return r;
  const std::vector<std::string> files = cache.snapshot_files(r.commit);
  std::vector<std::string> chosen;
  try {
    chosen = select_gguf(files, tag, repo);
  } catch (const Error&) {
    return r;  // nothing cached that matches
  }
  for (const std::string& f : chosen) r.paths.push_back(cache.snapshot_path(r.commit, f));
  return r;
}

static void check_gguf(const std::string& path, const std::string& what) {
  if (!has_gguf_magic(path)) fail(what, " is not a GGUF file (", path, ")");
}

static PullResult from_cache_or(const HubConfig& cfg, const HubRef& ref, const std::string& revision, const std::string& why) {
  PullResult r = find_cached(cfg, ref.repo, ref.tag, revision);
  if (r.paths.empty()) {
    const std::string name = ref.repo + (ref.tag.empty() ? "" : ":" + ref.tag);
    fail(why, name, " is not in the cache (", cfg.cache_dir, ")");
  }
  return r;
}

PullResult pull_model(const HubConfig& cfg, const std::string& text, const std::string& revision) {
  const HubRef ref = parse_hub_ref(text);
  PullResult out;
  if (cfg.offline) {
    out = from_cache_or(cfg, ref, revision, "offline (HF_HUB_OFFLINE or --offline): ");
  } else {
    RepoListing listing;
    try {
      listing = list_repo(cfg, ref.repo, revision);
    } catch (const NetworkError& e) {
      out = find_cached(cfg, ref.repo, ref.tag, revision);
      if (out.paths.empty()) throw;
      std::fprintf(stderr, "jetlm: warning: %s; using the cached copy\n", e.what());
    }
    if (out.paths.empty()) {
      std::vector<std::string> names;
      for (const RepoFile& f : listing.files) names.push_back(f.path);
      const RepoCache cache(cfg.cache_dir, ref.repo);
      for (const std::string& name : select_gguf(names, ref.tag, ref.repo)) {
        const RepoFile* file = nullptr;
        for (const RepoFile& f : listing.files)
          if (f.path == name) file = &f;
        BlobSpec spec;
        spec.url = resolve_url(cfg, ref.repo, listing.commit, name);
        spec.name = ref.repo + "/" + name;
        spec.id = file->blob_id();
        spec.is_sha256 = !file->sha256.empty();
        spec.size = file->size;
        spec.gguf = true;
        if (spec.id.empty()) fail(spec.name, ": the Hub lists no id (sha256 or oid) for it");
        fetch_blob(cfg, cache, spec);
        cache.link_snapshot(listing.commit, name, spec.id);
        out.paths.push_back(cache.snapshot_path(listing.commit, name));
      }
      cache.write_ref(revision, listing.commit);
      out.commit = listing.commit;
    }
  }
  for (const std::string& p : out.paths) {
    check_gguf(p, ref.repo + "/" + p.substr(p.rfind('/') + 1));
    touch_atime(p);
  }
  return out;
}

}  // namespace jetlm::hub
