// Tokenizers: llama.cpp's golden test pairs for five vocabularies (SPM and
// byte-level BPE), decoding back, special-token parsing, the stream decoder,
// metadata errors, and the `jetlm tokenize` command.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "test_util.h"
#include "text/tokenizer.h"
#include "util/error.h"

using jetlm::GgufFile;
using jetlm::StreamDecoder;
using jetlm::Tokenizer;

namespace {

std::string vocab_path(const std::string& name) { return jetlm_test::data_path("vocab/ggml-vocab-" + name + ".gguf"); }

// Loading a 150k-token vocabulary takes a moment: each is built once per run.
const Tokenizer& tokenizer(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Tokenizer>> cache;
  auto& slot = cache[name];
  if (!slot) slot = Tokenizer::from_gguf(*GgufFile::open(vocab_path(name)));
  return *slot;
}

struct GoldenCase {
  std::string text;
  std::vector<int32_t> ids;
};

std::vector<GoldenCase> golden_cases(const std::string& name) {
  const std::string inp = jetlm_test::read_text(vocab_path(name) + ".inp");
  const std::string outp = jetlm_test::read_text(vocab_path(name) + ".out");
  const std::string sep = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t pos = 0;;) {
    const size_t at = inp.find(sep, pos);
    texts.push_back(inp.substr(pos, at == std::string::npos ? std::string::npos : at - pos));
    if (at == std::string::npos) break;
    pos = at + sep.size();
  }
  std::vector<GoldenCase> cases;
  std::istringstream lines(outp);
  std::string line;
  for (const std::string& t : texts) {
    GoldenCase c;
    c.text = t;
    if (std::getline(lines, line)) {
      std::istringstream ids(line);
      int32_t id;
      while (ids >> id) c.ids.push_back(id);
    }
    cases.push_back(c);
  }
  return cases;
}

std::string join(const std::vector<int32_t>& ids) {
  std::string s;
  for (const int32_t id : ids) s += (s.empty() ? "" : " ") + std::to_string(id);
  return s;
}

bool valid_utf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

// The id whose piece is exactly s (first one), -1 if none.
int32_t id_of_piece(const Tokenizer& tok, const std::string& s) {
  for (int32_t id = 0; id < tok.n_vocab(); ++id)
    if (tok.token_to_piece(id, true) == s) return id;
  return -1;
}

class Golden : public ::testing::TestWithParam<const char*> {};

TEST_P(Golden, EncodesEveryStringExactly) {
  const Tokenizer& tok = tokenizer(GetParam());
  const auto cases = golden_cases(GetParam());
  ASSERT_GT(cases.size(), 40u);
  for (size_t i = 0; i < cases.size(); ++i)
    EXPECT_EQ(join(tok.encode(cases[i].text, false, false)), join(cases[i].ids)) << "case " << i << ": '" << cases[i].text << "'";
}

TEST_P(Golden, DecodesBackToTheInput) {
  const Tokenizer& tok = tokenizer(GetParam());
  for (const GoldenCase& c : golden_cases(GetParam())) {
    EXPECT_EQ(tok.decode(c.ids), c.text);
    // With BOS in front the same text comes back (BOS prints nothing).
    if (tok.bos_id() >= 0) {
      std::vector<int32_t> with_bos{tok.bos_id()};
      with_bos.insert(with_bos.end(), c.ids.begin(), c.ids.end());
      EXPECT_EQ(tok.decode(with_bos), c.text);
    }
  }
}

