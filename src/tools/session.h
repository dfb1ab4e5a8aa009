// What run, chat (and later serve) share: loading a model with its tokenizer
// and context, the sampling options, the chat prompt, and llama.cpp-style timings.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/context.h"
#include "runtime/generator.h"
#include "text/sampler.h"
#include "text/tokenizer.h"
#include "tools/args.h"

namespace jetlm {

struct Session {
  std::unique_ptr<Model> model;
  std::unique_ptr<Tokenizer> tokenizer;
  std::unique_ptr<Context> context;
  double load_ms = 0;
};

// The bundled model: $JETLM_MODEL, else models/stories260K.gguf beside the
// binary's parent directory or the working directory.
std::string default_model_path(const char* argv0_hint = nullptr);

// -m, -hf (tools/model_arg.h) plus the context options; load_session reads them.
void add_model_options(Args& a);
Session load_session(const Args& a);

// --temp, --top-k, --top-p, --min-p, --repeat-penalty, --repeat-last-n,
// --frequency-penalty, --presence-penalty, --seed, -n, --stop, --ignore-eos.
void add_sampling_options(Args& a);
GenerateParams generate_params(const Args& a);

// The model's chat template (tokenizer.chat_template) or the built-in ChatML
// one with a warning on stderr; rendered for messages, then tokenized with
// special tokens parsed in the template's text only.
std::vector<int32_t> chat_prompt_tokens(const Session& s, const nlohmann::json& messages, bool add_generation_prompt);

// llama.cpp-style timings on stderr.
void print_timings(const Session& s, const GenerateStats& st);

}  // namespace jetlm
