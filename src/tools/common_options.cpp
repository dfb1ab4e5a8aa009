#include "tools/common_options.h"

#include <algorithm>

#include "util/error.h"

namespace jetlm {

void add_context_options(Args& a) {
  a.option("-c,--ctx-size", "N", "context size in tokens (0: the model's, at most 4096)", "0");
  a.option("-b,--batch-size", "N", "tokens per forward pass", "512");
  a.option("-t,--threads", "N", "CPU threads (0: physical cores)", "0");
  a.option("-ngl,--gpu-layers,--n-gpu-layers", "N", "layers to offload to the GPU (auto: all that fit, if there is one)",
           "auto");
  a.flag("--unified", "GPU reads weights from the mmap in place (default on integrated GPUs)");
  a.flag("--reference", "scalar float32 reference path");
  a.option("--kv-type", "TYPE", "KV cache type: f16 or f32", "f16");
}

ContextOptions context_options(const Args& a, const Model& m) {
  ContextOptions o;
  o.n_ctx = static_cast<int>(a.get_int("-c"));
  if (o.n_ctx < 0) throw UsageError("-c: context size must be >= 0");
  o.n_batch = static_cast<int>(a.get_int("-b"));
  if (o.n_batch <= 0) throw UsageError("-b: batch size must be positive");
  o.n_threads = static_cast<int>(a.get_int("-t"));
  if (o.n_threads < 0 || o.n_threads > 1024) throw UsageError("-t: thread count out of range");
  if (a.get("-ngl") == "auto") {
    o.n_gpu_layers = -1;
  } else {
    const int64_t n = a.get_int("-ngl");
    if (n < 0) throw UsageError("-ngl: must be >= 0 or auto");
    o.n_gpu_layers = static_cast<int>(std::min<int64_t>(n, 1 << 20));  // more than any model has
  }
  o.unified = a.has("--unified");
  o.reference = a.has("--reference");
  const std::string kv = a.get("--kv-type");
  if (kv == "f16") o.kv_type = TensorType::F16;
  else if (kv == "f32") o.kv_type = TensorType::F32;
  else throw UsageError("--kv-type: expected f16 or f32, got '" + kv + "'");
  (void)m;
  return o;
}

}  // namespace jetlm
