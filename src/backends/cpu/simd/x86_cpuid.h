// What this x86-64 CPU and its OS support, from CPUID and XGETBV: the checks
// behind each kernel table of kernels_avx2.cpp and kernels_avx512*.cpp.
// Portable code (no target region): include it before an ISA's region.
#pragma once
#if defined(__x86_64__)
#include <cpuid.h>

namespace jetlm {
namespace cpu {

struct X86Features {
  bool avx2 = false;        // AVX2 + FMA + F16C, YMM state saved by the OS
  bool avx512 = false;      // AVX-512 F, BW, VL, DQ, ZMM and mask state saved by the OS
  bool avx512vnni = false;  // avx512 and AVX-512 VNNI (vpdpbusd, vpdpwssd on any vector width)
};

inline X86Features x86_features() {
  X86Features f;
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return f;
  const bool fma = c & (1u << 12), f16c = c & (1u << 29), osxsave = c & (1u << 27);
  if (!fma || !f16c || !osxsave) return f;
  unsigned xlo, xhi;
  __asm__("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return f;
  // XCR0: bits 1-2 SSE/YMM state; bits 5-7 opmask, upper halves of ZMM0-15, ZMM16-31.
  f.avx2 = (xlo & 0x6u) == 0x6u && (b & (1u << 5));
  const bool f512 = b & (1u << 16), dq = b & (1u << 17), bw = b & (1u << 30), vl = b & (1u << 31);
  f.avx512 = f.avx2 && (xlo & 0xE6u) == 0xE6u && f512 && dq && bw && vl;
  f.avx512vnni = f.avx512 && (c & (1u << 11));
  return f;
}

}  // namespace cpu
}  // namespace jetlm
#endif
