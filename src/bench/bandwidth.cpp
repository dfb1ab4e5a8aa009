#include "bench/bandwidth.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "backends/cpu/cpu_features.h"
#include "backends/gpu_factory.h"

namespace jetlm {

namespace {
// Sum of a slice in four independent lanes (the compiler vectorizes them), so
// the loop is bound by loads, not by one add chain.
uint64_t sum_slice(const uint64_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  for (; i < n; ++i) a += p[i];
  return a + b + c + d;
}
}  // namespace

HostBandwidth measure_host_read_bandwidth(size_t bytes, int threads, int reps) {
  HostBandwidth r;
  r.n_threads = threads > 0 ? threads : physical_cores();
  const size_t words = std::max<size_t>(bytes / 8, static_cast<size_t>(r.n_threads) * 64);
  r.bytes = words * 8;
  std::vector<uint64_t> buf(words);
  for (size_t i = 0; i < words; ++i) buf[i] = i;  // resident, and not a page of zeros
  std::vector<uint64_t> sums(static_cast<size_t>(r.n_threads));
  const size_t per = words / static_cast<size_t>(r.n_threads);
  for (int rep = 0; rep < std::max(1, reps); ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < r.n_threads; ++t) {
      const size_t begin = per * static_cast<size_t>(t);
      const size_t n = t + 1 == r.n_threads ? words - begin : per;
      pool.emplace_back([&, t, begin, n] { sums[static_cast<size_t>(t)] = sum_slice(buf.data() + begin, n); });
    }
    for (auto& th : pool) th.join();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    uint64_t total = 0;
    for (uint64_t x : sums) total += x;
    // The sum is used, so the reads cannot be dropped.
    if (total == 1) r.read_gbs = -1;
    r.read_gbs = std::max(r.read_gbs, static_cast<double>(r.bytes) / s / 1e9);
  }
  return r;
}

nlohmann::json measure_bandwidth_json(size_t bytes, int threads) {
  const HostBandwidth h = measure_host_read_bandwidth(bytes, threads);
  nlohmann::json j;
  j["host_read_gbs"] = h.read_gbs;
  j["host_bytes"] = h.bytes;
  j["host_threads"] = h.n_threads;
  GpuBandwidth g;
  if (gpu_measure_bandwidth(bytes, &g)) {
    auto known = [](double v) { return v < 0 ? nlohmann::json(nullptr) : nlohmann::json(v); };
    j["gpu_name"] = g.name;
    j["gpu_integrated"] = g.integrated;
    j["gpu_device_read_gbs"] = known(g.device_read_gbs);
    j["gpu_d2d_copy_gbs"] = known(g.d2d_gbs);
    j["gpu_h2d_gbs"] = known(g.h2d_gbs);
    j["gpu_mapped_read_gbs"] = known(g.mapped_read_gbs);
  }
  return j;
}

}  // namespace jetlm
