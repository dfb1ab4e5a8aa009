// Scenario runs against a serving endpoint through streaming requests:
// OpenAI-compatible /v1/completions (jetlm serve, llama-server, vLLM) with
// server-sent events, or ollama's /api/generate with JSON lines. Each
// streamed chunk with text counts as one token (these servers send one token
// per chunk). Load modes as serving benchmarks have them: one at a time,
// N concurrent, constant or Poisson arrivals, and a sweep to saturation.
#pragma once
#include <string>
#include <vector>

#include "bench/load.h"
#include "bench/monitor.h"
#include "bench/scenario.h"
#include "bench/scenario_runner.h"

namespace jetlm {

class Tokenizer;

struct RemoteOptions {
  std::string url;              // http://HOST:PORT
  std::string api = "openai";   // openai | ollama
  std::string model;            // the server's model name
  double timeout_s = 300;       // per request
  int warmup = 1;               // untimed requests before each run
};

class RemoteTarget {
 public:
  // local_tok: the tokenizer of -m, used when the server has no /tokenize (may be null).
  RemoteTarget(const RemoteOptions& opts, const Tokenizer* local_tok);
  // Prompt text of n tokens (through the server's /tokenize+/detokenize, else the
  // local tokenizer, else ~0.75 words per token with a warning).
  std::string prompt(int n, int variant);
  // One streamed request; start_ms is filled by the caller.
  RequestTiming request(const std::string& prompt, int n_prompt, int n_out) const;
  // n_requests of the scenario under the load mode (after opts.warmup untimed requests).
  ScenarioResult run(const Scenario& sc, const LoadMode& mode, int n_requests, Monitor* monitor);
  const std::string& prompt_source() const { return prompt_source_; }

 private:
  RemoteOptions opts_;
  const Tokenizer* local_tok_;
  bool server_tokenize_ = false;
  std::string prompt_source_;  // "server /tokenize", "local tokenizer", "approximate (words)"
};

}  // namespace jetlm
