#include "util/file_pages.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <vector>

namespace jetlm {

namespace {
uintptr_t page_size() {
  static const uintptr_t s = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  return s;
}
}  // namespace

bool find_mapping(const void* p, size_t n, Mapping* out) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  FILE* f = std::fopen("/proc/self/maps", "r");
  if (!f) return false;
  bool found = false;
  char line[4096];
  while (std::fgets(line, sizeof line, f)) {
    unsigned long long b = 0, e = 0, off = 0;
    int path_at = 0;
    // begin-end perms offset dev inode [path]
    if (std::sscanf(line, "%llx-%llx %*s %llx %*s %*s %n", &b, &e, &off, &path_at) < 3) continue;
    if (a < b || a + n > e) continue;
    out->begin = static_cast<uintptr_t>(b);
    out->end = static_cast<uintptr_t>(e);
    out->offset = off;
    std::string path = path_at > 0 ? std::string(line + path_at) : std::string();
    while (!path.empty() && (path.back() == '\n' || path.back() == ' ')) path.pop_back();
    out->path = path.empty() || path[0] != '/' ? std::string() : path;
    found = true;
    break;
  }
  std::fclose(f);
  return found;
}

size_t release_file_pages(const void* p, size_t n) {
  const uintptr_t ps = page_size();
  const uintptr_t lo = (reinterpret_cast<uintptr_t>(p) + ps - 1) & ~(ps - 1);
  const uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + n) & ~(ps - 1);
  if (hi <= lo) return 0;
  Mapping m;
  if (!find_mapping(reinterpret_cast<const void*>(lo), hi - lo, &m) || m.path.empty()) return 0;
  // Pages still mapped are not dropped from the cache: unmap them from this process first.
  if (::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED) != 0) return 0;
  const int fd = ::open(m.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const off_t off = static_cast<off_t>(m.offset + (lo - m.begin));
    (void)::posix_fadvise(fd, off, static_cast<off_t>(hi - lo), POSIX_FADV_DONTNEED);
    ::close(fd);
  }
  return hi - lo;
}

size_t resident_bytes(const void* p, size_t n) {
  const uintptr_t ps = page_size();
  const uintptr_t lo = reinterpret_cast<uintptr_t>(p) & ~(ps - 1);
  const uintptr_t hi = (reinterpret_cast<uintptr_t>(p) + n + ps - 1) & ~(ps - 1);
  if (hi <= lo) return 0;
  std::vector<unsigned char> v((hi - lo) / ps);
  if (::mincore(reinterpret_cast<void*>(lo), hi - lo, v.data()) != 0) return 0;
  size_t r = 0;
  for (unsigned char c : v) r += (c & 1) ? ps : 0;
  return r;
}

}  // namespace jetlm
