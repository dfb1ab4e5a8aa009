// Tokenizers under hostile input (issue 23): which special-token texts are
// split out of plain text, per token type, on the five test vocabularies;
// and long repetitive input in bounded memory (the benchmark records time).
//
// The rule is llama.cpp's (llama-vocab.cpp, tokenizer_st_partition and the
// special-token cache): control, user-defined and unknown tokens are split
// out with special parsing; without it only user-defined ones are (Hugging
// Face's added tokens that are not special); unused tokens never are.
#include <gtest/gtest.h>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf_builder.h"
#include "test_util.h"
#include "text/tokenizer.h"
#include "text/tokenizer_common.h"

using jetlm::GgufFile;
using jetlm::Tokenizer;
using jetlm::VocabTokenizer;

namespace {

const char* const kVocabs[] = {"llama-spm", "phi-3", "gpt-2", "qwen2", "llama-bpe"};

std::string vocab_path(const std::string& name) { return jetlm_test::data_path("vocab/ggml-vocab-" + name + ".gguf"); }

bool contains(const std::vector<int32_t>& ids, int32_t id) { return std::find(ids.begin(), ids.end(), id) != ids.end(); }

struct TypeCase {
  uint32_t attr;
  const char* name;
  bool plain, special;  // split out without / with special parsing
};
const TypeCase kTypes[] = {
    {jetlm::kAttrControl, "control", false, true},
    {jetlm::kAttrUnknown, "unknown", false, true},
    {jetlm::kAttrUserDefined, "user-defined", true, true},
    {jetlm::kAttrUnused, "unused", false, false},
};

// The class a token falls in (control wins: llama.cpp retypes chat markers as control).
const TypeCase* type_of(uint32_t attr) {
  for (const TypeCase& t : kTypes)
    if (attr & t.attr) return &t;
  return nullptr;
}

void check_rule(const std::string& vocab_name, const Tokenizer& tok) {
  const auto* vt = dynamic_cast<const VocabTokenizer*>(&tok);
  ASSERT_NE(vt, nullptr);
  const jetlm::Vocab& v = vt->vocab();
  int checked[4] = {};
  for (int32_t id = 0; id < v.size(); ++id) {
    const TypeCase* t = type_of(v.attr(id));
    if (!t) continue;
    int& n = checked[t - kTypes];
    if (n >= 40) continue;  // enough of each type per vocabulary
    ++n;
    const std::string text = "x " + v.text(id) + " y";
    EXPECT_EQ(contains(tok.encode(text, false, false), id), t->plain)
        << vocab_name << ": " << t->name << " token " << id << " '" << v.text(id) << "' without special parsing";
    EXPECT_EQ(contains(tok.encode(text, false, true), id), t->special)
        << vocab_name << ": " << t->name << " token " << id << " '" << v.text(id) << "' with special parsing";
  }
  // Every vocabulary has control tokens; the others vary.
  EXPECT_GT(checked[0], 0) << vocab_name;
}

TEST(SpecialTokens, RulePerTokenTypeOnAllFiveVocabularies) {
  for (const char* name : kVocabs) {
    const auto tok = Tokenizer::from_gguf(*GgufFile::open(vocab_path(name)));
    check_rule(name, *tok);
  }
}

TEST(SpecialTokens, UnusedAndUnknownTokensInASmallVocabulary) {
  // None of the five files has an unused token: this one has each type.
  jetlm_test::GgufBuilder b;
  b.kv_str("tokenizer.ggml.model", "llama");
  b.kv_str_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "<unused0>", "<user>", "\xE2\x96\x81", "x", "<", ">",
                                           "u", "n", "s", "e", "d", "0", "r", "k", "y", "/"});
  b.kv_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 5, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1});
  b.kv_f32_array("tokenizer.ggml.scores", std::vector<float>(19, 0.0f));
  const std::vector<uint8_t> img = b.build();
  const auto tok = Tokenizer::from_gguf(*GgufFile::parse(img.data(), img.size(), "mem.gguf"));
  check_rule("small", *tok);
  EXPECT_FALSE(contains(tok->encode("<unused0>", false, true), 3));
  EXPECT_TRUE(contains(tok->encode("<user>", false, false), 4));
  EXPECT_FALSE(contains(tok->encode("<unk></s><s>", false, false), 0));
}

