#include "util/std_output.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace jetlm {

namespace {

[[noreturn]] void output_failed(int err) {
  if (err == EPIPE) throw OutputClosed();
  fail("writing standard output: ", err ? std::strerror(err) : "write error");
}

}  // namespace

void out_write(std::string_view text) {
  if (text.empty()) return;
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) output_failed(errno);
}

void out_flush() {
  errno = 0;
  if (std::fflush(stdout) != 0) output_failed(errno);
}

void out_finish() {
  errno = 0;
  const bool flushed = std::fflush(stdout) == 0;
  const int err = errno;
  // An earlier printf may have failed and set the error flag; its errno is gone.
  if (!flushed || std::ferror(stdout)) output_failed(flushed ? 0 : err);
  errno = 0;
  if (std::fclose(stdout) != 0) output_failed(errno);
}

}  // namespace jetlm
