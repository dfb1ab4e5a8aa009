#include "tools/common_options.h"

#include <algorithm>
#include <climits>
#include <cstdint>
#include <cstdio>

#include "util/error.h"

namespace jetlm {

void add_context_options(Args& a) {
  a.option("-c,--ctx-size", "N", "context size in tokens (0: the model's, at most 4096; at most the trained context)", "0");
  a.flag("--ctx-force", "allow -c beyond the model's trained context");
  a.option("-b,--batch-size", "N", "tokens per forward pass", "512");
  a.option("-t,--threads", "N", "CPU threads (0: physical cores)", "0");
  a.option("-ngl,--gpu-layers,--n-gpu-layers", "N", "layers to offload to the GPU (auto: all that fit, if there is one)",
           "auto");
  a.flag("--unified", "GPU reads weights from the mmap in place (default on integrated GPUs)");
  a.flag("--reference", "scalar float32 reference path");
  a.option("--kv-type", "TYPE", "KV cache type: f16 or f32", "f16");
}

// MemAvailable of /proc/meminfo in bytes, 0 when unknown (not Linux).
static uint64_t available_memory() {
  FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return 0;
  char line[256];
  unsigned long long kib = 0;
  while (std::fgets(line, sizeof line, f))
    if (std::sscanf(line, "MemAvailable: %llu kB", &kib) == 1) break;
  std::fclose(f);
  return static_cast<uint64_t>(kib) * 1024;
}

// Bytes of the KV cache of a context: keys and values of every layer.
static uint64_t kv_cache_bytes(const HParams& hp, int64_t n_ctx, int64_t n_batch, TensorType kv_type) {
  const uint64_t esz = kv_type == TensorType::F16 ? 2 : 4;
  uint64_t total = 0;
  for (int il = 0; il < hp.n_layer; ++il)
    total += static_cast<uint64_t>(hp.kv_layer_rows(il, n_ctx, n_batch)) *
             static_cast<uint64_t>(hp.n_embd_k_gqa() + hp.n_embd_v_gqa()) * esz;
  return total;
}

ContextOptions context_options(const Args& a, const Model& m) {
  const HParams& hp = m.hparams();
  ContextOptions o;
  // Past the trained context the model's output degrades (positions it never
  // saw), so that takes --ctx-force; 16M tokens bounds the arithmetic.
  const bool force = a.has("--ctx-force");
  const int64_t max_ctx = force || hp.n_ctx_train <= 0 ? int64_t{1} << 24 : hp.n_ctx_train;
  const std::string c = a.get("-c");
  o.n_ctx = static_cast<int>(parse_int_in(c, "-c", 0, INT32_MAX));
  if (o.n_ctx > max_ctx) {
    if (!force && hp.n_ctx_train > 0)
      throw UsageError(str_cat("-c: ", c, " is beyond the model's trained context of ", hp.n_ctx_train,
                               " tokens (allowed: [0, ", hp.n_ctx_train, "]; --ctx-force to go beyond)"));
    throw UsageError(str_cat("-c: expected an integer in [0, ", max_ctx, "], got '", c, "'"));
  }
  o.n_batch = static_cast<int>(a.get_int("-b", 1, 1 << 20));
  o.n_threads = static_cast<int>(a.get_int("-t", 0, 1024));
  if (a.get("-ngl") == "auto") {
    o.n_gpu_layers = -1;
  } else {
    const int64_t n = parse_int_in(a.get("-ngl"), "-ngl (or auto)", 0, INT64_MAX);
    o.n_gpu_layers = static_cast<int>(std::min<int64_t>(n, 1 << 20));  // more than any model has
  }
  o.unified = a.has("--unified");
  o.reference = a.has("--reference");
  const std::string kv = a.get("--kv-type");
  if (kv == "f16") o.kv_type = TensorType::F16;
  else if (kv == "f32") o.kv_type = TensorType::F32;
  else throw UsageError("--kv-type: expected f16 or f32, got '" + kv + "'");

  // The KV cache is allocated up front: check it against the memory there is
  // before asking for it (the GPU plan checks device memory on its own).
  const int64_t n_ctx = o.n_ctx > 0 ? o.n_ctx : std::min(hp.n_ctx_train, 4096);
  const uint64_t need = kv_cache_bytes(hp, n_ctx, std::min<int64_t>(o.n_batch, n_ctx), o.reference ? TensorType::F32 : o.kv_type);
  const uint64_t avail = available_memory();
  if (avail > 0 && need > avail)
    fail("a context of ", n_ctx, " tokens needs ", need >> 20, " MiB of KV cache, but only ", avail >> 20,
         " MiB of memory is available (lower -c)");
  return o;
}

}  // namespace jetlm
