// The Hugging Face cache layout, byte for byte as huggingface_hub writes it:
//   {cache}/models--{org}--{name}/blobs/{sha256 or git sha1}    the file's bytes
//                                /snapshots/{commit}/{path}     relative symlink ../../blobs/{id}
//                                /refs/{revision}               the commit, no newline
//   {cache}/.locks/models--{org}--{name}/{id}.lock              held while a blob downloads
// A download in progress is blobs/{id}.incomplete (resumed with Range).
#pragma once
#include <string>
#include <vector>

namespace jetlm::hub {

class RepoCache {
 public:
  RepoCache(const std::string& cache_dir, const std::string& repo);  // repo: "org/name"

  const std::string& dir() const { return dir_; }
  std::string blob_path(const std::string& id) const;
  std::string incomplete_path(const std::string& id) const;
  std::string lock_path(const std::string& id) const;
  std::string snapshot_path(const std::string& commit, const std::string& file) const;

  // refs/{rev} -> commit; a 40-hex revision that has a snapshot is its own commit; "" when unknown.
  std::string commit_of(const std::string& revision) const;
  void write_ref(const std::string& revision, const std::string& commit) const;
  // snapshots/{commit}/{file} -> ../../blobs/{id} (one more ../ per directory in file).
  void link_snapshot(const std::string& commit, const std::string& file, const std::string& id) const;
  // The files of a snapshot whose blobs are present, as repo paths ("dir/x.gguf").
  std::vector<std::string> snapshot_files(const std::string& commit) const;
  std::vector<std::string> snapshots() const;  // commits

 private:
  std::string cache_, folder_, dir_;
};

// "org/name" -> "models--org--name"; the reverse gives "" for other folders.
std::string repo_folder(const std::string& repo);
std::string repo_from_folder(const std::string& folder);

}  // namespace jetlm::hub
