#include "util/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "util/error.h"

namespace jetlm {

namespace {

// ---- cleanup registry: temporaries that exist right now ---------------------
// Plain arrays so that the signal handler can walk them (unlink is async-signal-safe).

constexpr int kSlots = 16;
struct Slot {
  volatile sig_atomic_t used;
  char path[PATH_MAX];
};
Slot g_slots[kSlots];
std::mutex g_mutex;  // slot allocation and handler install (never taken in the handler)
int g_open = 0;      // AtomicFiles alive
volatile sig_atomic_t g_signal = 0;
const int kSignals[] = {SIGINT, SIGTERM, SIGHUP};
struct sigaction g_previous[3];

void remove_registered() {
  for (Slot& s : g_slots)
    if (s.used) ::unlink(s.path);
}

extern "C" void on_signal(int sig) {
  // First signal: the writer sees the flag at its next write and unwinds.
  // Second: it is stuck or slow; clean up here and die of the signal.
  if (g_signal == 0) {
    g_signal = sig;
    return;
  }
  remove_registered();
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

extern "C" void at_exit_cleanup() { remove_registered(); }

// Called with g_mutex held.
void handlers_acquire() {
  if (g_open++ > 0) return;
  static bool atexit_done = false;
  if (!atexit_done) std::atexit(at_exit_cleanup);
  atexit_done = true;
  struct sigaction sa = {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &g_previous[i]);
}

void handlers_release() {
  if (--g_open > 0) return;
  for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &g_previous[i], nullptr);
}

int register_temp(const std::string& p) {
  if (p.size() >= PATH_MAX) return -1;
  for (int i = 0; i < kSlots; ++i) {
    if (g_slots[i].used) continue;
    std::memcpy(g_slots[i].path, p.c_str(), p.size() + 1);
    g_slots[i].used = 1;  // after the copy: the handler never sees half a path
    return i;
  }
  return -1;
}

// 64 unpredictable bits for the temporary's name. Without /dev/urandom the
// name is guessable, but O_EXCL|O_NOFOLLOW still keeps the write safe.
uint64_t random_bits() {
  uint64_t v = 0;
  const int fd = ::open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const ssize_t n = ::read(fd, &v, sizeof v);
    ::close(fd);
    if (n == static_cast<ssize_t>(sizeof v)) return v;
  }
  static std::atomic<uint64_t> counter{0};
  v = static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
      (static_cast<uint64_t>(::getpid()) << 32) ^ (counter++ * 0x9E3779B97F4A7C15ULL) ^ reinterpret_cast<uintptr_t>(&v);
  v ^= v >> 33;
  v *= 0xff51afd7ed558ccdULL;
  return v ^ (v >> 33);
}

std::string dir_of(const std::string& p) {
  const size_t slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

const char* kind_of(mode_t m) {
  if (S_ISDIR(m)) return "a directory";
  if (S_ISBLK(m)) return "a block device";
  if (S_ISSOCK(m)) return "a socket";
  return "not a regular file";
}

}  // namespace

bool write_interrupted() { return g_signal != 0; }

AtomicFile::AtomicFile(const std::string& path) : path_(path), target_(path) {
  if (path.empty()) throw UsageError("output path is empty");
  struct stat st;
  bool exists = ::lstat(path.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) fail(path, ": cannot write: ", std::strerror(errno));
  if (exists && S_ISLNK(st.st_mode)) {
    char resolved[PATH_MAX];
    if (!::realpath(path.c_str(), resolved))
      fail(path, ": is a symbolic link to a missing file (", std::strerror(errno), "); refusing to follow it");
    target_ = resolved;
    if (::stat(target_.c_str(), &st) != 0) fail(path, ": cannot write: ", std::strerror(errno));
  }
  if (exists && !S_ISREG(st.st_mode)) {
    if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) fail(path, ": is ", kind_of(st.st_mode), "; refusing to replace it");
    // A device or a pipe: write into it. O_NONBLOCK so that a FIFO nobody
    // reads fails at once (ENXIO) instead of hanging; blocking again after.
    fd_ = ::open(target_.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd_ < 0)
      fail(path, ": cannot write: ", errno == ENXIO ? "a FIFO with no reader" : std::strerror(errno));
    struct stat now;
    // Swapped for a regular file since the check: writing without O_TRUNC would corrupt it.
    if (::fstat(fd_, &now) != 0 || S_ISREG(now.st_mode) || S_ISDIR(now.st_mode)) {
      ::close(fd_);
      fd_ = -1;
      fail(path, ": changed while being opened; refusing to write");
    }
    ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) & ~O_NONBLOCK);
    std::lock_guard<std::mutex> lock(g_mutex);
    handlers_acquire();
    handlers_ = true;
    return;
  }

  const std::string dir = dir_of(target_);
  const std::string base = target_.substr(target_.rfind('/') == std::string::npos ? 0 : target_.rfind('/') + 1);
  std::lock_guard<std::mutex> lock(g_mutex);
  // The handlers go in before the temporary exists, so no signal can find it unprotected.
  handlers_acquire();
  const auto give_up = [&](const std::string& why) {
    handlers_release();
    tmp_.clear();
    fail(path, ": ", why);
  };
  for (int attempt = 0; attempt < 16 && fd_ < 0; ++attempt) {
    char suffix[24];
    std::snprintf(suffix, sizeof suffix, ".tmp-%016llx", static_cast<unsigned long long>(random_bits()));
    tmp_ = (dir == "/" ? "" : dir) + "/" + base + suffix;
    fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd_ >= 0) break;
    if (errno != EEXIST) give_up(str_cat("cannot create a temporary file in ", dir, ": ", std::strerror(errno)));
    // EEXIST: the name is taken (or planted): draw another.
  }
  if (fd_ < 0) give_up(str_cat("cannot create a temporary file in ", dir, ": every name tried exists"));
  slot_ = register_temp(tmp_);
  if (slot_ < 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
    fd_ = -1;
    give_up("too many files open for writing at once");
  }
  handlers_ = true;
  // Replacing a file keeps its permissions.
  if (exists) ::fchmod(fd_, st.st_mode & 07777);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!done_ && !tmp_.empty()) ::unlink(tmp_.c_str());
  if (slot_ >= 0) g_slots[slot_].used = 0;
  if (handlers_) handlers_release();
}

