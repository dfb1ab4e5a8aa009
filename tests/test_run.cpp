// jetlm run / chat end to end on the bundled real model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "test_util.h"

using namespace jetlm_test;

namespace {

std::string bundled_model() { return std::string(JETLM_TEST_DATA) + "/../../models/stories260K.gguf"; }

TEST(Run, Stories260KGreedyMatchesLlamaCpp) {
  const nlohmann::json c = nlohmann::json::parse(read_text(data_path("golden/stories260K.json")));
  std::string want = read_text(data_path("golden/stories260K.txt"));
  while (!want.empty() && want.back() == '\n') want.pop_back();
  const int n = static_cast<int>(c["greedy_next_200"].size());
  const RunResult r = run_jetlm({"run", "-m", bundled_model(), "-p", c["prompt"].get<std::string>(), "-n", std::to_string(n), "--temp", "0"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string got = r.out;
  while (!got.empty() && got.back() == '\n') got.pop_back();
  EXPECT_EQ(got, c["prompt"].get<std::string>() + want);
}

TEST(Run, DefaultModelIsTheBundledOne) {
  const RunResult r = run_jetlm({"run", "-p", "Once upon a time", "-n", "8", "--temp", "0"});
  // The bundled model is found relative to the binary or the working directory; either way no crash.
  EXPECT_TRUE(r.exit_code == 0 || r.err.find("stories260K") != std::string::npos) << r.err;
}

TEST(Run, SameSeedSameText) {
  const std::vector<std::string> args = {"run", "-m", bundled_model(), "-p", "Once upon a time", "-n", "40", "--temp", "0.9", "--seed", "42"};
  const RunResult a = run_jetlm(args), b = run_jetlm(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  std::vector<std::string> other = args;
  other.back() = "43";
  EXPECT_NE(run_jetlm(other).out, a.out);
}

TEST(Run, TopK1EqualsGreedy) {
  const RunResult g = run_jetlm({"run", "-m", bundled_model(), "-p", "Once upon a time", "-n", "30", "--temp", "0"});
  const RunResult k = run_jetlm({"run", "-m", bundled_model(), "-p", "Once upon a time", "-n", "30", "--temp", "1.5", "--top-k", "1", "--seed", "7"});
  ASSERT_EQ(g.exit_code, 0);
  EXPECT_EQ(g.out, k.out);
}

TEST(Run, PrintsTimingsToStderr) {
  const RunResult r = run_jetlm({"run", "-m", bundled_model(), "-p", "Once upon a time", "-n", "5", "--temp", "0"});
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_NE(r.err.find("prompt eval time"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("load time"), std::string::npos) << r.err;
}

TEST(Run, BadInputIsOneLineAndNonZero) {
  struct Case {
    std::vector<std::string> args;
    int code;
  };
  const std::vector<Case> cases = {
      {{"run", "-m", "/nonexistent.gguf", "-p", "x"}, 1},
      {{"run", "-m", bundled_model(), "-p", ""}, 2},
      {{"run", "-m", bundled_model(), "-p", "x", "--bogus"}, 2},
      {{"run", "-m", bundled_model(), "-p", "x", "-n", "abc"}, 2},
      {{"run", "-m", bundled_model(), "-p", "x", "--temp", "-1"}, 2},
      {{"run", "-m", bundled_model(), "-p", "x", "-ngl", "-3"}, 2},
      {{"run", "-m", bundled_model(), "-p", "x", "-ngl", "most"}, 2},
      {{"run", "-m", bundled_model(), "-p", std::string(3000, 'a'), "-c", "64"}, 1},
      {{"nosuchcommand"}, 2},
  };
  for (const auto& c : cases) {
    const RunResult r = run_jetlm(c.args);
    EXPECT_EQ(r.exit_code, c.code) << c.args[0] << " " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
}

TEST(Chat, MultiTurnKeepsHistoryAndExits) {
  const RunResult r = run_jetlm({"chat", "-m", bundled_model(), "-n", "10", "--temp", "0"}, "Hello\nHow are you?\n/exit\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
}

}  // namespace
