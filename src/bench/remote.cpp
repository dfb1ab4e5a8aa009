#include "bench/remote.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "bench/prompt_text.h"
#include "text/tokenizer.h"
#include "util/error.h"

#ifdef JETLM_HAVE_HTTPLIB
#include <httplib.h>
#endif

namespace jetlm {

#ifdef JETLM_HAVE_HTTPLIB

namespace {
using Json = nlohmann::json;

double ms_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

std::unique_ptr<httplib::Client> make_client(const RemoteOptions& o) {
  if (o.url.compare(0, 7, "http://") != 0) fail("--url: expected http://HOST:PORT, got '", o.url, "'");
  std::unique_ptr<httplib::Client> c(new httplib::Client(o.url));
  const time_t secs = static_cast<time_t>(o.timeout_s);
  c->set_read_timeout(secs, static_cast<time_t>((o.timeout_s - static_cast<double>(secs)) * 1e6));
  c->set_connection_timeout(10, 0);
  return c;
}

// POST a JSON body, parse a JSON reply (false on any failure).
bool post_json(const RemoteOptions& o, const std::string& path, const Json& body, Json* reply) {
  auto c = make_client(o);
  auto res = c->Post(path.c_str(), body.dump(), "application/json");
  if (!res || res->status != 200) return false;
  *reply = Json::parse(res->body, nullptr, false);
  return !reply->is_discarded();
}
}  // namespace

RemoteTarget::RemoteTarget(const RemoteOptions& opts, const Tokenizer* local_tok) : opts_(opts), local_tok_(local_tok) {
  if (opts_.api != "openai" && opts_.api != "ollama") throw UsageError("--api: expected openai or ollama, got '" + opts_.api + "'");
  Json reply;
  // llama-server takes "content", vLLM "prompt": send both.
  server_tokenize_ = post_json(opts_, "/tokenize", Json{{"content", "hello"}, {"prompt", "hello"}, {"model", opts_.model}}, &reply) &&
                     reply.contains("tokens") && reply["tokens"].is_array();
  prompt_source_ = server_tokenize_ ? "server /tokenize" : local_tok_ ? "local tokenizer" : "approximate (words)";
  if (!server_tokenize_ && !local_tok_)
    std::fprintf(stderr, "jetlm bench: %s has no /tokenize and no -m was given: prompt lengths are approximate\n", opts_.url.c_str());
}

std::string RemoteTarget::prompt(int n, int variant) {
  // The passage, rotated by variant (no shared prefix between repetitions), repeated past n tokens.
  const std::string& p = bench_passage();
  const size_t cut = (static_cast<size_t>(variant) * 211) % p.size();
  const size_t space = p.find(' ', cut);
  const std::string rotated = p.substr(space == std::string::npos ? 0 : space + 1) + p.substr(0, space == std::string::npos ? 0 : space + 1);
  if (server_tokenize_) {
    std::string text = rotated;
    Json tok;
    for (;;) {
      if (!post_json(opts_, "/tokenize", Json{{"content", text}, {"prompt", text}, {"model", opts_.model}}, &tok))
        fail(opts_.url, "/tokenize failed");
      if (static_cast<int>(tok["tokens"].size()) >= n) break;
      text += rotated;
    }
    Json ids = Json::array();
    for (int i = 0; i < n; ++i) {
      const Json& t = tok["tokens"][static_cast<size_t>(i)];
      ids.push_back(t.is_object() ? t["id"] : t);  // with_pieces answers objects
    }
    Json detok;
    if (post_json(opts_, "/detokenize", Json{{"tokens", ids}, {"model", opts_.model}}, &detok)) {
      if (detok.contains("content")) return detok["content"].get<std::string>();
      if (detok.contains("prompt")) return detok["prompt"].get<std::string>();
    }
    fail(opts_.url, "/detokenize failed");
  }
  if (local_tok_) {
    std::vector<int32_t> ids = bench_prompt_tokens(*local_tok_, n, variant);
    if (!ids.empty() && ids.front() == local_tok_->bos_id()) ids.erase(ids.begin());  // the server adds its own
    return local_tok_->decode(ids);
  }
  std::string text;
  int words = 0;
  const int want = std::max(1, n * 3 / 4);
  size_t at = 0;
  while (words < want) {
    const size_t sp = rotated.find(' ', at);
    text += rotated.substr(at, sp == std::string::npos ? std::string::npos : sp - at + 1);
    at = sp == std::string::npos ? 0 : sp + 1;
    ++words;
  }
  return text;
}

RequestTiming RemoteTarget::request(const std::string& prompt, int n_prompt, int n_out) const {
  RequestTiming rt;
  rt.n_prompt = n_prompt;
  const bool openai = opts_.api == "openai";
  Json body;
  if (openai) {
    // ignore_eos: llama-server, jetlm serve and vLLM honour it (OUT tokens exactly).
    body = Json{{"model", opts_.model}, {"prompt", prompt}, {"max_tokens", n_out}, {"stream", true},
                {"temperature", 0}, {"ignore_eos", true}, {"min_tokens", n_out}};
  } else {
    body = Json{{"model", opts_.model}, {"prompt", prompt}, {"stream", true}, {"raw", true},
                {"options", Json{{"num_predict", n_out}, {"temperature", 0}}}};
  }
  httplib::Request req;
  req.method = "POST";
  req.path = openai ? "/v1/completions" : "/api/generate";
  req.headers.emplace("Content-Type", "application/json");
  req.headers.emplace("Accept", openai ? "text/event-stream" : "application/x-ndjson");
  req.body = body.dump();
  std::string buf;
  bool finished = false;
  const auto t0 = std::chrono::steady_clock::now();
  // One line at a time: "data: {...}" (SSE) or a JSON object per line (ollama).
  auto on_line = [&](const std::string& line) {
    std::string payload = line;
    if (openai) {
      if (payload.compare(0, 5, "data:") != 0) return;
      payload = payload.substr(payload.size() > 5 && payload[5] == ' ' ? 6 : 5);
      if (payload == "[DONE]") {
        finished = true;
        return;
      }
    }
    const Json j = Json::parse(payload, nullptr, false);
    if (j.is_discarded()) return;
    if (j.contains("error")) {
      rt.ok = false;
      rt.error = j["error"].is_object() && j["error"].contains("message") ? j["error"]["message"].get<std::string>() : j["error"].dump();
      return;
    }
    std::string text;
    if (openai && j.contains("choices") && !j["choices"].empty() && j["choices"][0].contains("text") && j["choices"][0]["text"].is_string())
      text = j["choices"][0]["text"].get<std::string>();
    if (!openai && j.contains("response") && j["response"].is_string()) text = j["response"].get<std::string>();
    if (!text.empty()) rt.t_ms.push_back(ms_between(t0, std::chrono::steady_clock::now()));
    if (!openai && j.value("done", false)) finished = true;
  };
  req.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    buf.append(data, n);
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      std::string line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) on_line(line);
    }
    return true;
  };
  auto client = make_client(opts_);
  const httplib::Result res = client->send(req);
  if (!buf.empty()) on_line(buf);
  const double elapsed = ms_between(t0, std::chrono::steady_clock::now());
  if (!res) {
    rt.ok = false;
    rt.error = httplib::to_string(res.error());
    rt.timed_out = elapsed >= opts_.timeout_s * 1000.0 * 0.95;
  } else if (res->status != 200) {
    rt.ok = false;
    rt.error = "HTTP " + std::to_string(res->status);
  } else if (!finished && rt.ok) {
    rt.ok = false;
    rt.error = "the stream ended without its final message";
  }
  return rt;
}

