// The body of the two AVX-512 translation units: kernels_avx512.cpp (F, BW,
// VL, DQ) and kernels_avx512vnni.cpp (the same and AVX-512 VNNI), which
// define JETLM_AVX512_VNNI to 0 or 1 and include this file, so that each is
// compiled in its own target region: the compiler must not emit VNNI
// instructions (it recognizes dot-product loops) in the table of CPUs
// without them. Same rules as kernels_avx2.cpp: everything shared with other
// translation units is included before the target region; the tables are
// handed out only when CPUID and XGETBV say the CPU and the OS support them.
#pragma once
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

// (pragmas take no macros: one literal target string per table)
#if defined(__clang__) && JETLM_AVX512_VNNI
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni"))), \
                             apply_to = function)
#elif defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq"))), \
                             apply_to = function)
#elif JETLM_AVX512_VNNI
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512dq")
#endif

#define JETLM_WIDE_512 1
#include "backends/cpu/simd/prims_avx512.h"
#include "backends/cpu/simd/kernels_impl.h"
#include "backends/cpu/simd/wide_x86.h"

namespace {
jetlm::cpu::CpuKernels make_avx512_table() {
  using jetlm::cpu::Family;
  constexpr bool kVnni = JETLM_AVX512_VNNI != 0;
  jetlm::cpu::CpuKernels t;
  fill_table<Avx512Prims<kVnni>>(&t, kVnni ? "avx512vnni" : "avx512");
  t.gemm_wide[static_cast<int>(Family::LegacySigned)] = gemm_wide_signed<W512, kVnni, 8>;
  t.gemm_wide[static_cast<int>(Family::LegacyMin)] = gemm_wide_min<W512, kVnni, 8>;
  t.gemm_wide[static_cast<int>(Family::KQuant)] = gemm_wide_k<W512, kVnni, 8>;
  for (int f = 1; f < 4; ++f) t.wide_rows[f] = W512::kRows;
  return t;
}
}  // namespace

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

namespace {
const jetlm::cpu::CpuKernels* avx512_table() {
  const jetlm::cpu::X86Features f = jetlm::cpu::x86_features();
  static const bool ok = JETLM_AVX512_VNNI ? f.avx512vnni : f.avx512;
  if (!ok) return nullptr;
  static const jetlm::cpu::CpuKernels table = make_avx512_table();
  return &table;
}
}  // namespace

#else

namespace {
const jetlm::cpu::CpuKernels* avx512_table() { return nullptr; }
}  // namespace

#endif
