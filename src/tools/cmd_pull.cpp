// jetlm pull REPO[:QUANT]: download a GGUF model from the Hugging Face Hub into
// its cache (shared with huggingface-cli and transformers); prints the path.
#include <cstdio>

#include "hub/config.h"
#include "hub/pull.h"
#include "tools/args.h"
#include "tools/commands.h"

namespace jetlm {

int cmd_pull(int argc, char** argv) {
  Args args("pull", "jetlm pull REPO[:QUANT] [--revision REV]   (e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M)");
  args.allow_positional("REPO[:QUANT]", 1, 1);
  args.option("--revision", "REV", "branch, tag or commit", "main");
  if (!args.parse(argc, argv)) return 0;
  const hub::PullResult r = hub::pull_model(hub::hub_config_from_env(), args.positional()[0], args.get("--revision"));
  // Later parts of a split model first: the last line is the file to open.
  for (size_t k = 1; k < r.paths.size(); ++k) std::printf("%s\n", r.paths[k].c_str());
  std::printf("%s\n", r.paths[0].c_str());
  return 0;
}

}  // namespace jetlm
