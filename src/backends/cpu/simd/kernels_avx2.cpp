// The x86-64 AVX2 + FMA + F16C kernel table. Only this file is compiled for
// those instructions (a target region, not a global -mavx2), so the binary
// still runs on any x86-64; kernels_avx2() hands the table out only when
// CPUID says the CPU and the OS (YMM state saving) support it.
//
// Everything shared with other translation units is included before the
// target region: inline functions compiled with AVX2 must not be merged with
// the portable copies of the same functions by the linker.
#include "backends/cpu/simd/kernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "backends/cpu/simd/layout.h"
#include "backends/cpu/simd/x86_cpuid.h"
#include "formats/blocks.h"
#include "formats/tensor_type.h"
#include "util/fp16.h"

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#endif

#include "backends/cpu/simd/prims_avx2.h"
#include "backends/cpu/simd/kernels_impl.h"
#include "backends/cpu/simd/wide_x86.h"

namespace {
jetlm::cpu::CpuKernels make_avx2_table() {
  using jetlm::cpu::Family;
  jetlm::cpu::CpuKernels t;
  fill_table<Avx2Prims>(&t, "avx2");
  t.gemm_wide[static_cast<int>(Family::LegacySigned)] = gemm_wide_signed<W256, false, 4>;
  t.gemm_wide[static_cast<int>(Family::LegacyMin)] = gemm_wide_min<W256, false, 4>;
  t.gemm_wide[static_cast<int>(Family::KQuant)] = gemm_wide_k<W256, false, 4>;
  for (int f = 1; f < 4; ++f) t.wide_rows[f] = 8;
  return t;
}
}  // namespace

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace jetlm {
namespace cpu {
const CpuKernels* kernels_avx2() {
  static const bool ok = x86_features().avx2;
  if (!ok) return nullptr;
  static const CpuKernels table = make_avx2_table();
  return &table;
}
}  // namespace cpu
}  // namespace jetlm

#else

namespace jetlm {
namespace cpu {
const CpuKernels* kernels_avx2() { return nullptr; }
}  // namespace cpu
}  // namespace jetlm

#endif
