// Files are written to a temporary name beside the target and renamed into
// place, so a failure (full disk, crash) never leaves a half-written file.
#pragma once
#include <cstddef>
#include <cstdio>
#include <string>

namespace jetlm {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);  // opens "<path>.tmp.<pid>"; throws Error
  ~AtomicFile();                                  // removes the temporary unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);  // throws Error (e.g. disk full)
  void seek(size_t offset);                // absolute position
  size_t tell() const;
  void commit();  // flush, fsync, rename over the target

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  bool done_ = false;
};

void write_file_atomic(const std::string& path, const void* data, size_t n);

}  // namespace jetlm
