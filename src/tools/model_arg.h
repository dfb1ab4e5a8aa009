// Where a command's model comes from: -m FILE, -m ollama:NAME[:TAG] (ollama's
// store, in place) or -hf REPO[:QUANT] (the Hugging Face Hub, through its
// cache; downloaded if missing). Every command that takes -m resolves it here
// (run, chat, eval, bench, info, serve), so they all accept the same names.
#pragma once
#include <string>
#include <vector>

#include "tools/args.h"

namespace jetlm {

// -hf,--hf-repo. --offline is taken out of argv by main() (see hub/config.h).
void add_hub_options(Args& a);

struct ModelSource {
  std::string path;           // the GGUF to open ("" when neither -m nor -hf was given)
  std::string ollama_template;  // ollama's template/params/system layers (files), when -m ollama:
  std::string ollama_params;
  std::string ollama_system;
};

ModelSource resolve_model_source(const Args& a);
// resolve_model_source(a).path
std::string resolve_model_arg(const Args& a);
// One -m / -hf value (bench takes lists): "ollama:x", "org/name:Q4" when hub is true, else a path.
std::string resolve_model_name(const std::string& value, bool hub);

}  // namespace jetlm
