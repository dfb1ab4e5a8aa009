// Every file jetlm writes goes through AtomicFile, so that no failure,
// signal or hostile directory can leave a half-written file or redirect the
// write:
//  - a regular (or new) target is written to a temporary beside it, created
//    with O_CREAT|O_EXCL|O_NOFOLLOW under an unpredictable name (a symlink
//    planted at any name cannot redirect it), fsynced, then renamed over it;
//  - a target that is a character device or a FIFO (/dev/null, a pipe) is
//    written in place, never replaced by a regular file; a directory, block
//    device, socket or dangling symlink is refused;
//  - a symlink to an existing file is followed: the file it names is replaced.
// The temporary is removed on every exit path: by the destructor (errors
// unwind), an atexit hook (exit() without unwinding), and SIGINT/SIGTERM/SIGHUP:
// while a file is open those signals set a flag that write() checks, so the
// writer throws and unwinds; a second signal removes the temporaries at once
// and ends the process by that signal.
#pragma once
#include <cstddef>
#include <string>

namespace jetlm {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path);  // throws Error naming path
  ~AtomicFile();                                  // removes the temporary unless committed
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);  // throws Error (disk full, signal received)
  size_t tell() const { return pos_; }
  void commit();  // fsync, rename over the target (or close the device); throws Error

  const std::string& temp_path() const { return tmp_; }  // empty when writing in place

 private:
  std::string path_;    // as given, for messages
  std::string target_;  // what commit() replaces (symlinks followed)
  std::string tmp_;     // temporary beside target_, empty when writing in place
  int fd_ = -1;
  int slot_ = -1;  // cleanup registry slot of tmp_
  size_t pos_ = 0;
  bool done_ = false;
  bool handlers_ = false;  // holds the signal handlers (released by the destructor)
};

void write_file_atomic(const std::string& path, const void* data, size_t n);

// True once SIGINT/SIGTERM/SIGHUP arrived while a file was being written.
// Long loops between writes (quantizing one big tensor) may poll it.
bool write_interrupted();

}  // namespace jetlm
