// The one way CUDA and cuBLAS errors are checked in jetlm: every runtime call
// goes through CUDA_CHECK, every launch is followed by CUDA_CHECK_LAUNCH, and
// a failure throws jetlm::Error naming the call, the file and the line.
// C++14 only (included by .cu files, which the Jetson's CUDA 10.2 compiles).
#pragma once
#include <cuda_runtime.h>

#include <string>

namespace jetlm {
namespace cuda {

// Throws jetlm::Error("<file>:<line>: <what>: <msg>"). Defined in cuda_check.cpp
// so that .cu files need not include the C++17 headers of the host code.
[[noreturn]] void fail_at(const char* file, int line, const std::string& what);
[[noreturn]] void cuda_fail_at(const char* file, int line, const char* call, cudaError_t err);

}  // namespace cuda
}  // namespace jetlm

#define CUDA_CHECK(call)                                                     \
  do {                                                                       \
    const cudaError_t jetlm_err_ = (call);                                   \
    if (jetlm_err_ != cudaSuccess)                                           \
      ::jetlm::cuda::cuda_fail_at(__FILE__, __LINE__, #call, jetlm_err_);    \
  } while (0)

// After a kernel launch: a bad configuration shows up here, not at the next sync.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())

// Launcher precondition: a violated one is a bug in the caller, reported with its values.
#define CUDA_REQUIRE(cond, msg)                                              \
  do {                                                                       \
    if (!(cond)) ::jetlm::cuda::fail_at(__FILE__, __LINE__, std::string("precondition failed: ") + #cond + ": " + (msg)); \
  } while (0)
