// Matrix-vector kernels of the 256-value K formats (Q2_K .. Q6_K).
#include "backends/cuda/matvec.cuh"

namespace jetlm {
namespace cuda {

bool matvec_kquant(const MatvecArgs& a, cudaStream_t s) {
  switch (a.type) {
    case WType::Q2_K: run_matvec<FmtQ2_K>(a, s); return true;
    case WType::Q3_K: run_matvec<FmtQ3_K>(a, s); return true;
    case WType::Q4_K: run_matvec<FmtQ4_K>(a, s); return true;
    case WType::Q5_K: run_matvec<FmtQ5_K>(a, s); return true;
    case WType::Q6_K: run_matvec<FmtQ6_K>(a, s); return true;
    default: return false;
  }
}

}  // namespace cuda
}  // namespace jetlm
