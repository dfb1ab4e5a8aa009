// jetlm eval: logits of a token sequence, for checking against references.
// Output: float32 little-endian, row-major [n_tokens][n_vocab], row i = the
// logits after token i.
#include <cstdio>
#include <vector>

#include "models/context.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "tools/common_options.h"
#include "tools/model_arg.h"
#include "util/atomic_file.h"
#include "util/error.h"

namespace jetlm {

int cmd_eval(int argc, char** argv) {
  Args args("eval", "jetlm eval -m MODEL --tokens 1,2,3 --logits OUT.f32 [--incremental] [--reference]");
  args.option("-m,--model", "MODEL", "GGUF model file, or ollama:NAME[:TAG]");
  add_hub_options(args);
  args.option("--tokens", "IDS", "comma-separated token ids");
  args.option("--logits", "OUT", "output file (float32 [n_tokens][n_vocab])");
  args.flag("--incremental", "feed one token at a time through the KV cache");
  add_context_options(args);
  if (!args.parse(argc, argv)) return 0;
  if (args.get("--model").empty() && args.get("-hf").empty()) throw UsageError("jetlm eval: -m MODEL or -hf REPO is required");
  if (args.get("--logits").empty()) throw UsageError("jetlm eval: --logits OUT is required");
  std::vector<int32_t> ids;
  for (int64_t id : args.get_int_list("--tokens")) {
    if (id < 0 || id > INT32_MAX) throw UsageError(str_cat("jetlm eval: --tokens: id ", id, " out of range"));
    ids.push_back(static_cast<int32_t>(id));
  }
  if (ids.empty()) throw UsageError("jetlm eval: --tokens needs at least one id");

  auto model = Model::load(resolve_model_arg(args));
  ContextOptions co = context_options(args, *model);
  if (!args.has("-c")) co.n_ctx = std::max<int>(static_cast<int>(ids.size()), std::min(model->hparams().n_ctx_train, 4096));
  Context ctx(*model, co);
  const int64_t V = model->hparams().n_vocab;
  std::vector<float> logits(ids.size() * static_cast<size_t>(V));
  if (args.has("--incremental")) {
    for (size_t i = 0; i < ids.size(); ++i) ctx.decode(&ids[i], 1, false, logits.data() + i * static_cast<size_t>(V));
  } else {
    ctx.decode(ids.data(), static_cast<int>(ids.size()), true, logits.data());
  }
  write_file_atomic(args.get("--logits"), logits.data(), logits.size() * sizeof(float));
  return 0;
}

}  // namespace jetlm
