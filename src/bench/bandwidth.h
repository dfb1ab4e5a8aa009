// Memory bandwidth this process can reach: the roofline that token
// generation (which reads every weight once per token) is measured against.
#pragma once
#include <cstddef>

#include <nlohmann/json.hpp>

namespace jetlm {

struct HostBandwidth {
  double read_gbs = 0;   // best of the repetitions, all threads reading their slice
  size_t bytes = 0;      // buffer size
  int n_threads = 0;
};

// Multi-threaded sequential read of a buffer of `bytes` (far larger than the
// caches), best of `reps` passes. threads 0: the physical cores.
HostBandwidth measure_host_read_bandwidth(size_t bytes = size_t(256) << 20, int threads = 0, int reps = 5);

// Host figures plus the GPU's (CUDA builds with a device) as one JSON object.
nlohmann::json measure_bandwidth_json(size_t bytes, int threads);

}  // namespace jetlm
