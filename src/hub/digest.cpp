#include "hub/digest.h"

#include <openssl/evp.h>

#include <cstdio>
#include <vector>

#include "util/error.h"

namespace jetlm::hub {

struct Digest::Impl {
  Kind kind;
  size_t total;
  EVP_MD_CTX* ctx = nullptr;
};

Digest::Digest(Kind kind, size_t total_size) : impl_(new Impl{kind, total_size, EVP_MD_CTX_new()}) {
  if (!impl_->ctx) fail("out of memory (digest)");
  reset();
}

Digest::~Digest() { EVP_MD_CTX_free(impl_->ctx); }

void Digest::reset() {
  const EVP_MD* md = impl_->kind == Kind::Sha256 ? EVP_sha256() : EVP_sha1();
  if (EVP_DigestInit_ex(impl_->ctx, md, nullptr) != 1) fail("cannot start a digest (libcrypto)");
  if (impl_->kind == Kind::GitBlobSha1) {
    const std::string header = str_cat("blob ", impl_->total);
    update(header.c_str(), header.size() + 1);  // with its NUL
  }
}

void Digest::update(const void* data, size_t n) {
  if (n && EVP_DigestUpdate(impl_->ctx, data, n) != 1) fail("digest update failed (libcrypto)");
}

std::string Digest::hex() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(impl_->ctx, md, &len) != 1) fail("digest failed (libcrypto)");
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

std::string file_digest(const std::string& path, Digest::Kind kind, size_t total_size) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) fail("cannot read ", path);
  Digest d(kind, total_size);
  std::vector<char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) d.update(buf.data(), n);
  std::fclose(f);
  return d.hex();
}

}  // namespace jetlm::hub
