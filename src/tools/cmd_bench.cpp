// jetlm bench: llama-bench's measurements and output. Every parameter is a
// comma-separated list, and every combination is measured (models outermost,
// then -ngl, -t, -b, -ctk, then the tests: each -p, each -n, each -pg, at each -d).
// --scenarios / --url, --bandwidth and --compare are the other modes (bench_cli.h).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/cpu_features.h"
#include "bench/bench.h"
#include "models/model.h"
#include "tools/bench_cli.h"
#include "tools/commands.h"
#include "tools/model_arg.h"
#include "util/error.h"

namespace jetlm {

std::vector<std::string> bench_list_items(const Args& a, const std::string& name) {
  std::vector<std::string> out;
  for (const std::string& v : a.get_all(name)) {
    size_t start = 0;
    while (start <= v.size()) {
      const size_t comma = v.find(',', start);
      const std::string item = v.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!item.empty()) out.push_back(item);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  return out;
}

std::vector<int> bench_int_list(const Args& a, const std::string& name, int min_value) {
  std::vector<int> v;
  auto check = [&](int64_t x) {
    if (x < min_value || x > (1 << 24))
      throw UsageError(str_cat(name, ": expected integers in [", min_value, ", ", 1 << 24, "], got ", x));
    return static_cast<int>(x);
  };
  const std::vector<std::string> items = a.has(name) ? bench_list_items(a, name) : a.get_list(name);
  for (const std::string& item : items) {
    const size_t dash = item.find('-', 1);  // not a leading minus sign
    if (dash == std::string::npos) {
      v.push_back(check(parse_int(item, name)));
      continue;
    }
    // first-last, first-last+step, first-last*factor
    const size_t op = item.find_first_of("+*", dash);
    const int64_t first = parse_int(item.substr(0, dash), name);
    const int64_t last = parse_int(item.substr(dash + 1, op == std::string::npos ? std::string::npos : op - dash - 1), name);
    const bool mul = op != std::string::npos && item[op] == '*';
    const int64_t step = op == std::string::npos ? 1 : parse_int(item.substr(op + 1), name);
    if (step < (mul ? 2 : 1) || first > last || (mul && first < 1))
      throw UsageError(str_cat(name, ": bad range '", item, "' (first-last, first-last+step or first-last*factor)"));
    for (int64_t x = first; x <= last; x = mul ? x * step : x + step) v.push_back(check(x));
  }
  return v;
}

std::vector<std::string> bench_model_paths(const Args& a) {
  std::vector<std::string> models;
  for (const std::string& v : bench_list_items(a, "-m")) models.push_back(resolve_model_name(v, false));
  for (const std::string& v : bench_list_items(a, "-hf")) models.push_back(resolve_model_name(v, true));
  return models;
}

namespace {

int bench_tests(const Args& args) {
  const std::vector<std::string> models = bench_model_paths(args);
  if (models.empty()) throw UsageError("jetlm bench: -m MODEL or -hf REPO is required");
  const std::vector<int> prompts = bench_int_list(args, "-p", 0);
  const std::vector<int> gens = bench_int_list(args, "-n", 0);
  const std::vector<int> depths = bench_int_list(args, "-d", 0);
  std::vector<BenchTest> pg;
  for (const std::string& v : args.get_all("-pg")) {
    size_t comma = v.find(',');
    if (comma == std::string::npos) throw UsageError("-pg: expected PP,TG, got '" + v + "'");
    BenchTest t;
    t.n_prompt = static_cast<int>(parse_int(v.substr(0, comma), "-pg"));
    t.n_gen = static_cast<int>(parse_int(v.substr(comma + 1), "-pg"));
    if (t.n_prompt < 0 || t.n_gen < 0) throw UsageError("-pg: lengths must be >= 0");
    if (t.n_prompt + t.n_gen > 0) pg.push_back(t);
  }
  const int reps = static_cast<int>(args.get_int("-r", 1, 1000000));
  std::vector<int> threads = args.has("-t") ? bench_int_list(args, "-t", 1) : std::vector<int>{physical_cores()};
  const std::vector<int> ngls = bench_int_list(args, "-ngl", 0);
  const std::vector<int> batches = bench_int_list(args, "-b", 1);
  std::vector<TensorType> kv_types;
  for (const std::string& s : args.get_list("-ctk")) {
    if (s == "f16") kv_types.push_back(TensorType::F16);
    else if (s == "f32") kv_types.push_back(TensorType::F32);
    else throw UsageError("-ctk: expected f16 or f32, got '" + s + "'");
  }
  std::vector<BenchTest> tests;
  for (int p : prompts)
    if (p > 0) tests.push_back(BenchTest{p, 0, 0});
  for (int n : gens)
    if (n > 0) tests.push_back(BenchTest{0, n, 0});
  tests.insert(tests.end(), pg.begin(), pg.end());
  if (tests.empty()) throw UsageError("jetlm bench: nothing to measure (all of -p, -n, -pg are 0)");
  bool any_tg = false;
  for (const BenchTest& t : tests) any_tg = any_tg || (t.n_gen > 0 && t.n_prompt == 0);

  bool show_ngl = false;
  for (int n : ngls) show_ngl = show_ngl || n > 0;
  std::unique_ptr<BenchPrinter> out = make_bench_printer(args.get("-o"), stdout, show_ngl);
  out->begin();
  for (const std::string& path : models) {
    auto model = Model::load(path);
    const BenchModelInfo info = describe_model(*model, path);
    for (int ngl : ngls) {
      const double peak = any_tg ? bench_peak_gbs(args, ngl > 0) : 0;
      for (int nt : threads)
        for (int nb : batches)
          for (TensorType kv : kv_types)
            for (int depth : depths)
              for (BenchTest t : tests) {
                t.n_depth = depth;
                BenchParams p;
                p.test = t;
                p.n_threads = nt;
                p.n_gpu_layers = ngl;
                p.n_batch = nb;
                p.kv_type = kv;
                p.repetitions = reps;
                p.unified = args.has("--unified");
                BenchResult r = run_bench(*model, info, p);
                r.peak_gbs = peak;
                out->result(r);
              }
    }
  }
  out->end();
  return 0;
}

}  // namespace

int cmd_bench(int argc, char** argv) {
  Args args("bench",
            "jetlm bench -m MODEL[,MODEL...] [-p 512] [-n 128] [-pg PP,TG] [-d 0] [-r 5] [-t LIST] [-ngl LIST] [--unified] [-o md|json|csv|jsonl]\n"
            "       jetlm bench --scenarios LIST -m MODEL[,MODEL...] [-ngl LIST] [-r 3] [--json FILE] [--plots DIR]\n"
            "       jetlm bench --url http://HOST:PORT [--api openai|ollama] --model-name NAME --scenarios LIST [--rate sync|R|poisson:R] [--concurrency N] [--sweep]\n"
            "       jetlm bench --bandwidth     |     jetlm bench --compare A.json B.json     |     jetlm bench --plots DIR --json FILE");
  args.option("-m,--model", "LIST", "GGUF model files or ollama:NAME[:TAG] (comma list; may be repeated)");
  add_hub_options(args);
  args.option("-p,--n-prompt", "LIST", "prompt lengths: test ppN for each (0: none); ranges 64-1024*2, 128-512+128", "512");
  args.option("-n,--n-gen", "LIST", "generation lengths: test tgN for each (0: none)", "128");
  args.option("-pg", "PP,TG", "prompt then generation: test ppPP+tgTG (may be repeated)");
  args.option("-d,--n-depth", "LIST", "run each test with N tokens already in the KV cache", "0");
  args.option("-r,--repetitions", "N", "timed runs per test (scenarios: requests), after one warm-up run", "5");
  args.option("-t,--threads", "LIST", "CPU threads (default: physical cores)");
  args.option("-ngl,--n-gpu-layers", "LIST", "layers offloaded to the GPU", "0");
  args.option("-b,--batch-size", "LIST", "tokens per forward pass of the prompt", "512");
  args.option("-ctk,--cache-type-k", "LIST", "KV cache type: f16 or f32", "f16");
  args.option("-o,--output", "FORMAT", "md, csv, json or jsonl", "md");
  args.flag("--unified", "GPU reads the weights from the map in place (default on integrated GPUs)");
  args.option("--peak-gbs", "GBS", "memory bandwidth for the roofline % (default: measured; 0: off)");
  // Scenarios
  args.option("--scenarios", "LIST", "request shapes: chat, long-response, balanced, generation-heavy, completion, "
                                     "standard-chat, rag, long-context, context-heavy, all, quick, IN:OUT");
  args.option("--warmup", "N", "untimed requests before each scenario's repetitions (at most 512 prompt, 4 generated tokens)", "1");
  args.option("--json", "FILE", "write every result (statistics, raw samples, monitor, system) as JSON");
  args.option("--plots", "DIR", "draw the plots of the JSON into DIR (python3 + matplotlib)");
  args.flag("--monitor", "scenario runs sample CPU/GPU/memory/temperature/power every 100 ms (the default)");
  args.flag("--no-monitor", "no system monitor");
  args.option("--sysfs-root", "DIR", "read /proc and /sys under DIR (tests; default $JETLM_SYSFS_ROOT)");
  // Remote endpoints
  args.option("--url", "URL", "benchmark a server (http://HOST:PORT) instead of the in-process engine");
  args.option("--api", "API", "openai (/v1/completions) or ollama (/api/generate)", "openai");
  args.option("--model-name", "NAME", "model name sent to the server (with --url, a -m NAME that is not a file says the same)", "default");
  args.option("--rate", "MODE", "sync, R (requests/s, constant), poisson:R", "sync");
  args.option("--concurrency", "N", "N requests in flight (closed loop)", "1");
  args.flag("--sweep", "sync, then saturation, then constant rates between them");
  args.option("--timeout", "S", "per-request timeout in seconds (remote)", "300");
  // Other modes
  args.flag("--bandwidth", "measure the memory bandwidth (host read; GPU copies and reads in CUDA builds)");
  args.option("--bandwidth-mib", "N", "buffer size of --bandwidth and the roofline measurement", "256");
  args.option("--compare", "A.json", "ratio table of two --json files: --compare A.json B.json");
  args.allow_positional("B.json", 0, 1);
  if (!args.parse(argc, argv)) return 0;

  if (args.has("--compare")) return bench_compare(args);
  if (!args.positional().empty()) throw UsageError("jetlm bench: unexpected argument '" + args.positional()[0] + "'");
  if (args.has("--bandwidth")) return bench_bandwidth(args);
  if (args.has("--scenarios") || args.has("--url")) return bench_scenarios(args);
  if (args.has("--plots") && !args.has("-m") && !args.has("-hf")) {
    if (!args.has("--json")) throw UsageError("--plots: give --json FILE (the results to draw)");
    bench_plots(args.get("--json"), args.get("--plots"));
    return 0;
  }
  return bench_tests(args);
}

}  // namespace jetlm
