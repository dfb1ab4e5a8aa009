#include "server/metrics.h"

#include <cstdarg>
#include <cstdio>

namespace jetlm {

void Histogram::observe(double v) {
  for (size_t i = 0; i < bounds_.size(); ++i)
    if (v <= bounds_[i]) {
      ++counts_[i];
      break;
    }
  ++count_;
  sum_ += v;
}

static void line(std::string& out, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
static void line(std::string& out, const char* fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  out += buf;
  out += '\n';
}

void Histogram::render(std::string& out, const char* name, const char* help) const {
  line(out, "# HELP %s %s", name, help);
  line(out, "# TYPE %s histogram", name);
  uint64_t cum = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cum += counts_[i];
    line(out, "%s_bucket{le=\"%g\"} %llu", name, bounds_[i], static_cast<unsigned long long>(cum));
  }
  line(out, "%s_bucket{le=\"+Inf\"} %llu", name, static_cast<unsigned long long>(count_));
  line(out, "%s_sum %.6f", name, sum_);
  line(out, "%s_count %llu", name, static_cast<unsigned long long>(count_));
}

// Bounds in seconds: time to first token spans queueing and prompt processing,
// inter-token latency one decode step of the batch.
Metrics::Metrics()
    : ttft_({0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60}),
      itl_({0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1}),
      e2e_({0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300}) {}

void Metrics::request_started() {
  std::lock_guard<std::mutex> l(mu_);
  ++started_;
}

void Metrics::request_rejected(int status) {
  std::lock_guard<std::mutex> l(mu_);
  ++rejected_;
  if (status == 503) ++queue_full_;
}

void Metrics::first_token(double s) {
  std::lock_guard<std::mutex> l(mu_);
  ttft_.observe(s);
}

void Metrics::next_token(double s) {
  std::lock_guard<std::mutex> l(mu_);
  itl_.observe(s);
}

void Metrics::request_done(const TokenEvent& fin) {
  std::lock_guard<std::mutex> l(mu_);
  ++finished_;
  if (fin.stop_reason == "error") ++errors_;
  if (fin.stop_reason == "cancelled") ++cancelled_;
  prompt_tokens_ += static_cast<uint64_t>(fin.stats.n_prompt + fin.stats.n_reused);
  cached_tokens_ += static_cast<uint64_t>(fin.stats.n_reused);
  generated_tokens_ += static_cast<uint64_t>(fin.stats.n_generated);
  prompt_s_ += fin.stats.prompt_ms / 1000;
  generate_s_ += fin.stats.generate_ms / 1000;
  e2e_.observe(fin.t_ms / 1000);
}

std::string Metrics::render(const EngineStats& es) const {
  std::lock_guard<std::mutex> l(mu_);
  std::string out;
  auto counter = [&](const char* name, const char* help, double v) {
    line(out, "# HELP %s %s", name, help);
    line(out, "# TYPE %s counter", name);
    line(out, "%s %.17g", name, v);
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    line(out, "# HELP %s %s", name, help);
    line(out, "# TYPE %s gauge", name);
    line(out, "%s %.17g", name, v);
  };
  counter("jetlm_requests_total", "Generation requests accepted", static_cast<double>(started_));
  counter("jetlm_requests_finished_total", "Generation requests that received their final event", static_cast<double>(finished_));
  counter("jetlm_requests_rejected_total", "Requests answered with an error before generating", static_cast<double>(rejected_));
  counter("jetlm_requests_queue_full_total", "Requests refused with 503 because the queue was full", static_cast<double>(queue_full_));
  counter("jetlm_requests_cancelled_total", "Requests cancelled (client gone)", static_cast<double>(cancelled_));
  counter("jetlm_requests_failed_total", "Requests that ended in an engine error", static_cast<double>(errors_));
  counter("jetlm_prompt_tokens_total", "Prompt tokens of finished requests (cached included)", static_cast<double>(prompt_tokens_));
  counter("jetlm_prompt_tokens_cached_total", "Prompt tokens reused from the KV cache", static_cast<double>(cached_tokens_));
  counter("jetlm_tokens_generated_total", "Tokens generated", static_cast<double>(generated_tokens_));
  counter("jetlm_prompt_seconds_total", "Time spent processing prompts", prompt_s_);
  counter("jetlm_generation_seconds_total", "Time spent generating, summed over requests", generate_s_);
  gauge("jetlm_tokens_per_second", "Mean generation speed of one request (tokens generated / generation seconds)",
        generate_s_ > 0 ? static_cast<double>(generated_tokens_) / generate_s_ : 0.0);
  gauge("jetlm_requests_running", "Sequences being decoded", es.n_running);
  gauge("jetlm_requests_queued", "Requests waiting for a slot", es.n_queued);
  gauge("jetlm_slots", "Sequence slots (--parallel)", es.n_slots);
  gauge("jetlm_kv_cache_used_positions", "KV cache positions held", static_cast<double>(es.kv_used));
  gauge("jetlm_kv_cache_total_positions", "KV cache positions of all slots", static_cast<double>(es.kv_total));
  gauge("jetlm_kv_cache_usage_ratio", "KV cache positions held / all", es.kv_total ? static_cast<double>(es.kv_used) / es.kv_total : 0.0);
  ttft_.render(out, "jetlm_time_to_first_token_seconds", "Time from submit to the first generated token");
  itl_.render(out, "jetlm_inter_token_latency_seconds", "Time between consecutive tokens of a request");
  e2e_.render(out, "jetlm_request_duration_seconds", "Time from submit to the final event");
  return out;
}

}  // namespace jetlm
