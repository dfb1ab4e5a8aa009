#include "hub/cache.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "hub/fs.h"
#include "util/error.h"

namespace jetlm::hub {

std::string repo_folder(const std::string& repo) {
  std::string out = "models--";
  for (char c : repo) {
    if (c == '/') out += "--";
    else out += c;
  }
  return out;
}

std::string repo_from_folder(const std::string& folder) {
  if (folder.compare(0, 8, "models--") != 0) return "";
  std::string rest = folder.substr(8);
  const size_t sep = rest.find("--");
  if (sep == std::string::npos) return rest;  // a repo without an organisation ("gpt2")
  return rest.substr(0, sep) + "/" + rest.substr(sep + 2);
}

RepoCache::RepoCache(const std::string& cache_dir, const std::string& repo)
    : cache_(cache_dir), folder_(repo_folder(repo)), dir_(cache_dir + "/" + folder_) {}

std::string RepoCache::blob_path(const std::string& id) const { return dir_ + "/blobs/" + id; }
std::string RepoCache::incomplete_path(const std::string& id) const { return blob_path(id) + ".incomplete"; }
std::string RepoCache::lock_path(const std::string& id) const { return cache_ + "/.locks/" + folder_ + "/" + id + ".lock"; }
std::string RepoCache::snapshot_path(const std::string& commit, const std::string& file) const {
  return dir_ + "/snapshots/" + commit + "/" + file;
}

static bool is_commit_hash(const std::string& s) {
  return s.size() == 40 && std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::string RepoCache::commit_of(const std::string& revision) const {
  const std::string ref = dir_ + "/refs/" + revision;
  if (is_file(ref)) return read_small_file(ref);
  if (is_commit_hash(revision) && is_dir(dir_ + "/snapshots/" + revision)) return revision;
  return "";
}

void RepoCache::write_ref(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return;  // a pinned commit needs no ref (as huggingface_hub)
  const std::string ref = dir_ + "/refs/" + revision;
  make_dirs(parent_dir(ref));
  if (is_file(ref) && read_small_file(ref) == commit) return;
  write_small_file(ref, commit);
}

void RepoCache::link_snapshot(const std::string& commit, const std::string& file, const std::string& id) const {
  const std::string link = snapshot_path(commit, file);
  make_dirs(parent_dir(link));
  std::string target = "../../";
  for (char c : file)
    if (c == '/') target += "../";
  target += "blobs/" + id;
  char buf[4096];
  const ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  if (n >= 0 && std::string(buf, static_cast<size_t>(n)) == target) return;
  // Replace through a temporary name so a reader never finds the link missing.
  const std::string tmp = str_cat(link, ".tmp.", ::getpid());
  ::unlink(tmp.c_str());
  if (::symlink(target.c_str(), tmp.c_str()) != 0 || ::rename(tmp.c_str(), link.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot link ", link, ": ", std::strerror(err));
  }
}

static void walk(const std::string& root, const std::string& rel, std::vector<std::string>& out) {
  for (const std::string& n : list_dir(rel.empty() ? root : root + "/" + rel)) {
    const std::string r = rel.empty() ? n : rel + "/" + n;
    const std::string full = root + "/" + r;
    if (is_dir(full)) walk(root, r, out);
    else if (is_file(full)) out.push_back(r);  // a dangling link (blob removed) is skipped
  }
}

std::vector<std::string> RepoCache::snapshot_files(const std::string& commit) const {
  std::vector<std::string> out;
  walk(dir_ + "/snapshots/" + commit, "", out);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> RepoCache::snapshots() const {
  std::vector<std::string> out = list_dir(dir_ + "/snapshots");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace jetlm::hub
