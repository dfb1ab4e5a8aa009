// The file mapping that holds an address, and dropping a mapped file's pages
// from memory once their bytes live elsewhere (the GPU's copy of a weight on
// a Jetson Nano, where the GPU's memory is the same DRAM as the page cache).
// Linux only (/proc/self/maps, madvise, posix_fadvise).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace jetlm {

struct Mapping {
  uintptr_t begin = 0, end = 0;  // [begin, end) in this process
  uint64_t offset = 0;           // file offset of begin
  std::string path;              // the mapped file ("" for anonymous memory)
};

// The mapping of /proc/self/maps that holds [p, p + n); false when none does.
bool find_mapping(const void* p, size_t n, Mapping* out);

// Releases the whole pages inside [p, p + n) of a read-only file mapping: this
// process's page table entries (madvise DONTNEED: a later read faults the page
// back in from the file, so the map stays valid) and the page cache's copy
// (posix_fadvise DONTNEED). Returns the bytes released; 0 when nothing could be
// (no file mapping, or the range holds no whole page).
size_t release_file_pages(const void* p, size_t n);

// Bytes of [p, p + n) resident in memory now (mincore), for tests and jetlm info.
size_t resident_bytes(const void* p, size_t n);

}  // namespace jetlm
