// The portable kernel table: the fallback on any CPU, and the baseline every
// SIMD table is tested against (tests/test_cpu_kernels.cpp).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "backends/cpu/simd/kernels.h"
#include "backends/cpu/simd/layout.h"
#include "formats/blocks.h"
#include "formats/tensor_type.h"
#include "util/fp16.h"
// After every shared header, so that only the templates below are instantiated here.
#include "backends/cpu/simd/prims_scalar.h"
#include "backends/cpu/simd/kernels_impl.h"

namespace jetlm {
namespace cpu {

const CpuKernels* kernels_scalar() {
  static const CpuKernels table = [] {
    CpuKernels t;
    fill_table<ScalarPrims>(&t, "scalar");
    return t;
  }();
  return &table;
}

}  // namespace cpu
}  // namespace jetlm
