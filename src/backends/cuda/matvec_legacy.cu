// Matrix-vector kernels of the 32-value block formats (Q4_0 .. Q8_0, IQ4_NL).
#include "backends/cuda/matvec.cuh"

namespace jetlm {
namespace cuda {

bool matvec_legacy(const MatvecArgs& a, cudaStream_t s) {
  switch (a.type) {
    case WType::Q4_0: run_matvec<FmtQ4_0>(a, s); return true;
    case WType::Q4_1: run_matvec<FmtQ4_1>(a, s); return true;
    case WType::Q5_0: run_matvec<FmtQ5_0>(a, s); return true;
    case WType::Q5_1: run_matvec<FmtQ5_1>(a, s); return true;
    case WType::Q8_0: run_matvec<FmtQ8_0>(a, s); return true;
    case WType::IQ4_NL: run_matvec<FmtIQ4_NL>(a, s); return true;
    default: return false;
  }
}

}  // namespace cuda
}  // namespace jetlm