TEST_P(Golden, StreamsValidUtf8ThatAddsUpToTheInput) {
  const Tokenizer& tok = tokenizer(GetParam());
  for (const GoldenCase& c : golden_cases(GetParam())) {
    StreamDecoder dec(tok);
    std::string all;
    for (const int32_t id : c.ids) {
      const std::string part = dec.push(id);
      EXPECT_TRUE(valid_utf8(part)) << "'" << c.text << "'";
      all += part;
    }
    all += dec.flush();
    EXPECT_EQ(all, c.text);
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabularies, Golden, ::testing::Values("llama-spm", "phi-3", "gpt-2", "qwen2", "llama-bpe"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

TEST(Tokenizer, BosFollowsTheVocabulary) {
  EXPECT_EQ(tokenizer("llama-spm").encode("Hello world", true, false), (std::vector<int32_t>{1, 15043, 3186}));
  EXPECT_EQ(tokenizer("llama-bpe").encode("", true, false), (std::vector<int32_t>{128000}));
  EXPECT_TRUE(tokenizer("llama-spm").encode("", false, false).empty());
  // Qwen2 says add_bos_token = false.
  EXPECT_EQ(tokenizer("qwen2").encode("Hello", true, false), tokenizer("qwen2").encode("Hello", false, false));
  EXPECT_TRUE(tokenizer("llama-bpe").add_bos());
  EXPECT_FALSE(tokenizer("qwen2").add_bos());
}

TEST(Tokenizer, SpecialTokensParsedOnlyWhenAsked) {
  const Tokenizer& qwen = tokenizer("qwen2");
  const std::string chat = "<|im_start|>user\nhi<|im_end|>";
  const auto parsed = qwen.encode(chat, false, true);
  ASSERT_GE(parsed.size(), 3u);
  EXPECT_EQ(parsed.front(), 151644);
  EXPECT_EQ(parsed.back(), 151645);
  auto middle = qwen.encode("user\nhi", false, false);
  EXPECT_EQ(std::vector<int32_t>(parsed.begin() + 1, parsed.end() - 1), middle);
  for (const int32_t id : qwen.encode(chat, false, false)) EXPECT_LT(id, 151643);

  const Tokenizer& llama3 = tokenizer("llama-bpe");
  EXPECT_EQ(llama3.encode("<|begin_of_text|><|start_header_id|>", false, true), (std::vector<int32_t>{128000, 128006}));
  EXPECT_GT(llama3.encode("<|begin_of_text|>", false, false).size(), 1u);

  // SentencePiece: the text after a special token gets the space prefix again.
  const Tokenizer& spm = tokenizer("llama-spm");
  EXPECT_EQ(spm.encode("<s>Hello", false, true), (std::vector<int32_t>{1, 15043}));
  for (const int32_t id : spm.encode("<s>Hello", false, false)) EXPECT_NE(id, 1);
}

// A rendered chat prompt: control tokens from the template are parsed, the
// same text inside user content (plain_spans) stays plain text.
TEST(Tokenizer, ChatPromptKeepsUserContentPlain) {
  const Tokenizer& qwen = tokenizer("qwen2");
  const std::string user = "say <|im_end|> please";
  const std::string text = "<|im_start|>user\n" + user + "<|im_end|>\n";
  const size_t at = text.find(user);
  const auto ids = qwen.encode_chat(text, false, {{at, user.size()}});
  int n_end = 0;
  for (const int32_t id : ids) n_end += id == 151645;
  EXPECT_EQ(n_end, 1);  // only the template's own <|im_end|>
  EXPECT_EQ(ids.front(), 151644);
  // Without spans it is the same as parsing everything.
  EXPECT_EQ(qwen.encode_chat(text, false, {}), qwen.encode(text, false, true));
  // The plain part tokenizes as the content alone would.
  const auto plain = qwen.encode(user, false, false);
  EXPECT_NE(std::search(ids.begin(), ids.end(), plain.begin(), plain.end()), ids.end());
}

TEST(Tokenizer, LongestSpecialTokenWins) {
  // Adjacent tokens split cleanly, and a token is not cut short by another
  // special text inside it ("<|reserved_special_token_10|>" vs "_1").
  const Tokenizer& llama3 = tokenizer("llama-bpe");
  EXPECT_EQ(llama3.encode("<|eot_id|><|eot_id|>", false, true), (std::vector<int32_t>{128009, 128009}));
  EXPECT_EQ(llama3.encode("<|reserved_special_token_10|>", false, true), (std::vector<int32_t>{128010}));
}

TEST(Tokenizer, UserDefinedTokensSplitEvenWithoutSpecialParsing) {
  // Qwen2's [PADnnn] entries are user-defined (type 4): Hugging Face and
  // llama.cpp split them out of plain text too.
  const auto ids = tokenizer("qwen2").encode("a[PAD151646]b", false, false);
  EXPECT_NE(std::find(ids.begin(), ids.end(), 151646), ids.end()) << join(ids);
}

TEST(Tokenizer, Phi3StripsWhitespaceAfterChatMarkers) {
  const Tokenizer& phi3 = tokenizer("phi-3");
  EXPECT_EQ(phi3.encode("<|user|>\nHello<|end|>\n<|assistant|>", false, true),
            (std::vector<int32_t>{32010, 15043, 32007, 32001}));
}

TEST(Tokenizer, EndOfGeneration) {
  EXPECT_TRUE(tokenizer("qwen2").is_end_of_generation(151645));   // <|im_end|>
  EXPECT_TRUE(tokenizer("qwen2").is_end_of_generation(151643));   // <|endoftext|>
  EXPECT_FALSE(tokenizer("qwen2").is_end_of_generation(151644));  // <|im_start|>
  EXPECT_TRUE(tokenizer("llama-bpe").is_end_of_generation(128009));
  EXPECT_EQ(tokenizer("llama-bpe").eot_id(), 128009);
  EXPECT_EQ(tokenizer("qwen2").eot_id(), 151645);
  EXPECT_TRUE(tokenizer("llama-spm").is_end_of_generation(2));
  EXPECT_FALSE(tokenizer("llama-spm").is_end_of_generation(15043));
}

TEST(Tokenizer, PiecesAndSpecialRendering) {
  const Tokenizer& spm = tokenizer("llama-spm");
  EXPECT_EQ(spm.token_to_piece(15043), " Hello");
  EXPECT_EQ(spm.token_to_piece(13), "\n");  // <0x0A>
  EXPECT_EQ(spm.token_to_piece(1), "");
  EXPECT_EQ(spm.token_to_piece(1, true), "<s>");
  EXPECT_EQ(tokenizer("gpt-2").token_to_piece(50256, true), "<|endoftext|>");
  EXPECT_THROW(spm.token_to_piece(-1), jetlm::Error);
  EXPECT_THROW(spm.token_to_piece(32000), jetlm::Error);
}

TEST(StreamDecoder, HoldsBackSplitCharacters) {
  // SentencePiece spells the llama emoji (F0 9F A6 99) as four byte tokens.
  const Tokenizer& spm = tokenizer("llama-spm");
  const std::vector<int32_t> ids = spm.encode("🦙", false, false);
  ASSERT_EQ(ids, (std::vector<int32_t>{29871, 243, 162, 169, 156}));
  StreamDecoder dec(spm);
  EXPECT_EQ(dec.push(ids[0]), "");  // the prefix space is stripped
  EXPECT_EQ(dec.push(ids[1]), "");
  EXPECT_EQ(dec.push(ids[2]), "");
  EXPECT_EQ(dec.push(ids[3]), "");
  EXPECT_EQ(dec.push(ids[4]), "🦙");
  EXPECT_EQ(dec.flush(), "");

  // Byte-level BPE splits multi-byte characters across tokens too.
  const Tokenizer& gpt2 = tokenizer("gpt-2");
  const std::string text = "😶‍🌫️ ✅ 🦙🦙";
  StreamDecoder d2(gpt2);
  std::string all;
  for (const int32_t id : gpt2.encode(text, false, false)) {
    const std::string part = d2.push(id);
    EXPECT_TRUE(valid_utf8(part));
    all += part;
  }
  EXPECT_EQ(all + d2.flush(), text);
}

TEST(StreamDecoder, StripsOnlyTheFirstSpaceAfterBos) {
  const Tokenizer& spm = tokenizer("llama-spm");
  StreamDecoder dec(spm);
  EXPECT_EQ(dec.push(1), "");
  EXPECT_EQ(dec.push(15043), "Hello");
  EXPECT_EQ(dec.push(3186), " world");
  StreamDecoder cont(spm, /*strip_first_space=*/false);
  EXPECT_EQ(cont.push(3186), " world");
  // BPE adds no space, so nothing is stripped.
  StreamDecoder bpe(tokenizer("gpt-2"));
  EXPECT_EQ(bpe.push(tokenizer("gpt-2").encode(" Hi", false, false)[0]), " Hi");
}

TEST(StreamDecoder, InvalidBytesBecomeReplacementCharacters) {
  const Tokenizer& spm = tokenizer("llama-spm");
  const int32_t byte_f0 = 3 + 0xF0, byte_80 = 3 + 0x80;
  const int32_t a = id_of_piece(spm, "A");
  ASSERT_GE(a, 0);
  StreamDecoder dec(spm, false);
  EXPECT_EQ(dec.push(byte_f0), "");
  EXPECT_EQ(dec.push(a), "\xEF\xBF\xBD" "A");  // F0 cannot be followed by 'A'
  EXPECT_EQ(dec.push(byte_80), "\xEF\xBF\xBD");  // a lone continuation byte
  EXPECT_EQ(dec.push(byte_f0), "");
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");  // unfinished at the end
}

TEST(Tokenizer, InvalidUtf8) {
  // SentencePiece keeps the exact bytes (byte fallback); BPE reads each bad
  // byte as U+FFFD, as llama.cpp does.
  const Tokenizer& spm = tokenizer("llama-spm");
  EXPECT_EQ(spm.decode(spm.encode("a\xFF" "b", false, false)), "a\xFF" "b");
  const Tokenizer& gpt2 = tokenizer("gpt-2");
  EXPECT_EQ(gpt2.encode("a\xFF" "b", false, false), gpt2.encode("a\xEF\xBF\xBD" "b", false, false));
}

TEST(Tokenizer, LongInputs) {
  // Long runs exercise the regex engine's backtracking and the merge queue.
  const Tokenizer& llama3 = tokenizer("llama-bpe");
  const std::string spaces(200000, ' '), letters(200000, 'a');
  EXPECT_EQ(llama3.decode(llama3.encode(spaces + "x", false, false)), spaces + "x");
  EXPECT_EQ(llama3.decode(llama3.encode(letters, false, false)), letters);
  std::string han;
  for (int i = 0; i < 20000; ++i) han += "我想在";
  EXPECT_EQ(tokenizer("qwen2").decode(tokenizer("qwen2").encode(han, false, false)), han);
  const Tokenizer& spm = tokenizer("llama-spm");
  EXPECT_EQ(spm.decode(spm.encode(letters, false, false)), letters);
}

// A tokenizer-only GGUF image built in memory, to test metadata handling.
class GgufImage {
 public:
  void str(const std::string& key, const std::string& v) {
    head(key, 8);
    put_str(v);
    ++n_kv_;
  }
  void strs(const std::string& key, const std::vector<std::string>& v) {
    head(key, 9);
    put32(8);
    put64(v.size());
    for (const auto& s : v) put_str(s);
    ++n_kv_;
  }
  void ints(const std::string& key, const std::vector<int32_t>& v) {
    head(key, 9);
    put32(5);
    put64(v.size());
    for (const int32_t x : v) put32(static_cast<uint32_t>(x));
    ++n_kv_;
  }
  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> out{'G', 'G', 'U', 'F', 3, 0, 0, 0};
    for (int k = 0; k < 8; ++k) out.push_back(0);  // no tensors
    for (int k = 0; k < 8; ++k) out.push_back(static_cast<uint8_t>(n_kv_ >> (8 * k)));
    out.insert(out.end(), kv_.begin(), kv_.end());
    while (out.size() % 32) out.push_back(0);
    return out;
  }

 private:
  void put32(uint32_t v) {
    for (int k = 0; k < 4; ++k) kv_.push_back(static_cast<uint8_t>(v >> (8 * k)));
  }
  void put64(uint64_t v) {
    for (int k = 0; k < 8; ++k) kv_.push_back(static_cast<uint8_t>(v >> (8 * k)));
  }
  void put_str(const std::string& s) {
    put64(s.size());
    kv_.insert(kv_.end(), s.begin(), s.end());
  }
  void head(const std::string& key, uint32_t type) {
    put_str(key);
    put32(type);
  }
  std::vector<uint8_t> kv_;
  uint64_t n_kv_ = 0;
};

std::string load_error(const GgufImage& img) {
  const std::vector<uint8_t> data = img.bytes();
  try {
    auto f = GgufFile::parse(data.data(), data.size(), "mem.gguf");
    Tokenizer::from_gguf(*f);
  } catch (const jetlm::Error& e) {
    return e.what();
  }
  return "";
}

TEST(Tokenizer, MetadataErrors) {
  GgufImage pre;
  pre.str("tokenizer.ggml.model", "gpt2");
  pre.str("tokenizer.ggml.pre", "no-such-pre");
  pre.strs("tokenizer.ggml.tokens", {"a", "b", "ab"});
  pre.strs("tokenizer.ggml.merges", {"a b"});
  const std::string e = load_error(pre);
  EXPECT_NE(e.find("no-such-pre"), std::string::npos) << e;
  EXPECT_NE(e.find("llama-bpe"), std::string::npos) << e;
  EXPECT_NE(e.find("qwen2"), std::string::npos) << e;

  GgufImage model;
  model.str("tokenizer.ggml.model", "t5");
  model.strs("tokenizer.ggml.tokens", {"a"});
  EXPECT_NE(load_error(model).find("t5"), std::string::npos);

  GgufImage types;
  types.str("tokenizer.ggml.model", "llama");
  types.strs("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  types.ints("tokenizer.ggml.token_type", {2, 3});
  EXPECT_NE(load_error(types).find("token_type"), std::string::npos);

  GgufImage merges;
  merges.str("tokenizer.ggml.model", "gpt2");
  merges.strs("tokenizer.ggml.tokens", {"a"});
  EXPECT_NE(load_error(merges).find("merges"), std::string::npos);
}

TEST(Tokenizer, TinyBpeVocabulary) {
  // Merges whose result is not a token still chain into ones that are.
  GgufImage img;
  img.str("tokenizer.ggml.model", "gpt2");
  img.str("tokenizer.ggml.pre", "gpt-2");
  img.strs("tokenizer.ggml.tokens", {"a", "b", "c", "abc", "Ġ"});
  img.strs("tokenizer.ggml.merges", {"a b", "ab c"});
  const std::vector<uint8_t> data = img.bytes();
  auto tok = Tokenizer::from_gguf(*GgufFile::parse(data.data(), data.size(), "mem.gguf"));
  EXPECT_EQ(tok->encode("abc", false, false), (std::vector<int32_t>{3}));
  // "ab" alone is no token: llama.cpp then emits its bytes' one-byte tokens.
  EXPECT_EQ(tok->encode("ab", false, false), (std::vector<int32_t>{0, 1}));
  EXPECT_EQ(tok->encode("cab", false, false), (std::vector<int32_t>{2, 0, 1}));
}

TEST(Cli, TokenizePrintsIds) {
  const auto r = jetlm_test::run_jetlm({"tokenize", "-m", vocab_path("llama-spm"), "--text", "Hello world", "--ids"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "1 15043 3186\n");
  const auto nb = jetlm_test::run_jetlm({"tokenize", "-m", vocab_path("llama-spm"), "--text", "Hello world", "--no-bos", "--ids"});
  EXPECT_EQ(nb.out, "15043 3186\n");
  const auto sp = jetlm_test::run_jetlm(
      {"tokenize", "-m", vocab_path("qwen2"), "--text", "<|im_start|>", "--no-bos", "--special", "--ids"});
  EXPECT_EQ(sp.out, "151644\n");
}

TEST(Cli, TokenizeReadsExactFileBytes) {
  const std::string f = jetlm_test::temp_dir() + "/text.txt";
  const std::string text = "Hello\n\n  world\t!\n";
  jetlm_test::write_bytes(f, std::vector<uint8_t>(text.begin(), text.end()));
  const auto r = jetlm_test::run_jetlm({"tokenize", "-m", vocab_path("gpt-2"), "--file", f, "--no-bos", "--ids"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, join(tokenizer("gpt-2").encode(text, false, false)) + "\n");
  const auto lines = jetlm_test::run_jetlm({"tokenize", "-m", vocab_path("gpt-2"), "--text", "Hello world"});
  EXPECT_EQ(lines.out, " 15496 -> 'Hello'\n   995 -> ' world'\n");
}

TEST(Cli, TokenizeErrors) {
  const auto missing = jetlm_test::run_jetlm({"tokenize", "-m", vocab_path("gpt-2"), "--file", "/no/such/file"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("/no/such/file"), std::string::npos);
  EXPECT_EQ(std::count(missing.err.begin(), missing.err.end(), '\n'), 1);
  const auto no_model = jetlm_test::run_jetlm({"tokenize", "-m", "/no/such.gguf", "--text", "x"});
  EXPECT_EQ(no_model.exit_code, 1);
  const auto usage = jetlm_test::run_jetlm({"tokenize", "-m", vocab_path("gpt-2")});
  EXPECT_EQ(usage.exit_code, 2);
}

}  // namespace
