// The generation loop shared by jetlm run, chat and (later) serve: feed the
// prompt through the KV cache, then sample, stream text and stop on EOS/EOT,
// a stop string or the token budget. The tokens already in the cache are
// remembered, so a follow-up prompt that extends them (the next chat turn)
// only processes its new tokens.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
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
  double prompt_ms = 0;
  int n_generated = 0;
  double generate_ms = 0;
  std::string stop_reason;  // "eos", "stop", "length", "context", "cancelled"
};

class Generator {
 public:
  Generator(Context& ctx, const Tokenizer& tok) : ctx_(ctx), tok_(tok) {}

  // Runs prompt + generation. on_text receives streamed text (never half a
  // UTF-8 character, never part of a stop string); returning false stops.
  // cancel (may be null) is polled between tokens (Ctrl-C).
  GenerateStats generate(const std::vector<int32_t>& prompt, const GenerateParams& p,
                         const std::function<bool(const std::string&)>& on_text, const std::atomic<bool>* cancel = nullptr);

  // Tokens currently in the KV cache (prompt and generated).
  const std::vector<int32_t>& cached() const { return cached_; }
  void reset();

 private:
  // Reuses the longest cached prefix, processes the rest; the last token's logits are ctx_.logits().
  void feed_prompt(const std::vector<int32_t>& prompt, GenerateStats& st);

  Context& ctx_;
  const Tokenizer& tok_;
  std::vector<int32_t> cached_;
};

}  // namespace jetlm
