// jetlm chat: an interactive multi-turn conversation in the model's chat
// template. The conversation stays in the KV cache: each turn re-renders the
// template but only the tokens after the cached prefix are processed.
// Ctrl-C stops the current answer; /exit (or end of input) leaves.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "tools/commands.h"
#include "tools/session.h"
#include "util/error.h"

namespace jetlm {

static std::atomic<bool> g_stop_answer{false};
static void on_sigint(int) { g_stop_answer = true; }

int cmd_chat(int argc, char** argv) {
  Args args("chat", "jetlm chat [-m MODEL] [--system TEXT] [sampling options]");
  add_model_options(args);
  args.option("-sys,--system", "TEXT", "system message");
  add_sampling_options(args);
  if (!args.parse(argc, argv)) return 0;
  GenerateParams gp = generate_params(args);
  Session s = load_session(args);
  Generator gen(*s.context, *s.tokenizer);

  nlohmann::json messages = nlohmann::json::array();
  if (args.has("--system")) messages.push_back({{"role", "system"}, {"content", args.get("--system")}});
  const bool tty = ::isatty(0);
  if (tty) std::fprintf(stderr, "jetlm chat: %s. Type /exit to leave, Ctrl-C stops an answer.\n", s.model->file().path().c_str());

  struct sigaction sa = {};
  sa.sa_handler = on_sigint;
  sigaction(SIGINT, &sa, nullptr);
  GenerateStats total;
  std::string line;
  while (true) {
    if (tty) std::fputs("\n> ", stdout);
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line.empty()) continue;
    messages.push_back({{"role", "user"}, {"content", line}});
    std::vector<int32_t> tokens = chat_prompt_tokens(s, messages, true);
    g_stop_answer = false;
    std::string answer;
    GenerateStats st;
    try {
      st = gen.generate(
          tokens, gp,
          [&](const std::string& text) {
            answer += text;
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
            return true;
          },
          &g_stop_answer);
    } catch (const Error& e) {
      // A turn that no longer fits ends the conversation with a clear message, not a crash.
      std::fprintf(stderr, "\njetlm: error: %s\n", e.what());
      return 1;
    }
    std::fputc('\n', stdout);
    messages.push_back({{"role", "assistant"}, {"content", answer}});
    total.n_prompt += st.n_prompt;
    total.prompt_ms += st.prompt_ms;
    total.n_generated += st.n_generated;
    total.generate_ms += st.generate_ms;
    total.n_reused += st.n_reused;
  }
  print_timings(s, total);
  return 0;
}

}  // namespace jetlm
