// jetlm quantize: the GGUF writer, llama.cpp's type-mixing rules (against
// tables of llama-quantize's own choices), the streaming driver and the CLI.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "quant/file_type.h"
#include "quant/quantize_model.h"
#include "quant/recipe.h"
#include "quant/type_table.h"
#include "test_util.h"
#include "util/error.h"

using jetlm::FileType;
using jetlm::GgufMetadata;
using jetlm::GgufMetaValue;
using jetlm::GgufTensorDesc;
using jetlm::GgufType;
using jetlm::TensorType;

namespace {

std::string tmp(const std::string& name) { return jetlm_test::temp_dir() + "/" + name; }

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) names.push_back(e->d_name);
    ::closedir(d);
  }
  return names;
}

// Neither the file nor a temporary beside it ("<name>.tmp.<pid>") exists.
bool nothing_left(const std::string& path) {
  if (exists(path)) return false;
  const size_t slash = path.rfind('/');
  const std::string dir = path.substr(0, slash), base = path.substr(slash + 1) + ".tmp.";
  for (const std::string& n : list_dir(dir))
    if (n.compare(0, base.size(), base) == 0) return false;
  return true;
}

// The project's shared fixtures, only when a developer points at them
// (JETLM_SHARED=../shared): the test suite itself, and so CI, never reads ../shared.
std::string shared_dir() {
  const char* env = std::getenv("JETLM_SHARED");
  return env ? env : "/nonexistent";
}

// A small random llama model in F32, written by `jetlm synth` once per run.
// Rows of 256 so every K format applies without fallbacks.
const std::string& small_f32_model() {
  static const std::string path = [] {
    const std::string p = tmp("small-f32.gguf");
    const auto r = jetlm_test::run_jetlm({"synth", "--custom",
                                          "arch=llama,n_embd=256,n_layer=2,n_head=4,n_head_kv=2,n_ff=512,n_vocab=512",
                                          "--type", "f32", "--seed", "7", "-o", p});
    if (r.exit_code != 0) throw std::runtime_error("synth failed: " + r.err);
    return p;
  }();
  return path;
}

