// The AArch64 table for ARMv8.2+ cores with the dot-product extension (SDOT:
// Jetson Orin's Cortex-A78AE). Compiled in a target region so the binary keeps
// running on ARMv8.0; kernels_dotprod() hands the table out only when the
// kernel reports the feature (getauxval(AT_HWCAP) & HWCAP_ASIMDDP).
#include "backends/cpu/simd/kernels.h"

#if defined(__aarch64__)
#include <arm_neon.h>
#include <sys/auxv.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "backends/cpu/simd/layout.h"
#include "formats/blocks.h"
#include "formats/tensor_type.h"
#include "util/fp16.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("dotprod"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("arch=armv8.2-a+dotprod")
#endif

#include "backends/cpu/simd/prims_neon.h"
#include "backends/cpu/simd/kernels_impl.h"

namespace {
jetlm::cpu::CpuKernels make_dotprod_table() {
  jetlm::cpu::CpuKernels t;
  fill_table<NeonPrims<true>>(&t, "dotprod");
  return t;
}
}  // namespace

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif

namespace jetlm {
namespace cpu {
const CpuKernels* kernels_dotprod() {
  static const bool ok = (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
  if (!ok) return nullptr;
  static const CpuKernels table = make_dotprod_table();
  return &table;
}
}  // namespace cpu
}  // namespace jetlm

#else

namespace jetlm {
namespace cpu {
const CpuKernels* kernels_dotprod() { return nullptr; }
}  // namespace cpu
}  // namespace jetlm

#endif
