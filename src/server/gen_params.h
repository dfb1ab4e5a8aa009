// Sampling and length fields of a request (OpenAI body or ollama options)
// mapped onto GenerateParams. Defaults are llama-server's (SamplerParams').
#pragma once
#include <nlohmann/json.hpp>

#include "runtime/generator.h"

namespace jetlm {

// Which spelling of the shared fields a request uses.
enum class ApiDialect { OpenAI, Ollama };

// OpenAI: max_tokens / max_completion_tokens / n_predict, temperature, top_p, top_k,
// min_p, seed, stop, presence_penalty, frequency_penalty, repeat_penalty, repeat_last_n.
// ollama (fields of "options"): num_predict and the same sampling names.
// n_predict is bounded so that prompt + generated fits in n_ctx (ApiError 400
// when the prompt alone does not: "... exceeds the context ...").
GenerateParams generate_params(const nlohmann::json& fields, ApiDialect dialect, int n_prompt, int n_ctx);

// ApiError 400 unless a prompt of n_prompt tokens leaves room for one more in n_ctx.
void check_prompt_fits(int n_prompt, int n_ctx);

}  // namespace jetlm
