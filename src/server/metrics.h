// The server's counters and latency histograms, rendered in the Prometheus
// text format (version 0.0.4) together with the engine's gauges. Updated from
// the engine's thread (token events) and the HTTP threads (requests).
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace jetlm {

// Cumulative histogram over fixed upper bounds (seconds).
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size(), 0) {}
  void observe(double v);
  // "# HELP/# TYPE" plus the _bucket, _sum and _count lines.
  void render(std::string& out, const char* name, const char* help) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bound: observations <= it (not yet cumulative)
  uint64_t count_ = 0;
  double sum_ = 0;
};

class Metrics {
 public:
  Metrics();
  void request_started();                 // an API request that generates
  void request_rejected(int status);      // answered with an error before generating
  void first_token(double ttft_s);
  void next_token(double itl_s);
  void request_done(const TokenEvent& fin);
  std::string render(const EngineStats& es) const;

 private:
  mutable std::mutex mu_;
  uint64_t started_ = 0, rejected_ = 0, queue_full_ = 0, finished_ = 0, errors_ = 0, cancelled_ = 0;
  uint64_t prompt_tokens_ = 0, cached_tokens_ = 0, generated_tokens_ = 0;
  double prompt_s_ = 0, generate_s_ = 0;
  Histogram ttft_, itl_, e2e_;
};

}  // namespace jetlm
