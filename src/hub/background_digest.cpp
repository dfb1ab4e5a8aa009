#include "hub/background_digest.h"

#include <algorithm>

namespace jetlm::hub {

BackgroundDigest::BackgroundDigest(Digest::Kind kind, size_t total_size)
    : digest_(kind, total_size), thread_([this] { run(); }) {
  current_.reserve(kChunk);
}

BackgroundDigest::~BackgroundDigest() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BackgroundDigest::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping
    std::vector<char> chunk = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    cv_.notify_all();  // room in the queue
    digest_.update(chunk.data(), chunk.size());
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

void BackgroundDigest::update(const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    const size_t take = std::min(n, kChunk - current_.size());
    current_.insert(current_.end(), p, p + take);
    p += take;
    n -= take;
    if (current_.size() == kChunk) {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [this] { return queue_.size() < kMaxQueued; });
      queue_.push_back(std::move(current_));
      current_ = std::vector<char>();
      current_.reserve(kChunk);
      lock.unlock();
      cv_.notify_all();
    }
  }
}

void BackgroundDigest::drain() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!current_.empty()) {
    queue_.push_back(std::move(current_));
    current_ = std::vector<char>();
    cv_.notify_all();
  }
  cv_.wait(lock, [this] { return queue_.empty() && !busy_; });
}

void BackgroundDigest::reset() {
  drain();
  digest_.reset();
}

std::string BackgroundDigest::hex() {
  drain();
  return digest_.hex();
}

}  // namespace jetlm::hub
