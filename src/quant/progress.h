// A one-line progress bar on stderr for long writes (quantize, synth). It
// redraws in place with '\r', so it is only shown when stderr is a terminal;
// redirected output gets nothing (logs stay clean).
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace jetlm {

class ProgressBar {
 public:
  // total: units of work (bytes written, say). enabled false: a no-op bar.
  ProgressBar(uint64_t total, bool enabled);
  ~ProgressBar();
  // Redraws at most ten times a second, and always on the last unit.
  void update(uint64_t done, const std::string& label);
  void finish();  // clears the line

  // True when stderr is a terminal (the default for `enabled`).
  static bool stderr_is_tty();

 private:
  uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace jetlm
