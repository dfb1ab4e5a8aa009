// A Digest fed on its own thread: the download thread copies each piece into
// a 1 MiB chunk and moves on, so receiving, writing and hashing overlap and a
// CPU without SHA instructions does not slow the transfer to its hash rate.
#pragma once
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "hub/digest.h"

namespace jetlm::hub {

class BackgroundDigest {
 public:
  BackgroundDigest(Digest::Kind kind, size_t total_size);
  ~BackgroundDigest();
  BackgroundDigest(const BackgroundDigest&) = delete;
  BackgroundDigest& operator=(const BackgroundDigest&) = delete;

  void update(const void* data, size_t n);
  void reset();       // after the queued bytes are hashed
  std::string hex();  // waits for the queued bytes

 private:
  void drain();
  void run();
  static const size_t kChunk = 1 << 20, kMaxQueued = 16;  // at most 17 MiB in flight
  Digest digest_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::vector<char>> queue_;
  std::vector<char> current_;
  bool busy_ = false, stop_ = false;
  std::thread thread_;
};

}  // namespace jetlm::hub
