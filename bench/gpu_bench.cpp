// jetlm-gpu-bench: prompt-processing and token-generation speed of a model, the
// way llama-bench measures them (pp: one batch of P tokens into an empty cache;
// tg: N tokens one at a time from an empty cache; the context is P or N
// tokens), plus the bandwidth a token achieves: weight bytes per token x t/s.
//
//   jetlm-gpu-bench -m MODEL [-ngl 99] [-p 512] [-n 128] [-r 5] [--unified] [-b 512]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "models/context.h"
#include "models/model.h"
#include "util/error.h"

namespace {

struct Stats {
  double mean = 0, sd = 0;
};

Stats stats(const std::vector<double>& v) {
  Stats s;
  for (double x : v) s.mean += x;
  s.mean /= static_cast<double>(v.size());
  for (double x : v) s.sd += (x - s.mean) * (x - s.mean);
  s.sd = v.size() > 1 ? std::sqrt(s.sd / static_cast<double>(v.size() - 1)) : 0;
  return s;
}

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int usage() {
  std::fprintf(stderr, "usage: jetlm-gpu-bench -m MODEL [-ngl N] [-p N] [-n N] [-r N] [-b N] [--unified] [--kv-type f16|f32]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path;
  int ngl = 99, n_prompt = 512, n_gen = 128, reps = 5, n_batch = 512;
  bool unified = false;
  jetlm::TensorType kv = jetlm::TensorType::F16;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "-m" && (v = next())) model_path = v;
    else if (a == "-ngl" && (v = next())) ngl = std::atoi(v);
    else if (a == "-p" && (v = next())) n_prompt = std::atoi(v);
    else if (a == "-n" && (v = next())) n_gen = std::atoi(v);
    else if (a == "-r" && (v = next())) reps = std::max(1, std::atoi(v));
    else if (a == "-b" && (v = next())) n_batch = std::atoi(v);
    else if (a == "--unified") unified = true;
    else if (a == "--kv-type" && (v = next())) kv = std::string(v) == "f32" ? jetlm::TensorType::F32 : jetlm::TensorType::F16;
    else return usage();
  }
  if (model_path.empty()) return usage();
  try {
    auto model = jetlm::Model::load(model_path);
    const auto& hp = model->hparams();
    const double bytes_tok = static_cast<double>(model->bytes_per_token());
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> tok(0, hp.n_vocab - 1);
    std::vector<float> logits(static_cast<size_t>(hp.n_vocab));

    auto make_ctx = [&](int n_ctx) {
      jetlm::ContextOptions co;
      co.n_ctx = n_ctx;
      co.n_batch = n_batch;
      co.n_gpu_layers = ngl;
      co.unified = unified;
      co.kv_type = kv;
      return std::make_unique<jetlm::Context>(*model, co);
    };
    std::printf("model: %s (%s, %d layers, %.1f MiB read per token)\n", model_path.c_str(), hp.arch_name.c_str(),
                hp.n_layer, bytes_tok / 1048576.0);
    if (n_prompt > 0) {
      auto ctx = make_ctx(n_prompt);
      std::printf("backends: %s\n", ctx->backend_summary().c_str());
      std::vector<int32_t> ids(static_cast<size_t>(n_prompt));
      std::vector<double> tps;
      for (int r = -1; r < reps; ++r) {  // r = -1: warm-up
        for (int32_t& id : ids) id = tok(rng);
        ctx->truncate(0);
        const double t0 = now();
        ctx->decode(ids.data(), n_prompt, false, logits.data());
        const double dt = now() - t0;
        if (r >= 0) tps.push_back(n_prompt / dt);
      }
      const Stats s = stats(tps);
      std::printf("pp%d: %.1f +- %.1f t/s (ngl %d)\n", n_prompt, s.mean, s.sd, ngl);
    }
    if (n_gen > 0) {
      auto ctx = make_ctx(n_gen);
      if (n_prompt <= 0) std::printf("backends: %s\n", ctx->backend_summary().c_str());
      std::vector<double> tps;
      for (int r = -1; r < reps; ++r) {
        ctx->truncate(0);
        int32_t id = tok(rng);
        const double t0 = now();
        for (int i = 0; i < n_gen; ++i) {
          ctx->decode(&id, 1, false, logits.data());
          id = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
        }
        const double dt = now() - t0;
        if (r >= 0) tps.push_back(n_gen / dt);
      }
      const Stats s = stats(tps);
      std::printf("tg%d: %.1f +- %.1f t/s (ngl %d), %.0f GB/s of weights (%.1f%% of 4.3 TB/s)\n", n_gen, s.mean, s.sd,
                  ngl, bytes_tok * s.mean / 1e9, 100.0 * bytes_tok * s.mean / 4.3e12);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "jetlm-gpu-bench: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
