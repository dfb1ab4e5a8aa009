#include "bench/scenario.h"

#include <algorithm>

#include "tools/args.h"
#include "util/error.h"

namespace jetlm {

Scenario warmup_shape(const Scenario& sc) {
  Scenario w = sc;
  w.name += " (warm-up)";
  w.n_in = std::min(sc.n_in, 512);
  w.n_out = std::min(sc.n_out, 4);
  return w;
}

const std::vector<Scenario>& named_scenarios() {
  static const std::vector<Scenario> v = {
      {"chat", 128, 1024},        {"long-response", 256, 2048}, {"balanced", 512, 512},
      {"generation-heavy", 512, 4096}, {"completion", 1024, 128}, {"standard-chat", 1024, 1024},
      {"rag", 2048, 256},         {"long-context", 2048, 2048}, {"context-heavy", 4096, 512},
  };
  return v;
}

const std::vector<Scenario>& quick_scenarios() {
  // One chat-like, one prompt-heavy, one generation-heavy shape.
  static const std::vector<Scenario> v = {{"quick-chat", 32, 64}, {"quick-rag", 128, 16}, {"quick-gen", 16, 128}};
  return v;
}

std::vector<Scenario> parse_scenarios(const std::string& list) {
  std::vector<Scenario> out;
  size_t start = 0;
  while (start <= list.size()) {
    const size_t comma = list.find(',', start);
    const std::string item = list.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma == std::string::npos ? list.size() + 1 : comma + 1;
    if (item.empty()) continue;
    if (item == "all" || item == "quick") {
      const auto& v = item == "all" ? named_scenarios() : quick_scenarios();
      out.insert(out.end(), v.begin(), v.end());
      continue;
    }
    const size_t colon = item.find(':');
    if (colon != std::string::npos) {
      Scenario s;
      s.name = item;
      s.n_in = static_cast<int>(parse_int(item.substr(0, colon), "--scenarios " + item));
      s.n_out = static_cast<int>(parse_int(item.substr(colon + 1), "--scenarios " + item));
      if (s.n_in < 1 || s.n_out < 1 || s.n_in > (1 << 20) || s.n_out > (1 << 20))
        throw UsageError("--scenarios: " + item + ": IN and OUT must be at least 1");
      out.push_back(s);
      continue;
    }
    bool found = false;
    for (const auto* v : {&named_scenarios(), &quick_scenarios()})
      for (const Scenario& s : *v)
        if (s.name == item) {
          out.push_back(s);
          found = true;
        }
    if (!found) {
      std::string names;
      for (const Scenario& s : named_scenarios()) names += s.name + ", ";
      throw UsageError("--scenarios: unknown scenario '" + item + "' (expected " + names + "all, quick or IN:OUT)");
    }
  }
  if (out.empty()) throw UsageError("--scenarios: no scenario given");
  return out;
}

}  // namespace jetlm
