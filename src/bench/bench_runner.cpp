#include <algorithm>
#include <chrono>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <random>

#include <sys/resource.h>

#include "backends/cpu/cpu_features.h"
#include "backends/gpu_factory.h"
#include "bench/bench.h"
#include "models/context.h"
#include "models/model.h"
#include "gguf/gguf.h"
#include "util/error.h"

namespace jetlm {

namespace {

// llama.cpp's names of general.file_type (llama_model_ftype_name).
std::string ftype_name(uint32_t ft, const Model& m) {
  switch (ft) {
    case 0: return "all F32";
    case 1: return "F16";
    case 2: return "Q4_0";
    case 3: return "Q4_1";
    case 7: return "Q8_0";
    case 8: return "Q5_0";
    case 9: return "Q5_1";
    case 10: return "Q2_K - Medium";
    case 11: return "Q3_K - Small";
    case 12: return "Q3_K - Medium";
    case 13: return "Q3_K - Large";
    case 14: return "Q4_K - Small";
    case 15: return "Q4_K - Medium";
    case 16: return "Q5_K - Small";
    case 17: return "Q5_K - Medium";
    case 18: return "Q6_K";
    case 21: return "Q2_K - Small";
    case 25: return "IQ4_NL - 4.5 bpw";
    case 32: return "BF16";
    default: break;
  }
  // No (or an unknown) general.file_type: the type holding most of the weight bytes.
  size_t best = 0;
  TensorType type = TensorType::F32;
  std::vector<std::pair<TensorType, size_t>> bytes;
  for (const GgufTensor& t : m.file().tensors()) {
    auto it = std::find_if(bytes.begin(), bytes.end(), [&](const std::pair<TensorType, size_t>& b) { return b.first == t.type; });
    if (it == bytes.end()) it = bytes.insert(bytes.end(), {t.type, 0});
    it->second += t.nbytes;
    if (it->second > best) best = it->second, type = t.type;
  }
  if (best == 0) return "?";
  if (type == TensorType::F32) return "all F32";
  std::string name = type_name(type);
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

// llama-bench's size labels: "0.5B", "1.1B", "15M", "293K".
std::string params_label(int64_t n_params) {
  const double np = static_cast<double>(n_params);
  char buf[32];
  if (np >= 1e8) {
    std::snprintf(buf, sizeof buf, "%.1f", np / 1e9);
    std::string s = buf;
    if (s.size() > 2 && s.compare(s.size() - 2, 2, ".0") == 0) s.resize(s.size() - 2);
    return s + "B";
  }
  if (np >= 1e6) std::snprintf(buf, sizeof buf, "%.0fM", np / 1e6);
  else std::snprintf(buf, sizeof buf, "%.0fK", np / 1e3);
  return buf;
}

namespace {

// Resets the kernel's high-water mark of this process's resident set (Linux >= 4.0).
void reset_peak_rss() {
  if (FILE* f = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", f);
    std::fclose(f);
  }
}

uint64_t peak_rss() {
  if (FILE* f = std::fopen("/proc/self/status", "r")) {
    char line[256];
    uint64_t kb = 0;
    while (std::fgets(line, sizeof line, f))
      if (std::sscanf(line, "VmHWM: %lu kB", &kb) == 1) break;
    std::fclose(f);
    if (kb) return kb * 1024;
  }
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<uint64_t>(ru.ru_maxrss) * 1024;
}

}  // namespace

// "model name" (x86) or "CPU part"-less fallback (ARM) from /proc/cpuinfo.
std::string bench_cpu_name() {
  std::string name = "unknown";
  if (FILE* f = std::fopen("/proc/cpuinfo", "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, f)) {
      if (std::strncmp(line, "model name", 10) != 0) continue;
      const char* colon = std::strchr(line, ':');
      if (!colon) continue;
      name = colon + 1;
      while (!name.empty() && (name.front() == ' ' || name.front() == '\t')) name.erase(name.begin());
      while (!name.empty() && (name.back() == '\n' || name.back() == ' ')) name.pop_back();
      break;
    }
    std::fclose(f);
  }
  return name;
}

std::string bench_utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string BenchTest::name() const {
  std::string s;
  if (n_prompt > 0 && n_gen > 0) s = str_cat("pp", n_prompt, "+tg", n_gen);
  else if (n_prompt > 0) s = str_cat("pp", n_prompt);
  else s = str_cat("tg", n_gen);
  return n_depth > 0 ? str_cat(s, " @ d", n_depth) : s;
}

BenchModelInfo describe_model(const Model& m, const std::string& path) {
  BenchModelInfo info;
  info.path = path;
  const size_t slash = path.find_last_of('/');
  info.filename = slash == std::string::npos ? path : path.substr(slash + 1);
  info.size = m.weights_bytes();
  info.n_params = m.n_params();
  info.bytes_per_token = m.bytes_per_token();
  const uint32_t ft = m.file().get_u32_or("general.file_type", 0xFFFFFFFFu);
  info.type = str_cat(m.hparams().arch_name, " ", params_label(info.n_params), " ", ftype_name(ft, m));
  return info;
}

std::vector<double> BenchResult::samples_ts() const {
  std::vector<double> v;
  const double tokens = params.test.n_prompt + params.test.n_gen;
  for (uint64_t ns : samples_ns) v.push_back(tokens * 1e9 / static_cast<double>(ns));
  return v;
}

namespace {
double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}
// Sample standard deviation, as llama-bench reports it.
double stdev(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}
std::vector<double> as_double(const std::vector<uint64_t>& v) { return std::vector<double>(v.begin(), v.end()); }
}  // namespace

double BenchResult::avg_ns() const { return mean(as_double(samples_ns)); }
double BenchResult::stddev_ns() const { return stdev(as_double(samples_ns)); }
double BenchResult::avg_ts() const { return mean(samples_ts()); }
double BenchResult::stddev_ts() const { return stdev(samples_ts()); }
double BenchResult::gbs() const {
  if (params.test.n_prompt > 0 || params.test.n_gen == 0) return 0;
  return static_cast<double>(model.bytes_per_token) * avg_ts() / 1e9;
}

double BenchResult::flops() const {
  if (params.test.n_prompt == 0 || params.test.n_gen > 0) return 0;
  return 2.0 * static_cast<double>(model.n_params) * avg_ts();
}

BenchResult run_bench(const Model& m, const BenchModelInfo& info, const BenchParams& p) {
  BenchResult r;
  r.model = info;
  r.params = p;
  r.test_time = bench_utc_now();
  const int n_vocab = m.hparams().n_vocab;

  ContextOptions co;
  co.n_ctx = std::max(1, p.test.n_depth + p.test.n_prompt + p.test.n_gen);
  co.n_batch = p.n_batch;
  co.n_threads = p.n_threads;
  co.n_gpu_layers = p.n_gpu_layers;
  co.kv_type = p.kv_type;
  co.unified = p.unified;
  reset_peak_rss();
  size_t free0 = 0, free1 = 0, total = 0;
  const bool gpu_mem = p.n_gpu_layers > 0 && gpu_memory_info(&free0, &total);
  Context ctx(m, co);
  r.backend = ctx.backend_summary();
  r.cpu_isa = cpu_isa_name(select_cpu_isa());
  static const std::string cpu_name = bench_cpu_name();
  r.cpu_info = cpu_name;

  // Random token ids (the content does not change the work), fixed seed as llama-bench.
  std::mt19937 rng(42);
  std::vector<int32_t> prompt(static_cast<size_t>(p.test.n_prompt));
  for (auto& id : prompt) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(n_vocab));
  // Logits go to the context's own buffer (as llama-bench's go to llama.cpp's).
  auto run_prompt = [&] { ctx.decode(prompt.data(), p.test.n_prompt, false, nullptr); };
  auto run_gen = [&](int count) {
    for (int i = 0; i < count; ++i) {
      const int32_t id = static_cast<int32_t>(rng() % static_cast<uint32_t>(n_vocab));
      ctx.decode(&id, 1, false, nullptr);
    }
  };

