// Kernel timeline for development (built only with -DJETLM_CUDA_TRACE=ON):
// thread 0 of every block of the traced kernels records its start, the moment
// its pdl_wait() returned and its end (%globaltimer, ns) with the launch's
// %gridid and a tag, into a ring in device memory. JETLM_CUDA_TRACE_OUT=FILE
// writes the records at exit; bench/profile/trace_summary.py turns them into per-kernel
// critical-path times. Without the option KTrace is empty and costs nothing.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <vector>

namespace jetlm {
namespace cuda {

// Tags: kind << 24 | detail (the matrix-vector kernels put the format and rows there).
enum TraceKind : uint32_t { kTrMatvec = 1, kTrAttention = 2, kTrNorm = 3, kTrPrep = 4 };

#ifdef JETLM_CUDA_TRACE
// Each .cu file has its own ring (no relocatable device code needed); the host
// side registers a reader per file (trace_register, defined in matvec.cu).
using TraceReader = void (*)(std::vector<uint32_t>&);
bool trace_register(TraceReader r);
void trace_enable_dump();

namespace {
const unsigned kTraceWords = 12;  // grid, tag, block, blocks, start (2), released, end, 4 marks
const unsigned kTraceRecs = 1u << 19;
__device__ uint32_t g_trace[kTraceWords * kTraceRecs];
__device__ unsigned g_trace_n;

__device__ __forceinline__ unsigned long long trace_now() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

struct KTrace {
  unsigned long long t0 = 0, t1 = 0, m[4] = {0, 0, 0, 0};
  uint32_t tag;
  __device__ __forceinline__ explicit KTrace(uint32_t tg) : tag(tg) { t0 = trace_now(); }
  __device__ __forceinline__ void released() { t1 = trace_now(); }
  // Intermediate points (k < 4), e.g. the end of a kernel's phases.
  __device__ __forceinline__ void mark(int k) { m[k] = trace_now(); }
  __device__ __forceinline__ ~KTrace() {
    if (threadIdx.x != 0 || threadIdx.y != 0) return;
    const unsigned long long t2 = trace_now();
    unsigned long long grid;
    asm volatile("mov.u64 %0, %%gridid;" : "=l"(grid));
    const unsigned i = atomicAdd(&g_trace_n, 1u) % kTraceRecs;
    uint32_t* r = g_trace + kTraceWords * i;
    r[0] = static_cast<uint32_t>(grid);
    r[1] = tag;
    r[2] = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
    r[3] = gridDim.x * gridDim.y * gridDim.z;
    r[4] = static_cast<uint32_t>(t0);
    r[5] = static_cast<uint32_t>(t0 >> 32);
    r[6] = static_cast<uint32_t>((t1 ? t1 : t0) - t0);
    r[7] = static_cast<uint32_t>(t2 - t0);
    for (int k = 0; k < 4; ++k) r[8 + k] = m[k] ? static_cast<uint32_t>(m[k] - t0) : 0u;
  }
};

void trace_read_this_file(std::vector<uint32_t>& out) {
  unsigned n = 0;
  if (cudaMemcpyFromSymbol(&n, g_trace_n, sizeof(n)) != cudaSuccess) return;
  const unsigned k = n < kTraceRecs ? n : kTraceRecs;
  const size_t at = out.size();
  out.resize(at + kTraceWords * static_cast<size_t>(k));
  if (k && cudaMemcpyFromSymbol(out.data() + at, g_trace, kTraceWords * sizeof(uint32_t) * k) != cudaSuccess) out.resize(at);
}
__attribute__((unused)) const bool g_trace_registered = trace_register(&trace_read_this_file);
}  // namespace
#else
struct KTrace {
  __device__ __forceinline__ explicit KTrace(uint32_t) {}
  __device__ __forceinline__ void released() {}
  __device__ __forceinline__ void mark(int) {}
};
#endif

}  // namespace cuda
}  // namespace jetlm
