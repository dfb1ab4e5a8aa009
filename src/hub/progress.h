// Download progress on stderr: a bar (bytes, rate, ETA) redrawn in place when
// stderr is a terminal, else one summary line when the file is complete, so
// logs and error output stay one line each.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace jetlm::hub {

class Progress {
 public:
  Progress(std::string name, int64_t total, int64_t already);
  ~Progress();  // clears an unfinished bar, so an error line stands alone
  void update(int64_t done);
  void finish(const std::string& how = "downloaded");

 private:
  void draw(bool force);
  std::string name_;
  int64_t total_, start_bytes_, done_;
  bool tty_, finished_ = false;
  std::chrono::steady_clock::time_point t0_, last_draw_;
};

std::string format_bytes(double bytes);  // "1.5 GiB"

}  // namespace jetlm::hub