void AtomicFile::write(const void* data, size_t n) {
  if (fd_ < 0) fail(path_, ": write after commit");
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    if (g_signal) fail(path_, ": interrupted by signal ", static_cast<int>(g_signal), "; nothing was written");
    // Chunks of 4 MiB: a signal is noticed within one of them.
    const ssize_t w = ::write(fd_, p, n < (size_t{4} << 20) ? n : (size_t{4} << 20));
    if (w < 0) {
      if (errno == EINTR) continue;
      fail(path_, ": write failed: ", std::strerror(errno));
    }
    p += w;
    n -= static_cast<size_t>(w);
    pos_ += static_cast<size_t>(w);
  }
}

void AtomicFile::commit() {
  if (fd_ < 0) fail(path_, ": commit after commit");
  if (g_signal) fail(path_, ": interrupted by signal ", static_cast<int>(g_signal), "; nothing was written");
  const bool in_place = tmp_.empty();
  if (!in_place && ::fsync(fd_) != 0) fail(path_, ": write failed: ", std::strerror(errno));
  const int rc = ::close(fd_);
  fd_ = -1;
  done_ = in_place;  // in place: nothing left to remove, the handlers go in the destructor
  if (rc != 0 && errno != EINTR) fail(path_, ": write failed: ", std::strerror(errno));
  if (in_place) return;
  if (::rename(tmp_.c_str(), target_.c_str()) != 0) fail(path_, ": cannot rename into place: ", std::strerror(errno));
  done_ = true;
  // The rename itself is durable once the directory is synced.
  const int dfd = ::open(dir_of(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, const void* data, size_t n) {
  AtomicFile f(path);
  f.write(data, n);
  f.commit();
}

}  // namespace jetlm
