// Distribution summaries of benchmark samples (TTFT, ITL, tokens/s ...).
#pragma once
#include <vector>

#include <nlohmann/json.hpp>

namespace jetlm {

struct Summary {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, min = 0, max = 0;
  size_t n = 0;  // samples summarized (0: all fields 0)
};

// Percentiles by linear interpolation between closest ranks (numpy's default).
Summary summarize(std::vector<double> v);
double percentile_sorted(const std::vector<double>& sorted, double q);  // q in [0, 1]

// {"mean","p50","p90","p99","min","max"}
nlohmann::json to_json(const Summary& s);

}  // namespace jetlm
