#include "text/jinja/budget.h"

#include <algorithm>

#include "text/jinja/value.h"
#include "util/error.h"

namespace jetlm::jinja {
namespace {

thread_local Budget* t_budget = nullptr;
thread_local int t_value_depth = 0;

const Limits& default_limits() {
  static const Limits limits;
  return limits;
}

}  // namespace

Budget::Budget(const Limits& limits)
    : limits_(limits),
      deadline_(std::chrono::steady_clock::now() +
                std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(limits.max_seconds))),
      outer_(t_budget) {
  t_budget = this;
}

Budget::~Budget() {
  t_budget = outer_;
  // Break reference cycles through namespaces: hold every live namespace,
  // empty them all, then let go. Emptying one cannot free another (all are
  // held), so this never recurses however the namespaces point at each other.
  try {
    std::vector<std::shared_ptr<Dict>> live;
    live.reserve(namespaces_.size());
    for (const auto& w : namespaces_)
      if (auto p = w.lock()) live.push_back(std::move(p));
    std::vector<std::pair<Value, Value>> garbage;
    for (const auto& ns : live) {
      garbage.clear();
      garbage.swap(ns->entries);
    }
  } catch (...) {
    // Out of memory while cleaning up: leaking a cycle is the lesser harm.
  }
}

void Budget::step() {
  if (++steps_ > limits_.max_steps) fail("template exceeds ", limits_.max_steps, " loop iterations and macro calls");
  check_time();
}

void Budget::check_time() const {
  if (std::chrono::steady_clock::now() > deadline_) fail("template ran longer than ", limits_.max_seconds, " s");
}

void Budget::track_namespace(const std::shared_ptr<Dict>& ns) {
  if (namespaces_.size() >= compact_at_) {
    // Drop the namespaces already freed, so a loop creating them stays O(1) amortised in memory.
    std::vector<std::weak_ptr<Dict>> alive;
    for (auto& w : namespaces_)
      if (!w.expired()) alive.push_back(std::move(w));
    namespaces_.swap(alive);
    compact_at_ = std::max<size_t>(1024, 2 * namespaces_.size());
  }
  namespaces_.push_back(ns);
}

Budget* current_budget() { return t_budget; }

const Limits& current_limits() { return t_budget ? t_budget->limits() : default_limits(); }

void check_string_bytes(uint64_t bytes) {
  const uint64_t cap = current_limits().max_string_bytes;
  if (bytes > cap) fail("template builds a string of ", bytes, " bytes, over the limit of ", cap);
}

void check_string_repeat(uint64_t unit, uint64_t count) {
  if (unit == 0 || count == 0) return;
  const uint64_t cap = current_limits().max_string_bytes;
  if (count > cap / unit) fail("template builds a string of ", count, " x ", unit, " bytes, over the limit of ", cap);
}

void check_list_items(uint64_t items, uint64_t copies) {
  if (items == 0 || copies == 0) return;
  const uint64_t cap = current_limits().max_list_items;
  if (copies > cap / items) {
    if (copies == 1) fail("template builds a list of ", items, " items, over the limit of ", cap);
    fail("template builds a list of ", items, " x ", copies, " items, over the limit of ", cap);
  }
}

void append_bounded(std::string& out, const std::string& text) {
  check_string_bytes(static_cast<uint64_t>(out.size()) + text.size());
  out += text;
}

ValueDepthGuard::ValueDepthGuard() {
  if (t_value_depth >= current_limits().max_value_depth) {
    // Python raises RecursionError here; the cap is reached by nesting, not by a cycle (see repr).
    fail("RecursionError: value nested deeper than ", current_limits().max_value_depth, " levels");
  }
  ++t_value_depth;
}

ValueDepthGuard::~ValueDepthGuard() { --t_value_depth; }

}  // namespace jetlm::jinja
