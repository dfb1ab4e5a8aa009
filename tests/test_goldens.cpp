// Golden logits: jetlm eval on every model fixture, batch and incremental,
// default and reference paths, against llama.cpp's exact float32 logits.
// Bounds (relative L2 over all positions) as in ../shared/tools/check-goldens.py.
#include <gtest/gtest.h>
#include <dirent.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace jetlm_test;

namespace {

struct GoldenCase {
  std::string name;  // e.g. tiny-llama-q4_0
};

std::vector<std::string> golden_names() {
  std::vector<std::string> out;
  DIR* d = opendir(data_path("golden").c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string f = e->d_name;
    if (f.size() > 5 && f.compare(f.size() - 5, 5, ".json") == 0 && f.rfind("tiny-", 0) == 0) out.push_back(f.substr(0, f.size() - 5));
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

double bound_for(const std::string& name, bool reference) {
  if (reference) return 1e-3;
  const std::string kind = name.substr(name.rfind('-') + 1);
  if (kind == "f32") return 1e-3;
  if (kind == "f16") return 5e-3;
  if (kind == "bf16") return 2e-2;
  return 5e-2;
}

enum Mode { kBatch, kIncremental, kBatchReference, kIncrementalReference };

class Goldens : public ::testing::TestWithParam<std::tuple<std::string, Mode>> {};

TEST_P(Goldens, LogitsMatchExact) {
  const std::string name = std::get<0>(GetParam());
  const Mode mode = std::get<1>(GetParam());
  const nlohmann::json c = nlohmann::json::parse(read_text(data_path("golden/" + name + ".json")));
  std::string ids;
  for (const auto& t : c["tokens"]) ids += (ids.empty() ? "" : ",") + std::to_string(t.get<int>());
  const std::string out = temp_dir() + "/" + name + std::to_string(mode) + ".f32";
  std::vector<std::string> args = {"eval", "-m", data_path("models/" + name + ".gguf"), "--tokens", ids, "--logits", out};
  const bool reference = mode == kBatchReference || mode == kIncrementalReference;
  if (mode == kIncremental || mode == kIncrementalReference) args.push_back("--incremental");
  if (reference) args.push_back("--reference");
  const RunResult r = run_jetlm(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<float> got = read_f32_file(out);
  const std::vector<float> want = read_f32_file(data_path("golden/" + name + ".exact.f32"));
  ASSERT_EQ(got.size(), want.size());
  const double e = rel_l2(got, want);
  EXPECT_LE(e, bound_for(name, reference)) << name;
  EXPECT_FALSE(std::isnan(e));
}

std::string case_name(const ::testing::TestParamInfo<Goldens::ParamType>& info) {
  static const char* const modes[] = {"batch", "incremental", "batch_reference", "incremental_reference"};
  std::string n = std::get<0>(info.param) + "_" + modes[std::get<1>(info.param)];
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(AllFixtures, Goldens,
                         ::testing::Combine(::testing::ValuesIn(golden_names()),
                                            ::testing::Values(kBatch, kIncremental, kBatchReference, kIncrementalReference)),
                         case_name);

TEST(Goldens, FixturesPresent) { EXPECT_GE(golden_names().size(), 18u); }

// A prompt longer than the batch size goes through several forward calls and must give the same logits.
TEST(Goldens, SmallBatchesMatchOneBatch) {
  const std::string name = "tiny-gemma3-q4_0";
  const nlohmann::json c = nlohmann::json::parse(read_text(data_path("golden/" + name + ".json")));
  std::string ids;
  for (const auto& t : c["tokens"]) ids += (ids.empty() ? "" : ",") + std::to_string(t.get<int>());
  const std::string out = temp_dir() + "/batched.f32";
  const RunResult r = run_jetlm({"eval", "-m", data_path("models/" + name + ".gguf"), "--tokens", ids, "--logits", out, "-b", "7"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LE(rel_l2(read_f32_file(out), read_f32_file(data_path("golden/" + name + ".exact.f32"))), 5e-2);
}

TEST(Goldens, ContextOverflowIsAnError) {
  const RunResult r = run_jetlm({"eval", "-m", data_path("models/tiny-llama-q4_0.gguf"), "--tokens", "1,2,3,4,5", "--logits",
                                 temp_dir() + "/o.f32", "-c", "4"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("context"), std::string::npos) << r.err;
}

TEST(Goldens, TokenOutsideVocabularyIsAnError) {
  const RunResult r = run_jetlm({"eval", "-m", data_path("models/tiny-llama-q4_0.gguf"), "--tokens", "1,99999", "--logits",
                                 temp_dir() + "/o.f32"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("vocabulary"), std::string::npos) << r.err;
}

}  // namespace
