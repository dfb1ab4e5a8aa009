#include "runtime/generator.h"

#include <algorithm>
#include <chrono>

#include "text/stop_matcher.h"
#include "util/error.h"

namespace jetlm {

namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

void Generator::reset() {
  cached_.clear();
  ctx_.truncate(0);
}

void Generator::feed_prompt(const std::vector<int32_t>& prompt, GenerateStats& st) {
  // Reuse the longest common prefix with what the cache holds; always
  // recompute at least the last prompt token to get its logits.
  size_t keep = 0;
  while (keep < cached_.size() && keep < prompt.size() && cached_[keep] == prompt[keep]) ++keep;
  if (keep == prompt.size()) --keep;
  ctx_.truncate(static_cast<int>(keep));
  cached_.resize(keep);
  st.n_reused = static_cast<int>(keep);
  const int n_new = static_cast<int>(prompt.size() - keep);
  if (ctx_.n_past() + n_new > ctx_.n_ctx())
    fail("the prompt (", prompt.size(), " tokens) does not fit in the context of ", ctx_.n_ctx(), " tokens (raise -c)");
  const auto t0 = std::chrono::steady_clock::now();
  ctx_.decode(prompt.data() + keep, n_new, false, nullptr);
  st.prompt_ms = ms_since(t0);
  st.n_prompt = n_new;
  cached_.insert(cached_.end(), prompt.begin() + static_cast<std::ptrdiff_t>(keep), prompt.end());
}

GenerateStats Generator::generate(const std::vector<int32_t>& prompt, const GenerateParams& p,
                                  const std::function<bool(const std::string&)>& on_text, const std::atomic<bool>* cancel) {
  GenerateStats st;
  if (prompt.empty()) fail("empty prompt: nothing to generate from");
  feed_prompt(prompt, st);

  Sampler sampler(p.sampling, ctx_.model().hparams().n_vocab);
  for (int32_t id : prompt) sampler.accept(id);  // penalties see the prompt, as in llama.cpp
  StreamDecoder decoder(tok_, false);  // a continuation: keep the first token's space
  StopMatcher stops(p.stop);
  const auto t0 = std::chrono::steady_clock::now();
  st.stop_reason = "length";
  bool keep_going = true;
  auto emit = [&](const std::string& text) {
    if (!text.empty() && keep_going && !on_text(text)) {
      keep_going = false;
      st.stop_reason = "cancelled";
    }
  };
  for (int i = 0; p.n_predict < 0 || i < p.n_predict; ++i) {
    if (cancel && cancel->load()) {
      st.stop_reason = "cancelled";
      break;
    }
    const int32_t id = sampler.sample(ctx_.logits());
    sampler.accept(id);
    if (!p.ignore_eos && tok_.is_end_of_generation(id)) {
      st.stop_reason = "eos";
      break;
    }
    ++st.n_generated;
    const StopMatcher::Result r = stops.push(decoder.push(id));
    emit(r.text);
    if (r.stopped) {
      st.stop_reason = "stop";
      break;
    }
    if (!keep_going) break;
    if (p.n_predict >= 0 && i + 1 == p.n_predict) break;  // no forward pass for a token nobody samples
    if (ctx_.n_past() >= ctx_.n_ctx()) {
      st.stop_reason = "context";
      break;
    }
    ctx_.decode(&id, 1, false, nullptr);
    cached_.push_back(id);
  }
  if (st.stop_reason != "stop") {
    const StopMatcher::Result r = stops.push(decoder.flush());
    emit(r.text);
    emit(stops.flush());
  }
  st.generate_ms = ms_since(t0);
  return st;
}

}  // namespace jetlm
