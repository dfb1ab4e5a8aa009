#include "util/read_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "util/error.h"

namespace jetlm {

// Inputs are read whole; an endless one (/dev/zero, a runaway pipe) stops here.
constexpr size_t kMaxInputBytes = size_t{256} << 20;

std::string read_file(const std::string& path, const char* what) {
  if (path.empty()) throw UsageError(str_cat(what, ": the path is empty"));
  const bool is_stdin = path == "-";
  const int fd = is_stdin ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(what, " '", path, "': cannot open: ", std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    if (!is_stdin) ::close(fd);
    fail(what, " '", path, "' is a directory, not a file");
  }
  std::string data;
  if (S_ISREG(st.st_mode) && st.st_size > 0) data.reserve(static_cast<size_t>(st.st_size));
  std::vector<char> buf(size_t{1} << 20);
  while (true) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      if (!is_stdin) ::close(fd);
      fail(what, " '", path, "': cannot read: ", std::strerror(e));
    }
    data.append(buf.data(), static_cast<size_t>(n));
    if (data.size() > kMaxInputBytes) {
      if (!is_stdin) ::close(fd);
      fail(what, " '", path, "' is larger than ", kMaxInputBytes >> 20, " MiB (no prompt or template is; /dev/zero?)");
    }
  }
  if (!is_stdin) ::close(fd);
  return data;
}

}  // namespace jetlm
