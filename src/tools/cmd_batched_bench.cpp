// jetlm batched-bench: llama-batched-bench's measurement through jetlm's
// scheduler. For each B of -npl, B sequences of -npp prompt tokens each
// generate -ntg tokens together (continuous batching, end-of-sequence
// ignored); prints llama-batched-bench's columns plus per-sequence TTFT, ITL
// and tokens/s from the engine's per-token timestamps.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "engine/engine.h"
#include "tools/commands.h"
#include "tools/common_options.h"
#include "tools/model_arg.h"
#include "tools/session.h"
#include "util/error.h"

namespace jetlm {

namespace {

struct SeqTimes {
  std::vector<double> t;  // ms since submit of each generated token
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct RunResult {
  double t_pp = 0, t_tg = 0;  // seconds: until every sequence has its first token; the rest
  double ttft_p50 = 0, itl_p50 = 0, seq_tps = 0;
};

// B sequences of pp random prompt tokens (distinct first tokens: no prefix reuse), tg tokens each.
RunResult run_once(Context& ctx, const Tokenizer& tok, int pp, int tg, int B) {
  const int V = ctx.model().hparams().n_vocab;
  std::vector<SeqTimes> times(static_cast<size_t>(B));
  EngineOptions eo;
  eo.background = false;
  eo.n_queue = B;
  Engine e(ctx, tok, eo);
  for (int b = 0; b < B; ++b) {
    Request r;
    for (int i = 0; i < pp; ++i) r.prompt.push_back(static_cast<int32_t>((b * 7919 + i * 31 + 3) % V));
    r.params.n_predict = tg;
    r.params.ignore_eos = true;
    r.params.sampling.temp = 0;
    SeqTimes* st = &times[static_cast<size_t>(b)];
    r.on_event = [st](const TokenEvent& ev) {
      if (!ev.done) st->t.push_back(ev.t_ms);
      return true;
    };
    e.submit(std::move(r));
  }
  const auto t0 = std::chrono::steady_clock::now();
  e.run_until_idle();
  const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  RunResult rr;
  double first_all = 0;
  std::vector<double> ttft, itl, tps;
  for (const SeqTimes& s : times) {
    if (s.t.empty()) fail("a sequence generated nothing");
    first_all = std::max(first_all, s.t.front());
    ttft.push_back(s.t.front());
    for (size_t i = 1; i < s.t.size(); ++i) itl.push_back(s.t[i] - s.t[i - 1]);
    if (s.t.size() > 1) tps.push_back(1000.0 * static_cast<double>(s.t.size() - 1) / (s.t.back() - s.t.front()));
  }
  rr.t_pp = first_all / 1000.0;
  rr.t_tg = std::max(1e-9, total - rr.t_pp);
  rr.ttft_p50 = median(ttft);
  rr.itl_p50 = median(itl);
  rr.seq_tps = median(tps);
  return rr;
}

}  // namespace

int cmd_batched_bench(int argc, char** argv) {
  Args args("batched-bench", "jetlm batched-bench [-m MODEL] [-npp 128] [-ntg 128] [-npl 1,2,4,8,16,32] [-ngl N] [-t N]");
  add_model_options(args);
  args.option("-npp", "LIST", "prompt tokens per sequence", "128");
  args.option("-ntg", "LIST", "generated tokens per sequence", "128");
  args.option("-npl", "LIST", "parallel sequences", "1,2,4,8,16,32");
  if (!args.parse(argc, argv)) return 0;
  const std::vector<int64_t> npp = args.get_int_list("-npp"), ntg = args.get_int_list("-ntg"), npl = args.get_int_list("-npl");
  int64_t max_b = 1, max_len = 1;
  for (int64_t b : npl) {
    if (b < 1 || b > 1024) throw UsageError("-npl: sequences must be 1..1024");
    max_b = std::max(max_b, b);
  }
  for (int64_t p : npp) {
    if (p < 1 || p > 1 << 20) throw UsageError("-npp: prompt tokens must be 1..1048576");
    for (int64_t g : ntg) {
      if (g < 1 || g > 1 << 20) throw UsageError("-ntg: generated tokens must be 1..1048576");
      max_len = std::max(max_len, p + g);
    }
  }
  std::string path = resolve_model_arg(args);  // -m, -m ollama:, -hf
  if (path.empty()) path = default_model_path();
  std::unique_ptr<Model> model = Model::load(path);
  std::unique_ptr<Tokenizer> tok = Tokenizer::from_gguf(model->file());
  ContextOptions co = context_options(args, *model);
  co.n_seq = static_cast<int>(max_b);
  if (co.n_ctx == 0) co.n_ctx = static_cast<int>(max_len + 1);
  Context ctx(*model, co);
  std::printf("jetlm batched-bench: %s, %s, %d slots of %d positions, KV %.1f MiB\n\n", path.c_str(),
              ctx.backend_summary().c_str(), ctx.n_seq(), ctx.n_ctx(), static_cast<double>(ctx.kv_bytes()) / (1 << 20));
  std::printf("|    PP |     TG |    B |   N_KV |   T_PP s | S_PP t/s |   T_TG s | S_TG t/s |      T s |    S t/s | TTFT p50 ms | ITL p50 ms | seq t/s |\n");
  std::printf("|-------|--------|------|--------|----------|----------|----------|----------|----------|----------|-------------|------------|---------|\n");
  run_once(ctx, *tok, 8, 4, 1);  // warm-up: first launches, graphs, page faults
  for (int64_t pp : npp)
    for (int64_t tg : ntg)
      for (int64_t b : npl) {
        const RunResult r = run_once(ctx, *tok, static_cast<int>(pp), static_cast<int>(tg), static_cast<int>(b));
        const double n_pp = static_cast<double>(b * pp), n_tg = static_cast<double>(b * (tg - 1));
        const double t = r.t_pp + r.t_tg;
        std::printf("| %5lld | %6lld | %4lld | %6lld | %8.3f | %8.2f | %8.3f | %8.2f | %8.3f | %8.2f | %11.2f | %10.2f | %7.2f |\n",
                    static_cast<long long>(pp), static_cast<long long>(tg), static_cast<long long>(b),
                    static_cast<long long>(b * (pp + tg)), r.t_pp, n_pp / r.t_pp, r.t_tg, n_tg / r.t_tg, t,
                    (n_pp + n_tg + b) / t, r.ttft_p50, r.itl_p50, r.seq_tps);
        std::fflush(stdout);
      }
  return 0;
}

}  // namespace jetlm
