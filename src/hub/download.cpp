#include "hub/download.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "hub/api.h"
#include "hub/background_digest.h"
#include "hub/digest.h"
#include "hub/fs.h"
#include "hub/http.h"
#include "hub/progress.h"
#include "util/error.h"

namespace jetlm::hub {

namespace {

const int kMaxStalls = 5;           // consecutive attempts that moved no byte
const int kBackoffFirstMs = 500;    // doubled after each of them

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// flock, as Python's filelock does on huggingface_hub's .lock files, so
// jetlm and huggingface-cli also keep out of each other's way.
void lock_exclusive(int fd, const BlobSpec& spec) {
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return;
  if (errno != EWOULDBLOCK) fail("cannot lock the download of ", spec.name, ": ", std::strerror(errno));
  std::fprintf(stderr, "jetlm: waiting for another process downloading %s\n", spec.name.c_str());
  while (::flock(fd, LOCK_EX) != 0)
    if (errno != EINTR) fail("cannot lock the download of ", spec.name, ": ", std::strerror(errno));
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

std::string disk_error(const std::string& path, int err, int64_t kept) {
  if (err == ENOSPC || err == EDQUOT || err == EFBIG)  // EFBIG: over the file size limit (ulimit -f)
    return str_cat(err == EFBIG ? "file size limit reached" : "disk full", " writing ", path, " (", kept,
                   " bytes kept there; free space and run again to resume)");
  return str_cat("cannot write ", path, ": ", std::strerror(err));
}

// A copy of the file in llama.cpp's cache, by name and size, confirmed by its digest.
std::string find_in_llama_cache(const HubConfig& cfg, const RepoCache& cache, const BlobSpec& spec) {
  if (cfg.llama_cache.empty() || !is_dir(cfg.llama_cache)) return "";
  std::vector<std::string> candidates;
  // llama.cpp's own hub-layout cache, if it keeps one.
  const std::string folder = cache.dir().substr(cache.dir().rfind('/') + 1);
  candidates.push_back(cfg.llama_cache + "/" + folder + "/blobs/" + spec.id);
  // Its flat layout: {org}_{name}_{file}.
  const std::string base = spec.name.substr(spec.name.rfind('/') + 1);
  for (const std::string& n : list_dir(cfg.llama_cache))
    if (n.size() >= base.size() && n.compare(n.size() - base.size(), base.size(), base) == 0)
      candidates.push_back(cfg.llama_cache + "/" + n);
  const Digest::Kind kind = spec.is_sha256 ? Digest::Kind::Sha256 : Digest::Kind::GitBlobSha1;
  for (const std::string& c : candidates)
    if (file_size(c) == spec.size && file_digest(c, kind, static_cast<size_t>(spec.size)) == spec.id) return c;
  return "";
}

// Hard link when the caches share a file system (no second copy on a small
// board), else a copy checked as it is read.
void adopt(const std::string& from, const std::string& blob, const std::string& partial, const BlobSpec& spec) {
  if (::link(from.c_str(), blob.c_str()) == 0) return;
  {
    Fd in(::open(from.c_str(), O_RDONLY));
    Fd out(::open(partial.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644));
    if (in.get() < 0 || out.get() < 0) fail("cannot copy ", from, " to ", partial, ": ", std::strerror(errno));
    std::vector<char> buf(1 << 20);
    ssize_t n;
    int64_t done = 0;
    while ((n = ::read(in.get(), buf.data(), buf.size())) > 0) {
      if (!write_all(out.get(), buf.data(), static_cast<size_t>(n))) fail(disk_error(partial, errno, done));
      done += n;
    }
    if (n < 0 || done != spec.size) fail("cannot read ", from);
  }
  if (::rename(partial.c_str(), blob.c_str()) != 0) fail("cannot rename ", partial, ": ", std::strerror(errno));
}

}  // namespace

std::string fetch_blob(const HubConfig& cfg, const RepoCache& cache, const BlobSpec& spec) {
  const std::string blob = cache.blob_path(spec.id);
  if (is_file(blob)) return blob;
  make_dirs(parent_dir(blob));
  const std::string lock_path = cache.lock_path(spec.id);
  make_dirs(parent_dir(lock_path));
  Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT, 0644));
  if (lock.get() < 0) fail("cannot create ", lock_path, ": ", std::strerror(errno));
  lock_exclusive(lock.get(), spec);
  if (is_file(blob)) return blob;  // the other process finished it

  const std::string partial = cache.incomplete_path(spec.id);
  const std::string reuse = find_in_llama_cache(cfg, cache, spec);
  if (!reuse.empty()) {
    adopt(reuse, blob, partial, spec);
    std::fprintf(stderr, "jetlm: reused %s from llama.cpp's cache (%s)\n", spec.name.c_str(), reuse.c_str());
    return blob;
  }

