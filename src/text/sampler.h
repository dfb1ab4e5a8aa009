// Token sampling with llama.cpp's default chain and order: repetition
// penalties over the last-n window, top-k, top-p, min-p, temperature, then a
// seeded draw. top-p and min-p therefore see untempered probabilities, as in
// llama.cpp. Each step is a free function over a candidate set so tests can
// check exactly which tokens survive.
#pragma once
#include <cstdint>
#include <deque>
#include <random>
#include <vector>

namespace jetlm {

struct SamplerParams {
  // Seed meaning "pick one from std::random_device" (llama.cpp's default seed does the same).
  static constexpr uint64_t kRandomSeed = UINT64_MAX;

  float temp = 0.8f;            // <= 0: greedy (argmax, ties to the lowest id)
  int top_k = 40;               // <= 0: off
  float top_p = 0.95f;          // >= 1: off
  float min_p = 0.05f;          // <= 0: off
  float repeat_penalty = 1.0f;  // 1: off
  float freq_penalty = 0.0f;
  float presence_penalty = 0.0f;
  int penalty_last_n = 64;      // window of accepted tokens the penalties see; 0: off, < 0: all
  uint64_t seed = kRandomSeed;
};

struct TokenCandidate {
  int32_t id;
  float logit;
  float p;  // valid after softmax()
};

// The tokens still in the running. sorted: data is in descending logit order
// (ties by ascending id), which top-k, top-p and softmax establish.
struct Candidates {
  std::vector<TokenCandidate> data;
  bool sorted = false;
};

Candidates make_candidates(const float* logits, int n_vocab);
// Sorts (if needed) and sets p to the softmax of the logits.
void softmax(Candidates& c);
// llama.cpp's penalties: a seen token's logit is divided by `repeat` when
// positive and multiplied when not, then count*freq + presence is subtracted.
void apply_penalties(Candidates& c, const std::vector<int32_t>& recent, float repeat, float freq, float presence);
void apply_top_k(Candidates& c, int k);
// Keeps the smallest prefix (by probability) whose mass reaches p, at least min_keep tokens.
void apply_top_p(Candidates& c, float p, size_t min_keep = 1);
// Keeps tokens with probability >= p * (max probability), at least min_keep tokens.
void apply_min_p(Candidates& c, float p, size_t min_keep = 1);
// Divides logits by temp (> 0).
void apply_temperature(Candidates& c, float temp);
// Index of the largest logit, ties to the lowest id.
int32_t argmax(const float* logits, int n_vocab);

class Sampler {
 public:
  // Throws Error for n_vocab <= 0 or negative/NaN parameters.
  Sampler(const SamplerParams& params, int n_vocab);

  // Picks the next token from n_vocab logits (not modified).
  int32_t sample(const float* logits);
  // Records a token that joined the sequence, for the penalty window. Like
  // llama.cpp, callers accept the prompt's tokens too, not only sampled ones.
  void accept(int32_t token);
  // Forgets accepted tokens and restarts the random stream from the seed.
  void reset();

  uint64_t seed() const { return seed_; }  // the seed in use (drawn when kRandomSeed was given)
  const SamplerParams& params() const { return params_; }

 private:
  std::vector<int32_t> window() const;
  double uniform();  // [0, 1), 53 random bits: the same on every platform

  SamplerParams params_;
  int n_vocab_;
  uint64_t seed_;
  std::mt19937_64 rng_;
  std::deque<int32_t> recent_;
};

}  // namespace jetlm
