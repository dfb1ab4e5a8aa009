// The resource budget of one template render. Chat templates are code from
// the model file (and from server requests), so every way a template can ask
// for unbounded work is capped here: integer overflow aside (operators.cpp),
// that is time, recursion, loop steps, value nesting and the size of what is
// built. The caps sit far above what real templates use, so they never change
// a benign rendering; hitting one is a template error, not a crash.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace jetlm::jinja {

struct Dict;

// The one source of truth for the caps (the parser's syntax nesting cap lives
// in parser.cpp: it bounds the program, not the run).
struct Limits {
  // Macro/caller() call depth. Real templates recurse a few levels (a macro
  // rendering nested tool schemas); jinja2 itself stops near Python's 1000
  // frames, and our frames are larger, so stay well below.
  int max_call_depth = 100;
  // Stack a render may use below its entry frame: frame sizes vary with the
  // build (sanitizers make them several times larger), so depth alone is not
  // enough. 1 MiB leaves the rest of a default 8 MiB thread stack (and of a
  // server worker's smaller one) to the caller.
  uint64_t max_stack_bytes = 1u << 20;
  // Nesting of values when printed, serialised (tojson), compared or read
  // from JSON input: these walk the value recursively. Real data (messages,
  // tool schemas) nests under 20 levels.
  int max_value_depth = 500;
  // Loop iterations plus macro calls per render: a real prompt of thousands
  // of messages takes tens of thousands; nested range() loops in a hostile
  // template would take hours.
  int64_t max_steps = 2000000;
  // Bytes of any one string built (the output, a macro's result, a
  // concatenation, padding): 64 MiB is far above any real prompt (a 1M-token
  // context is about 4 MiB of text) and small enough to allocate safely.
  uint64_t max_string_bytes = 64u << 20;
  // Elements of any one list built (repetition, range of strings, splitting,
  // iterating a string): each element is a ~100-byte Value, so 4M of them is
  // a few hundred MiB at worst.
  uint64_t max_list_items = 4u << 20;
  // Wall-clock time of one render. A real template renders in milliseconds,
  // even on a Jetson core under a sanitizer; a template that calls a macro
  // twice per level runs for ever within the other caps, so time stops it.
  double max_seconds = 5.0;
};

// The counters of the render in progress on this thread. Template::render
// installs one; the checks below read it (and fall back to default Limits
// outside a render, e.g. when a test calls an operator directly).
class Budget {
 public:
  explicit Budget(const Limits& limits);
  ~Budget();
  Budget(const Budget&) = delete;
  Budget& operator=(const Budget&) = delete;

  const Limits& limits() const { return limits_; }
  // One loop iteration or macro call; also checks the clock.
  void step();
  // Checks the clock every few hundred calls (cheap enough for every expression).
  void tick() {
    if (++ticks_ % 256 == 0) check_time();
  }
  void check_time() const;
  // Remembers a namespace so its contents can be dropped when the render
  // ends: namespaces are the only mutable values, so every reference cycle
  // (a namespace that contains itself) runs through one.
  void track_namespace(const std::shared_ptr<Dict>& ns);

 private:
  Limits limits_;
  std::chrono::steady_clock::time_point deadline_;
  int64_t steps_ = 0;
  uint64_t ticks_ = 0;
  std::vector<std::weak_ptr<Dict>> namespaces_;
  size_t compact_at_ = 1024;
  Budget* outer_;  // a render inside a render (a template calling back into C++)
};

// The budget of the render on this thread, or nullptr outside one.
Budget* current_budget();
// The limits in force on this thread (the render's, else the defaults).
const Limits& current_limits();

// Throws Error when a string of `bytes` bytes exceeds max_string_bytes.
void check_string_bytes(uint64_t bytes);
// Throws Error when `count` copies of `unit` bytes exceed max_string_bytes (no overflow).
void check_string_repeat(uint64_t unit, uint64_t count);
// Throws Error when a list of `items` elements (times `copies`, no overflow) exceeds max_list_items.
void check_list_items(uint64_t items, uint64_t copies = 1);
// Appends `text` to `out` within max_string_bytes.
void append_bounded(std::string& out, const std::string& text);

// Counts one level of recursion into a value (repr, tojson, ==, <, from JSON)
// and throws Error beyond max_value_depth.
class ValueDepthGuard {
 public:
  ValueDepthGuard();
  ~ValueDepthGuard();
  ValueDepthGuard(const ValueDepthGuard&) = delete;
  ValueDepthGuard& operator=(const ValueDepthGuard&) = delete;
};

}  // namespace jetlm::jinja
