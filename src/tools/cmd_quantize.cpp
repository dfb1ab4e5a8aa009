// jetlm quantize: re-type a GGUF model with llama.cpp's mixing rules.
#include <chrono>
#include <cstdio>
#include <memory>

#include "quant/progress.h"
#include "quant/quantize_model.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "util/error.h"

namespace jetlm {

namespace {

double mib(size_t bytes) { return static_cast<double>(bytes) / (1024.0 * 1024.0); }

std::string shape_of(const int64_t ne[4]) {
  std::string s;
  for (int d = 0; d < 4; ++d) {
    if (d > 0 && ne[d] == 1 && (d == 3 || ne[d + 1] == 1)) break;
    s += (d ? "x" : "") + std::to_string(ne[d]);
  }
  return s;
}

void print_table(const QuantizeResult& r, bool stats) {
  std::printf("%-36s %-14s %-7s %-7s %10s", "tensor", "shape", "from", "to", "MiB");
  if (stats) std::printf(" %12s %10s", "rmse", "rel");
  std::printf("\n");
  for (const TensorReport& t : r.tensors) {
    std::printf("%-36s %-14s %-7s %-7s %10.3f", t.name.c_str(), shape_of(t.ne).c_str(), type_name(t.from),
                type_name(t.to), mib(t.bytes));
    if (stats) {
      if (t.measured) std::printf(" %12.4e %10.4e", t.rmse(), t.relative_rmse());
      else std::printf(" %12s %10s", "-", "-");
    }
    std::printf("\n");
  }
}

}  // namespace

int cmd_quantize(int argc, char** argv) {
  Args args("quantize", "jetlm quantize IN.gguf OUT.gguf TYPE [--threads N] [--pure] [--keep-output] [--stats]");
  args.allow_positional("IN.gguf OUT.gguf TYPE", 3, 3);
  args.option("-t,--threads", "N", "threads (0: all cores)", "0");
  args.flag("--pure", "no mixing rules: every quantizable tensor gets TYPE's default type");
  args.flag("--keep-output,--leave-output-tensor", "leave output.weight in its input type");
  args.flag("--allow-requantize", "accept an already-quantized input (quality suffers)");
  args.option("--imatrix", "FILE", "importance matrix from llama-imatrix (not supported yet)");
  args.flag("--stats", "print every tensor with its RMSE against the input weights");
  args.flag("--dry-run", "print the type each tensor would get and the sizes; write nothing");
  if (!args.parse(argc, argv)) return 0;

  const std::vector<std::string>& pos = args.positional();
  QuantizeOptions opt;
  if (!parse_file_type(pos[2], &opt.ftype))
    throw UsageError(str_cat("jetlm quantize: unknown type '", pos[2], "' (one of: ", file_type_list(), ")"));
  opt.n_threads = static_cast<int>(args.get_int("--threads", 0, 1024));
  opt.pure = args.has("--pure");
  opt.keep_output = args.has("--keep-output");
  opt.allow_requantize = args.has("--allow-requantize");
  opt.stats = args.has("--stats");
  opt.dry_run = args.has("--dry-run");
  opt.progress = ProgressBar::stderr_is_tty();
  std::unique_ptr<ImportanceMatrix> imatrix;
  if (args.has("--imatrix")) {
    imatrix.reset(new ImportanceMatrix(load_imatrix(args.get("--imatrix"))));
    opt.imatrix = imatrix.get();
  }
  if (opt.allow_requantize)
    std::fprintf(stderr, "jetlm quantize: warning: requantizing an already-quantized model adds to its error\n");

  const auto t0 = std::chrono::steady_clock::now();
  const QuantizeResult r = quantize_model(pos[0], pos[1], opt);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (opt.stats || opt.dry_run) print_table(r, opt.stats);
  std::printf("%s %s -> %s (%s): %.2f MiB -> %.2f MiB, %zu tensors", opt.dry_run ? "would quantize" : "quantized",
              pos[0].c_str(), pos[1].c_str(), file_type_name(opt.ftype), mib(r.bytes_in), mib(r.bytes_out),
              r.tensors.size());
  if (r.n_fallback) std::printf(", %d with fallback types (rows not a multiple of 256)", r.n_fallback);
  std::printf(", %.1f s\n", secs);
  return 0;
}

}  // namespace jetlm
