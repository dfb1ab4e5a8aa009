// One sequence at a time, synchronously: what jetlm run and chat use. It is
// the engine (src/engine/) with one caller: the request is submitted and the
// steps run on the calling thread, so there is one way to run a model. The
// slot's cache is kept between calls, so a follow-up prompt that extends it
// (the next chat turn) only processes its new tokens.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "models/context.h"
#include "text/sampler.h"
#include "text/tokenizer.h"

namespace jetlm {

struct GenerateParams {
  int n_predict = -1;  // tokens to generate, -1: until an end token or the context is full
  SamplerParams sampling;
  std::vector<std::string> stop;  // stop strings (not included in the output)
  bool ignore_eos = false;
};

struct GenerateStats {
  int n_prompt = 0;       // prompt tokens processed (excluding those reused from the cache)
  int n_reused = 0;       // prompt tokens found in the cache
  double prompt_ms = 0;   // from admission to the first token's logits
  int n_generated = 0;
  double generate_ms = 0; // from the first token's logits to the end
  std::string stop_reason;  // "eos", "stop", "length", "context", "cancelled", "error"
};

class Engine;

class Generator {
 public:
  Generator(Context& ctx, const Tokenizer& tok);
  ~Generator();

  // Runs prompt + generation. on_text receives streamed text (never half a
  // UTF-8 character, never part of a stop string); returning false stops.
  // cancel (may be null) is polled between tokens (Ctrl-C). Throws Error when
  // the prompt does not fit or the forward pass fails.
  GenerateStats generate(const std::vector<int32_t>& prompt, const GenerateParams& p,
                         const std::function<bool(const std::string&)>& on_text, const std::atomic<bool>* cancel = nullptr);

 private:
  std::unique_ptr<Engine> engine_;
};

}  // namespace jetlm
