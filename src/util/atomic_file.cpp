#include "util/atomic_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "util/error.h"

namespace jetlm {

AtomicFile::AtomicFile(const std::string& path) : path_(path), tmp_(path + ".tmp." + std::to_string(::getpid())) {
  f_ = std::fopen(tmp_.c_str(), "wb");
  if (!f_) fail(path, ": cannot create: ", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (f_) std::fclose(f_);
  if (!done_) std::remove(tmp_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  if (n && std::fwrite(data, 1, n, f_) != n) fail(path_, ": write failed: ", std::strerror(errno));
}

void AtomicFile::seek(size_t offset) {
  if (std::fseek(f_, static_cast<long>(offset), SEEK_SET) != 0) fail(path_, ": seek failed: ", std::strerror(errno));
}

size_t AtomicFile::tell() const { return static_cast<size_t>(std::ftell(f_)); }

void AtomicFile::commit() {
  if (std::fflush(f_) != 0 || ::fsync(fileno(f_)) != 0) fail(path_, ": write failed: ", std::strerror(errno));
  const int rc = std::fclose(f_);
  f_ = nullptr;
  if (rc != 0) fail(path_, ": write failed: ", std::strerror(errno));
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0) fail(path_, ": cannot rename into place: ", std::strerror(errno));
  done_ = true;
}

void write_file_atomic(const std::string& path, const void* data, size_t n) {
  AtomicFile f(path);
  f.write(data, n);
  f.commit();
}

}  // namespace jetlm
