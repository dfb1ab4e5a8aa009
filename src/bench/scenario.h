// Request shapes of the scenario benchmark: IN prompt tokens, OUT generated
// tokens (exactly OUT: end-of-sequence is ignored, as llama-bench does).
#pragma once
#include <string>
#include <vector>

namespace jetlm {

struct Scenario {
  std::string name;  // "chat", or "IN:OUT" for a shape given by its numbers
  int n_in = 0;      // prompt tokens
  int n_out = 0;     // generated tokens
};

// The untimed request before a scenario's repetitions: the same code paths
// (prompt chunks of up to 512 tokens, then decode steps), not the same length:
// at most 512 prompt and 4 generated tokens (llama-bench likewise warms up with
// one prompt and a single generated token).
Scenario warmup_shape(const Scenario& sc);

// The nine shapes of the seeds' workloads (chat 128:1024 ... context-heavy 4096:512).
const std::vector<Scenario>& named_scenarios();
// The short shapes of "quick" (a fast look; they fit a 512-token context).
const std::vector<Scenario>& quick_scenarios();

// "chat,rag", "all", "quick", "128:64", mixed; throws UsageError naming the bad item.
std::vector<Scenario> parse_scenarios(const std::string& list);

}  // namespace jetlm
