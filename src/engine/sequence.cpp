#include "engine/sequence.h"

#include <algorithm>
#include <cmath>

namespace jetlm {

namespace {

double ms_between(Sequence::Clock::time_point a, Sequence::Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// log-softmax of one logit and the k most likely tokens (temperature 1, before any sampling step).
void fill_logprobs(const float* logits, int n_vocab, int32_t id, int k, TokenEvent& e) {
  float mx = -INFINITY;
  for (int i = 0; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0;
  for (int i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i] - mx));
  const float lse = mx + static_cast<float>(std::log(sum));
  e.logprob = logits[id] - lse;
  if (k <= 0) return;
  k = std::min(k, n_vocab);
  std::vector<int32_t> idx(static_cast<size_t>(n_vocab));
  for (int i = 0; i < n_vocab; ++i) idx[static_cast<size_t>(i)] = i;
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  for (int i = 0; i < k; ++i) e.top.emplace_back(idx[static_cast<size_t>(i)], logits[idx[static_cast<size_t>(i)]] - lse);
}

}  // namespace

Sequence::Sequence(uint64_t id, Request r, const Tokenizer& tok, int n_vocab)
    : id_(id),
      req_(std::move(r)),
      tok_(tok),
      n_vocab_(n_vocab),
      sampler_(req_.params.sampling, n_vocab),
      decoder_(tok, false),  // a continuation: keep the first token's space
      stops_(req_.params.stop),
      t_submit_(Clock::now()) {
  for (int32_t t : req_.prompt) sampler_.accept(t);  // penalties see the prompt, as in llama.cpp
  stats_.stop_reason = "length";
}

double Sequence::ms_since_submit() const { return ms_between(t_submit_, Clock::now()); }

void Sequence::admit(int slot, int reused) {
  slot_ = slot;
  n_fed_ = reused;
  cached_.assign(req_.prompt.begin(), req_.prompt.begin() + reused);
  stats_.n_reused = reused;
  stats_.n_prompt = static_cast<int>(req_.prompt.size()) - reused;
  state_ = State::Prefill;
  t_admit_ = Clock::now();
}

bool Sequence::emit(TokenEvent& e) {
  e.t_ms = ms_since_submit();
  return !req_.on_event || req_.on_event(e);
}

bool Sequence::on_logits(const float* logits, bool room) {
  const Clock::time_point now = Clock::now();
  if (state_ == State::Prefill) {
    stats_.prompt_ms = ms_between(t_admit_, now);
    t_first_ = now;
    state_ = State::Decode;
  }
  const int32_t id = sampler_.sample(logits);
  sampler_.accept(id);
  const GenerateParams& p = req_.params;
  if (!p.ignore_eos && tok_.is_end_of_generation(id)) {
    finish("eos");
    return false;
  }
  ++stats_.n_generated;
  TokenEvent e;
  e.token = id;
  if (req_.n_probs >= 0) fill_logprobs(logits, n_vocab_, id, req_.n_probs, e);
  const StopMatcher::Result r = stops_.push(decoder_.push(id));
  e.text = r.text;
  if (!emit(e)) {
    finish("cancelled");
    return false;
  }
  if (r.stopped) {
    finish("stop");
    return false;
  }
  if (p.n_predict >= 0 && stats_.n_generated >= p.n_predict) {
    finish("length");
    return false;
  }
  if (!room) {
    finish("context");
    return false;
  }
  next_ = id;
  return true;
}

void Sequence::finish(const std::string& reason, const std::string& error) {
  if (state_ == State::Done) return;
  TokenEvent fin;
  if (reason != "stop" && reason != "error") {
    const StopMatcher::Result r = stops_.push(decoder_.flush());
    fin.text = r.text + stops_.flush();
  }
  stats_.stop_reason = reason;
  if (t_first_ != Clock::time_point{}) stats_.generate_ms = ms_between(t_first_, Clock::now());
  state_ = State::Done;
  fin.done = true;
  fin.stop_reason = reason;
  fin.error = error;
  fin.stats = stats_;
  emit(fin);
}

}  // namespace jetlm
