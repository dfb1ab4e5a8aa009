// Sampling: determinism per seed, greedy equivalences, the exact candidate
// sets of top-k / top-p / min-p / temperature, draw frequencies against the
// softmax, repetition penalties, and stop strings split across chunks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "text/sampler.h"
#include "text/stop_matcher.h"
#include "util/error.h"

using jetlm::Candidates;
using jetlm::Sampler;
using jetlm::SamplerParams;

namespace {

std::vector<float> random_logits(int n, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  uint32_t s = seed * 2654435761u + 1;
  for (auto& x : v) {
    s = s * 1664525u + 1013904223u;
    x = 8.0f * (static_cast<float>(s >> 8) / 16777216.0f - 0.5f);
  }
  return v;
}

// Logits whose softmax is exactly `probs` (up to rounding).
std::vector<float> logits_of(const std::vector<double>& probs) {
  std::vector<float> v;
  for (double p : probs) v.push_back(static_cast<float>(std::log(p)));
  return v;
}

std::set<int32_t> ids(const Candidates& c) {
  std::set<int32_t> out;
  for (const auto& t : c.data) out.insert(t.id);
  return out;
}

SamplerParams plain(float temp) {
  SamplerParams p;
  p.temp = temp;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 1234;
  return p;
}

// Frequencies of `n` draws (no accept(): penalties stay out of it).
std::map<int32_t, double> draw(const SamplerParams& p, const std::vector<float>& logits, int n) {
  Sampler s(p, static_cast<int>(logits.size()));
  std::map<int32_t, double> freq;
  for (int i = 0; i < n; ++i) freq[s.sample(logits.data())] += 1.0 / n;
  return freq;
}

std::vector<double> softmax_of(const std::vector<float>& logits, float temp, const std::set<int32_t>& keep) {
  std::vector<double> p(logits.size(), 0.0);
  double sum = 0;
  for (int32_t id : keep) sum += (p[static_cast<size_t>(id)] = std::exp(logits[static_cast<size_t>(id)] / temp));
  for (auto& x : p) x /= sum;
  return p;
}

// Each frequency within 4.5 standard deviations of its expected probability.
void expect_frequencies(const std::map<int32_t, double>& freq, const std::vector<double>& expected, int n) {
  for (size_t id = 0; id < expected.size(); ++id) {
    const auto it = freq.find(static_cast<int32_t>(id));
    const double got = it == freq.end() ? 0.0 : it->second;
    const double sigma = std::sqrt(std::max(expected[id] * (1 - expected[id]), 1e-12) / n);
    if (expected[id] == 0) EXPECT_EQ(got, 0.0) << "token " << id << " must never be drawn";
    else EXPECT_NEAR(got, expected[id], 4.5 * sigma + 1e-9) << "token " << id;
  }
}

}  // namespace

TEST(Sampler, SameSeedSameSequence) {
  const auto logits = random_logits(500, 1);
  SamplerParams p;
  p.seed = 42;
  p.repeat_penalty = 1.1f;
  auto run = [&](Sampler& s) {
    std::vector<int32_t> out;
    for (int i = 0; i < 200; ++i) {
      out.push_back(s.sample(logits.data()));
      s.accept(out.back());
    }
    return out;
  };
  Sampler a(p, 500), b(p, 500);
  const auto first = run(a);
  EXPECT_EQ(first, run(b));
  a.reset();
  EXPECT_EQ(first, run(a));
  p.seed = 43;
  Sampler c(p, 500);
  EXPECT_NE(first, run(c));
  EXPECT_EQ(a.seed(), 42u);
}

TEST(Sampler, RandomSeedIsDrawnAndReported) {
  SamplerParams p;
  Sampler s(p, 10);
  EXPECT_NE(s.seed(), SamplerParams::kRandomSeed);
}

TEST(Sampler, GreedyAndTopKOneAgree) {
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const auto logits = random_logits(300, seed);
    const int32_t best = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    SamplerParams greedy = plain(0.0f);
    SamplerParams k1 = plain(1.5f);
    k1.top_k = 1;
    Sampler g(greedy, 300), k(k1, 300);
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ(g.sample(logits.data()), best);
      EXPECT_EQ(k.sample(logits.data()), best);
    }
  }
  const std::vector<float> ties = {0.f, 3.f, 1.f, 3.f};
  EXPECT_EQ(jetlm::argmax(ties.data(), 4), 1);
  Sampler g(plain(0.0f), 4);
  EXPECT_EQ(g.sample(ties.data()), 1);  // ties go to the lowest id
}

TEST(SamplerSteps, TopK) {
  const std::vector<float> l = {0.5f, 3.f, -1.f, 2.f, 2.5f};
  Candidates c = jetlm::make_candidates(l.data(), 5);
  jetlm::apply_top_k(c, 3);
  EXPECT_EQ(ids(c), (std::set<int32_t>{1, 3, 4}));
  EXPECT_EQ(c.data[0].id, 1);
  c = jetlm::make_candidates(l.data(), 5);
  jetlm::apply_top_k(c, 0);  // off
  EXPECT_EQ(c.data.size(), 5u);
  jetlm::apply_top_k(c, 99);
  EXPECT_EQ(c.data.size(), 5u);
}

