// Micro-benchmark of the CPU matrix kernels: achieved weight bandwidth of the
// matrix-vector product (token generation) per format, against the machine's
// read bandwidth measured the same way, and the throughput of the
// matrix-matrix product (prompt processing).
//
// Usage: bench_cpu_kernels [-t THREADS] [--isa NAME] [--types q4_K,q8_0,...] [--mib SIZE] [--tokens N] [--once]
// Each figure is the best of several runs (the machine is shared: the best
// run is the one least disturbed by other processes).
//
// --once: no timing; per type one matrix-vector and one matrix-matrix product
// of TinyLlama's FFN shape (5632 x 2048), for instruction counters that hold
// under load: valgrind --tool=callgrind (then callgrind_annotate: the kernels' own counts)
// (valgrind runs AVX2 at most: it does not emulate AVX-512).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/cpu/cpu_features.h"
#include "backends/cpu/cpu_matmul.h"
#include "backends/cpu/thread_pool.h"
#include "formats/blocks.h"
#include "formats/tensor_type.h"
#include "util/error.h"
#include "util/fp16.h"

using namespace jetlm;

namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <class F>
double best_of(int reps, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = now_s();
    f();
    best = std::min(best, now_s() - t0);
  }
  return best;
}

// Random blocks with tame fp16 scales at every offset a scale can sit (the
// values do not change the work; they only must not be inf/nan).
std::vector<uint8_t> random_weights(TensorType t, int64_t rows, int64_t cols) {
  std::vector<uint8_t> m(row_bytes(t, cols) * static_cast<size_t>(rows));
  std::mt19937 rng(1);
  for (size_t i = 0; i + 4 <= m.size(); i += 4) {
    const uint32_t v = rng();
    std::memcpy(&m[i], &v, 4);
  }
  const uint16_t h = f32_to_fp16(0.01f);
  for (size_t i = 0; i + 2 <= m.size(); i += 2)
    if ((m[i + 1] & 0x7C) == 0x7C) std::memcpy(&m[i], &h, 2);  // no inf/nan anywhere
  return m;
}

// Read bandwidth of the pool's threads over a buffer (the ceiling of a GEMV).
double read_bandwidth(ThreadPool& pool, size_t bytes) {
  std::vector<uint64_t> buf(bytes / 8, 1);
  std::vector<uint64_t> sink(64 * 8);
  const double t = best_of(5, [&] {
    pool.run([&](int ith, int nth) {
      const size_t n = buf.size() / static_cast<size_t>(nth);
      const uint64_t* p = buf.data() + n * static_cast<size_t>(ith);
      uint64_t a = 0, b = 0, c = 0, d = 0;
      for (size_t i = 0; i + 4 <= n; i += 4) {
        a ^= p[i];
        b ^= p[i + 1];
        c ^= p[i + 2];
        d ^= p[i + 3];
      }
      sink[static_cast<size_t>(ith) * 8] = a ^ b ^ c ^ d;
    });
  });
  return static_cast<double>(bytes) / t / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, tokens = 128;
  bool once = false;
  double mib = 256;
  std::string isa_name, types = "q4_0,q5_0,q8_0,q4_K,q5_K,q6_K,q2_K,q3_K,q4_1,q5_1,iq4_nl,f16,bf16";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "-t") threads = std::atoi(next().c_str());
    else if (a == "--isa") isa_name = next();
    else if (a == "--types") types = next();
    else if (a == "--mib") mib = std::atof(next().c_str());
    else if (a == "--tokens") tokens = std::atoi(next().c_str());
    else if (a == "--once") once = true;
    else {
      std::fprintf(stderr, "usage: %s [-t N] [--isa NAME] [--types LIST] [--mib SIZE] [--tokens N]\n", argv[0]);
      return 2;
    }
  }
  CpuIsa isa;
  try {
    isa = select_cpu_isa(isa_name);
  } catch (const Error& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  }
  ThreadPool pool(threads);
  CpuMatmul mm(pool, cpu_kernels(isa));
  if (once) {
    std::printf("kernels %s: one 5632 x 2048 product per type, 1 and %d tokens\n", cpu_isa_name(isa), tokens);
    size_t start = 0;
    while (start < types.size()) {
      size_t comma = types.find(',', start);
      if (comma == std::string::npos) comma = types.size();
      const std::string name = types.substr(start, comma - start);
      start = comma + 1;
      TensorType t;
      if (!parse_type_name(name, &t) || !mm.supports(t)) continue;
      const std::vector<uint8_t> w = random_weights(t, 5632, 2048);
      Weight wt;
      wt.type = t;
      wt.cols = 2048;
      wt.rows = 5632;
      wt.data = w.data();
      std::vector<float> x(static_cast<size_t>(tokens) * 2048, 0.25f), y(static_cast<size_t>(tokens) * 5632);
      mm.run(wt, x.data(), 1, y.data());
      mm.run(wt, x.data(), tokens, y.data());
      std::printf("%s done\n", name.c_str());
    }
    return 0;
  }
  std::printf("kernels %s, %d threads; read bandwidth %.1f GB/s (%.0f MiB)\n", cpu_isa_name(isa), threads,
              read_bandwidth(pool, static_cast<size_t>(mib * 1048576)), mib);
  std::printf("| type | GEMV GB/s (%.0f MiB, DRAM) | GEMV GB/s (8 MiB, cache) | GEMM %d tokens GMAC/s |\n", mib, tokens);
  std::printf("| --- | ---: | ---: | ---: |\n");
  size_t start = 0;
  while (start < types.size()) {
    size_t comma = types.find(',', start);
    if (comma == std::string::npos) comma = types.size();
    const std::string name = types.substr(start, comma - start);
    start = comma + 1;
    TensorType t;
    if (!parse_type_name(name, &t) || !mm.supports(t)) {
      std::printf("| %s | unsupported | | |\n", name.c_str());
      continue;
    }
    const int64_t cols = 4096;
    auto gemv_gbs = [&](double size_mib, int reps) {
      const size_t rb = row_bytes(t, cols);
      const int64_t rows = std::max<int64_t>(64, static_cast<int64_t>(size_mib * 1048576 / static_cast<double>(rb)));
      const std::vector<uint8_t> w = random_weights(t, rows, cols);
      Weight wt;
      wt.type = t;
      wt.cols = cols;
      wt.rows = rows;
      wt.data = w.data();
      std::vector<float> x(cols, 0.5f), y(static_cast<size_t>(rows));
      const double s = best_of(reps, [&] {
        mm.run(wt, x.data(), 1, y.data());
      });
      return static_cast<double>(w.size()) / s / 1e9;
    };
    const double dram = gemv_gbs(mib, 5), cache = gemv_gbs(8, 50);
    // GEMM: 1024 rows x cols, `tokens` tokens.
    const int64_t rows = 1024;
    const std::vector<uint8_t> w = random_weights(t, rows, cols);
    Weight wt;
    wt.type = t;
    wt.cols = cols;
    wt.rows = rows;
    wt.data = w.data();
    std::vector<float> x(static_cast<size_t>(tokens * cols), 0.25f), y(static_cast<size_t>(tokens * rows));
    const double s = best_of(3, [&] {
      mm.run(wt, x.data(), tokens, y.data());
    });
    std::printf("| %s | %.1f | %.1f | %.1f |\n", name.c_str(), dram, cache,
                static_cast<double>(rows) * cols * tokens / s / 1e9);
    std::fflush(stdout);
  }
  return 0;
}
