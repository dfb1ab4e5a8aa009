#include "engine/scheduler.h"

#include <algorithm>

namespace jetlm {

std::vector<std::shared_ptr<Sequence>> Scheduler::all() const {
  std::vector<std::shared_ptr<Sequence>> v(queue_.begin(), queue_.end());
  v.insert(v.end(), running_.begin(), running_.end());
  return v;
}

void Scheduler::admit() {
  // Cancelled before admission: finish them where they wait.
  for (auto it = queue_.begin(); it != queue_.end();) {
    if ((*it)->cancel_requested()) {
      (*it)->finish("cancelled");
      it = queue_.erase(it);
    } else {
      ++it;
    }
  }
  while (!queue_.empty() && slots_.n_free() > 0) {
    std::shared_ptr<Sequence> s = queue_.front();
    queue_.pop_front();
    const KvSlots::Grant g = slots_.acquire(s->prompt());
    s->admit(g.slot, g.reused);
    running_.push_back(std::move(s));
  }
}

void Scheduler::drop_finished() {
  for (auto it = running_.begin(); it != running_.end();) {
    Sequence& s = **it;
    if (s.state() != Sequence::State::Done && s.cancel_requested()) s.finish("cancelled");
    if (s.state() == Sequence::State::Done) {
      slots_.release(s.slot(), s.cached());
      it = running_.erase(it);
    } else {
      ++it;
    }
  }
}

void Scheduler::build_batch() {
  batch_.clear();
  rows_.clear();
  fed_.assign(running_.size(), 0);
  // One token of every decoding sequence first: they never wait for prompts.
  for (auto& sp : running_) {
    Sequence& s = *sp;
    if (s.state() != Sequence::State::Decode) continue;
    batch_.add(s.next_token(), s.slot(), ctx_.n_past(s.slot()), true);
    rows_.push_back(&s);
  }
  // Then prompt chunks, oldest admission first, within the step's budget.
  int budget = std::max(0, n_batch_ - batch_.size());
  for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
    Sequence& s = *running_[i];
    if (s.state() != Sequence::State::Prefill) continue;
    const int m = std::min({s.prompt_left(), n_chunk_, budget});
    const int p0 = ctx_.n_past(s.slot());
    for (int j = 0; j < m; ++j) {
      const bool last = j + 1 == m && m == s.prompt_left();
      batch_.add(s.prompt()[static_cast<size_t>(s.n_fed() + j)], s.slot(), p0 + j, last);
    }
    if (m == s.prompt_left()) rows_.push_back(&s);
    fed_[i] = m;
    budget -= m;
  }
}

void Scheduler::step() {
  admit();
  drop_finished();
  if (running_.empty()) return;
  build_batch();
  if (batch_.size() == 0) return;
  try {
    ctx_.decode(batch_, nullptr);
  } catch (const std::exception& e) {
    // The pass failed as a whole: every sequence in it ends, and its slot is forgotten.
    for (auto& sp : running_) {
      sp->finish("error", e.what());
      slots_.release(sp->slot(), {});
      slots_.clear(sp->slot());
    }
    running_.clear();
    return;
  }
  // The batch's tokens are in the cache now.
  for (size_t i = 0; i < running_.size(); ++i) {
    Sequence& s = *running_[i];
    for (int j = 0; j < fed_[i]; ++j) s.cached_push(s.prompt()[static_cast<size_t>(s.n_fed() + j)]);
    s.fed(fed_[i]);
  }
  for (size_t r = 0; r < rows_.size(); ++r) {
    Sequence& s = *rows_[r];
    if (s.state() == Sequence::State::Decode) s.cached_push(s.next_token());
    const bool room = ctx_.n_past(s.slot()) < ctx_.n_ctx();
    s.on_logits(ctx_.logits(static_cast<int>(r)), room);
  }
  drop_finished();
}

}  // namespace jetlm
