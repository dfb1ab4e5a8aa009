// The CPU backend: weights used in place from the mmap, activations in host
// memory. reference = true runs the scalar float32 ops of ops_ref.h only;
// otherwise the fast kernels of the best instruction set of this CPU
// (cpu_features.h) run on a persistent thread pool.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "backends/backend.h"

namespace jetlm {

struct CpuOptions {
  bool reference = false;  // scalar float32 path only (jetlm eval --reference)
  int n_threads = 0;       // 0: number of physical cores
  std::string isa;         // kernel level (cpu_features.h: "scalar", "avx2", "avx512", ...); empty: JETLM_CPU or the best
};

std::unique_ptr<Backend> make_cpu_backend(const CpuOptions& opts);

}  // namespace jetlm
