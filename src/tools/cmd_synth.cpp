// jetlm synth: a random-weight model with a real model's shapes, metadata
// and vocabulary size, for tests and benchmarks at real sizes.
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "quant/progress.h"
#include "synth/synth_model.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "util/error.h"

namespace jetlm {

int cmd_synth(int argc, char** argv) {
  Args args("synth", "jetlm synth --like NAME --type TYPE -o OUT.gguf [--seed S] [--vocab-from VOCAB.gguf] [--custom k=v,...]");
  args.option("--like", "NAME", "preset: " + synth_preset_names());
  args.option("--custom", "K=V,...", "shapes (arch, n_embd, n_layer, n_head, n_head_kv, n_ff, n_vocab, head_dim, n_ctx, ...); "
              "alone or on top of --like");
  args.option("--type", "TYPE", "file type: " + file_type_list(), "Q4_K_M");
  args.option("-o,--output", "OUT", "output GGUF file");
  args.option("--seed", "S", "random seed (same seed, same bytes)", "0");
  args.option("--vocab-from", "FILE", "copy the tokenizer.* keys of this GGUF file instead of generating a vocabulary");
  args.option("-t,--threads", "N", "threads (0: all cores)", "0");
  args.flag("--dry-run", "print the tensors with their types and sizes; write nothing");
  if (!args.parse(argc, argv)) return 0;

  SynthOptions opt;
  if (args.has("--like")) {
    const SynthConfig* preset = find_synth_preset(args.get("--like"));
    if (!preset) throw UsageError("jetlm synth: unknown preset '" + args.get("--like") + "' (one of: " + synth_preset_names() + ")");
    opt.config = *preset;
  } else if (!args.has("--custom")) {
    throw UsageError("jetlm synth: give --like NAME or --custom arch=...,n_embd=...");
  }
  if (args.has("--custom")) opt.config = apply_custom(opt.config, args.get("--custom"));
  if (!parse_file_type(args.get("--type"), &opt.ftype))
    throw UsageError("jetlm synth: --type: unknown type '" + args.get("--type") + "' (one of: " + file_type_list() + ")");
  opt.seed = static_cast<uint64_t>(args.get_int("--seed", 0, INT64_MAX));
  opt.vocab_from = args.get("--vocab-from");
  opt.n_threads = static_cast<int>(args.get_int("--threads", 0, 1024));
  opt.progress = ProgressBar::stderr_is_tty();

  if (args.has("--dry-run")) {
    const SynthPlan p = plan_synth_model(opt);
    size_t total = 0;
    for (size_t i = 0; i < p.tensors.size(); ++i) {
      const SynthTensor& t = p.tensors[i];
      GgufTensorDesc d;
      d.type = p.types[i];
      std::copy(t.ne, t.ne + 4, d.ne);
      total += d.nbytes();
      std::printf("%-36s %8lld %8lld  %s\n", t.name.c_str(), static_cast<long long>(t.ne[0]),
                  static_cast<long long>(t.ne[1]), type_name(p.types[i]));
    }
    std::printf("%s %s: %zu tensors, %.1f MiB of weights, %d with fallback types\n", p.config.preset.c_str(),
                file_type_name(opt.ftype), p.tensors.size(), static_cast<double>(total) / 1048576.0, p.n_fallback);
    return 0;
  }
  if (args.get("--output").empty()) throw UsageError("jetlm synth: -o OUT.gguf is required");
  const auto t0 = std::chrono::steady_clock::now();
  const std::vector<TensorReport> r = write_synth_model(args.get("--output"), opt);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  size_t bytes = 0;
  for (const TensorReport& t : r) bytes += t.bytes;
  std::printf("wrote %s: %s %s, %zu tensors, %.1f MiB, %.1f s\n", args.get("--output").c_str(), opt.config.preset.c_str(),
              file_type_name(opt.ftype), r.size(), static_cast<double>(bytes) / 1048576.0, secs);
  return 0;
}

}  // namespace jetlm
