// jetlm run: generate text from a prompt and stream it to stdout.
#include <csignal>
#include <cstdio>
#include <exception>

#include "tools/commands.h"
#include "tools/session.h"
#include "util/error.h"
#include "util/read_file.h"
#include "util/std_output.h"

namespace jetlm {

static std::atomic<bool> g_interrupted{false};
static void on_sigint(int) { g_interrupted = true; }

int cmd_run(int argc, char** argv) {
  Args args("run", "jetlm run [-m MODEL] -p PROMPT [-n N] [--temp T --top-k K --top-p P --min-p P --seed S] [-c CTX] [-t N] [--chat]");
  add_model_options(args);
  args.option("-p,--prompt", "TEXT", "the prompt");
  args.option("-f,--file", "FILE", "read the prompt from a file");
  args.flag("--chat", "wrap the prompt in the model's chat template as one user turn");
  args.option("-sys,--system", "TEXT", "system message (with --chat)");
  args.flag("--no-display-prompt", "do not echo the prompt");
  args.flag("--special", "parse special-token text in a plain prompt (on by default with --chat for the template)");
  add_sampling_options(args);
  if (!args.parse(argc, argv)) return 0;

  std::string prompt = args.get("--prompt");
  if (args.has("--file")) {
    prompt = read_file(args.get("--file"), "prompt file");
  }
  if (prompt.empty()) throw UsageError("jetlm run: a prompt is required (-p TEXT or -f FILE)");
  GenerateParams gp = generate_params(args);

  Session s = load_session(args);
  const bool chat = args.has("--chat");
  std::vector<int32_t> tokens;
  if (chat) {
    nlohmann::json messages = nlohmann::json::array();
    if (args.has("--system")) messages.push_back({{"role", "system"}, {"content", args.get("--system")}});
    messages.push_back({{"role", "user"}, {"content", prompt}});
    tokens = chat_prompt_tokens(s, messages, true);
  } else {
    tokens = s.tokenizer->encode(prompt, s.tokenizer->add_bos(), args.has("--special"));
  }
  if (tokens.empty()) throw UsageError("jetlm run: the prompt tokenizes to nothing");
  if (static_cast<int>(tokens.size()) >= s.context->n_ctx())
    fail("the prompt (", tokens.size(), " tokens) does not fit in the context of ", s.context->n_ctx(), " tokens (raise -c)");

  if (!chat && !args.has("--no-display-prompt")) {
    out_write(prompt);
    out_flush();
  }
  std::signal(SIGINT, on_sigint);
  Generator gen(*s.context, *s.tokenizer);
  std::exception_ptr output_failed;  // kept out of the generation loop, rethrown after it
  const GenerateStats st = gen.generate(
      tokens, gp,
      [&](const std::string& text) {
        try {
          out_write(text);
          out_flush();
        } catch (const Error&) {
          output_failed = std::current_exception();
          return false;
        }
        return true;
      },
      &g_interrupted);
  if (output_failed) std::rethrow_exception(output_failed);
  out_write("\n");
  out_flush();
  print_timings(s, st);
  return 0;
}

}  // namespace jetlm
