// Matrix-vector kernels of the plain float formats (F32, F16, BF16).
#include "backends/cuda/matvec.cuh"

namespace jetlm {
namespace cuda {

bool matvec_float(const MatvecArgs& a, cudaStream_t s) {
  switch (a.type) {
    case WType::F32: run_matvec<FmtF32>(a, s); return true;
    case WType::F16: run_matvec<FmtF16>(a, s); return true;
    case WType::BF16: run_matvec<FmtBF16>(a, s); return true;
    default: return false;
  }
}

}  // namespace cuda
}  // namespace jetlm