TEST(SamplerSteps, TopPKeepsTheSmallestPrefixReachingP) {
  const auto l = logits_of({0.05, 0.5, 0.15, 0.3});  // sorted: 1 (0.5), 3 (0.3), 2 (0.15), 0 (0.05)
  auto top_p = [&](float p) {
    Candidates c = jetlm::make_candidates(l.data(), 4);
    jetlm::apply_top_p(c, p);
    return ids(c);
  };
  EXPECT_EQ(top_p(0.4f), (std::set<int32_t>{1}));
  EXPECT_EQ(top_p(0.75f), (std::set<int32_t>{1, 3}));
  EXPECT_EQ(top_p(0.9f), (std::set<int32_t>{1, 3, 2}));
  EXPECT_EQ(top_p(0.99f), (std::set<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(top_p(1.0f), (std::set<int32_t>{0, 1, 2, 3}));
  Candidates c = jetlm::make_candidates(l.data(), 4);
  jetlm::apply_top_p(c, 0.1f, 3);  // min_keep
  EXPECT_EQ(ids(c), (std::set<int32_t>{1, 3, 2}));
}

TEST(SamplerSteps, MinPKeepsTokensAboveAFractionOfTheBest) {
  const auto l = logits_of({0.05, 0.5, 0.15, 0.3});
  auto min_p = [&](float p) {
    Candidates c = jetlm::make_candidates(l.data(), 4);
    jetlm::apply_min_p(c, p);
    return ids(c);
  };
  EXPECT_EQ(min_p(0.0f), (std::set<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(min_p(0.2f), (std::set<int32_t>{1, 2, 3}));  // p >= 0.1
  EXPECT_EQ(min_p(0.5f), (std::set<int32_t>{1, 3}));     // p >= 0.25
  EXPECT_EQ(min_p(0.9f), (std::set<int32_t>{1}));
}

TEST(SamplerSteps, TemperatureScalesLogitsOnly) {
  const std::vector<float> l = {1.f, 2.f, -4.f};
  Candidates c = jetlm::make_candidates(l.data(), 3);
  jetlm::apply_temperature(c, 0.5f);
  ASSERT_EQ(c.data.size(), 3u);
  EXPECT_FLOAT_EQ(c.data[0].logit, 2.f);
  EXPECT_FLOAT_EQ(c.data[1].logit, 4.f);
  EXPECT_FLOAT_EQ(c.data[2].logit, -8.f);
  jetlm::softmax(c);
  EXPECT_EQ(c.data[0].id, 1);
  double sum = 0;
  for (const auto& t : c.data) sum += t.p;
  EXPECT_NEAR(sum, 1.0, 1e-6);
}

TEST(SamplerSteps, Penalties) {
  const std::vector<float> l = {2.f, -2.f, 1.f, 3.f};
  Candidates c = jetlm::make_candidates(l.data(), 4);
  jetlm::apply_penalties(c, {0, 1, 0}, 2.0f, 0.5f, 0.25f);
  // token 0: seen twice, positive: 2/2 - 2*0.5 - 0.25; token 1: once, negative: -2*2 - 0.5 - 0.25.
  EXPECT_FLOAT_EQ(c.data[0].logit, 2.f / 2 - 1.0f - 0.25f);
  EXPECT_FLOAT_EQ(c.data[1].logit, -2.f * 2 - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(c.data[2].logit, 1.f);
  EXPECT_FLOAT_EQ(c.data[3].logit, 3.f);
}

TEST(Sampler, PenaltyWindowIsTheLastNAccepted) {
  const std::vector<float> l = {5.f, 4.9f, 0.f};
  SamplerParams p = plain(0.0f);
  p.repeat_penalty = 2.0f;
  p.penalty_last_n = 2;
  Sampler s(p, 3);
  EXPECT_EQ(s.sample(l.data()), 0);
  s.accept(0);
  EXPECT_EQ(s.sample(l.data()), 1);  // 5/2 < 4.9
  s.accept(1);
  s.accept(2);                       // 0 falls out of the window (last 2: 1, 2)
  EXPECT_EQ(s.sample(l.data()), 0);
  s.reset();
  EXPECT_EQ(s.sample(l.data()), 0);
}

TEST(SamplerStatistics, FrequenciesMatchTheSoftmax) {
  const int n = 20000;
  const auto l = random_logits(12, 7);
  const std::set<int32_t> all = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  expect_frequencies(draw(plain(1.0f), l, n), softmax_of(l, 1.0f, all), n);
  expect_frequencies(draw(plain(0.6f), l, n), softmax_of(l, 0.6f, all), n);
  expect_frequencies(draw(plain(1.7f), l, n), softmax_of(l, 1.7f, all), n);
}

TEST(SamplerStatistics, TruncationKeepsExactlyTheRightSetAndRenormalizes) {
  const int n = 20000;
  const auto l = logits_of({0.02, 0.35, 0.08, 0.25, 0.2, 0.1});
  // top-p 0.75 on untempered probabilities: 0.35 + 0.25 + 0.2 = 0.8 >= 0.75 -> {1, 3, 4};
  // the draw then uses the tempered softmax over that set (temperature comes last).
  SamplerParams p = plain(2.0f);
  p.top_p = 0.75f;
  expect_frequencies(draw(p, l, n), softmax_of(l, 2.0f, {1, 3, 4}), n);
  // min-p 0.3: p >= 0.105 -> {1, 3, 4}; 0.1 is just under.
  p = plain(0.7f);
  p.min_p = 0.3f;
  expect_frequencies(draw(p, l, n), softmax_of(l, 0.7f, {1, 3, 4}), n);
  // top-k 2 then min-p 0.75 (relative to the best, 0.35: keeps p >= 0.2625) -> {1}
  p = plain(1.0f);
  p.top_k = 2;
  p.min_p = 0.75f;
  expect_frequencies(draw(p, l, 2000), softmax_of(l, 1.0f, {1}), 2000);
  // the defaults (top-k 40, top-p 0.95, min-p 0.05, temp 0.8) over 6 tokens: top-p drops token 0 (0.02).
  p = SamplerParams();
  p.seed = 5;
  expect_frequencies(draw(p, l, n), softmax_of(l, 0.8f, {1, 2, 3, 4, 5}), n);
}

TEST(Sampler, RejectsBadParameters) {
  SamplerParams p;
  EXPECT_THROW(Sampler(p, 0), jetlm::Error);
  p.top_p = 0.0f;
  EXPECT_THROW(Sampler(p, 10), jetlm::Error);
  p = SamplerParams();
  p.repeat_penalty = 0.0f;
  EXPECT_THROW(Sampler(p, 10), jetlm::Error);
}

// ---- stop strings ------------------------------------------------------------

TEST(StopMatcher, PartialLength) {
  EXPECT_EQ(jetlm::partial_stop_length("Hello <|im", "<|im_end|>"), 4u);
  EXPECT_EQ(jetlm::partial_stop_length("Hello <", "<|im_end|>"), 1u);
  EXPECT_EQ(jetlm::partial_stop_length("Hello", "<|im_end|>"), 0u);
  EXPECT_EQ(jetlm::partial_stop_length("<|im_end|>", "<|im_end|>"), 0u);  // a full match is not partial
  EXPECT_EQ(jetlm::partial_stop_length("aa", "aab"), 2u);
}

TEST(StopMatcher, StopSplitAcrossChunks) {
  jetlm::StopMatcher m({"<|im_end|>", "\nUser:"});
  auto r = m.push("Hello <|im");
  EXPECT_EQ(r.text, "Hello ");
  EXPECT_FALSE(r.stopped);
  EXPECT_EQ(m.held(), 4u);
  r = m.push("_en");
  EXPECT_EQ(r.text, "");
  r = m.push("d|> ignored");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "");
  EXPECT_EQ(m.matched(), "<|im_end|>");
  EXPECT_TRUE(m.push("more").text.empty());
}

TEST(StopMatcher, FalseStartIsReleased) {
  jetlm::StopMatcher m({"<|im_end|>"});
  EXPECT_EQ(m.push("a <|i").text, "a ");
  EXPECT_EQ(m.push("x").text, "<|ix");
  EXPECT_EQ(m.push("<").text, "");
  EXPECT_EQ(m.flush(), "<");
  EXPECT_FALSE(m.stopped());
}

TEST(StopMatcher, CharacterByCharacterAndEarliestStopWins) {
  const std::string text = "one two\nUser: three <|im_end|>";
  jetlm::StopMatcher m({"<|im_end|>", "\nUser:"});
  std::string shown;
  bool stopped = false;
  for (char ch : text) {
    const auto r = m.push(std::string(1, ch));
    shown += r.text;
    if (r.stopped) {
      stopped = true;
      break;
    }
  }
  EXPECT_TRUE(stopped);
  EXPECT_EQ(shown, "one two");
  EXPECT_EQ(m.matched(), "\nUser:");

  jetlm::StopMatcher both({"end", "d!"});
  const auto r = both.push("the end!");
  EXPECT_TRUE(r.stopped);
  EXPECT_EQ(r.text, "the ");
}

TEST(StopMatcher, NoStopsPassesEverythingThrough) {
  jetlm::StopMatcher m({"", ""});
  EXPECT_EQ(m.push("<|im_end|>").text, "<|im_end|>");
  EXPECT_EQ(m.flush(), "");
}
