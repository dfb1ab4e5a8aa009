// The one source of truth for which GPU architecture's branches the device
// code takes, and for the emulated Tegra X1 profile.
//
// JETLM_CUDA_ARCH is __CUDA_ARCH__ (0 in host code), except under the Tegra X1
// profile (CMake -DJETLM_CUDA_EMULATE=tegra-x1, which defines
// JETLM_CUDA_EMULATE_TEGRA_X1): there it is 530 in device code, so a build
// for the lent sm_90 GPU takes exactly the branches the Jetson Nano's sm_53
// build takes (no dp4a, no PDL, half2 arithmetic). Device code compares
// JETLM_CUDA_ARCH, never __CUDA_ARCH__; host code asks the cc_has_*
// helpers below for the features it picks kernels by, so the host's choice and
// the compiled branches follow the same number.
// C++14 (CUDA 10.2).
#pragma once

#if defined(JETLM_CUDA_EMULATE_TEGRA_X1)
#define JETLM_CUDA_EMULATED 1
#if defined(__CUDA_ARCH__)
#define JETLM_CUDA_ARCH 530
#else
#define JETLM_CUDA_ARCH 0
#endif
#else
#define JETLM_CUDA_EMULATED 0
#if defined(__CUDA_ARCH__)
#define JETLM_CUDA_ARCH __CUDA_ARCH__
#else
#define JETLM_CUDA_ARCH 0
#endif
#endif

// Architecture thresholds of the features jetlm's kernels branch on (x 10, as __CUDA_ARCH__).
#define JETLM_ARCH_DP4A 610  // __dp4a: int8 dot products
#define JETLM_ARCH_PDL 900   // griddepcontrol: programmatic dependent launch

namespace jetlm {
namespace cuda {

// The compute capability (10 * major + minor) the host plans launches for:
// the device's, or 53 under the Tegra X1 profile.
inline int effective_cc(int device_cc) { return JETLM_CUDA_EMULATED ? 53 : device_cc; }
inline bool cc_has_dp4a(int cc) { return 10 * cc >= JETLM_ARCH_DP4A; }
inline bool cc_has_pdl(int cc) { return 10 * cc >= JETLM_ARCH_PDL; }
// cuBLAS may use tensor cores from sm_70; the emulated profile forbids them.
inline bool cc_has_tensor_cores(int cc) { return cc >= 70; }

// Blocks of `threads` threads using `smem` bytes of shared memory each that a
// Maxwell multiprocessor (sm_53: 2048 threads, 32 blocks, 64 KB of shared
// memory) holds at once: the Tegra X1 profile caps the occupancy the real GPU
// reports with it, so grids are sized as on the Nano. (Registers: 64 K per
// multiprocessor, as on the lent GPUs, so the runtime's answer already holds.)
inline int tx1_blocks_per_sm(size_t smem, int threads) {
  int b = threads > 0 ? 2048 / threads : 1;
  if (b > 32) b = 32;
  if (smem > 0 && static_cast<size_t>(b) * smem > 65536) b = static_cast<int>(65536 / smem);
  return b < 1 ? 1 : b;
}

}  // namespace cuda
}  // namespace jetlm
