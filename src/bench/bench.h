// jetlm bench: llama-bench's measurements (prompt processing ppN, token
// generation tgN, both ppN+tgM) on a loaded model, and its report formats.
// Timings exclude loading the model and creating the context; each test runs
// once to warm up (pages of the map, caches, thread pool), then r times.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "formats/tensor_type.h"

namespace jetlm {

class Model;

struct BenchTest {
  int n_prompt = 0;  // tokens processed in batches of n_batch
  int n_gen = 0;     // tokens generated one at a time
  int n_depth = 0;   // tokens already in the KV cache when the test starts (llama-bench's -d)
  std::string name() const;  // "pp512", "tg128", "pp512+tg128", "tg128 @ d1024"
};

// One point of the parameter sweep.
struct BenchParams {
  BenchTest test;
  int n_threads = 0;
  int n_gpu_layers = 0;
  int n_batch = 512;
  TensorType kv_type = TensorType::F16;
  int repetitions = 5;
  bool unified = false;  // the GPU reads the weights from the map in place
};

// What the report says about a model file.
struct BenchModelInfo {
  std::string path, filename;
  std::string type;         // "qwen2 0.5B Q4_K - Medium", as llama-bench describes it
  uint64_t size = 0;        // bytes of weights
  int64_t n_params = 0;
  uint64_t bytes_per_token = 0;  // weight bytes read per generated token
};
BenchModelInfo describe_model(const Model& m, const std::string& path);
// "0.5B", "1.1B", "15M", "293K" (the params part of the model label).
std::string params_label(int64_t n_params);

// UTC now, ISO 8601; the CPU's model name from /proc/cpuinfo.
std::string bench_utc_now();
std::string bench_cpu_name();

struct BenchResult {
  BenchModelInfo model;
  BenchParams params;
  std::string backend;  // "CPU", "CUDA", ...
  std::string cpu_info;  // CPU model name (llama-bench's cpu_info)
  std::string cpu_isa;   // kernel set of the CPU backend: scalar, avx2, neon, dotprod
  std::string test_time;  // UTC, ISO 8601, when the measurement started
  std::vector<uint64_t> samples_ns;
  uint64_t peak_rss = 0;  // bytes, peak resident set while this test ran (model pages included)
  int64_t gpu_bytes = -1; // device memory the context took (weights unless unified, KV, scratch); -1: no GPU

  std::vector<double> samples_ts() const;
  double avg_ns() const;
  double stddev_ns() const;
  double avg_ts() const;
  double stddev_ts() const;
  // Achieved weight bandwidth of token generation (tgN only; 0 otherwise).
  double gbs() const;
  // Achieved FLOP/s of prompt processing (ppN only: 2 x parameters x tokens/s; 0 otherwise).
  double flops() const;
  double peak_gbs = 0;  // measured memory bandwidth for the roofline (0: not measured)
  double roofline_pct() const { return peak_gbs > 0 && gbs() > 0 ? 100.0 * gbs() / peak_gbs : -1; }
};

// Runs one test point: warm-up, then params.repetitions timed runs.
BenchResult run_bench(const Model& m, const BenchModelInfo& info, const BenchParams& params);

// Streams results in llama-bench's formats: md, csv, json, jsonl.
class BenchPrinter {
 public:
  virtual ~BenchPrinter() = default;
  virtual void begin() {}
  virtual void result(const BenchResult& r) = 0;
  virtual void end() {}
};
// show_ngl: add the ngl column (when any point offloads layers).
std::unique_ptr<BenchPrinter> make_bench_printer(const std::string& format, FILE* out, bool show_ngl);

}  // namespace jetlm
