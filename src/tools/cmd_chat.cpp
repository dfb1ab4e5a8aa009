// jetlm chat: an interactive multi-turn conversation in the model's chat
// template. The conversation stays in the KV cache: each turn re-renders the
// template but only the tokens after the cached prefix are processed.
//
// A bad line never ends the session: invalid UTF-8, a template error or a
// message too long for the context is reported on stderr and the line is
// dropped. Ctrl-C stops the current answer (at the prompt it discards the
// line being typed); /exit or end of input leaves.
//
// Context overflow policy: when the conversation plus room for an answer
// (a quarter of the context, or -n tokens if that is less) no longer fits,
// the oldest exchanges (a user message and its answer) are dropped, the
// system message always kept, and the rest is processed again. A message
// that does not fit even alone is refused, leaving the conversation as it was.
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>

#include "text/unicode.h"
#include "tools/commands.h"
#include "tools/session.h"
#include "util/error.h"
#include "util/std_output.h"

namespace jetlm {

namespace {

std::atomic<bool> g_stop_answer{false};
extern "C" void on_sigint(int) { g_stop_answer = true; }

// Lines of standard input read with read(2) rather than stdio, so that
// Ctrl-C at the prompt (EINTR) discards the line instead of ending the input.
class LineReader {
 public:
  enum Result { kLine, kInterrupted, kEnd };
  Result next(std::string& line) {
    while (true) {
      const size_t nl = buf_.find('\n', pos_);
      if (nl != std::string::npos || (eof_ && pos_ < buf_.size())) {
        const size_t end = nl == std::string::npos ? buf_.size() : nl;
        line.assign(buf_, pos_, end - pos_);
        pos_ = nl == std::string::npos ? end : nl + 1;
        return kLine;
      }
      if (eof_) return kEnd;
      buf_.erase(0, pos_);
      pos_ = 0;
      char tmp[4096];
      const ssize_t n = ::read(0, tmp, sizeof tmp);
      if (n < 0) {
        if (errno != EINTR) fail("reading standard input: ", std::strerror(errno));
        if (g_stop_answer.exchange(false)) {
          buf_.clear();
          return kInterrupted;
        }
        continue;
      }
      if (n == 0) eof_ = true;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }

 private:
  std::string buf_;
  size_t pos_ = 0;
  bool eof_ = false;
};

void report(const char* what) { std::fprintf(stderr, "jetlm: error: %s\n", what); }

}  // namespace

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
  const size_t first_turn = messages.size();  // messages before it are never dropped
  const bool tty = ::isatty(0);
  if (tty) std::fprintf(stderr, "jetlm chat: %s. Type /exit to leave, Ctrl-C stops an answer.\n", s.model->file().path().c_str());

  const size_t n_ctx = static_cast<size_t>(s.context->n_ctx());
  const size_t reserve = gp.n_predict > 0 ? std::min<size_t>(static_cast<size_t>(gp.n_predict), n_ctx / 4) : n_ctx / 4;

  struct sigaction sa = {};
  sa.sa_handler = on_sigint;  // no SA_RESTART: a read at the prompt returns EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  GenerateStats total;
  LineReader in;
  std::string line, scratch;
  while (true) {
    if (tty) out_write("\n> ");
    out_flush();
    const LineReader::Result got = in.next(line);
    if (got == LineReader::kEnd) break;
    if (got == LineReader::kInterrupted) {
      if (tty) out_write("^C");
      continue;
    }
    if (line == "/exit" || line == "/quit") break;
    if (line.empty()) continue;
    if (sanitize_utf8(line, scratch)) {
      report("the line is not valid UTF-8; ignored");
      continue;
    }
    messages.push_back({{"role", "user"}, {"content", line}});

    std::vector<int32_t> tokens;
    int dropped = 0;
    const nlohmann::json before = messages;  // restored if the message is refused
    try {
      while (true) {
        tokens = chat_prompt_tokens(s, messages, true);
        if (tokens.size() + reserve <= n_ctx || messages.size() - first_turn <= 1) break;
        messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(first_turn));
        ++dropped;
        if (messages.size() - first_turn > 1 && messages[first_turn]["role"] == "assistant") {
          messages.erase(messages.begin() + static_cast<std::ptrdiff_t>(first_turn));
          ++dropped;
        }
      }
    } catch (const OutputClosed&) {
      throw;
    } catch (const std::exception& e) {  // a template error (jetlm::Error or the JSON layer's)
      report(e.what());
      messages.erase(messages.end() - 1);
      continue;
    }
    if (dropped && tokens.size() < n_ctx)
      std::fprintf(stderr, "jetlm: the conversation outgrew the context of %zu tokens: dropped its %d oldest messages\n",
                   n_ctx, dropped);
    if (tokens.size() >= n_ctx) {
      std::fprintf(stderr, "jetlm: error: the message needs %zu tokens, the context holds %zu (raise -c); not sent\n",
                   tokens.size(), n_ctx);
      messages = before;
      messages.erase(messages.end() - 1);
      continue;
    }

    g_stop_answer = false;
    std::string answer;
    GenerateStats st;
    std::exception_ptr output_failed;  // kept out of the generation loop, rethrown after it
    try {
      st = gen.generate(
          tokens, gp,
          [&](const std::string& text) {
            answer += text;
            try {
              out_write(text);
              out_flush();
            } catch (const Error&) {
              output_failed = std::current_exception();
              return false;
            }
            return true;
          },
          &g_stop_answer);
    } catch (const Error& e) {
      report(e.what());
      messages.erase(messages.end() - 1);
      continue;
    }
    if (output_failed) std::rethrow_exception(output_failed);  // standard output is gone: so is the session
    g_stop_answer = false;
    out_write("\n");
    if (sanitize_utf8(answer, scratch)) answer = scratch;  // byte tokens may spell ill-formed UTF-8
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
