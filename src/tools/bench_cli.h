// The parts of `jetlm bench` (cmd_bench.cpp parses and dispatches):
// llama-bench's pp/tg tests, scenario runs (in-process or --url), --bandwidth, --compare.
#pragma once
#include <string>
#include <vector>

#include "tools/args.h"

namespace jetlm {

// Values of a list option given once or several times (-m a.gguf -m b.gguf, -m a.gguf,b.gguf).
std::vector<std::string> bench_list_items(const Args& a, const std::string& name);
// The model files of -m (paths, ollama:NAME) and -hf (Hub repositories, downloaded if missing).
std::vector<std::string> bench_model_paths(const Args& a);
// Integers of a list option with llama-bench's ranges: "64-1024*2", "128-512+128", "1-4".
std::vector<int> bench_int_list(const Args& a, const std::string& name, int min_value);
// The roofline bandwidth (GB/s): --peak-gbs when given, else measured once
// (GPU device reads when gpu, else multi-threaded host reads); 0 when disabled.
double bench_peak_gbs(const Args& a, bool gpu);

int bench_scenarios(const Args& a);   // --scenarios / --url
int bench_bandwidth(const Args& a);   // --bandwidth
int bench_compare(const Args& a);     // --compare A.json B.json
// Runs the plotting script on a JSON file (python3 with matplotlib); throws Error on failure.
void bench_plots(const std::string& json_path, const std::string& dir);

}  // namespace jetlm
