// The pieces of jetlm serve that need no socket: bounded request parsing,
// typed fields, the mapping onto GenerateParams, and the metrics text.
// (tests/server/ drives the whole server over HTTP with the real clients.)
#include <gtest/gtest.h>

#include <string>

#include "server/gen_params.h"
#include "server/metrics.h"
#include "server/request_json.h"

namespace jetlm {
namespace {

using nlohmann::json;

int status_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const ApiError& e) {
    return e.status;
  }
  return 200;
}

TEST(ServerJson, RejectsDeepNestingBeforeParsing) {
  const std::string ok = std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']');
  EXPECT_NO_THROW(parse_request_json("{\"a\":" + ok + "}"));
  const std::string deep = std::string(kMaxJsonDepth + 1, '[') + std::string(kMaxJsonDepth + 1, ']');
  EXPECT_EQ(status_of([&] { parse_request_json("{\"a\":" + deep + "}"); }), 400);
  // Brackets inside strings do not count.
  EXPECT_NO_THROW(parse_request_json("{\"a\":\"" + std::string(1000, '[') + "\\\"\"}"));
  EXPECT_EQ(status_of([&] { parse_request_json(std::string(1 << 20, '[')); }), 400);
}

TEST(ServerJson, InvalidOrNonObjectBodiesAre400) {
  for (const char* body : {"", "{", "{\"a\":}", "[1]", "\"s\"", "3", "null", "{\"a\":1}x"})
    EXPECT_EQ(status_of([&] { parse_request_json(body); }), 400) << body;
  EXPECT_EQ(parse_request_json("{\"a\":1}")["a"], 1);
}

TEST(ServerJson, TypedFields) {
  const json j = json::parse(R"({"n": 5, "f": 5.0, "x": 2.5, "s": "t", "b": true, "neg": -3, "nul": null,
                                 "stop": ["a", "b"], "stop1": "z", "bad": [1], "big": 18446744073709551615})");
  EXPECT_EQ(int_field(j, "n", 0, 0, 10), 5);
  EXPECT_EQ(int_field(j, "f", 0, 0, 10), 5);  // an integral double
  EXPECT_EQ(int_field(j, "missing", 7, 0, 10), 7);
  EXPECT_EQ(int_field(j, "nul", 7, 0, 10), 7);
  EXPECT_EQ(int_field(j, "big", 0, 0, INT64_MAX), INT64_MAX);
  EXPECT_EQ(status_of([&] { int_field(j, "x", 0, 0, 10); }), 400);
  EXPECT_EQ(status_of([&] { int_field(j, "neg", 0, 0, 10); }), 400);
  EXPECT_EQ(status_of([&] { int_field(j, "s", 0, 0, 10); }), 400);
  EXPECT_DOUBLE_EQ(num_field(j, "x", 0, 0, 10), 2.5);
  EXPECT_EQ(status_of([&] { num_field(j, "s", 0, 0, 10); }), 400);
  EXPECT_EQ(str_field(j, "s"), "t");
  EXPECT_EQ(status_of([&] { str_field(j, "n"); }), 400);
  EXPECT_TRUE(bool_field(j, "b", false));
  EXPECT_EQ(status_of([&] { bool_field(j, "n", false); }), 400);
  EXPECT_EQ(str_list_field(j, "stop"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(str_list_field(j, "stop1"), (std::vector<std::string>{"z"}));
  EXPECT_EQ(status_of([&] { str_list_field(j, "bad"); }), 400);
}

TEST(ServerJson, WireReplacesInvalidUtf8) {
  const std::string out = to_wire(json{{"t", std::string("a\xe2\x82") + "b"}});
  EXPECT_NE(out.find("\xef\xbf\xbd"), std::string::npos) << out;
}

TEST(ServerParams, MaxTokensIsBoundedByTheContextAndPromptsMustFit) {
  GenerateParams g = generate_params(json{{"max_tokens", 1000000}}, ApiDialect::OpenAI, 10, 100);
  EXPECT_EQ(g.n_predict, 90);
  g = generate_params(json{{"max_tokens", 5}}, ApiDialect::OpenAI, 10, 100);
  EXPECT_EQ(g.n_predict, 5);
  g = generate_params(json{{"max_completion_tokens", 7}}, ApiDialect::OpenAI, 10, 100);
  EXPECT_EQ(g.n_predict, 7);
  g = generate_params(json::object(), ApiDialect::OpenAI, 10, 100);
  EXPECT_EQ(g.n_predict, 90);
  g = generate_params(json{{"num_predict", -2}}, ApiDialect::Ollama, 10, 100);
  EXPECT_EQ(g.n_predict, 90);
  g = generate_params(json{{"num_predict", 3}, {"temperature", 0}, {"seed", 42}, {"stop", "x"}}, ApiDialect::Ollama, 10, 100);
  EXPECT_EQ(g.n_predict, 3);
  EXPECT_EQ(g.sampling.temp, 0.f);
  EXPECT_EQ(g.sampling.seed, 42u);
  EXPECT_EQ(g.stop, std::vector<std::string>{"x"});
  try {
    generate_params(json::object(), ApiDialect::OpenAI, 100, 100);
    FAIL() << "a prompt filling the context must be refused";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_NE(std::string(e.what()).find("context"), std::string::npos);
  }
  EXPECT_EQ(status_of([&] { generate_params(json{{"max_tokens", -1}}, ApiDialect::OpenAI, 1, 100); }), 400);
  EXPECT_EQ(status_of([&] { generate_params(json{{"temperature", -0.5}}, ApiDialect::OpenAI, 1, 100); }), 400);
  EXPECT_EQ(status_of([&] { generate_params(json{{"top_p", 2}}, ApiDialect::OpenAI, 1, 100); }), 400);
  EXPECT_EQ(status_of([&] { generate_params(json{{"n", 2}}, ApiDialect::OpenAI, 1, 100); }), 400);
}

TEST(ServerMetrics, CountersAndCumulativeHistograms) {
  Metrics m;
  m.request_started();
  m.first_token(0.02);
  m.next_token(0.003);
  m.next_token(0.2);
  TokenEvent fin;
  fin.done = true;
  fin.stop_reason = "length";
  fin.stats.n_prompt = 4;
  fin.stats.n_reused = 6;
  fin.stats.n_generated = 3;
  fin.t_ms = 300;
  m.request_done(fin);
  EngineStats es;
  es.n_running = 1;
  es.kv_used = 5;
  es.kv_total = 10;
  const std::string text = m.render(es);
  auto has = [&](const std::string& line) { return text.find(line + "\n") != std::string::npos; };
  EXPECT_TRUE(has("jetlm_tokens_generated_total 3")) << text;
  EXPECT_TRUE(has("jetlm_prompt_tokens_total 10"));
  EXPECT_TRUE(has("jetlm_prompt_tokens_cached_total 6"));
  EXPECT_TRUE(has("jetlm_requests_running 1"));
  EXPECT_TRUE(has("jetlm_kv_cache_usage_ratio 0.5"));
  EXPECT_TRUE(has("jetlm_inter_token_latency_seconds_bucket{le=\"0.005\"} 1"));
  EXPECT_TRUE(has("jetlm_inter_token_latency_seconds_bucket{le=\"0.25\"} 2"));
  EXPECT_TRUE(has("jetlm_inter_token_latency_seconds_bucket{le=\"+Inf\"} 2"));
  EXPECT_TRUE(has("jetlm_time_to_first_token_seconds_count 1"));
  EXPECT_TRUE(has("# TYPE jetlm_tokens_generated_total counter"));
}

}  // namespace
}  // namespace jetlm