  // Depth (-d): the cache holds n_depth tokens before each timed run. They are
  // computed once, untimed; each repetition truncates back to them.
  const int depth = p.test.n_depth;
  if (depth > 0) {
    std::vector<int32_t> fill(static_cast<size_t>(depth));
    for (auto& id : fill) id = static_cast<int32_t>(rng() % static_cast<uint32_t>(n_vocab));
    ctx.decode(fill.data(), depth, false, nullptr);
  }
  // Warm-up, as llama-bench: one prompt pass and one generated token.
  if (p.test.n_prompt > 0) run_prompt();
  if (p.test.n_gen > 0) {
    ctx.truncate(depth);
    run_gen(1);
  }
  if (gpu_mem && gpu_memory_info(&free1, &total)) r.gpu_bytes = static_cast<int64_t>(free0) - static_cast<int64_t>(free1);
  for (int rep = 0; rep < p.repetitions; ++rep) {
    ctx.truncate(depth);
    const auto t0 = std::chrono::steady_clock::now();
    if (p.test.n_prompt > 0) run_prompt();
    if (p.test.n_gen > 0) run_gen(p.test.n_gen);
    const auto t1 = std::chrono::steady_clock::now();
    r.samples_ns.push_back(static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count()));
  }
  r.peak_rss = peak_rss();
  return r;
}

}  // namespace jetlm
