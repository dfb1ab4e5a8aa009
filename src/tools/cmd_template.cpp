// jetlm template: render a chat template for a conversation and print the
// prompt exactly (no newline added), for checking against transformers.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "gguf/gguf.h"
#include "text/chat_template.h"
#include "text/jinja/budget.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "util/error.h"
#include "util/json_bounded.h"
#include "util/read_file.h"
#include "util/std_output.h"

namespace jetlm {

static nlohmann::ordered_json read_json_file(const std::string& path, const char* what) {
  return parse_json_bounded(read_file(path, what), jinja::Limits().max_value_depth, str_cat(what, " file '", path, "'"));
}

// The text of token `key` (an id into tokenizer.ggml.tokens), or "" when the GGUF has none.
static std::string special_token_text(const GgufFile& f, const std::string& key) {
  if (!f.has(key)) return "";
  const uint32_t id = f.get_u32(key);
  const std::vector<std::string_view> tokens = f.get_str_array("tokenizer.ggml.tokens");
  if (id >= tokens.size()) fail(f.path(), ": ", key, " = ", id, " is outside the vocabulary (", tokens.size(), " tokens)");
  return std::string(tokens[id]);
}

int cmd_template(int argc, char** argv) {
  Args args("template",
            "jetlm template (-m MODEL | --template FILE.jinja) [--bos TEXT --eos TEXT] --messages FILE.json "
            "[--no-generation-prompt]");
  args.option("-m,--model", "MODEL", "GGUF model: tokenizer.chat_template and its BOS/EOS token texts");
  args.option("--template", "FILE", "a jinja chat template file (instead of -m)");
  args.option("--bos", "TEXT", "bos_token text (default: from the model, else empty)");
  args.option("--eos", "TEXT", "eos_token text (default: from the model, else empty)");
  args.option("--messages", "FILE", "the conversation: a JSON array of {\"role\", \"content\"} ('-': stdin)");
  args.option("--extra", "FILE", "a JSON object of more template variables (tools, enable_thinking, ...)");
  args.flag("--no-generation-prompt", "render without add_generation_prompt");
  args.flag("--strftime-now", "define strftime_now() (the current local date), as newer transformers do");
  if (!args.parse(argc, argv)) return 0;

  const bool has_model = !args.get("--model").empty();
  const bool has_file = !args.get("--template").empty();
  if (has_model == has_file) throw UsageError("jetlm template: give exactly one of -m MODEL or --template FILE");
  if (args.get("--messages").empty()) throw UsageError("jetlm template: --messages FILE is required");

  std::string source, name;
  ChatTemplateInputs in;
  if (has_model) {
    auto f = GgufFile::open(args.get("--model"));
    source = f->get_str_or("tokenizer.chat_template", "");
    name = "tokenizer.chat_template";
    if (source.empty()) {
      std::fprintf(stderr, "jetlm: warning: %s has no tokenizer.chat_template; using ChatML\n", f->path().c_str());
      source = kChatMlTemplate;
      name = "chatml";
    }
    in.bos_token = special_token_text(*f, "tokenizer.ggml.bos_token_id");
    in.eos_token = special_token_text(*f, "tokenizer.ggml.eos_token_id");
  } else {
    name = args.get("--template");
    source = read_file(name, "template file");
    const size_t slash = name.find_last_of('/');
    if (slash != std::string::npos) name = name.substr(slash + 1);
  }
  if (args.has("--bos")) in.bos_token = args.get("--bos");
  if (args.has("--eos")) in.eos_token = args.get("--eos");
  in.add_generation_prompt = !args.has("--no-generation-prompt");
  in.define_strftime_now = args.has("--strftime-now");
  if (!args.get("--extra").empty()) in.extra = read_json_file(args.get("--extra"), "extra variables file");

  const nlohmann::ordered_json messages = read_json_file(args.get("--messages"), "messages file");
  const std::string prompt = render_chat_template(source, messages, in, name);
  out_write(prompt);
  return 0;
}

}  // namespace jetlm
