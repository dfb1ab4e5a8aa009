#include "hub/progress.h"

#include <unistd.h>

#include <cstdio>

namespace jetlm::hub {

std::string format_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) {
    b /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", b, units[u]);
  return buf;
}

Progress::Progress(std::string name, int64_t total, int64_t already)
    : name_(std::move(name)), total_(total), start_bytes_(already), done_(already), tty_(::isatty(2) == 1),
      t0_(std::chrono::steady_clock::now()), last_draw_(t0_) {}

Progress::~Progress() {
  if (tty_ && !finished_) std::fprintf(stderr, "\r\033[K");
}

void Progress::update(int64_t done) {
  done_ = done;
  draw(false);
}

void Progress::draw(bool force) {
  if (!tty_) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double s = std::chrono::duration<double>(now - t0_).count();
  const double rate = s > 0 ? (done_ - start_bytes_) / s : 0;
  const double frac = total_ > 0 ? static_cast<double>(done_) / total_ : 1;
  const int width = 30, fill = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(fill), '=');
  if (fill < width) bar += '>' + std::string(static_cast<size_t>(width - fill - 1), ' ');
  const int eta = rate > 0 ? static_cast<int>((total_ - done_) / rate) : 0;
  std::fprintf(stderr, "\r\033[K%s %3d%% [%s] %s / %s  %s/s  ETA %d:%02d", name_.c_str(), static_cast<int>(frac * 100),
               bar.c_str(), format_bytes(done_).c_str(), format_bytes(total_).c_str(), format_bytes(rate).c_str(), eta / 60,
               eta % 60);
}

void Progress::finish(const std::string& how) {
  if (finished_) return;
  finished_ = true;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  const double moved = static_cast<double>(done_ - start_bytes_);
  if (tty_) std::fprintf(stderr, "\r\033[K");
  std::fprintf(stderr, "jetlm: %s %s: %s in %.1f s (%s/s)\n", how.c_str(), name_.c_str(), format_bytes(moved).c_str(), s,
               format_bytes(s > 0 ? moved / s : 0).c_str());
}

}  // namespace jetlm::hub
