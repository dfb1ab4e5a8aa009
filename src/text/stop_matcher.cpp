#include "text/stop_matcher.h"

#include <algorithm>

namespace jetlm {

size_t partial_stop_length(const std::string& text, const std::string& stop) {
  const size_t max_len = std::min(text.size(), stop.empty() ? 0 : stop.size() - 1);
  for (size_t len = max_len; len > 0; --len)
    if (text.compare(text.size() - len, len, stop, 0, len) == 0) return len;
  return 0;
}

StopMatcher::StopMatcher(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

StopMatcher::Result StopMatcher::push(const std::string& chunk) {
  Result r;
  if (stopped_) return r;
  pending_ += chunk;
  // The earliest completed stop string wins; text before it is still shown.
  size_t first = std::string::npos;
  for (const auto& s : stops_) {
    const size_t at = pending_.find(s);
    if (at != std::string::npos && (first == std::string::npos || at < first)) {
      first = at;
      matched_ = s;
    }
  }
  if (first != std::string::npos) {
    r.text = pending_.substr(0, first);
    r.stopped = stopped_ = true;
    pending_.clear();
    return r;
  }
  size_t hold = 0;
  for (const auto& s : stops_) hold = std::max(hold, partial_stop_length(pending_, s));
  r.text = pending_.substr(0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return r;
}

std::string StopMatcher::flush() {
  std::string out;
  out.swap(pending_);
  return out;
}

}  // namespace jetlm
