#include "backends/cuda/cuda_check.h"

#include "util/error.h"

namespace jetlm {
namespace cuda {

void fail_at(const char* file, int line, const std::string& what) {
  const char* base = file;
  for (const char* p = file; *p; ++p)
    if (*p == '/') base = p + 1;
  throw Error(str_cat("CUDA: ", base, ":", line, ": ", what));
}

void cuda_fail_at(const char* file, int line, const char* call, cudaError_t err) {
  // Clear a sticky launch error so the message is about this call, not a later one.
  (void)cudaGetLastError();
  fail_at(file, line, str_cat(call, " failed: ", cudaGetErrorName(err), " (", cudaGetErrorString(err), ")"));
}

}  // namespace cuda
}  // namespace jetlm
