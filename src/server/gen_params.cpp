#include "server/gen_params.h"

#include <algorithm>

#include "server/request_json.h"

namespace jetlm {

void check_prompt_fits(int n_prompt, int n_ctx) {
  if (n_prompt <= 0) throw ApiError(400, "the prompt is empty");
  if (n_prompt >= n_ctx)
    throw ApiError(400,
                   str_cat("the prompt (", n_prompt, " tokens) is too long: it exceeds the context size of ", n_ctx,
                           " tokens"),
                   "invalid_request_error", "context_length_exceeded");
}

GenerateParams generate_params(const nlohmann::json& f, ApiDialect dialect, int n_prompt, int n_ctx) {
  check_prompt_fits(n_prompt, n_ctx);
  GenerateParams g;
  const int64_t room = n_ctx - n_prompt;
  constexpr int64_t kBig = INT64_MAX;
  int64_t n = -1;
  if (dialect == ApiDialect::OpenAI) {
    n = int_field(f, "n_predict", -1, -1, kBig);  // llama-server's own name
    n = int_field(f, "max_tokens", n, 0, kBig);
    n = int_field(f, "max_completion_tokens", n, 0, kBig);
    if (int_field(f, "n", 1, 1, kBig) != 1) throw ApiError(400, "'n' > 1 (several choices) is not supported");
  } else {
    n = int_field(f, "num_predict", -1, -2, kBig);  // -1: unbounded, -2: fill the context
    if (n < 0) n = -1;
  }
  // Past the context the answer stops there anyway; bounding n_predict makes
  // finish_reason "length" mean completion_tokens == the budget.
  g.n_predict = static_cast<int>(n < 0 ? room : std::min(n, room));
  SamplerParams& p = g.sampling;
  p.temp = static_cast<float>(num_field(f, "temperature", p.temp, 0, 1e6));
  p.top_k = static_cast<int>(int_field(f, "top_k", p.top_k, 0, 1 << 30));
  p.top_p = static_cast<float>(num_field(f, "top_p", p.top_p, 0, 1));
  p.min_p = static_cast<float>(num_field(f, "min_p", p.min_p, 0, 1));
  p.presence_penalty = static_cast<float>(num_field(f, "presence_penalty", p.presence_penalty, -1e6, 1e6));
  p.freq_penalty = static_cast<float>(num_field(f, "frequency_penalty", p.freq_penalty, -1e6, 1e6));
  p.repeat_penalty = static_cast<float>(num_field(f, "repeat_penalty", p.repeat_penalty, 1e-6, 1e6));
  p.penalty_last_n = static_cast<int>(int_field(f, "repeat_last_n", p.penalty_last_n, -1, 1 << 30));
  const int64_t seed = int_field(f, "seed", -1, INT64_MIN, kBig);
  p.seed = seed < 0 ? SamplerParams::kRandomSeed : static_cast<uint64_t>(seed);
  g.stop = str_list_field(f, "stop");
  g.ignore_eos = bool_field(f, "ignore_eos", false);
  return g;
}

}  // namespace jetlm
