#include "engine/kv_slots.h"

#include <algorithm>

namespace jetlm {

KvSlots::KvSlots(Context& ctx) : ctx_(ctx), slots_(static_cast<size_t>(ctx.n_seq())) {
  for (int s = 0; s < ctx.n_seq(); ++s) ctx.truncate(s, 0);  // what an earlier user left is unknown
}

int KvSlots::usable_prefix(int s, const std::vector<int32_t>& prompt) const {
  const std::vector<int32_t>& held = slots_[static_cast<size_t>(s)].tokens;
  const size_t limit = std::min(held.size(), prompt.empty() ? size_t(0) : prompt.size() - 1);
  int n = 0;
  while (static_cast<size_t>(n) < limit && held[static_cast<size_t>(n)] == prompt[static_cast<size_t>(n)]) ++n;
  while (n > 0 && !ctx_.can_truncate(s, n)) n = 0;  // a ring that cannot rewind that far: recompute
  return n;
}

KvSlots::Grant KvSlots::acquire(const std::vector<int32_t>& prompt) {
  Grant g;
  int best_busy = -1, busy_len = 0;
  for (int s = 0; s < n_slots(); ++s) {
    const Slot& sl = slots_[static_cast<size_t>(s)];
    const int n = usable_prefix(s, prompt);
    if (sl.busy) {
      if (n > busy_len) best_busy = s, busy_len = n;
      continue;
    }
    if (g.slot < 0 || n > g.reused || (n == g.reused && sl.last_used < slots_[static_cast<size_t>(g.slot)].last_used)) {
      g.slot = s;
      g.reused = n;
    }
  }
  if (g.slot < 0) return g;
  Slot& sl = slots_[static_cast<size_t>(g.slot)];
  if (best_busy >= 0 && busy_len > g.reused) {
    ctx_.copy_prefix(best_busy, g.slot, busy_len);
    g.reused = busy_len;
  } else {
    ctx_.truncate(g.slot, g.reused);
  }
  sl.busy = true;
  sl.tokens.assign(prompt.begin(), prompt.begin() + g.reused);
  sl.last_used = ++tick_;
  return g;
}

void KvSlots::release(int slot, const std::vector<int32_t>& tokens) {
  Slot& sl = slots_[static_cast<size_t>(slot)];
  sl.busy = false;
  sl.tokens = tokens;
  sl.tokens.resize(std::min(sl.tokens.size(), static_cast<size_t>(ctx_.n_past(slot))));
  sl.last_used = ++tick_;
}

void KvSlots::clear(int slot) {
  Slot& sl = slots_[static_cast<size_t>(slot)];
  sl.tokens.clear();
  ctx_.truncate(slot, 0);
}

int KvSlots::n_free() const {
  int n = 0;
  for (const Slot& s : slots_) n += s.busy ? 0 : 1;
  return n;
}

int64_t KvSlots::positions_used() const {
  int64_t n = 0;
  for (int s = 0; s < n_slots(); ++s)
    if (slots_[static_cast<size_t>(s)].busy) n += ctx_.n_past(s);
  return n;
}

}  // namespace jetlm
