// Routing, authentication, CORS, error bodies and the thread pool of jetlm serve.
#include "server/server.h"

#include <httplib.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "server/request_json.h"
#include "server/routes.h"

namespace jetlm {

namespace {

// Paths that never need the key: the health probe and the page (which asks for the key itself).
bool is_public(const std::string& path) {
  return path == "/health" || path == "/v1/health" || path == "/" || path == "/favicon.ico";
}

// Compares without stopping at the first differing byte (no timing hint of how much matched).
bool same_secret(const std::string& given, const std::string& key) {
  if (given.size() != key.size() || key.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < key.size(); ++i) diff |= static_cast<unsigned char>(given[i] ^ key[i]);
  return diff == 0;
}

std::string given_key(const httplib::Request& req) {
  const std::string auth = req.get_header_value("Authorization");
  const std::string bearer = "Bearer ";
  if (auth.compare(0, bearer.size(), bearer) == 0) return auth.substr(bearer.size());
  return req.get_header_value("X-Api-Key");
}

bool ollama_path(const std::string& path) { return path.compare(0, 5, "/api/") == 0; }

void install_policies(httplib::Server& svr, ServerState& st) {
  const ServeOptions& o = st.opts;
  if (!o.cors_origin.empty()) {
    svr.set_default_headers({{"Access-Control-Allow-Origin", o.cors_origin}, {"Vary", "Origin"}});
  }
  svr.set_pre_routing_handler([&st](const httplib::Request& req, httplib::Response& res) {
    if (req.method == "OPTIONS") {  // CORS preflight
      res.status = 204;
      if (!st.opts.cors_origin.empty()) {
        res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Api-Key");
        res.set_header("Access-Control-Max-Age", "86400");
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    if (st.opts.api_key.empty() || is_public(req.path) || same_secret(given_key(req), st.opts.api_key))
      return httplib::Server::HandlerResponse::Unhandled;
    const ApiError e(401, "Invalid API Key", "authentication_error", "invalid_api_key");
    ollama_path(req.path) ? reply_ollama_error(res, e) : reply_openai_error(res, e);
    return httplib::Server::HandlerResponse::Handled;
  });
  // Statuses httplib sets itself (unknown path, unreadable request, too large) get the peers' bodies too.
  svr.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string msg;
    if (res.status == 404) msg = "no such endpoint: " + req.method + " " + req.path;
    else if (res.status == 413) msg = "the request body is too large";
    else msg = str_cat("the request could not be served (HTTP ", res.status, ")");
    const int status = res.status;
    const ApiError e(status, msg, status == 404 ? "not_found_error" : "invalid_request_error");
    ollama_path(req.path) ? reply_ollama_error(res, e) : reply_openai_error(res, e);
    return httplib::Server::HandlerResponse::Handled;
  }));
  svr.set_exception_handler([](const httplib::Request& req, httplib::Response& res, std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    const ApiError e(500, "internal error: " + what, "server_error");
    ollama_path(req.path) ? reply_ollama_error(res, e) : reply_openai_error(res, e);
  });
}

}  // namespace

void run_server(const ServeOptions& opts, const std::function<void(ServerState&)>& load) {
  ServerState st;
  st.opts = opts;
  httplib::Server svr;
  // One thread per open connection: every running and queued request holds
  // one while it streams, keep-alive clients hold one between requests, and
  // slow (slowloris) clients one each until the read timeout; the spare
  // threads keep /health and the 503 answers of a full queue coming.
  const size_t n_threads = static_cast<size_t>(opts.n_http_threads);
  svr.new_task_queue = [n_threads] { return new httplib::ThreadPool(n_threads); };
  svr.set_read_timeout(opts.read_timeout_s, 0);
  svr.set_write_timeout(30, 0);
  svr.set_keep_alive_timeout(5);
  svr.set_keep_alive_max_count(1000);  // httplib's default of 5 makes busy clients reconnect constantly
  svr.set_payload_max_length(size_t(32) << 20);
  svr.set_tcp_nodelay(true);
  install_policies(svr, st);
  register_ops_routes(svr, st);
  register_openai_routes(svr, st);
  register_ollama_routes(svr, st);

  // Signals go to one waiting thread (blocked everywhere else, before any thread starts).
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  if (!svr.bind_to_port(opts.host.c_str(), opts.port))
    fail("cannot listen on ", opts.host, ":", opts.port, " (address in use, or not an address of this machine)");
  std::fprintf(stderr, "jetlm: serve: listening on http://%s:%d (loading the model)\n", opts.host.c_str(), opts.port);

  std::atomic<bool> listen_done{false};
  std::thread sig_thread([&] {
    int sig = 0;
    sigwait(&sigs, &sig);
    st.stopping = true;
    while (!svr.is_running() && !listen_done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    svr.stop();
  });
  std::thread loader([&] {
    try {
      load(st);
      st.ready = true;
      std::fprintf(stderr, "jetlm: serve: model '%s' ready (%.0f ms)\n", st.model_id.c_str(), st.load_ms);
    } catch (const std::exception& e) {
      st.load_error = e.what();
      ::kill(::getpid(), SIGTERM);
    }
  });
  svr.listen_after_bind();
  listen_done = true;
  if (!st.stopping) ::kill(::getpid(), SIGTERM);  // wake the signal thread
  sig_thread.join();
  loader.join();
  st.engine.reset();  // cancels what is left before the session goes
  if (!st.load_error.empty()) fail(st.load_error);
  std::fprintf(stderr, "jetlm: serve: stopped\n");
}

}  // namespace jetlm
