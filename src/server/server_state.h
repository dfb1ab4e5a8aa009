// What every handler of jetlm serve shares: the options, the loaded model,
// the engine and the metrics. Handlers read `ready` before touching the model.
#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "engine/engine.h"
#include "server/metrics.h"
#include "tools/session.h"

namespace jetlm {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 8080;
  std::string api_key;      // empty: no key needed (any Authorization header is ignored)
  std::string cors_origin;  // empty: no CORS headers
  int n_http_threads = 0;   // 0: enough for every running and queued request plus spare ones
  int read_timeout_s = 10;  // per read of a request (httplib); a stalled client is dropped after it
};

struct ServerState {
  ServeOptions opts;
  Session session;                 // model, tokenizer and the context of --parallel slots the engine runs on
  std::unique_ptr<Engine> engine;  // set once loaded
  Metrics metrics;
  std::string model_id;
  std::string model_path;
  int64_t created = 0;             // unix seconds of the load
  double load_ms = 0;
  std::atomic<bool> ready{false};     // the model is loaded: the APIs answer
  std::atomic<bool> stopping{false};  // shutting down: waiting handlers give up
  std::string load_error;             // set when loading failed (the server then exits)
};

// Unix time now, in seconds and as RFC 3339 with nanoseconds (ollama's created_at).
int64_t unix_now();
std::string rfc3339_now();

}  // namespace jetlm
