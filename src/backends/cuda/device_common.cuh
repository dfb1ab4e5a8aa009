// Device helpers shared by the kernels: loads, bit tricks, reductions, and the
// launch helper that adds programmatic dependent launch where it exists.
// C++14, CUDA 10.2+: nothing here needs cuda_bf16.h or newer language features.
#pragma once
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <utility>

#include "backends/cuda/arch.h"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/kernels.h"
#include "backends/cuda/trace.cuh"

#define JDEV __device__ __forceinline__
// For the few helpers the launchers call on the host too (grid sizes).
#define JHD __host__ __device__ __forceinline__

// griddepcontrol exists from PTX 7.8 (CUDA 11.8) on sm_90.
#if defined(__CUDACC_VER_MAJOR__) && (__CUDACC_VER_MAJOR__ > 11 || (__CUDACC_VER_MAJOR__ == 11 && __CUDACC_VER_MINOR__ >= 8))
#define JETLM_PDL_TOOLKIT 1
#else
#define JETLM_PDL_TOOLKIT 0
#endif

namespace jetlm {
namespace cuda {

// Wait until the previous kernel in the stream has completed and its writes
// are visible. A no-op when the kernel was launched without the PDL attribute.
JDEV void pdl_wait() {
#if JETLM_PDL_TOOLKIT && JETLM_CUDA_ARCH >= JETLM_ARCH_PDL
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}
// Let the next kernel be scheduled now: it still waits for our completion in
// its own pdl_wait(), but its launch and weight prefetch overlap our work.
// Called right after pdl_wait(): the chain runs at most one kernel ahead.
JDEV void pdl_trigger() {
#if JETLM_PDL_TOOLKIT && JETLM_CUDA_ARCH >= JETLM_ARCH_PDL
  asm volatile("griddepcontrol.launch_dependents;");
#endif
}

// Launches kernel<<<grid, block, smem, s>>>(args...), with the programmatic
// stream serialization attribute when PDL is on (every jetlm kernel calls
// pdl_wait() before it touches activations, so early starts are safe).
template <typename... KArgs, typename... Args>
void launch_kernel(void (*kernel)(KArgs...), dim3 grid, dim3 block, size_t smem, cudaStream_t s, Args&&... args) {
#if defined(CUDART_VERSION) && CUDART_VERSION >= 11080
  if (pdl_enabled()) {
    cudaLaunchConfig_t cfg = {};
    cfg.gridDim = grid;
    cfg.blockDim = block;
    cfg.dynamicSmemBytes = smem;
    cfg.stream = s;
    cudaLaunchAttribute attr[1];
    attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attr[0].val.programmaticStreamSerializationAllowed = 1;
    cfg.attrs = attr;
    cfg.numAttrs = 1;
    CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...));
    return;
  }
#endif
  kernel<<<grid, block, smem, s>>>(std::forward<Args>(args)...);
  CUDA_CHECK_LAUNCH();
}

// ---- loads (weights are read-only for the whole run: the non-coherent path) ----

JDEV uint32_t ld_u32(const uint8_t* p) { return __ldg(reinterpret_cast<const unsigned int*>(p)); }
JDEV uint32_t ld_u16(const uint8_t* p) { return __ldg(reinterpret_cast<const unsigned short*>(p)); }
JDEV uint4 ld_u128(const uint8_t* p) { return __ldg(reinterpret_cast<const uint4*>(p)); }

// NW little-endian words from a 2-byte aligned address. Most ggml blocks are
// only 2-byte aligned (18, 34, 110, 210 bytes), so this reads the aligned words
// around them and funnel-shifts. At an address 2 mod 4 the last piece is read
// as 16 bits: no byte after the range is touched (the allocation may end there).
template <int NW>
JDEV void ld_words_a2(const uint8_t* p, uint32_t (&w)[NW]) {
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const unsigned int* base = reinterpret_cast<const unsigned int*>(a & ~uintptr_t(3));
  const bool mis = (a & 2) != 0;
  const int shift = mis ? 16 : 0;
  uint32_t v[NW + 1];
#pragma unroll
  for (int i = 0; i < NW; ++i) v[i] = __ldg(base + i);
  v[NW] = mis ? static_cast<uint32_t>(__ldg(reinterpret_cast<const unsigned short*>(base + NW))) : 0u;
#pragma unroll
  for (int i = 0; i < NW; ++i) w[i] = __funnelshift_r(v[i], v[i + 1], shift);
}

