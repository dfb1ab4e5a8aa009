// Streaming file digests through OpenSSL's libcrypto (SHA-NI / ARMv8 crypto
// extensions, several GB/s: hashing while downloading costs no throughput).
#pragma once
#include <cstddef>
#include <memory>
#include <string>

namespace jetlm::hub {

class Digest {
 public:
  // Sha256: LFS files (the Hub's lfs.oid, the cache's blob name).
  // GitBlobSha1: small non-LFS files, whose id is sha1("blob {size}\0" + bytes).
  enum class Kind { Sha256, GitBlobSha1 };
  Digest(Kind kind, size_t total_size);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;

  void reset();  // start over (a server ignored Range and resent from byte 0)
  void update(const void* data, size_t n);
  std::string hex();  // lower-case; ends the stream

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Digest of a whole file (for LLAMA_CACHE reuse and for resuming a partial one).
std::string file_digest(const std::string& path, Digest::Kind kind, size_t total_size);

}  // namespace jetlm::hub
