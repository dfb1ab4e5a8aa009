// Continuous batching: which sequences run, and what one forward pass holds.
// Queued requests are admitted in arrival order while a KV slot is free; each
// step takes one token of every decoding sequence, then prompt chunks of
// admitted ones (n_chunk at most each, n_batch in all), so a long prompt is
// spread over steps and never stalls the running streams.
#pragma once
#include <deque>
#include <memory>
#include <vector>

#include "engine/kv_slots.h"
#include "engine/sequence.h"

namespace jetlm {

class Scheduler {
 public:
  Scheduler(Context& ctx, int n_batch, int n_chunk) : ctx_(ctx), slots_(ctx), n_batch_(n_batch), n_chunk_(n_chunk) {}

  void enqueue(std::shared_ptr<Sequence> s) { queue_.push_back(std::move(s)); }
  bool idle() const { return queue_.empty() && running_.empty(); }
  // One step: admissions, cancellations, one forward pass, sampling, events.
  // Sequences that finished are dropped (their slots keep the cache for reuse).
  void step();

  int n_queued() const { return static_cast<int>(queue_.size()); }
  int n_running() const { return static_cast<int>(running_.size()); }
  const KvSlots& slots() const { return slots_; }
  // Every sequence still queued or running (to cancel them at shutdown).
  std::vector<std::shared_ptr<Sequence>> all() const;

 private:
  void admit();
  void drop_finished();
  // Fills batch_ and rows_ (the sequence of each wanted logits row, in order).
  void build_batch();

  Context& ctx_;
  KvSlots slots_;
  int n_batch_, n_chunk_;
  std::deque<std::shared_ptr<Sequence>> queue_;
  std::vector<std::shared_ptr<Sequence>> running_;  // admitted, in admission order
  DecodeBatch batch_;
  std::vector<Sequence*> rows_;
  std::vector<int> fed_;  // prompt tokens each running sequence put in this batch
};

}  // namespace jetlm