JDEV float h2f(uint32_t bits) { return __half2float(__ushort_as_half(static_cast<unsigned short>(bits & 0xFFFFu))); }
JDEV float bf2f(uint32_t bits) { return __uint_as_float((bits & 0xFFFFu) << 16); }

// ---- integer codes to float without conversion instructions ----
// 0x4B000000 | b is the float 2^23 + b, so subtracting (2^23 + bias) gives
// b - bias exactly: one byte permute and one add per value.
JDEV void u8x4_to_f32(uint32_t w, float bias, float* out) {
  const float m = 8388608.f + bias;
  out[0] = __int_as_float(__byte_perm(w, 0x4B000000u, 0x7540)) - m;
  out[1] = __int_as_float(__byte_perm(w, 0x4B000000u, 0x7541)) - m;
  out[2] = __int_as_float(__byte_perm(w, 0x4B000000u, 0x7542)) - m;
  out[3] = __int_as_float(__byte_perm(w, 0x4B000000u, 0x7543)) - m;
}
// Signed bytes: flipping the sign bit maps b to b + 128 unsigned.
JDEV void s8x4_to_f32(uint32_t w, float* out) { u8x4_to_f32(w ^ 0x80808080u, 128.f, out); }
// The low (hi = false) or high nibbles of the 4 bytes of w, one per byte.
JDEV uint32_t nibbles(uint32_t w, bool hi) { return (hi ? (w >> 4) : w) & 0x0F0F0F0Fu; }
// Bits 0..3 of x moved to bit 0 of bytes 0..3.
JDEV uint32_t spread4(uint32_t x) { return ((x & 0xFu) * 0x00204081u) & 0x01010101u; }

// ---- reductions ----
JDEV float warp_sum(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
JDEV float warp_max(float v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// The activation functions: the CPU reference's formulas with the fast
// exponential and reciprocal (a few ulp; the accurate expf, tanhf and division
// branch to slow paths, which the matrix-vector epilogues wait for).
// tanh(y) = 1 - 2 / (e^2y + 1); e^2y = inf gives 1, e^2y = 0 gives -1.
JDEV float act_silu(float x) { return __fdividef(x, 1.f + __expf(-x)); }
JDEV float act_gelu_tanh(float x) {
  const float kSqrt2OverPi = 0.79788456080286535588f;
  const float y = kSqrt2OverPi * x * (1.f + 0.044715f * x * x);
  return 0.5f * x * (2.f - __fdividef(2.f, __expf(2.f * y) + 1.f));
}
JDEV float act_apply(int act, float x) { return act == 1 ? act_silu(x) : act_gelu_tanh(x); }

inline int ceil_div(int64_t a, int64_t b) { return static_cast<int>((a + b - 1) / b); }

// Multiprocessors of the current device, and whether it has dp4a (sm_61+);
// asked once, before any graph capture: see kernels_init.
inline int device_attr(cudaDeviceAttr what) {
  int dev = 0, v = 0;
  CUDA_CHECK(cudaGetDevice(&dev));
  CUDA_CHECK(cudaDeviceGetAttribute(&v, what, dev));
  return v;
}
// (The Tegra X1 profile plans for the Nano's one multiprocessor: its launch configurations.)
inline int sm_count() {
  static const int n = JETLM_CUDA_EMULATED ? 1 : device_attr(cudaDevAttrMultiProcessorCount);
  return n;
}
inline int device_cc() {
  static const int cc = effective_cc(10 * device_attr(cudaDevAttrComputeCapabilityMajor) +
                                     device_attr(cudaDevAttrComputeCapabilityMinor));
  return cc;
}
inline bool has_dp4a() { return cc_has_dp4a(device_cc()); }

}  // namespace cuda
}  // namespace jetlm
