#include "text/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "util/error.h"

namespace jetlm {

static bool before(const TokenCandidate& a, const TokenCandidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

static void sort_candidates(Candidates& c) {
  if (!c.sorted) std::sort(c.data.begin(), c.data.end(), before);
  c.sorted = true;
}

Candidates make_candidates(const float* logits, int n_vocab) {
  Candidates c;
  c.data.resize(static_cast<size_t>(n_vocab));
  for (int i = 0; i < n_vocab; ++i) c.data[static_cast<size_t>(i)] = {i, logits[i], 0.0f};
  return c;
}

void softmax(Candidates& c) {
  if (c.data.empty()) return;
  sort_candidates(c);
  const float max_logit = c.data[0].logit;
  double sum = 0;
  for (auto& t : c.data) sum += std::exp(static_cast<double>(t.logit) - max_logit);
  for (auto& t : c.data) t.p = static_cast<float>(std::exp(static_cast<double>(t.logit) - max_logit) / sum);
}

void apply_penalties(Candidates& c, const std::vector<int32_t>& recent, float repeat, float freq, float presence) {
  if (recent.empty() || (repeat == 1.0f && freq == 0.0f && presence == 0.0f)) return;
  std::unordered_map<int32_t, int> counts;
  for (int32_t t : recent) ++counts[t];
  for (auto& t : c.data) {
    auto it = counts.find(t.id);
    if (it == counts.end()) continue;
    // Dividing a negative logit would make the token more likely; llama.cpp multiplies instead.
    if (t.logit <= 0) t.logit *= repeat;
    else t.logit /= repeat;
    t.logit -= static_cast<float>(it->second) * freq + presence;
  }
  c.sorted = false;
}

void apply_top_k(Candidates& c, int k) {
  if (k <= 0 || static_cast<size_t>(k) >= c.data.size()) {
    if (k > 0) sort_candidates(c);
    return;
  }
  if (!c.sorted) std::partial_sort(c.data.begin(), c.data.begin() + k, c.data.end(), before);
  c.data.resize(static_cast<size_t>(k));
  c.sorted = true;
}

void apply_top_p(Candidates& c, float p, size_t min_keep) {
  if (p >= 1.0f || c.data.empty()) return;
  softmax(c);
  double cum = 0;
  size_t keep = c.data.size();
  for (size_t i = 0; i < c.data.size(); ++i) {
    cum += c.data[i].p;
    if (cum >= p && i + 1 >= min_keep) {
      keep = i + 1;
      break;
    }
  }
  c.data.resize(keep);
}

void apply_min_p(Candidates& c, float p, size_t min_keep) {
  if (p <= 0.0f || c.data.empty()) return;
  // p_i >= p * p_max  <=>  logit_i >= logit_max + log(p): no softmax needed.
  float max_logit = c.data[0].logit;
  for (const auto& t : c.data) max_logit = std::max(max_logit, t.logit);
  const float min_logit = max_logit + std::log(p);
  std::vector<TokenCandidate> kept;
  for (const auto& t : c.data)
    if (t.logit >= min_logit) kept.push_back(t);
  if (kept.size() < min_keep) {
    sort_candidates(c);
    kept.assign(c.data.begin(), c.data.begin() + static_cast<std::ptrdiff_t>(std::min(min_keep, c.data.size())));
  }
  c.data = std::move(kept);  // filtering keeps the order, sorted or not
}

void apply_temperature(Candidates& c, float temp) {
  for (auto& t : c.data) t.logit /= temp;
}

int32_t argmax(const float* logits, int n_vocab) {
  int32_t best = 0;
  for (int i = 1; i < n_vocab; ++i)
    if (logits[i] > logits[best]) best = i;
  return best;
}

Sampler::Sampler(const SamplerParams& params, int n_vocab) : params_(params), n_vocab_(n_vocab) {
  if (n_vocab <= 0) fail("sampler: n_vocab must be positive, got ", n_vocab);
  if (std::isnan(params.temp) || std::isnan(params.top_p) || std::isnan(params.min_p))
    fail("sampler: temp, top_p and min_p must be numbers");
  if (params.top_p <= 0.0f) fail("sampler: top_p must be in (0, 1], got ", params.top_p);
  if (params.min_p > 1.0f) fail("sampler: min_p must be in [0, 1], got ", params.min_p);
  if (params.repeat_penalty <= 0.0f) fail("sampler: repeat_penalty must be positive, got ", params.repeat_penalty);
  seed_ = params.seed;
  if (seed_ == SamplerParams::kRandomSeed) {
    std::random_device rd;
    seed_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }
  rng_.seed(seed_);
}

void Sampler::reset() {
  recent_.clear();
  rng_.seed(seed_);
}

void Sampler::accept(int32_t token) {
  if (params_.penalty_last_n == 0) return;
  recent_.push_back(token);
  if (params_.penalty_last_n > 0 && recent_.size() > static_cast<size_t>(params_.penalty_last_n)) recent_.pop_front();
}

std::vector<int32_t> Sampler::window() const { return std::vector<int32_t>(recent_.begin(), recent_.end()); }

double Sampler::uniform() { return static_cast<double>(rng_() >> 11) * (1.0 / 9007199254740992.0); }

// The k best of n_vocab logits (with the window's penalised ones in place of
// theirs) by `before`: the set and order apply_top_k keeps from all of them,
// found in one pass with a heap of k instead of a candidate per vocabulary entry.
static Candidates top_k_of(const float* logits, int n_vocab, const std::vector<TokenCandidate>& changed, int k) {
  Candidates c;
  c.data.reserve(static_cast<size_t>(k) + 1);
  auto worse = [](const TokenCandidate& a, const TokenCandidate& b) { return before(a, b); };  // heap top: the worst kept
  size_t next = 0;  // changed is sorted by id
  for (int i = 0; i < n_vocab; ++i) {
    TokenCandidate t{i, logits[i], 0.f};
    if (next < changed.size() && changed[next].id == i) t.logit = changed[next++].logit;
    if (static_cast<int>(c.data.size()) < k) {
      c.data.push_back(t);
      std::push_heap(c.data.begin(), c.data.end(), worse);
    } else if (before(t, c.data.front())) {
      std::pop_heap(c.data.begin(), c.data.end(), worse);
      c.data.back() = t;
      std::push_heap(c.data.begin(), c.data.end(), worse);
    }
  }
  std::sort(c.data.begin(), c.data.end(), before);
  c.sorted = true;
  return c;
}

int32_t Sampler::sample(const float* logits) {
  // The penalties change only the logits of tokens in the window: those few are
  // computed apart (by the same apply_penalties), sorted by id.
  std::vector<TokenCandidate> changed;
  const std::vector<int32_t> recent = window();
  if (!recent.empty() && (params_.repeat_penalty != 1.0f || params_.freq_penalty != 0.0f || params_.presence_penalty != 0.0f)) {
    std::vector<int32_t> ids = recent;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    Candidates pc;
    for (int32_t id : ids)
      if (id >= 0 && id < n_vocab_) pc.data.push_back({id, logits[id], 0.f});
    apply_penalties(pc, recent, params_.repeat_penalty, params_.freq_penalty, params_.presence_penalty);
    changed = std::move(pc.data);
  }
  const bool greedy = params_.temp <= 0.0f;
  const int k = greedy ? 1 : params_.top_k;
  Candidates c;
  if (k > 0 && k < n_vocab_) {
    c = top_k_of(logits, n_vocab_, changed, k);
  } else {
    c = make_candidates(logits, n_vocab_);
    for (const TokenCandidate& t : changed) c.data[static_cast<size_t>(t.id)].logit = t.logit;
    apply_top_k(c, k);
  }
  if (greedy) return c.data[0].id;
  apply_top_p(c, params_.top_p);
  apply_min_p(c, params_.min_p);
  apply_temperature(c, params_.temp);
  softmax(c);
  // Inverse-CDF draw over the survivors, in double so the mass adds to 1 closely.
  const double u = uniform();
  double cum = 0;
  for (const auto& t : c.data) {
    cum += t.p;
    if (u < cum) return t.id;
  }
  return c.data.back().id;
}

}  // namespace jetlm
