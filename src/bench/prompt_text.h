// Prompts of an exact token count for the benchmarks, cut from a passage of
// plain English (real-ish text tokenizes like real requests; random ids do not).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace jetlm {

class Tokenizer;

// The passage (a few hundred words, written for jetlm).
const std::string& bench_passage();

// Exactly n tokens: BOS when the vocabulary wants one, then the passage's
// tokens from offset `variant` * 37 on, the passage repeated as needed.
// Different variants give prompts with no common prefix past BOS (so a
// prefix cache cannot shorten a repetition).
std::vector<int32_t> bench_prompt_tokens(const Tokenizer& tok, int n, int variant);

}  // namespace jetlm
