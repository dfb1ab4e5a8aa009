// Prompt processing (more than a few tokens): cuBLAS on dequantized float16
// weights and float16 activations, float32 accumulation and output. Tensor
// cores where the GPU has them (sm_70+); plain half2 math on Maxwell sm_53.
#include <cublas_v2.h>

#include <string>

#include "backends/cuda/arch.h"
#include "backends/cuda/cuda_check.h"
#include "backends/cuda/kernels.h"

#define CUBLAS_CHECK(call)                                                                          \
  do {                                                                                              \
    const cublasStatus_t jetlm_st_ = (call);                                                        \
    if (jetlm_st_ != CUBLAS_STATUS_SUCCESS)                                                         \
      ::jetlm::cuda::fail_at(__FILE__, __LINE__, std::string(#call) + " failed: cuBLAS status " +   \
                                                     std::to_string(static_cast<int>(jetlm_st_)));  \
  } while (0)

namespace jetlm {
namespace cuda {

struct BlasHandle {
  cublasHandle_t h = nullptr;
};

BlasHandle* blas_create(cudaStream_t s) {
  BlasHandle* b = new BlasHandle;
  const cublasStatus_t st = cublasCreate(&b->h);
  if (st != CUBLAS_STATUS_SUCCESS) {
    delete b;
    fail_at(__FILE__, __LINE__, "cublasCreate failed: cuBLAS status " + std::to_string(static_cast<int>(st)));
  }
  CUBLAS_CHECK(cublasSetStream(b->h, s));
#if JETLM_CUDA_EMULATED && defined(CUDART_VERSION) && CUDART_VERSION >= 11000
  // The Tegra X1 profile: no tensor cores (and no TF32), as on Maxwell.
  CUBLAS_CHECK(cublasSetMathMode(b->h, CUBLAS_PEDANTIC_MATH));
#elif defined(CUDART_VERSION) && CUDART_VERSION < 11000
  // CUDA 10 uses tensor cores for GemmEx only when asked to.
  CUBLAS_CHECK(cublasSetMathMode(b->h, CUBLAS_TENSOR_OP_MATH));
#endif
  return b;
}

void blas_destroy(BlasHandle* b) {
  if (!b) return;
  cublasDestroy(b->h);
  delete b;
}

// Row-major W [m][k] is column-major k x m, so Y^T (m x n, ld ldy) = W^T-op * X.
void gemm_f16(BlasHandle* b, const void* w, const void* x, float* y, int m, int n, int k, int ldy) {
  CUDA_REQUIRE(b && w && x && y && m > 0 && n > 0 && k > 0 && ldy >= m, "bad GEMM arguments");
  const float one = 1.f, zero = 0.f;
#if defined(CUDART_VERSION) && CUDART_VERSION >= 11000
  const cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
#else
  const cudaDataType_t compute = CUDA_R_32F;
#endif
  CUBLAS_CHECK(cublasGemmEx(b->h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, w, CUDA_R_16F, k, x, CUDA_R_16F, k, &zero,
                            y, CUDA_R_32F, ldy, compute, CUBLAS_GEMM_DEFAULT));
}

void gemm_f32(BlasHandle* b, const float* w, const float* x, float* y, int m, int n, int k, int ldy) {
  CUDA_REQUIRE(b && w && x && y && m > 0 && n > 0 && k > 0 && ldy >= m, "bad GEMM arguments");
  const float one = 1.f, zero = 0.f;
  CUBLAS_CHECK(cublasSgemm(b->h, CUBLAS_OP_T, CUBLAS_OP_N, m, n, k, &one, w, k, x, k, &zero, y, ldy));
}

}  // namespace cuda
}  // namespace jetlm
