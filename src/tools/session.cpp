#include "tools/session.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "text/chat_template.h"
#include "tools/common_options.h"
#include "tools/model_arg.h"
#include "util/error.h"

namespace jetlm {

static bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string default_model_path(const char*) {
  if (const char* env = std::getenv("JETLM_MODEL"); env && *env) return env;
  const std::string rel = "models/stories260K.gguf";
  char exe[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<size_t>(n));
    for (int up = 0; up < 3; ++up) {
      dir = dir.substr(0, dir.rfind('/'));
      if (file_exists(dir + "/" + rel)) return dir + "/" + rel;
    }
  }
  return rel;
}

void add_model_options(Args& a) {
  a.option("-m,--model", "MODEL", "GGUF model file, or ollama:NAME[:TAG] (default: the bundled stories260K)");
  add_hub_options(a);
  add_context_options(a);
}

Session load_session(const Args& a) {
  const auto t0 = std::chrono::steady_clock::now();
  Session s;
  std::string path = resolve_model_arg(a);
  if (path.empty()) path = default_model_path();
  s.model = Model::load(path);
  s.tokenizer = Tokenizer::from_gguf(s.model->file());
  s.context = std::make_unique<Context>(*s.model, context_options(a, *s.model));
  s.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

void add_sampling_options(Args& a) {
  a.option("-n,--n-predict", "N", "tokens to generate (-1: until the end of the answer)", "-1");
  a.option("--temp", "T", "temperature (0: greedy)", "0.8");
  a.option("--top-k", "K", "keep the K most likely tokens (0: off)", "40");
  a.option("--top-p", "P", "keep the smallest set with probability mass P (1: off)", "0.95");
  a.option("--min-p", "P", "drop tokens below P times the top probability (0: off)", "0.05");
  a.option("--repeat-penalty", "X", "penalise repeated tokens (1: off)", "1.0");
  a.option("--repeat-last-n", "N", "window of the penalties (0: off, -1: everything)", "64");
  a.option("--frequency-penalty", "X", "subtract X per earlier occurrence", "0");
  a.option("--presence-penalty", "X", "subtract X once for any earlier occurrence", "0");
  a.option("-s,--seed", "S", "random seed (same seed, same text)", "-1");
  a.option("--stop", "TEXT", "stop when TEXT is generated (repeatable)");
  a.flag("--ignore-eos", "do not stop at the end-of-generation token");
}

GenerateParams generate_params(const Args& a) {
  // Each flag's range is what the sampler can use; anything else (NaN,
  // infinities, a negative probability) is refused with the range.
  GenerateParams g;
  g.n_predict = static_cast<int>(a.get_int("-n", -1, INT32_MAX));
  SamplerParams& p = g.sampling;
  p.temp = static_cast<float>(a.get_double("--temp", 0, 1000));
  p.top_k = static_cast<int>(a.get_int("--top-k", 0, INT32_MAX));
  p.top_p = static_cast<float>(a.get_double("--top-p", 0, 1, true));
  p.min_p = static_cast<float>(a.get_double("--min-p", 0, 1));
  p.repeat_penalty = static_cast<float>(a.get_double("--repeat-penalty", 0, 1000, true));
  p.penalty_last_n = static_cast<int>(a.get_int("--repeat-last-n", -1, INT32_MAX));
  p.freq_penalty = static_cast<float>(a.get_double("--frequency-penalty", -1000, 1000));
  p.presence_penalty = static_cast<float>(a.get_double("--presence-penalty", -1000, 1000));
  const int64_t seed = a.get_int("--seed", -1, INT64_MAX);
  p.seed = seed < 0 ? SamplerParams::kRandomSeed : static_cast<uint64_t>(seed);
  g.stop = a.get_all("--stop");
  g.ignore_eos = a.has("--ignore-eos");
  return g;
}

// Where each message's content landed in the rendered prompt (templates may
// trim it or move the system text), so its special-token-like text stays plain.
static std::vector<std::pair<size_t, size_t>> content_spans(const std::string& text, const nlohmann::json& messages) {
  std::vector<std::pair<size_t, size_t>> spans;
  size_t cursor = 0;
  for (const auto& m : messages) {
    if (!m.contains("content") || !m["content"].is_string()) continue;
    std::string c = m["content"].get<std::string>();
    const size_t b = c.find_first_not_of(" \t\r\n"), e = c.find_last_not_of(" \t\r\n");
    if (b == std::string::npos) continue;
    c = c.substr(b, e - b + 1);
    size_t at = text.find(c, cursor);
    if (at == std::string::npos) at = text.find(c);  // reordered by the template
    if (at == std::string::npos) continue;
    spans.emplace_back(at, c.size());
    cursor = at + c.size();
  }
  return spans;
}

std::vector<int32_t> chat_prompt_tokens(const Session& s, const nlohmann::json& messages, bool add_generation_prompt) {
  const GgufFile& f = s.model->file();
  std::string tmpl = f.get_str_or("tokenizer.chat_template", "");
  if (tmpl.empty()) {
    static bool warned = false;
    if (!warned) std::fprintf(stderr, "jetlm: warning: the model has no chat template; using ChatML\n");
    warned = true;
    tmpl = kChatMlTemplate;
  }
  const Tokenizer& tok = *s.tokenizer;
  const std::string bos = tok.bos_id() >= 0 ? tok.token_to_piece(tok.bos_id(), true) : "";
  const std::string eos = tok.eos_id() >= 0 ? tok.token_to_piece(tok.eos_id(), true) : "";
  const std::string text = render_chat_template(tmpl, messages, bos, eos, add_generation_prompt);
  // Templates that start with the BOS text already carry it; otherwise add it if the vocabulary wants one.
  const bool has_bos_text = !bos.empty() && text.compare(0, bos.size(), bos) == 0;
  return tok.encode_chat(text, tok.add_bos() && !has_bos_text, content_spans(text, messages));
}

void print_timings(const Session& s, const GenerateStats& st) {
  auto line = [](const char* what, double ms, int n) {
    std::fprintf(stderr, "jetlm: %16s = %10.2f ms / %5d tokens (%8.2f ms per token, %8.2f tokens per second)\n", what, ms, n,
                 n ? ms / n : 0.0, ms > 0 ? 1000.0 * n / ms : 0.0);
  };
  std::fprintf(stderr, "\njetlm: %16s = %10.2f ms\n", "load time", s.load_ms);
  line("prompt eval time", st.prompt_ms, st.n_prompt);
  line("eval time", st.generate_ms, st.n_generated);
  if (st.n_reused) std::fprintf(stderr, "jetlm: %16s = %d tokens reused from the KV cache\n", "cache", st.n_reused);
}

}  // namespace jetlm
