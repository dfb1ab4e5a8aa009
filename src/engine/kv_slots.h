// Which sequence holds which KV slot of a Context, and what each slot's cache
// holds (kept after a sequence ends, so a later request that shares its
// prefix, such as a chat's next turn, reuses it instead of recomputing).
#pragma once
#include <cstdint>
#include <vector>

#include "models/context.h"

namespace jetlm {

class KvSlots {
 public:
  explicit KvSlots(Context& ctx);

  struct Grant {
    int slot = -1;   // -1: no free slot
    int reused = 0;  // leading prompt positions already in the slot
  };
  // A free slot for this prompt: the one whose cache shares the longest prefix
  // with it (least recently used among equals). A longer prefix held by a busy
  // slot is copied over (Context::copy_prefix). At least the last prompt token
  // is left to compute, so that its logits exist.
  Grant acquire(const std::vector<int32_t>& prompt);
  // The slot's sequence ended; its cache holds `tokens` (prompt + fed samples).
  void release(int slot, const std::vector<int32_t>& tokens);
  // Forget a slot's cache (after an error left it in an unknown state).
  void clear(int slot);

  int n_free() const;
  int n_slots() const { return static_cast<int>(slots_.size()); }
  int64_t positions_used() const;  // positions held by busy slots

 private:
  struct Slot {
    bool busy = false;
    std::vector<int32_t> tokens;  // what the cache holds (free slots: what the last sequence left)
    uint64_t last_used = 0;
  };
  // Usable prefix of `prompt` in slot s: the common prefix, at most prompt.size() - 1,
  // and only as far back as the slot can rewind.
  int usable_prefix(int s, const std::vector<int32_t>& prompt) const;

  Context& ctx_;
  std::vector<Slot> slots_;
  uint64_t tick_ = 0;
};

}  // namespace jetlm
