// jetlm bench: llama-bench's measurements and output. Every parameter is a
// comma-separated list, and every combination is measured (models outermost,
// then -ngl, -t, -b, -ctk, then the tests: each -p, each -n, each -pg).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "backends/cpu/cpu_features.h"
#include "bench/bench.h"
#include "models/model.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/model_arg.h"
#include "util/error.h"

namespace jetlm {

namespace {

std::vector<int> int_list(const Args& a, const std::string& name, int min_value) {
  std::vector<int> v;
  for (int64_t x : a.get_int_list(name)) {
    if (x < min_value || x > (1 << 24))
      throw UsageError(str_cat(name, ": expected integers in [", min_value, ", ", 1 << 24, "], got ", x));
    v.push_back(static_cast<int>(x));
  }
  return v;
}

// Values of a list option given once or several times (-m a.gguf -m b.gguf, -m a.gguf,b.gguf).
std::vector<std::string> all_items(const Args& a, const std::string& name) {
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

}  // namespace

int cmd_bench(int argc, char** argv) {
  Args args("bench",
            "jetlm bench -m MODEL[,MODEL...] [-p 512] [-n 128] [-pg PP,TG] [-r 5] [-t LIST] [-ngl LIST] [--unified] [-o md|json|csv|jsonl]");
  args.option("-m,--model", "LIST", "GGUF model files or ollama:NAME[:TAG] (comma list; may be repeated)");
  add_hub_options(args);
  args.option("-p,--n-prompt", "LIST", "prompt lengths: test ppN for each (0: none)", "512");
  args.option("-n,--n-gen", "LIST", "generation lengths: test tgN for each (0: none)", "128");
  args.option("-pg", "PP,TG", "prompt then generation: test ppPP+tgTG (may be repeated)");
  args.option("-r,--repetitions", "N", "timed runs per test, after one warm-up run", "5");
  args.option("-t,--threads", "LIST", "CPU threads (default: physical cores)");
  args.option("-ngl,--n-gpu-layers", "LIST", "layers offloaded to the GPU", "0");
  args.option("-b,--batch-size", "LIST", "tokens per forward pass of the prompt", "512");
  args.option("-ctk,--cache-type-k", "LIST", "KV cache type: f16 or f32", "f16");
  args.option("-o,--output", "FORMAT", "md, csv, json or jsonl", "md");
  args.flag("--unified", "GPU reads the weights from the map in place (default on integrated GPUs)");
  if (!args.parse(argc, argv)) return 0;

  std::vector<std::string> models;
  for (const std::string& v : all_items(args, "-m")) models.push_back(resolve_model_name(v, false));
  for (const std::string& v : all_items(args, "-hf")) models.push_back(resolve_model_name(v, true));
  if (models.empty()) throw UsageError("jetlm bench: -m MODEL or -hf REPO is required");
  const std::vector<int> prompts = int_list(args, "-p", 0);
  const std::vector<int> gens = int_list(args, "-n", 0);
  std::vector<BenchTest> pg;
  for (const std::string& v : args.get_all("-pg")) {
    size_t comma = v.find(',');
    if (comma == std::string::npos) throw UsageError("-pg: expected PP,TG, got '" + v + "'");
    BenchTest t;
    t.n_prompt = static_cast<int>(parse_int_in(v.substr(0, comma), "-pg", 0, 1 << 24));
    t.n_gen = static_cast<int>(parse_int_in(v.substr(comma + 1), "-pg", 0, 1 << 24));
    if (t.n_prompt + t.n_gen > 0) pg.push_back(t);
  }
  const int reps = static_cast<int>(args.get_int("-r", 1, 1000000));
  std::vector<int> threads = args.has("-t") ? int_list(args, "-t", 1) : std::vector<int>{physical_cores()};
  const std::vector<int> ngls = int_list(args, "-ngl", 0);
  const std::vector<int> batches = int_list(args, "-b", 1);
  std::vector<TensorType> kv_types;
  for (const std::string& s : args.get_list("-ctk")) {
    if (s == "f16") kv_types.push_back(TensorType::F16);
    else if (s == "f32") kv_types.push_back(TensorType::F32);
    else throw UsageError("-ctk: expected f16 or f32, got '" + s + "'");
  }
  std::vector<BenchTest> tests;
  for (int p : prompts)
    if (p > 0) tests.push_back(BenchTest{p, 0});
  for (int n : gens)
    if (n > 0) tests.push_back(BenchTest{0, n});
  tests.insert(tests.end(), pg.begin(), pg.end());
  if (tests.empty()) throw UsageError("jetlm bench: nothing to measure (all of -p, -n, -pg are 0)");

  bool show_ngl = false;
  for (int n : ngls) show_ngl = show_ngl || n > 0;
  std::unique_ptr<BenchPrinter> out = make_bench_printer(args.get("-o"), stdout, show_ngl);
  out->begin();
  for (const std::string& path : models) {
    auto model = Model::load(path);
    const BenchModelInfo info = describe_model(*model, path);
    for (int ngl : ngls)
      for (int nt : threads)
        for (int nb : batches)
          for (TensorType kv : kv_types)
            for (const BenchTest& t : tests) {
              BenchParams p;
              p.test = t;
              p.n_threads = nt;
              p.n_gpu_layers = ngl;
              p.n_batch = nb;
              p.kv_type = kv;
              p.repetitions = reps;
              p.unified = args.has("--unified");
              out->result(run_bench(*model, info, p));
            }
  }
  out->end();
  return 0;
}

}  // namespace jetlm
