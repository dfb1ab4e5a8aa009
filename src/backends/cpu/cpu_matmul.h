// Matrix multiplication on the CPU with the fast kernels: y [n][rows] =
// x [n][cols] W^T for weights in the mmap, any format with a decoder.
//
// Activations are quantized on every call to 8-bit blocks (per 32 values for
// the 32-value formats, per 256 for the K formats): about 1% of a matmul's
// time, not worth a cache that a caller writing the buffer directly could
// leave stale.
//
// Work split: the rows of W in chunks handed out dynamically (two cores
// shared with other processes finish together), each chunk decoded 4 rows at
// a time into a per-thread panel and multiplied with a block of tokens that
// fits L2. One token streams every weight once (token generation); many
// tokens reuse each decoded row across the whole block (prompt processing);
// a few tokens (one per sequence of a decode step) rerun the one-token kernel
// over rows still in L2.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/simd/kernels.h"
#include "backends/cpu/thread_pool.h"

namespace jetlm {

class CpuMatmul {
 public:
  CpuMatmul(ThreadPool& pool, const cpu::CpuKernels& kernels);
  ~CpuMatmul();

  // Whether run() handles this weight format (the others go to the reference).
  bool supports(TensorType t) const;
  void run(const Weight& w, const float* x, int n, float* y);

 private:
  struct ThreadPanel;
  void quantize(const float* x, int n, int64_t k, int block, bool with_sums);

  ThreadPool& pool_;
  const cpu::CpuKernels& kern_;
  std::vector<std::unique_ptr<ThreadPanel>> panels_;  // one per thread, separately allocated
  // Quantized activations of the current call (buffers grow to the largest call, then stay).
  std::vector<int8_t> act_q_;
  std::vector<float> act_d_, act_s_;
  std::vector<int16_t> act_bsum_;
  cpu::ActQ8 act_;
};

// The family of a weight format's fast kernel (Float for F32/F16/BF16).
bool cpu_family_of(TensorType t, cpu::Family* out);

}  // namespace jetlm
