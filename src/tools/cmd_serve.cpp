// jetlm serve: the HTTP server (src/server/) over a model loaded once and
// an Engine with --parallel sequence slots.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "server/server.h"
#include "tools/commands.h"
#include "tools/common_options.h"
#include "tools/session.h"

namespace jetlm {

// The id clients see: --alias, else the name the model was asked for
// (ollama:NAME[:TAG] as ollama lists it, -hf REPO[:QUANT]), else the file
// name without directories and ".gguf".
static std::string model_id(const Args& a, const std::string& path) {
  if (a.has("--alias")) return a.get("--alias");
  const std::string m = a.get("--model"), ollama = "ollama:";
  if (m.compare(0, ollama.size(), ollama) == 0 && m.size() > ollama.size()) return m.substr(ollama.size());
  if (a.has("--hf-repo") && !a.get("--hf-repo").empty()) return a.get("--hf-repo");
  std::string name = path.substr(path.rfind('/') + 1);
  const std::string ext = ".gguf";
  if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
    name.resize(name.size() - ext.size());
  return name.empty() ? "model" : name;
}

int cmd_serve(int argc, char** argv) {
  Args a("serve",
         "jetlm serve -m MODEL [--host 127.0.0.1] [--port 8080] [--parallel N] [-c CTX] [-ngl N] [--api-key KEY] "
         "[--cors ORIGIN] [--queue N] [--alias NAME]");
  add_model_options(a);
  a.option("--host", "ADDR", "address to listen on (0.0.0.0: every interface)", "127.0.0.1");
  a.option("--port", "PORT", "TCP port", "8080");
  a.option("-np,--parallel", "N", "sequences decoded together (each gets -c tokens of KV cache)", "1");
  a.option("--queue", "N", "requests waiting beyond the running ones before 503", "64");
  a.option("--api-key", "KEY", "require 'Authorization: Bearer KEY' on the API routes (/health stays open)");
  a.option("--cors", "ORIGIN", "allow browser pages from ORIGIN (or *) to call the API");
  a.option("--alias", "NAME", "model id listed by /v1/models and /api/tags (default: the file name)");
  a.option("--http-threads", "N", "HTTP connection threads (0: --parallel + --queue + 32)", "0");
  a.option("--timeout", "S", "seconds a read from a client may stall before the connection is dropped", "10");
  if (!a.parse(argc, argv)) return 0;

  ServeOptions o;
  o.host = a.get("--host");
  const int64_t port = a.get_int("--port");
  if (port < 1 || port > 65535) throw UsageError("--port: must be in 1..65535");
  o.port = static_cast<int>(port);
  const int64_t n_parallel = a.get_int("--parallel"), n_queue = a.get_int("--queue");
  if (n_parallel < 1 || n_parallel > 1024) throw UsageError("--parallel: must be in 1..1024");
  if (n_queue < 0 || n_queue > 65536) throw UsageError("--queue: must be in 0..65536");
  const int64_t n_threads = a.get_int("--http-threads");
  if (n_threads < 0 || n_threads > 65536) throw UsageError("--http-threads: must be in 0..65536");
  o.n_http_threads = static_cast<int>(n_threads ? n_threads : n_parallel + n_queue + 32);
  const int64_t timeout = a.get_int("--timeout");
  if (timeout < 1 || timeout > 3600) throw UsageError("--timeout: must be in 1..3600 seconds");
  o.read_timeout_s = static_cast<int>(timeout);
  o.api_key = a.get("--api-key");
  o.cors_origin = a.get("--cors");
  if (a.has("--alias") && a.get("--alias").empty()) throw UsageError("--alias: must not be empty");

  run_server(o, [&](ServerState& st) {
    const auto t0 = std::chrono::steady_clock::now();
    st.session = load_session(a, false);
    // One context: the weights once, --parallel KV slots of -c positions each.
    ContextOptions co = context_options(a, *st.session.model);
    co.n_seq = static_cast<int>(n_parallel);
    st.session.context = std::make_unique<Context>(*st.session.model, co);
    EngineOptions eo;
    eo.n_queue = static_cast<int>(n_queue);
    st.engine = std::make_unique<Engine>(*st.session.context, *st.session.tokenizer, eo);
    // Render the template once now: its warnings print at start, and a broken
    // template shows in the log before the first chat (completions still work).
    try {
      chat_prompt_tokens(st.session, nlohmann::json::array({{{"role", "user"}, {"content", "hi"}}}), true);
    } catch (const Error& e) {
      std::fprintf(stderr, "jetlm: serve: warning: the chat template fails (%s); chat requests will get 400\n", e.what());
    }
    st.model_path = st.session.model->file().path();
    st.model_id = model_id(a, st.model_path);
    st.created = unix_now();
    st.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  });
  return 0;
}

}  // namespace jetlm