TEST(SpecialTokens, Phi3EndOfSentenceTextFollowsItsType) {
  // In the Phi-3 vocabulary "</s>" (id 2) is USER_DEFINED (an added token
  // its tokenizer.json does not mark special), so llama.cpp and Hugging Face
  // both split it out of plain text; <s>, <unk> and the chat markers are
  // control and stay text unless special parsing is asked.
  const auto tok = Tokenizer::from_gguf(*GgufFile::open(vocab_path("phi-3")));
  const auto* vt = dynamic_cast<const VocabTokenizer*>(tok.get());
  ASSERT_NE(vt, nullptr);
  EXPECT_TRUE(vt->vocab().attr(2) & jetlm::kAttrUserDefined);
  EXPECT_NE(vt->vocab().eos, 2);  // the end of generation is <|endoftext|>, not id 2
  EXPECT_TRUE(contains(tok->encode("a</s>b", false, false), 2));
  for (const char* control : {"<s>", "<unk>", "<|endoftext|>", "<|user|>", "<|end|>"}) {
    const std::vector<int32_t> plain = tok->encode(std::string("a") + control + "b", false, false);
    const std::vector<int32_t> special = tok->encode(std::string("a") + control + "b", false, true);
    EXPECT_GT(plain.size(), special.size()) << control;
    EXPECT_EQ(tok->decode(plain), std::string("a") + control + "b") << control;
  }
}

// ---- long repetitive input ---------------------------------------------------

// Peak memory of `jetlm tokenize` on a file, in MiB (the child's ru_maxrss).
long tokenize_peak_mib(const std::string& vocab, const std::string& file, std::string* ids) {
  const std::string out = jetlm_test::temp_dir() + "/tok.out";
  const pid_t pid = fork();
  if (pid == 0) {
    FILE* o = std::freopen(out.c_str(), "w", stdout);
    (void)o;
    std::string bin = jetlm_test::jetlm_binary(), m = vocab_path(vocab);
    const char* argv[] = {bin.c_str(), "tokenize", "-m", m.c_str(), "-f", file.c_str(), "--ids", "--no-bos", nullptr};
    ::execv(bin.c_str(), const_cast<char**>(argv));
    _exit(127);
  }
  int status = 0;
  struct rusage ru = {};
  ::wait4(pid, &status, 0, &ru);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << vocab;
  *ids = jetlm_test::read_text(out);
  return ru.ru_maxrss / 1024;
}

TEST(LongInput, OneMegabyteOfOneLetterInBoundedMemory) {
  // One word of 1 MB: every merge step of the whole run is in one queue.
  const std::string file = jetlm_test::temp_dir() + "/a1m.txt";
  const std::string text(1 << 20, 'a');
  jetlm_test::write_bytes(file, std::vector<uint8_t>(text.begin(), text.end()));
  for (const char* name : kVocabs) {
    std::string ids;
    const long mib = tokenize_peak_mib(name, file, &ids);
#if !defined(__SANITIZE_ADDRESS__)
    // The vocabulary itself takes tens of MiB; the input adds at most ~30 bytes a byte.
    EXPECT_LT(mib, 160) << name;
#else
    (void)mib;
#endif
    // And the tokens spell the input back.
    const auto tok = Tokenizer::from_gguf(*GgufFile::open(vocab_path(name)));
    std::vector<int32_t> v;
    for (size_t at = 0; at < ids.size();) {
      size_t end = ids.find_first_of(" \n", at);
      if (end == std::string::npos) end = ids.size();
      if (end > at) v.push_back(std::stoi(ids.substr(at, end - at)));
      at = end + 1;
    }
    std::string back = tok->decode(v);
    if (!back.empty() && back[0] == ' ' && tok->adds_space_prefix()) back.erase(0, 1);
    EXPECT_EQ(back.size(), text.size()) << name;
    EXPECT_TRUE(back == text) << name;
    EXPECT_LT(v.size(), text.size() / 2) << name;  // merged, not one token a letter
  }
}

TEST(LongInput, RepeatedSpecialTokenTextIsLinear) {
  // 200k copies of a control token's text as plain text and parsed.
  const auto tok = Tokenizer::from_gguf(*GgufFile::open(vocab_path("qwen2")));
  std::string text;
  for (int i = 0; i < 200000; ++i) text += "<|im_start|>";
  EXPECT_EQ(tok->encode(text, false, true).size(), 200000u);
  EXPECT_GT(tok->encode(text, false, false).size(), 200000u);
}

}  // namespace
