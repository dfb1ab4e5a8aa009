// One request's life in the engine: its prompt, its own sampler (seed,
// penalties), stop strings and streaming text decoder, and what it has
// produced. The scheduler feeds it logits; it says what to feed next.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "text/sampler.h"
#include "text/stop_matcher.h"
#include "text/tokenizer.h"

namespace jetlm {

class Sequence {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State { Queued, Prefill, Decode, Done };

  Sequence(uint64_t id, Request r, const Tokenizer& tok, int n_vocab);

  uint64_t id() const { return id_; }
  State state() const { return state_; }
  const std::vector<int32_t>& prompt() const { return req_.prompt; }

  // Admission into KV slot `slot` whose first `reused` positions already hold the prompt's prefix.
  void admit(int slot, int reused);
  int slot() const { return slot_; }
  // Prompt tokens still to compute (Prefill), and marking `n` of them computed.
  int prompt_left() const { return static_cast<int>(req_.prompt.size()) - n_fed_; }
  int n_fed() const { return n_fed_; }
  void fed(int n) { n_fed_ += n; }
  // The token a Decode step feeds (the last one sampled).
  int32_t next_token() const { return next_; }

  // The logits after the last fed token: samples, streams text, decides whether
  // to go on. Returns false when the sequence has finished (its final event sent).
  // room: positions left in the slot after the token this step would feed.
  bool on_logits(const float* logits, bool room);
  // Ends the sequence now with reason ("cancelled", "error", "context") and the final event.
  void finish(const std::string& reason, const std::string& error = "");

  bool cancel_requested() const { return cancel_.load(); }
  void request_cancel() { cancel_ = true; }
  // Tokens this sequence put in its slot (prompt + fed samples), for prefix reuse.
  const std::vector<int32_t>& cached() const { return cached_; }
  void cached_push(int32_t id) { cached_.push_back(id); }
  const GenerateStats& stats() const { return stats_; }

 private:
  double ms_since_submit() const;
  bool emit(TokenEvent& e);  // false: the client cancelled

  uint64_t id_;
  Request req_;
  const Tokenizer& tok_;
  int n_vocab_;
  Sampler sampler_;
  StreamDecoder decoder_;
  StopMatcher stops_;
  State state_ = State::Queued;
  int slot_ = -1;
  int n_fed_ = 0;
  int32_t next_ = -1;
  std::vector<int32_t> cached_;
  std::atomic<bool> cancel_{false};
  Clock::time_point t_submit_, t_admit_, t_first_;
  GenerateStats stats_;
};

}  // namespace jetlm
