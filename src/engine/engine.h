// The serving engine: one loaded model (weights held once), many sequences.
// Requests are queued, admitted while KV slots are free, and decoded together
// in one forward pass per step (continuous batching: the prompt chunks of new
// requests ride along with the single decode tokens of running ones). Each
// request receives per-token events with timestamps on its callback.
//
// Threading: submit/cancel/stats are thread-safe; callbacks run on the
// engine's own thread and must return quickly (push to a queue, write a socket).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/context.h"
#include "runtime/generator.h"
#include "text/tokenizer.h"
#include "util/error.h"

namespace jetlm {

struct EngineOptions {
  int n_queue = 64;        // requests waiting beyond the running ones; submit() throws QueueFull past it
  int n_chunk = 256;       // prompt tokens of one request per step (long prompts do not stall others)
  bool background = true;  // a thread of its own runs the steps; false: run_until_idle() does
};

// One generated token (or the end of a request).
struct TokenEvent {
  int32_t token = -1;     // -1 on the final event
  std::string text;       // new text (UTF-8; held back while it may be a stop string or half a character;
                          // the final event carries what was held back, if anything)
  double t_ms = 0;        // milliseconds since submit()
  float logprob = 0;      // log-probability of token under the model (temperature 1), when n_probs >= 0
  std::vector<std::pair<int32_t, float>> top;  // the n_probs most likely tokens and their log-probabilities
  // Set on the final event (done):
  bool done = false;
  std::string stop_reason;  // "eos", "stop", "length", "context", "cancelled", "error"
  std::string error;        // message when stop_reason == "error"
  GenerateStats stats;      // n_prompt (computed), n_reused (from the cache), n_generated, timings
};

struct Request {
  std::vector<int32_t> prompt;  // not empty; must fit in the slot's context (submit throws Error)
  GenerateParams params;        // n_predict, sampling (own seed), stop strings, ignore_eos
  int n_probs = -1;             // >= 0: fill logprob, and top with that many entries
  // Returns false to cancel the request (it then receives its final event).
  std::function<bool(const TokenEvent&)> on_event;
};

class QueueFull : public Error {
 public:
  explicit QueueFull(const std::string& msg) : Error(msg) {}
};

struct EngineStats {
  int n_running = 0, n_queued = 0, n_slots = 0;
  int64_t kv_used = 0, kv_total = 0;  // positions held / positions of all slots
  uint64_t n_requests = 0, n_prompt_tokens = 0, n_cached_tokens = 0, n_generated_tokens = 0;
};

class Engine {
 public:
  using RequestId = uint64_t;
  // Runs on ctx (its sequence slots are the parallel sequences; the model's
  // weights are the context's, held once). ctx and tok must outlive the engine.
  Engine(Context& ctx, const Tokenizer& tok, const EngineOptions& opts = EngineOptions());
  ~Engine();  // cancels what is left and joins the thread

  RequestId submit(Request r);  // throws QueueFull, or Error for a prompt that can never fit
  void cancel(RequestId id);    // the request gets its final event ("cancelled") soon after
  EngineStats stats() const;
  int n_ctx_slot() const;       // tokens one sequence may hold
  // Without a background thread: runs steps on the calling thread until nothing is queued or running.
  void run_until_idle();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace jetlm
