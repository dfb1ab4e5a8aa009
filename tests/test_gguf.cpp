// The GGUF reader on valid and hostile input: every malformed file must end
// in jetlm::Error naming the problem, never a crash, hang or huge allocation.
// (CI also runs this file under AddressSanitizer and UBSan.)
#include <gtest/gtest.h>
#include <dirent.h>

#include <random>

#include "gguf/gguf.h"
#include "gguf_builder.h"
#include "models/context.h"
#include "models/model.h"
#include "test_util.h"
#include "util/error.h"

using namespace jetlm;
using namespace jetlm_test;

namespace {

// Parses an image; returns "" on success or the error message.
std::string parse_error(const std::vector<uint8_t>& img) {
  try {
    auto f = GgufFile::parse(img.data(), img.size(), "test.gguf");
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

// Loads a model and runs two tokens on it: "" on success or the error message.
std::string load_and_run(const std::vector<uint8_t>& img) {
  const std::string path = temp_dir() + "/m.gguf";
  write_bytes(path, img);
  try {
    auto m = Model::load(path);
    ContextOptions o;
    o.n_ctx = 8;
    Context ctx(*m, o);
    const int32_t ids[2] = {1, 2};
    std::vector<float> logits(static_cast<size_t>(m->hparams().n_vocab));
    ctx.decode(ids, 2, false, logits.data());
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

void put_u64(std::vector<uint8_t>& img, size_t at, uint64_t v) { std::memcpy(&img[at], &v, 8); }
void put_u32(std::vector<uint8_t>& img, size_t at, uint32_t v) { std::memcpy(&img[at], &v, 4); }

TEST(Gguf, ReadsValidFile) {
  GgufBuilder b = tiny_llama_builder();
  b.kv_str_array("tokenizer.ggml.tokens", {"a", "b", "c"});
  b.kv_f32_array("tokenizer.ggml.scores", {0.5f, 1.5f, -2.f});
  const auto img = b.build();
  auto f = GgufFile::parse(img.data(), img.size(), "t.gguf");
  EXPECT_EQ(f->version(), 3u);
  EXPECT_EQ(f->get_str("general.architecture"), "llama");
  EXPECT_EQ(f->get_u32("llama.embedding_length"), 8u);
  EXPECT_FLOAT_EQ(f->get_f32("llama.attention.layer_norm_rms_epsilon"), 1e-5f);
  const auto toks = f->get_str_array("tokenizer.ggml.tokens");
  ASSERT_EQ(toks.size(), 3u);
  EXPECT_EQ(toks[2], "c");
  EXPECT_FLOAT_EQ(f->get_f32_array("tokenizer.ggml.scores")[1], 1.5f);
  const GgufTensor* t = f->find_tensor("blk.1.ffn_down.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->ne[0], 16);
  EXPECT_EQ(t->ne[1], 8);
  EXPECT_EQ(t->nbytes, 16u * 8u * 4u);
  EXPECT_EQ(load_and_run(img), "");
}

TEST(Gguf, ReadsVersion2) {
  GgufBuilder b(2);
  b.kv_str("general.architecture", "llama");
  const auto img = b.build();
  EXPECT_EQ(parse_error(img), "");
}

TEST(Gguf, TypedGettersReportMissingAndMistyped) {
  const auto img = tiny_llama_builder().build();
  auto f = GgufFile::parse(img.data(), img.size(), "t.gguf");
  try {
    f->get_u32("llama.nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("missing required key llama.nope"), std::string::npos);
  }
  EXPECT_THROW(f->get_str("llama.block_count"), Error);
  EXPECT_THROW(f->get_u32("general.architecture"), Error);
  EXPECT_EQ(f->get_u32_or("llama.nope", 7u), 7u);
}

TEST(Gguf, BadMagic) {
  auto img = tiny_llama_builder().build();
  img[0] = 'X';
  EXPECT_NE(parse_error(img).find("bad magic"), std::string::npos);
}

TEST(Gguf, UnsupportedVersion) {
  auto img = tiny_llama_builder().build();
  put_u32(img, 4, 99);
  EXPECT_NE(parse_error(img).find("unsupported GGUF version 99"), std::string::npos);
  put_u32(img, 4, 1);
  EXPECT_NE(parse_error(img).find("unsupported GGUF version 1"), std::string::npos);
}

TEST(Gguf, HugeCountsAreRejectedBeforeAllocating) {
  auto img = tiny_llama_builder().build();
  put_u64(img, 8, uint64_t(1) << 60);  // tensor count
  EXPECT_NE(parse_error(img).find("tensor_count"), std::string::npos);
  img = tiny_llama_builder().build();
  put_u64(img, 16, uint64_t(1) << 62);  // kv count
  EXPECT_NE(parse_error(img).find("metadata_kv_count"), std::string::npos);
}

TEST(Gguf, HugeStringLength) {
  auto img = tiny_llama_builder().build();
  put_u64(img, 24, uint64_t(-1));  // length of the first key
  EXPECT_NE(parse_error(img).find("truncated"), std::string::npos);
}

TEST(Gguf, HugeArrayCount) {
  GgufBuilder b;
  b.kv_str_array("tokenizer.ggml.tokens", {"a"});
  auto img = b.build();
  // header 24 + key len 8 + key 21 + type 4 + elem type 4 -> count at 61
  put_u64(img, 24 + 8 + 21 + 4 + 4, uint64_t(1) << 61);
  EXPECT_NE(parse_error(img).find("runs past the end"), std::string::npos);
}

TEST(Gguf, UnknownValueType) {
  GgufBuilder b;
  b.kv_u32("x", 1);
  auto img = b.build();
  put_u32(img, 24 + 8 + 1, 77);
  EXPECT_NE(parse_error(img).find("unknown value type 77"), std::string::npos);
}

TEST(Gguf, DeeplyNestedArrays) {
  // Arrays of arrays nested 100 deep.
  std::vector<uint8_t> img;
  auto put = [&](const void* p, size_t n) { img.insert(img.end(), (const uint8_t*)p, (const uint8_t*)p + n); };
  const uint32_t magic = 0x46554747, ver = 3, arr = 9;
  const uint64_t nt = 0, nkv = 1, klen = 1, one = 1;
  put(&magic, 4); put(&ver, 4); put(&nt, 8); put(&nkv, 8); put(&klen, 8); img.push_back('k'); put(&arr, 4);
  for (int i = 0; i < 100; ++i) { put(&arr, 4); put(&one, 8); }
  EXPECT_NE(parse_error(img).find("nested"), std::string::npos);
}

TEST(Gguf, DuplicateKeyAndTensor) {
  GgufBuilder b;
  b.kv_u32("a", 1);
  b.kv_u32("a", 2);
  EXPECT_NE(parse_error(b.build()).find("duplicate metadata key"), std::string::npos);
  GgufBuilder c;
  c.tensor_f32("t", {4}, 1.f, 1);
  c.tensor_f32("t", {4}, 1.f, 2);
  EXPECT_NE(parse_error(c.build()).find("duplicate tensor name"), std::string::npos);
}

TEST(Gguf, TensorOutsideFile) {
  GgufBuilder b;
  b.tensor_f32("t", {8}, 1.f, 1);
  auto img = b.build();
  img.resize(img.size() - 4);
  EXPECT_NE(parse_error(img).find("outside the file"), std::string::npos);
}

TEST(Gguf, DimensionOverflow) {
  GgufBuilder b;
  b.tensor("t", {uint64_t(1) << 40, uint64_t(1) << 40}, 0, {});
  EXPECT_NE(parse_error(b.build()).find("overflows"), std::string::npos);
  GgufBuilder z;
  z.tensor("t", {0}, 0, {});
  EXPECT_NE(parse_error(z.build()).find("dimension 0 is 0"), std::string::npos);
}

TEST(Gguf, UnknownTensorType) {
  GgufBuilder b;
  b.tensor("t", {32}, 1234, std::vector<uint8_t>(64));
  EXPECT_NE(parse_error(b.build()).find("unknown or unsupported tensor type 1234"), std::string::npos);
}

TEST(Gguf, RowNotWholeBlocks) {
  GgufBuilder b;
  b.tensor("t", {33}, 8 /* Q8_0 */, std::vector<uint8_t>(68));
  EXPECT_NE(parse_error(b.build()).find("block size"), std::string::npos);
}

TEST(Gguf, BadAlignment) {
  GgufBuilder b;
  b.kv_u32("general.alignment", 3);
  EXPECT_NE(parse_error(b.build()).find("general.alignment"), std::string::npos);
}

TEST(Gguf, EveryTruncationFailsCleanly) {
  const auto img = tiny_llama_builder().build();
  for (size_t n = 0; n < img.size(); n += (n < 600 ? 1 : 97)) {
    std::vector<uint8_t> cut(img.begin(), img.begin() + static_cast<std::ptrdiff_t>(n));
    EXPECT_NE(parse_error(cut), "") << "truncated at " << n;
  }
}

// Random byte corruption of a valid model: parse + load + run must either work or throw Error.
TEST(Gguf, RandomCorruptionNeverCrashes) {
  const auto img = tiny_llama_builder().build();
  std::mt19937 rng(1234);
  int errors = 0;
  for (int iter = 0; iter < 300; ++iter) {
    auto bad = img;
    const int flips = 1 + static_cast<int>(rng() % 8);
    for (int k = 0; k < flips; ++k) {
      // Corrupt the header and tensor-info region mostly: that is where the parser decides.
      const size_t at = rng() % std::min<size_t>(bad.size(), 1200);
      bad[at] = static_cast<uint8_t>(rng());
    }
    errors += load_and_run(bad) != "";
  }
  EXPECT_GT(errors, 0);
}

TEST(Gguf, ModelMissingKeyListsIt) {
  GgufBuilder b;
  b.kv_str("general.architecture", "llama");
  b.kv_u32("llama.embedding_length", 8);
  const std::string err = load_and_run(b.build());
  EXPECT_NE(err.find("missing required key llama.block_count"), std::string::npos) << err;
}

TEST(Gguf, UnknownArchitectureListsSupported) {
  GgufBuilder b;
  b.kv_str("general.architecture", "mamba");
  const std::string err = load_and_run(b.build());
  EXPECT_NE(err.find("unsupported architecture 'mamba'"), std::string::npos) << err;
  EXPECT_NE(err.find("llama, qwen2, gemma3"), std::string::npos) << err;
}

TEST(Gguf, WrongTensorShapeSaysExpectedAndFound) {
  GgufBuilder b;
  b.kv_str("general.architecture", "llama");
  b.kv_u32("llama.embedding_length", 8);
  b.kv_u32("llama.block_count", 1);
  b.kv_u32("llama.feed_forward_length", 16);
  b.kv_u32("llama.attention.head_count", 2);
  b.tensor_f32("token_embd.weight", {8, 16}, 1.f, 1);
  b.tensor_f32("output_norm.weight", {8}, 1.f, 1);
  b.tensor_f32("blk.0.attn_norm.weight", {8}, 1.f, 1);
  b.tensor_f32("blk.0.attn_q.weight", {8, 7}, 1.f, 1);
  const std::string err = load_and_run(b.build());
  EXPECT_NE(err.find("blk.0.attn_q.weight: expected shape [8, 8], found [8, 7]"), std::string::npos) << err;
}

TEST(Gguf, NonsenseHyperparameters) {
  GgufBuilder b = tiny_llama_builder();
  b.kv_u32("llama.rope.dimension_count", 1000);
  EXPECT_NE(load_and_run(b.build()).find("rope.dimension_count"), std::string::npos);
}

// The regression corpus of the fuzzer: each file must fail (or load) without crashing.
TEST(Gguf, HostileCorpus) {
  DIR* d = opendir(data_path("hostile").c_str());
  ASSERT_NE(d, nullptr);
  int n = 0;
  while (dirent* e = readdir(d)) {
    const std::string f = e->d_name;
    if (f[0] == '.' || f == "README.md" || e->d_type == DT_DIR) continue;  // templates/ holds the template corpus
    (void)load_and_run(read_bytes(data_path("hostile/" + f)));
    ++n;
  }
  closedir(d);
  EXPECT_GT(n, 0);
}

// The CLI turns a hostile file into one line and exit code 1.
TEST(Gguf, CliReportsOneLineAndExitsOne) {
  auto img = tiny_llama_builder().build();
  img.resize(img.size() / 2);
  const std::string path = temp_dir() + "/cut.gguf";
  write_bytes(path, img);
  for (const char* cmd : {"info", "eval"}) {
    std::vector<std::string> args = {cmd, "-m", path};
    if (std::string(cmd) == "eval") args.insert(args.end(), {"--tokens", "1", "--logits", temp_dir() + "/x.f32"});
    const RunResult r = run_jetlm(args);
    EXPECT_EQ(r.exit_code, 1) << cmd;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find("cut.gguf"), std::string::npos) << r.err;
  }
  const RunResult missing = run_jetlm({"info", "-m", temp_dir() + "/does-not-exist.gguf"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("cannot open"), std::string::npos);
  const RunResult bad_flag = run_jetlm({"info", "--bogus"});
  EXPECT_EQ(bad_flag.exit_code, 2);
}

}  // namespace