ScenarioResult RemoteTarget::run(const Scenario& sc, const LoadMode& mode, int n_requests, Monitor* monitor) {
  ScenarioResult r;
  r.target = opts_.url + " " + opts_.model;
  r.scenario = sc;
  r.backend = "remote " + opts_.api;
  r.repetitions = n_requests;
  r.load = mode.name();
  r.test_time = bench_utc_now();
  std::vector<std::string> prompts;
  for (int i = 0; i < n_requests; ++i) prompts.push_back(prompt(sc.n_in, i));
  const Scenario ws = warmup_shape(sc);
  const auto t_warm = std::chrono::steady_clock::now();
  for (int w = 0; w < opts_.warmup; ++w) request(prompt(ws.n_in, 1000 + w), ws.n_in, ws.n_out);
  r.warmup_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_warm).count();
  if (monitor) r.t_start_ms = monitor->now_ms();
  r.requests = drive_load(mode, n_requests, [&](int i) { return request(prompts[static_cast<size_t>(i)], sc.n_in, sc.n_out); },
                          &r.wall_ms);
  r.stats = run_stats(r.requests, r.wall_ms);
  for (const RequestTiming& q : r.requests) r.n_gen_reported += q.n_gen();
  if (monitor) {
    monitor->sample_now();
    r.t_end_ms = monitor->now_ms();
    r.have_monitor = true;
    r.monitor = monitor->summarize(r.t_start_ms, r.t_end_ms, r.stats.output_tps * r.wall_ms / 1000.0);
  }
  return r;
}

#else  // no cpp-httplib at build time

RemoteTarget::RemoteTarget(const RemoteOptions& opts, const Tokenizer* local_tok) : opts_(opts), local_tok_(local_tok) {
  fail("this jetlm was built without cpp-httplib: --url is not available (install libcpp-httplib-dev and rebuild)");
}
std::string RemoteTarget::prompt(int, int) { return ""; }
RequestTiming RemoteTarget::request(const std::string&, int, int) const { return RequestTiming{}; }
ScenarioResult RemoteTarget::run(const Scenario&, const LoadMode&, int, Monitor*) { return ScenarioResult{}; }

#endif

}  // namespace jetlm
