// jetlm serve: an OpenAI- and ollama-compatible HTTP/1.1 server (cpp-httplib)
// over one Engine. The port is bound first and /health answers 503 while
// `load` fills in the session and the engine on another thread; SIGINT or
// SIGTERM stops it. Returns when stopped; throws Error when the port cannot
// be bound or loading failed.
#pragma once
#include <functional>

#include "server/server_state.h"

namespace jetlm {

void run_server(const ServeOptions& opts, const std::function<void(ServerState&)>& load);

}  // namespace jetlm