  Fd out(::open(partial.c_str(), O_WRONLY | O_CREAT, 0644));
  if (out.get() < 0) fail(disk_error(partial, errno, 0));
  const Digest::Kind kind = spec.is_sha256 ? Digest::Kind::Sha256 : Digest::Kind::GitBlobSha1;
  BackgroundDigest digest(kind, static_cast<size_t>(spec.size));
  int64_t have = file_size(partial);
  if (have > spec.size) have = 0;
  if (have > 0) {  // resume: the digest must see the bytes already there
    std::FILE* f = std::fopen(partial.c_str(), "rb");
    std::vector<char> buf(1 << 20);
    int64_t left = have;
    while (f && left > 0) {
      const size_t n = std::fread(buf.data(), 1, static_cast<size_t>(std::min<int64_t>(left, buf.size())), f);
      if (n == 0) break;
      digest.update(buf.data(), n);
      left -= static_cast<int64_t>(n);
    }
    if (f) std::fclose(f);
    if (left != 0) {
      have = 0;
      digest.reset();
    }
  }
  if (::ftruncate(out.get(), have) != 0 || ::lseek(out.get(), have, SEEK_SET) != have)
    fail("cannot write ", partial, ": ", std::strerror(errno));

  Progress progress(spec.name, spec.size, have);
  int write_errno = 0;
  HttpSink sink;
  sink.begin = [&](const HttpResponse& r) {
    if (have > 0 && r.status == 200) {  // the server ignored Range: start over
      if (::ftruncate(out.get(), 0) != 0 || ::lseek(out.get(), 0, SEEK_SET) != 0) {
        write_errno = errno;
        return false;
      }
      have = 0;
      digest.reset();
    }
    return true;
  };
  sink.data = [&](const char* p, size_t n) {
    if (have + static_cast<int64_t>(n) > spec.size) {
      write_errno = -1;  // more bytes than the Hub listed
      return false;
    }
    if (!write_all(out.get(), p, n)) {
      write_errno = errno;
      return false;
    }
    digest.update(p, n);
    have += static_cast<int64_t>(n);
    progress.update(have);
    return true;
  };

  int stalls = 0;
  std::string last_error;
  while (have < spec.size) {
    HttpRequest req = hub_request(cfg, spec.url);
    if (have > 0) req.range_from = have;
    const int64_t before = have;
    const HttpResponse r = http_get(req, sink);
    if (write_errno > 0) fail(disk_error(partial, write_errno, have));
    if (write_errno < 0) {
      ::unlink(partial.c_str());
      fail(spec.name, ": the server sent more than the ", spec.size, " bytes the Hub lists (download deleted)");
    }
    if (r.error.empty() && r.status == 416 && have > 0) {  // our partial file is not a prefix the server knows
      ::ftruncate(out.get(), 0);
      ::lseek(out.get(), 0, SEEK_SET);
      have = 0;
      digest.reset();
      continue;
    }
    const bool transient = !r.error.empty() || r.status >= 500 || (r.status >= 200 && r.status < 300);
    if (!transient) check_answer(r, spec.name);  // 401/403/404: no retry
    if (have >= spec.size) break;
    if (r.error.empty() && r.status >= 200 && r.status < 300) last_error = "the connection closed early";
    else last_error = r.error.empty() ? str_cat("HTTP ", r.status) : r.error;
    stalls = have > before ? 0 : stalls + 1;
    if (stalls >= kMaxStalls) {
      const std::string where = have > 0 ? str_cat(" (", have, " of ", spec.size, " bytes kept; run again to resume)") : "";
      throw NetworkError(str_cat("cannot download ", spec.name, " from ", url_origin(r.final_url), ": ", last_error, where));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kBackoffFirstMs << std::max(0, stalls - 1)));
  }

  const std::string got = digest.hex();
  if (got != spec.id) {
    ::unlink(partial.c_str());
    fail(spec.name, ": checksum mismatch (expected ", spec.id, ", got ", got, "); the download was deleted");
  }
  if (spec.gguf && !has_gguf_magic(partial)) {
    ::unlink(partial.c_str());
    fail(spec.name, " is not a GGUF file (the download was deleted)");
  }
  if (::fdatasync(out.get()) != 0) fail(disk_error(partial, errno, have));
  if (::rename(partial.c_str(), blob.c_str()) != 0) fail("cannot rename ", partial, ": ", std::strerror(errno));
  progress.finish();
  return blob;
}

}  // namespace jetlm::hub