std::vector<float> eval_logits(const std::string& model, const std::string& tokens) {
  const std::string out = tmp("logits.f32");
  const auto r = jetlm_test::run_jetlm({"eval", "-m", model, "--tokens", tokens, "--logits", out, "--reference"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return jetlm_test::read_f32_file(out);
}

jetlm::RecipeTensor tensor(const std::string& name, int64_t ne0, int64_t ne1 = 1, int64_t ne2 = 1) {
  jetlm::RecipeTensor t;
  t.name = name;
  t.ne[0] = ne0;
  t.ne[1] = ne1;
  t.ne[2] = ne2;
  return t;
}

}  // namespace

// ---- file types ---------------------------------------------------------------

TEST(FileType, NamesParseCaseInsensitivelyAndKeepLlamaNumbers) {
  const std::map<std::string, uint32_t> expect = {
      {"F32", 0},     {"f16", 1},      {"Q4_0", 2},     {"q4_1", 3},     {"Q8_0", 7},    {"Q5_0", 8},
      {"Q5_1", 9},    {"q2_k", 10},    {"Q3_K_S", 11},  {"q3_k_m", 12},  {"Q3_K_L", 13}, {"Q4_K_S", 14},
      {"Q4_K_M", 15}, {"Q5_K_S", 16},  {"q5_k_m", 17},  {"Q6_K", 18},    {"iq4_nl", 25}, {"BF16", 32},
  };
  for (const auto& e : expect) {
    FileType f;
    ASSERT_TRUE(jetlm::parse_file_type(e.first, &f)) << e.first;
    EXPECT_EQ(static_cast<uint32_t>(f), e.second) << e.first;
  }
  FileType f;
  EXPECT_FALSE(jetlm::parse_file_type("Q4_K", &f));  // a tensor type, not a mix
  EXPECT_FALSE(jetlm::parse_file_type("q4_k_mm", &f));
  EXPECT_FALSE(jetlm::parse_file_type("", &f));
  EXPECT_EQ(jetlm::default_tensor_type(FileType::Q3_K_L), TensorType::Q3_K);
  EXPECT_STREQ(jetlm::file_type_name(FileType::Q5_K_M), "Q5_K_M");
}

// ---- recipe -------------------------------------------------------------------

// Every table under tests/data/quant: llama-quantize's choices for the three
// tiny families in every format it was run with, and the real shapes of
// Qwen2.5-0.5B and TinyLlama-1.1B (see the README there for provenance).
TEST(Recipe, ChoosesExactlyLlamaCppTypesForEveryTable) {
  const std::string dir = jetlm_test::data_path("quant");
  int tables = 0;
  for (const std::string& name : list_dir(dir)) {
    if (name.size() < 4 || name.compare(name.size() - 4, 4, ".txt") != 0) continue;
    const jetlm::TypeTable t = jetlm::read_type_table(dir + "/" + name);
    jetlm::RecipeOptions opt;
    opt.ftype = t.ftype;
    const jetlm::RecipeResult r = jetlm::choose_tensor_types(t.model, t.tensors, opt);
    ASSERT_EQ(r.types.size(), t.expected.size());
    for (size_t i = 0; i < r.types.size(); ++i)
      EXPECT_EQ(jetlm::type_name(r.types[i]), std::string(jetlm::type_name(t.expected[i])))
          << name << ": " << t.tensors[i].name;
    ++tables;
  }
  EXPECT_GE(tables, 28);
}

TEST(Recipe, FallsBackWhenRowsDoNotFitKBlocks) {
  jetlm::RecipeModel m{"llama", 1, 4, 4, 0};
  jetlm::RecipeOptions opt;
  auto type_of = [&](FileType f, const std::string& name, int64_t ne0) {
    opt.ftype = f;
    return jetlm::choose_tensor_types(m, {tensor(name, ne0, 64)}, opt).types[0];
  };
  // 384 = 12 blocks of 32 but not whole blocks of 256.
  EXPECT_EQ(type_of(FileType::Q2_K, "blk.0.attn_q.weight", 384), TensorType::Q4_0);
  EXPECT_EQ(type_of(FileType::Q3_K_S, "blk.0.attn_q.weight", 384), TensorType::Q4_0);
  EXPECT_EQ(type_of(FileType::Q4_K_M, "blk.0.attn_q.weight", 384), TensorType::Q5_0);
  EXPECT_EQ(type_of(FileType::Q5_K_S, "blk.0.attn_q.weight", 384), TensorType::Q5_1);
  EXPECT_EQ(type_of(FileType::Q6_K, "blk.0.attn_q.weight", 384), TensorType::Q8_0);
  EXPECT_EQ(type_of(FileType::Q4_K_M, "blk.0.attn_q.weight", 512), TensorType::Q4_K);
  // Not even whole blocks of 32: F16.
  EXPECT_EQ(type_of(FileType::Q4_K_M, "blk.0.attn_q.weight", 200), TensorType::F16);
  // A 32-block type has nothing to fall back to: llama.cpp refuses.
  opt.ftype = FileType::Q4_0;
  EXPECT_THROW(jetlm::choose_tensor_types(m, {tensor("blk.0.attn_q.weight", 200, 64)}, opt), jetlm::Error);
  // The output matrix takes Q8_0 directly when rows do not fit the default type's block.
  EXPECT_EQ(type_of(FileType::Q4_K_M, "output.weight", 384), TensorType::Q8_0);
  EXPECT_EQ(type_of(FileType::Q4_K_M, "output.weight", 512), TensorType::Q6_K);
  EXPECT_EQ(type_of(FileType::Q8_0, "output.weight", 512), TensorType::Q8_0);
}

TEST(Recipe, KeepsVectorsNormsAndSpecialTensors) {
  jetlm::RecipeModel m{"llama", 1, 4, 4, 0};
  jetlm::RecipeOptions opt;
  opt.ftype = FileType::Q4_K_M;
  std::vector<jetlm::RecipeTensor> ts = {tensor("blk.0.attn_norm.weight", 256), tensor("blk.0.attn_q.bias", 256),
                                         tensor("blk.0.ffn_gate_inp.weight", 256, 8), tensor("rope_freqs.weight", 32),
                                         tensor("blk.0.attn_q_norm.weight", 256, 4), tensor("blk.0.attn_q.weight", 256, 1),
                                         tensor("output.weight", 256, 512), tensor("token_embd.weight", 256, 512)};
  ts[1].type = TensorType::F16;  // kept as it is, whatever it is
  auto r = jetlm::choose_tensor_types(m, ts, opt);
  EXPECT_EQ(r.types[0], TensorType::F32);
  EXPECT_EQ(r.types[1], TensorType::F16);
  EXPECT_EQ(r.types[2], TensorType::F32);
  EXPECT_EQ(r.types[3], TensorType::F32);
  EXPECT_EQ(r.types[4], TensorType::F32);
  EXPECT_EQ(r.types[5], TensorType::F32);  // [256, 1] is one-dimensional to ggml
  EXPECT_EQ(r.types[6], TensorType::Q6_K);
  EXPECT_EQ(r.types[7], TensorType::Q4_K);  // not tied: an ordinary matrix
  opt.quantize_output = false;
  EXPECT_EQ(jetlm::choose_tensor_types(m, ts, opt).types[6], TensorType::F32);
  opt.quantize_output = true;
  opt.pure = true;
  r = jetlm::choose_tensor_types(m, ts, opt);
  EXPECT_EQ(r.types[6], TensorType::Q4_K);
  opt.ftype = FileType::F16;
  r = jetlm::choose_tensor_types(m, ts, opt);
  EXPECT_EQ(r.types[6], TensorType::F16);
  EXPECT_EQ(r.types[0], TensorType::F32);
}

TEST(Recipe, LayerRulesCountInLlamaOrder) {
  // 8 layers listed out of order: use_more_bits picks layers 0, 3, 6, 7 for
  // Q4_K_M's attn_v and ffn_down, counted in blk order whatever the input order.
  jetlm::RecipeModel m{"llama", 8, 8, 8, 0};
  std::vector<jetlm::RecipeTensor> ts;
  for (int il : {7, 3, 0, 5, 1, 6, 2, 4}) {
    ts.push_back(tensor("blk." + std::to_string(il) + ".attn_v.weight", 256, 256));
    ts.push_back(tensor("blk." + std::to_string(il) + ".ffn_down.weight", 512, 256));
  }
  jetlm::RecipeOptions opt;
  opt.ftype = FileType::Q4_K_M;
  const auto r = jetlm::choose_tensor_types(m, ts, opt);
  for (size_t i = 0; i < ts.size(); ++i) {
    const int il = ts[i].name[4] - '0';
    const bool more = il == 0 || il == 3 || il == 6 || il == 7;
    EXPECT_EQ(r.types[i], more ? TensorType::Q6_K : TensorType::Q4_K) << ts[i].name;
  }
  const auto order = jetlm::llama_tensor_order({"blk.10.a", "output.weight", "blk.2.b", "blk.2.a", "token_embd.weight"});
  EXPECT_EQ(order, (std::vector<size_t>{1, 4, 3, 2, 0}));
}

TEST(Recipe, ExpertAnd70bAdjustments) {
  jetlm::RecipeOptions opt;
  opt.ftype = FileType::Q4_K_M;
  jetlm::RecipeModel moe{"llama", 32, 32, 8, 8};
  auto r = jetlm::choose_tensor_types(moe, {tensor("blk.3.attn_v.weight", 4096, 1024), tensor("blk.3.attn_k.weight", 4096, 1024),
                                            tensor("blk.3.attn_output.weight", 4096, 4096)}, opt);
  EXPECT_EQ(r.types[0], TensorType::Q8_0);
  EXPECT_EQ(r.types[1], TensorType::Q8_0);
  EXPECT_EQ(r.types[2], TensorType::Q5_K);
  // 70B llama: a Q4_K attn_v becomes Q5_K (layer 11 is not one of use_more_bits' layers).
  jetlm::RecipeModel big{"llama", 80, 64, 8, 0};
  EXPECT_TRUE(big.is_70b());
  EXPECT_FALSE((jetlm::RecipeModel{"llama", 80, 64, 64, 0}.is_70b()));  // the 65B has no GQA
  std::vector<jetlm::RecipeTensor> vs;
  for (int il = 0; il < 80; ++il) vs.push_back(tensor("blk." + std::to_string(il) + ".attn_v.weight", 8192, 1024));
  r = jetlm::choose_tensor_types(big, vs, opt);
  EXPECT_EQ(r.types[11], TensorType::Q5_K);
  EXPECT_EQ(r.types[0], TensorType::Q6_K);
  // GQA of 4 or more lifts Q2_K's attn_v from Q3_K to Q4_K.
  opt.ftype = FileType::Q2_K;
  jetlm::RecipeModel gqa4{"llama", 32, 32, 8, 0}, gqa2{"llama", 32, 32, 16, 0};
  EXPECT_EQ(jetlm::choose_tensor_types(gqa4, {vs[0]}, opt).types[0], TensorType::Q4_K);
  EXPECT_EQ(jetlm::choose_tensor_types(gqa2, {vs[0]}, opt).types[0], TensorType::Q3_K);
}

// ---- writer -------------------------------------------------------------------

TEST(GgufWriter, RoundTripsEveryMetadataType) {
  GgufMetadata m;
  m.set("u8", GgufMetaValue::u8(200));
  m.set("i8", GgufMetaValue::i8(-100));
  m.set("u16", GgufMetaValue::u16(60000));
  m.set("i16", GgufMetaValue::i16(-30000));
  m.set("u32", GgufMetaValue::u32(4000000000u));
  m.set("i32", GgufMetaValue::i32(-2000000000));
  m.set("u64", GgufMetaValue::u64(18000000000000000000ull));
  m.set("i64", GgufMetaValue::i64(-9000000000000000000ll));
  m.set("f32", GgufMetaValue::f32(0.1f));
  m.set("f64", GgufMetaValue::f64(0.1));
  m.set("bool", GgufMetaValue::boolean(true));
  m.set("str", GgufMetaValue::string("h\xc3\xa9llo"));
  m.set("strs", GgufMetaValue::string_array({"a", "", "ccc"}));
  m.set("floats", GgufMetaValue::f32_array({1.5f, -2.f}));
  m.set("nested", GgufMetaValue::array_of_arrays({GgufMetaValue::i32_array({1, 2, 3}), GgufMetaValue::string_array({"x"})}));
  m.set("u32", GgufMetaValue::u32(7));  // re-set: moves to the end, as ggml's gguf_set_val does

  GgufTensorDesc t;
  t.name = "w";
  t.type = TensorType::F32;
  t.n_dims = 2;
  t.ne[0] = 3;
  t.ne[1] = 2;
  const std::string path = tmp("roundtrip.gguf");
  jetlm::GgufWriter w(path, m, {t});
  const float data[6] = {1, 2, 3, 4, 5, 6};
  w.write(data, 8);  // in pieces, across no boundary in particular
  w.write(reinterpret_cast<const uint8_t*>(data) + 8, 16);
  w.finish();

  const auto f = jetlm::GgufFile::open(path);
  ASSERT_EQ(f->metadata().size(), 15u);
  EXPECT_EQ(f->metadata().back().first, "u32");
  EXPECT_EQ(f->find("u8")->u, 200u);
  EXPECT_EQ(f->find("i8")->i, -100);
  EXPECT_EQ(f->find("u16")->u, 60000u);
  EXPECT_EQ(f->find("i16")->i, -30000);
  EXPECT_EQ(f->find("u32")->u, 7u);
  EXPECT_EQ(f->find("i32")->i, -2000000000);
  EXPECT_EQ(f->find("u64")->u, 18000000000000000000ull);
  EXPECT_EQ(f->find("i64")->i, -9000000000000000000ll);
  EXPECT_EQ(f->find("f32")->f, static_cast<double>(0.1f));
  EXPECT_EQ(f->find("f64")->f, 0.1);
  EXPECT_EQ(f->find("bool")->type, GgufType::BOOL);
  EXPECT_EQ(f->get_str("str"), "h\xc3\xa9llo");
  const auto strs = f->get_str_array("strs");
  ASSERT_EQ(strs.size(), 3u);
  EXPECT_EQ(strs[2], "ccc");
  EXPECT_EQ(f->get_f32_array("floats"), (std::vector<float>{1.5f, -2.f}));
  const jetlm::GgufValue* nested = f->find("nested");
  ASSERT_EQ(nested->items.size(), 2u);
  EXPECT_EQ(nested->items[0].int_at(2), 3);
  EXPECT_EQ(nested->items[1].strs[0], "x");
  ASSERT_EQ(f->tensors().size(), 1u);
  EXPECT_EQ(std::vector<float>(reinterpret_cast<const float*>(f->tensors()[0].data),
                               reinterpret_cast<const float*>(f->tensors()[0].data) + 6),
            std::vector<float>(data, data + 6));

  // A copy of the file's metadata writes the same bytes again.
  const std::string copy = tmp("roundtrip2.gguf");
  jetlm::GgufWriter w2(copy, GgufMetadata::copy_of(*f), {t});
  w2.write(data, sizeof data);
  w2.finish();
  EXPECT_EQ(jetlm_test::read_bytes(copy), jetlm_test::read_bytes(path));
}

TEST(GgufWriter, AlignsAndPadsEveryTensor) {
  GgufMetadata m;
  m.set("general.alignment", GgufMetaValue::u32(64));
  std::vector<GgufTensorDesc> ts(3);
  const int64_t lens[3] = {5, 64, 3};
  for (int i = 0; i < 3; ++i) {
    ts[i].name = "t" + std::to_string(i);
    ts[i].type = TensorType::F16;
    ts[i].ne[0] = lens[i];
  }
  const std::string path = tmp("aligned.gguf");
  jetlm::GgufWriter w(path, m, ts);
  EXPECT_EQ(w.data_offset() % 64, 0u);
  const std::vector<uint8_t> bytes(2 * (5 + 64 + 3), 0xab);
  w.write(bytes.data(), bytes.size());  // one call across all three tensors
  EXPECT_EQ(w.current_tensor(), 3u);
  w.finish();
  const auto f = jetlm::GgufFile::open(path);
  EXPECT_EQ(f->tensors()[0].offset, 0u);
  EXPECT_EQ(f->tensors()[1].offset, 64u);
  EXPECT_EQ(f->tensors()[2].offset, 192u);
  EXPECT_EQ(f->file_size(), f->data_offset() + 256);  // the last tensor is padded too
  EXPECT_EQ(f->file_data()[f->data_offset() + 10], 0);  // padding is zeros
}

TEST(GgufWriter, RejectsWhatLlamaCppCannotRead) {
  GgufTensorDesc ok;
  ok.name = "w";
  ok.ne[0] = 32;
  auto expect_fail = [&](GgufMetadata m, std::vector<GgufTensorDesc> ts, const char* why) {
    const std::string path = tmp("bad.gguf");
    EXPECT_THROW(jetlm::GgufWriter(path, m, ts), jetlm::Error) << why;
    EXPECT_TRUE(nothing_left(path)) << why;
  };
  GgufMetadata m;
  m.set("general.alignment", GgufMetaValue::u64(32));
  expect_fail(m, {ok}, "alignment not u32");
  m.set("general.alignment", GgufMetaValue::u32(48));
  expect_fail(m, {ok}, "alignment not a power of two");
  GgufTensorDesc long_name = ok;
  long_name.name = std::string(64, 'x');
  expect_fail(GgufMetadata(), {long_name}, "name of 64 bytes");
  expect_fail(GgufMetadata(), {ok, ok}, "duplicate tensor");
  GgufTensorDesc q = ok;
  q.type = TensorType::Q4_K;  // 32 values are not a 256-value block
  expect_fail(GgufMetadata(), {q}, "partial block");
}

TEST(GgufWriter, UnfinishedWriteLeavesNoFile) {
  GgufTensorDesc t;
  t.name = "w";
  t.ne[0] = 16;
  const std::string path = tmp("unfinished.gguf");
  {
    jetlm::GgufWriter w(path, GgufMetadata(), {t});
    const float x[8] = {};
    w.write(x, sizeof x);
    EXPECT_THROW(w.finish(), jetlm::Error);  // 32 of 64 bytes
  }
  EXPECT_TRUE(nothing_left(path));
  {
    jetlm::GgufWriter w(path, GgufMetadata(), {t});
    const float x[16] = {};
    EXPECT_THROW(w.write(x, sizeof x + 1), jetlm::Error);  // past the last tensor
  }
  EXPECT_TRUE(nothing_left(path));
}

// A full disk, simulated with a file-size limit in a child process: the write
// fails, quantize throws, and neither the output nor its temporary remains.
TEST(Quantize, FailedWriteLeavesNoFile) {
  const std::string in = small_f32_model();
  const std::string out = tmp("full-disk.gguf");
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write() instead of being killed
    rlimit lim{200 * 1024, 200 * 1024};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    try {
      jetlm::QuantizeOptions opt;
      opt.ftype = FileType::Q8_0;
      opt.n_threads = 1;
      jetlm::quantize_model(in, out, opt);
      ::_exit(0);
    } catch (const jetlm::Error&) {
      ::_exit(3);
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 3);
  EXPECT_TRUE(nothing_left(out));
}

// ---- command line -------------------------------------------------------------

TEST(Quantize, CliErrorsLeaveNoFile) {
  const std::string out = tmp("cli-error.gguf");
  auto r = jetlm_test::run_jetlm({"quantize", small_f32_model(), out, "Q4_K_X"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("unknown type 'Q4_K_X'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Q4_K_M"), std::string::npos);  // lists the choices
  EXPECT_TRUE(nothing_left(out));
  r = jetlm_test::run_jetlm({"quantize", tmp("does-not-exist.gguf"), out, "q8_0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("does-not-exist.gguf"), std::string::npos) << r.err;
  EXPECT_TRUE(nothing_left(out));
  r = jetlm_test::run_jetlm({"quantize", small_f32_model(), out, "q8_0", "--imatrix", tmp("x.imatrix")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not supported yet"), std::string::npos) << r.err;
  EXPECT_TRUE(nothing_left(out));
  r = jetlm_test::run_jetlm({"quantize", small_f32_model(), out});
  EXPECT_EQ(r.exit_code, 2);
}

TEST(Quantize, RequantizingNeedsAllowRequantize) {
  const std::string q4 = tmp("rq-q4_0.gguf"), out = tmp("rq-out.gguf");
  ASSERT_EQ(jetlm_test::run_jetlm({"quantize", small_f32_model(), q4, "q4_0"}).exit_code, 0);
  auto r = jetlm_test::run_jetlm({"quantize", q4, out, "q8_0"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("already quantized"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-requantize"), std::string::npos) << r.err;
  EXPECT_TRUE(nothing_left(out));
  r = jetlm_test::run_jetlm({"quantize", q4, out, "q8_0", "--allow-requantize"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("warning"), std::string::npos);
  // The same type again copies the data unchanged: no requantizing involved.
  const std::string same = tmp("rq-same.gguf");
  ASSERT_EQ(jetlm_test::run_jetlm({"quantize", q4, same, "q4_0"}).exit_code, 0);
  EXPECT_EQ(jetlm_test::read_bytes(same), jetlm_test::read_bytes(q4));
}

TEST(Quantize, OutputIsIndependentOfThreadCount) {
  const std::string a = tmp("t1.gguf"), b = tmp("t2.gguf");
  ASSERT_EQ(jetlm_test::run_jetlm({"quantize", small_f32_model(), a, "q4_k_m", "-t", "1"}).exit_code, 0);
  ASSERT_EQ(jetlm_test::run_jetlm({"quantize", small_f32_model(), b, "q4_k_m", "-t", "3"}).exit_code, 0);
  EXPECT_EQ(jetlm_test::read_bytes(a), jetlm_test::read_bytes(b));
  const auto f = jetlm::GgufFile::open(a);
  EXPECT_EQ(f->get_u32("general.file_type"), 15u);
  EXPECT_EQ(f->get_u32("general.quantization_version"), 2u);
  EXPECT_EQ(f->find_tensor("output.weight")->type, TensorType::Q6_K);
  EXPECT_EQ(f->find_tensor("blk.0.attn_norm.weight")->type, TensorType::F32);
}

TEST(Quantize, StatsAndDryRun) {
  auto r = jetlm_test::run_jetlm({"quantize", small_f32_model(), tmp("dry.gguf"), "q3_k_m", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("blk.0.attn_v.weight"), std::string::npos);
  EXPECT_NE(r.out.find("q5_K"), std::string::npos);
  EXPECT_FALSE(exists(tmp("dry.gguf")));
  r = jetlm_test::run_jetlm({"quantize", small_f32_model(), tmp("stats.gguf"), "q8_0", "--stats"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("rmse"), std::string::npos);
  EXPECT_NE(r.out.find("e-0"), std::string::npos);  // RMSE values in scientific notation
}

// Logits of the quantized small model against its F32 logits (both through
// the scalar reference path). Random-weight models are touchy, so the errors
// are of the size llama.cpp's own tiny fixtures show (0.14 for Q4_K_M, 0.5 for
// Q2_K); bounds are 1.5x what this seed measured, and the K mixes must rank
// in order of their bits.
TEST(Quantize, SmallModelLogitErrorPerType) {
  const std::string tokens = "1,45,300,7,99,511,256,12,3,80,81,82,200,201,17,18";
  const std::vector<float> ref = eval_logits(small_f32_model(), tokens);
  const std::vector<std::pair<std::string, double>> bounds = {
      {"f16", 0.0012},  {"bf16", 0.010}, {"q8_0", 0.028},   {"q6_k", 0.10},   {"q5_k_m", 0.18}, {"q5_k_s", 0.19},
      {"q5_1", 0.21},   {"q5_0", 0.22},  {"q4_k_m", 0.36},  {"q4_k_s", 0.35}, {"iq4_nl", 0.41}, {"q4_1", 0.40},
      {"q4_0", 0.43},   {"q3_k_l", 0.57}, {"q3_k_m", 0.60}, {"q3_k_s", 0.79}, {"q2_k", 1.13},
  };
  std::map<std::string, double> err;
  for (const auto& b : bounds) {
    const std::string q = tmp("small-" + b.first + ".gguf");
    const auto r = jetlm_test::run_jetlm({"quantize", small_f32_model(), q, b.first});
    ASSERT_EQ(r.exit_code, 0) << b.first << ": " << r.err;
    const std::vector<float> got = eval_logits(q, tokens);
    ASSERT_EQ(got.size(), ref.size());
    err[b.first] = jetlm_test::rel_l2(got, ref);
    EXPECT_LT(err[b.first], b.second) << b.first;
    EXPECT_GT(err[b.first], 0.0) << b.first;
  }
  const char* const ranked[] = {"f16", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q3_k_m", "q2_k"};
  for (size_t i = 1; i < sizeof ranked / sizeof ranked[0]; ++i) EXPECT_LT(err[ranked[i - 1]], err[ranked[i]]) << ranked[i];
}

// With JETLM_SHARED=../shared (not in CI): every llama-quantize fixture is
// reproduced byte for byte from its F32 source, so jetlm's files carry
// llama.cpp's exact layout, metadata order and quantized blocks.
TEST(Quantize, ReproducesLlamaQuantizeFilesByteForByte) {
  const std::string models = shared_dir() + "/models";
  if (!exists(models + "/tiny-llama-f32.gguf")) GTEST_SKIP() << "no fixtures at " << models;
  int compared = 0;
  for (const std::string& name : list_dir(models)) {
    if (name.compare(0, 5, "tiny-") != 0 || name.find("-f32.") != std::string::npos) continue;
    const size_t dash = name.find('-', 5), dot = name.rfind(".gguf");
    const std::string family = name.substr(5, dash - 5), type = name.substr(dash + 1, dot - dash - 1);
    const std::string out = tmp("repro-" + name);
    const auto r = jetlm_test::run_jetlm({"quantize", models + "/tiny-" + family + "-f32.gguf", out, type});
    ASSERT_EQ(r.exit_code, 0) << name << ": " << r.err;
    EXPECT_TRUE(jetlm_test::read_bytes(out) == jetlm_test::read_bytes(models + "/" + name)) << name;
    ::unlink(out.c_str());
    ++compared;
  }
  EXPECT_GE(compared, 26);
}
