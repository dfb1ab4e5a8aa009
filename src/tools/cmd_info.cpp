// jetlm info: architecture, hyperparameters, tensor types with counts and
// bytes, and the memory a context of N tokens needs.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <utility>

#include "hub/fs.h"
#include "models/gpu_fit.h"
#include "models/model.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/model_arg.h"
#include "util/error.h"

namespace jetlm {

static std::string mib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// ollama's own template and options beside the GGUF (the GGUF's template stays the one jetlm uses).
static void print_ollama_layers(const ModelSource& src) {
  const std::pair<const char*, std::string> layers[] = {
      {"ollama template", src.ollama_template}, {"ollama params", src.ollama_params}, {"ollama system", src.ollama_system}};
  for (const auto& l : layers) {
    if (l.second.empty()) continue;
    std::string text = hub::read_small_file(l.second);
    for (char& c : text)
      if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (text.size() > 200) text = text.substr(0, 200) + "...";
    std::printf("%-16s %s (%s)\n", (std::string(l.first) + ":").c_str(), text.c_str(), l.second.c_str());
  }
}

int cmd_info(int argc, char** argv) {
  Args args("info", "jetlm info -m MODEL [-c N] [--kv-type f16|f32] [-ngl N [--unified]]");
  args.option("-m,--model", "MODEL", "GGUF model file, or ollama:NAME[:TAG]");
  add_hub_options(args);
  args.option("-c,--ctx-size", "N", "context size for the memory estimate (0: training context)", "0");
  args.option("--kv-type", "TYPE", "KV cache type for the estimate: f16 or f32", "f16");
  args.flag("--tensors", "list every tensor");
  args.option("-ngl,--gpu-layers,--n-gpu-layers", "N", "also estimate the GPU memory of N offloaded layers", "0");
  args.flag("--unified", "... with the GPU reading the weights from the map in place");
  if (!args.parse(argc, argv)) return 0;
  if (args.get("--model").empty() && args.get("-hf").empty()) throw UsageError("jetlm info: -m MODEL or -hf REPO is required");
  const ModelSource src = resolve_model_source(args);
  auto model = Model::load(src.path);
  const HParams& hp = model->hparams();
  const GgufFile& f = model->file();

  std::printf("file:            %s (GGUF v%u, %zu bytes)\n", f.path().c_str(), f.version(), f.file_size());
  print_ollama_layers(src);
  std::printf("name:            %s\n", f.get_str_or("general.name", "").c_str());
  std::printf("architecture:    %s\n", hp.arch_name.c_str());
  std::printf("parameters:      %lld\n", static_cast<long long>(model->n_params()));
  std::printf("vocabulary:      %d\n", hp.n_vocab);
  std::printf("context (train): %d\n", hp.n_ctx_train);
  std::printf("embedding:       %d\n", hp.n_embd);
  std::printf("layers:          %d\n", hp.n_layer);
  std::printf("feed-forward:    %d\n", hp.n_ff);
  std::printf("heads:           %d (kv %d), head size k %d v %d, rope dims %d%s\n", hp.n_head, hp.n_head_kv, hp.head_dim_k,
              hp.head_dim_v, hp.n_rot, hp.rope_neox ? " (neox)" : "");
  std::printf("rope base:       %g%s", hp.rope_base, hp.rope_freq_scale != 1.f ? " (linear scale)" : "");
  if (hp.arch == Arch::Gemma3) std::printf(", local layers %g", hp.rope_base_swa);
  std::printf("\nnorm eps:        %g\n", hp.norm_eps);
  if (hp.sliding_window > 0) {
    int n_local = 0;
    for (bool b : hp.layer_swa) n_local += b;
    std::printf("sliding window:  %d tokens on %d of %d layers\n", hp.sliding_window, n_local, hp.n_layer);
  }
  std::printf("output:          %s\n", model->tensors().output == model->tensors().tok_embd ? "tied to token_embd" : "output.weight");

  std::map<std::string, std::pair<int, size_t>> by_type;
  for (const auto& t : f.tensors()) {
    auto& e = by_type[type_name(t.type)];
    e.first++;
    e.second += t.nbytes;
  }
  std::printf("tensors:         %zu\n", f.tensors().size());
  for (const auto& kv : by_type)
    std::printf("  %-8s %4d tensors  %s\n", kv.first.c_str(), kv.second.first, mib(kv.second.second).c_str());
  if (args.has("--tensors"))
    for (const auto& t : f.tensors())
      std::printf("  %-32s %-7s %-16s %zu bytes\n", t.name.c_str(), type_name(t.type), t.shape_str().c_str(), t.nbytes);

  int64_t n_ctx = args.get_int("-c", 0, int64_t{1} << 24);
  if (n_ctx <= 0) n_ctx = hp.n_ctx_train;
  const std::string kv = args.get("--kv-type");
  if (kv != "f16" && kv != "f32") throw UsageError("--kv-type: expected f16 or f32");
  const size_t esz = kv == "f16" ? 2 : 4;
  const size_t kv_bytes = static_cast<size_t>(n_ctx) * hp.n_layer * (hp.n_embd_k_gqa() + hp.n_embd_v_gqa()) * esz;
  const size_t weights = model->weights_bytes();
  std::printf("memory:          weights %s (mapped once) + KV cache %s (%lld tokens, %s) = %s\n", mib(weights).c_str(),
              mib(kv_bytes).c_str(), static_cast<long long>(n_ctx), kv.c_str(), mib(weights + kv_bytes).c_str());
  std::printf("bytes per token: %s read per generated token\n", mib(model->bytes_per_token()).c_str());
  const int64_t ngl = args.get_int("-ngl", 0, INT64_MAX);
  if (ngl > 0) {
    GpuFitInputs in;
    in.n_ctx = static_cast<int>(n_ctx);
    in.kv_type = kv == "f16" ? TensorType::F16 : TensorType::F32;
    in.weights_in_place = args.has("--unified");
    const GpuFit fit = estimate_gpu_fit(hp, model->tensors(), in);
    const int n = static_cast<int>(std::min<int64_t>(ngl, hp.n_layer + 1));
    std::printf("GPU (-ngl %lld):    about %s of device memory%s\n", static_cast<long long>(ngl),
                mib(static_cast<size_t>(fit.bytes_for(n, hp.n_layer))).c_str(),
                in.weights_in_place ? ": weights read from the map in place (counted once, above)"
                                    : ": weights copied, KV cache, activations, workspace");
  }
  return 0;
}

}  // namespace jetlm
