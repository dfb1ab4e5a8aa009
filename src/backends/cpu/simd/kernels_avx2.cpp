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
#include <cpuid.h>
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "backends/cpu/simd/layout.h"
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
#include "backends/cpu/simd/wide_avx2.h"

namespace {
jetlm::cpu::CpuKernels make_avx2_table() {
  using jetlm::cpu::Family;
  jetlm::cpu::CpuKernels t;
  fill_table<Avx2Prims>(&t, "avx2");
  t.gemm8[static_cast<int>(Family::LegacySigned)] = gemm8_legacy_signed;
  t.gemm8[static_cast<int>(Family::LegacyMin)] = gemm8_legacy_min;
  t.gemm8[static_cast<int>(Family::KQuant)] = gemm8_k;
  return t;
}
}  // namespace

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace {
// AVX2 (CPUID.7.0:EBX[5]), FMA (CPUID.1:ECX[12]), F16C (ECX[29]), and the OS
// saving YMM registers (OSXSAVE, ECX[27], and XCR0 bits 1-2).
bool cpu_has_avx2_fma_f16c() {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return false;
  const bool fma = c & (1u << 12), f16c = c & (1u << 29), osxsave = c & (1u << 27);
  if (!fma || !f16c || !osxsave) return false;
  unsigned xlo, xhi;
  __asm__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  if ((xlo & 6u) != 6u) return false;
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return false;
  return b & (1u << 5);
}
}  // namespace

namespace jetlm {
namespace cpu {
const CpuKernels* kernels_avx2() {
  static const bool ok = cpu_has_avx2_fma_f16c();
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
