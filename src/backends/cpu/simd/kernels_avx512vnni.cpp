// The x86-64 AVX-512 + AVX-512 VNNI kernel table: kernels_avx512_tu.h
// compiled with VNNI.
#define JETLM_AVX512_VNNI 1
#include "backends/cpu/simd/kernels_avx512_tu.h"

namespace jetlm {
namespace cpu {
const CpuKernels* kernels_avx512vnni() { return avx512_table(); }
}  // namespace cpu
}  // namespace jetlm
