// The x86-64 AVX-512 (F, BW, VL, DQ) kernel table: kernels_avx512_tu.h
// compiled without VNNI.
#define JETLM_AVX512_VNNI 0
#include "backends/cpu/simd/kernels_avx512_tu.h"

namespace jetlm {
namespace cpu {
const CpuKernels* kernels_avx512() { return avx512_table(); }
}  // namespace cpu
}  // namespace jetlm
