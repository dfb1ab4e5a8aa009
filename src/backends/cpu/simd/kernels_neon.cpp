// The AArch64 NEON kernel table for ARMv8.0 cores (the Jetson Nano's
// Cortex-A57): NEON is part of the base architecture, so no target region.
#include "backends/cpu/simd/kernels.h"

#if defined(__aarch64__)
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "backends/cpu/simd/layout.h"
#include "formats/blocks.h"
#include "formats/tensor_type.h"
#include "util/fp16.h"
#include "backends/cpu/simd/prims_neon.h"
#include "backends/cpu/simd/kernels_impl.h"

namespace jetlm {
namespace cpu {
const CpuKernels* kernels_neon() {
  static const CpuKernels table = [] {
    CpuKernels t;
    fill_table<NeonPrims<false>>(&t, "neon");
    return t;
  }();
  return &table;
}
}  // namespace cpu
}  // namespace jetlm

#else

namespace jetlm {
namespace cpu {
const CpuKernels* kernels_neon() { return nullptr; }
}  // namespace cpu
}  // namespace jetlm

#endif
