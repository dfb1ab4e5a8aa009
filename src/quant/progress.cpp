#include "quant/progress.h"

#include <unistd.h>

#include <cstdio>

namespace jetlm {

ProgressBar::ProgressBar(uint64_t total, bool enabled)
    : total_(total), enabled_(enabled), start_(std::chrono::steady_clock::now()), last_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

bool ProgressBar::stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

void ProgressBar::update(uint64_t done, const std::string& label) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && done < total_ && now - last_ < std::chrono::milliseconds(100)) return;
  last_ = now;
  drawn_ = true;
  const double frac = total_ ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  const int width = 30;
  const int filled = static_cast<int>(frac * width + 0.5);
  char bar[width + 1];
  for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
  bar[width] = '\0';
  const double secs = std::chrono::duration<double>(now - start_).count();
  // Pad the label so a shorter one overwrites a longer one.
  std::fprintf(stderr, "\r[%s] %3d%% %6.1fs  %-40.40s", bar, static_cast<int>(frac * 100 + 0.5), secs, label.c_str());
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (!enabled_ || !drawn_) return;
  std::fprintf(stderr, "\r%*s\r", 90, "");
  std::fflush(stderr);
  drawn_ = false;
}

}  // namespace jetlm
