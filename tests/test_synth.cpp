// jetlm synth: presets with the real models' shapes, the synthetic
// vocabularies, reproducible bytes, loadable models with live logits, and
// llama-quantize's type layout for the real shapes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "quant/type_table.h"
#include "synth/presets.h"
#include "synth/synth_model.h"
#include "synth/synth_vocab.h"
#include "synth/synth_weights.h"
#include "test_util.h"
#include "util/error.h"

using jetlm::FileType;
using jetlm::SynthConfig;
using jetlm::TensorType;

namespace {

std::string tmp(const std::string& name) { return jetlm_test::temp_dir() + "/" + name; }

bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

SynthConfig preset(const std::string& name) {
  const SynthConfig* c = jetlm::find_synth_preset(name);
  if (!c) throw std::runtime_error("no preset " + name);
  return *c;
}

int64_t parameter_count(const SynthConfig& c) {
  int64_t n = 0;
  for (const jetlm::SynthTensor& t : jetlm::synth_tensors(c))
    if (t.init != jetlm::SynthInit::RopeFreqs) n += t.ne[0] * t.ne[1] * t.ne[2] * t.ne[3];
  return n;
}

jetlm_test::RunResult synth(const std::vector<std::string>& args) {
  std::vector<std::string> a = {"synth"};
  a.insert(a.end(), args.begin(), args.end());
  return jetlm_test::run_jetlm(a);
}

// Mean and standard deviation of one row of logits.
std::pair<double, double> row_stats(const std::vector<float>& l, size_t row, size_t n) {
  double s = 0, s2 = 0;
  for (size_t k = 0; k < n; ++k) s += l[row * n + k];
  const double mean = s / static_cast<double>(n);
  for (size_t k = 0; k < n; ++k) s2 += (l[row * n + k] - mean) * (l[row * n + k] - mean);
  return {mean, std::sqrt(s2 / static_cast<double>(n))};
}

std::string token_list(int n, int n_vocab) {
  std::string s;
  for (int i = 0; i < n; ++i) s += (i ? "," : "") + std::to_string((i * 7919 + 13) % n_vocab);
  return s;
}

const char* const kSmall[] = {
    "arch=llama,n_embd=128,n_layer=2,n_head=4,n_head_kv=2,n_ff=256,n_vocab=512",
    "arch=qwen2,n_embd=128,n_layer=2,n_head=4,n_head_kv=1,n_ff=256,n_vocab=512",
    "arch=gemma3,n_embd=128,n_layer=3,n_head=2,n_head_kv=1,head_dim=64,n_ff=256,n_vocab=512,window=8",
};

}  // namespace

// ---- presets ------------------------------------------------------------------

// Parameter counts published with the models (Hugging Face model cards /
// safetensors totals) follow from the shapes, so they check every number.
TEST(SynthPresets, ParameterCountsMatchThePublishedModels) {
  const std::map<std::string, int64_t> published = {
      {"tinyllama-1.1b", 1100048384}, {"llama-3.2-1b", 1235814400}, {"llama-3.2-3b", 3212749824},
      {"qwen2.5-0.5b", 494032768},    {"qwen2.5-1.5b", 1543714304}, {"qwen2.5-3b", 3085938688},
      {"gemma3-1b", 999885952},
  };
  for (const auto& p : published) EXPECT_EQ(parameter_count(preset(p.first)), p.second) << p.first;
  for (const std::string& name : jetlm::synth_preset_list()) EXPECT_NO_THROW(jetlm::validate_synth_config(preset(name))) << name;
}

TEST(SynthPresets, HyperparametersOfTheRealModels) {
  const SynthConfig g4 = preset("gemma3-4b");
  EXPECT_EQ(g4.n_vocab, 262208);
  EXPECT_EQ(g4.n_tokenizer, 262144);
  EXPECT_EQ(g4.sliding_window, 1024);
  EXPECT_EQ(g4.rope_linear_factor, 8.f);
  EXPECT_EQ(g4.n_layer, 34);
  EXPECT_EQ(g4.n_head_kv, 4);
  const SynthConfig g1 = preset("gemma3-1b");
  EXPECT_EQ(g1.sliding_window, 512);
  EXPECT_EQ(g1.head_dim, 256);
  EXPECT_EQ(g1.rope_base, 1e6f);
  const SynthConfig l1 = preset("llama-3.2-1b");
  EXPECT_TRUE(l1.tied_output);
  EXPECT_TRUE(l1.llama3_rope);
  EXPECT_EQ(l1.rope_base, 500000.f);
  EXPECT_EQ(preset("qwen2.5-0.5b").n_tokenizer, 151665);
  EXPECT_TRUE(preset("qwen2.5-3b").qkv_bias);
  EXPECT_FALSE(preset("tinyllama-1.1b").tied_output);
  EXPECT_EQ(jetlm::find_synth_preset("TinyLlama-1.1B")->preset, "tinyllama-1.1b");
  EXPECT_EQ(jetlm::find_synth_preset("llama-7b"), nullptr);
}

TEST(SynthPresets, Llama3RopeFactorsFollowTheConverter) {
  const std::vector<float> f = jetlm::llama3_rope_factors(preset("llama-3.2-1b"));
  ASSERT_EQ(f.size(), 32u);
  EXPECT_EQ(f.front(), 1.f);  // short wavelengths are left alone
  EXPECT_EQ(f.back(), 32.f);  // long ones are stretched by the full factor
  for (size_t i = 1; i < f.size(); ++i) EXPECT_GE(f[i], f[i - 1]);
  // Between the two, 1 / ((1 - s) / factor + s) with s from the wavelength (double here).
  int smooth = 0;
  for (size_t i = 0; i < f.size(); ++i) {
    const double freq = 1.0 / std::pow(500000.0, 2.0 * static_cast<double>(i) / 64.0);
    const double wl = 2 * M_PI / freq;
    if (wl < 2048 || wl > 8192) continue;
    const double s = (8192 / wl - 1) / 3;
    EXPECT_NEAR(f[i], 1 / ((1 - s) / 32 + s), 1e-4 * f[i]) << i;
    ++smooth;
  }
  EXPECT_GE(smooth, 1);
}

TEST(SynthPresets, CustomSpecsAndTheirErrors) {
  SynthConfig c = jetlm::apply_custom(SynthConfig(), kSmall[2]);
  EXPECT_EQ(c.arch, "gemma3");
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.sliding_window, 8);
  EXPECT_TRUE(c.tied_output);
  c = jetlm::apply_custom(preset("qwen2.5-0.5b"), "n_layer=2");
  EXPECT_EQ(c.n_layer, 2);
  EXPECT_EQ(c.n_embd, 896);
  EXPECT_EQ(c.preset, "custom");
  EXPECT_THROW(jetlm::apply_custom(SynthConfig(), "arch=gpt2"), jetlm::UsageError);
  EXPECT_THROW(jetlm::apply_custom(SynthConfig(), "n_embd"), jetlm::UsageError);
  EXPECT_THROW(jetlm::apply_custom(SynthConfig(), "n_embds=5"), jetlm::UsageError);
  EXPECT_THROW(jetlm::apply_custom(SynthConfig(), "n_embd=-5"), jetlm::UsageError);
  EXPECT_THROW(jetlm::validate_synth_config(jetlm::apply_custom(SynthConfig(), "arch=llama,n_embd=128,n_layer=1,n_head=3,n_head_kv=2,n_ff=64,n_vocab=512")),
               jetlm::UsageError);  // 2 kv heads do not divide 3
  EXPECT_THROW(jetlm::validate_synth_config(jetlm::apply_custom(SynthConfig(), "arch=llama,n_embd=128,n_layer=1,n_head=4,n_head_kv=2,n_ff=64,n_vocab=100")),
               jetlm::UsageError);  // no room for the byte tokens
}

// ---- type layout of the real shapes ------------------------------------------

// The expected tables hold, for the real models' shapes, the types
// llama-quantize gives a Q4_K_M file: derived by tests/data/quant/make_tables.py
// from a transcription of llama.cpp's rules that reproduces all 26
// llama-quantize fixtures (a full-size synth takes longer than a test
// should, so the plan is checked without writing weights).
TEST(Synth, RealShapesGetLlamaQuantizeTypes) {
  for (const std::string name : {"qwen2.5-0.5b", "tinyllama-1.1b"}) {
    const jetlm::TypeTable table = jetlm::read_type_table(jetlm_test::data_path("quant/" + name + "-q4_k_m.txt"));
    jetlm::SynthOptions opt;
    opt.config = preset(name);
    opt.ftype = FileType::Q4_K_M;
    const jetlm::SynthPlan plan = jetlm::plan_synth_model(opt);
    std::map<std::string, std::pair<std::vector<int64_t>, TensorType>> expected;
    for (size_t i = 0; i < table.tensors.size(); ++i) {
      const auto& t = table.tensors[i];
      expected[t.name] = {{t.ne[0], t.ne[1], t.ne[2], t.ne[3]}, table.expected[i]};
    }
    ASSERT_EQ(plan.tensors.size(), expected.size()) << name;
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      const jetlm::SynthTensor& t = plan.tensors[i];
      const auto it = expected.find(t.name);
      ASSERT_NE(it, expected.end()) << name << ": unexpected tensor " << t.name;
      EXPECT_EQ(it->second.first, (std::vector<int64_t>{t.ne[0], t.ne[1], t.ne[2], t.ne[3]})) << name << ": " << t.name;
      EXPECT_EQ(jetlm::type_name(plan.types[i]), std::string(jetlm::type_name(it->second.second))) << name << ": " << t.name;
    }
  }
}

// ---- vocabularies ---------------------------------------------------------------

TEST(SynthVocab, SpecialTokensSitAtTheRealIds) {
  struct Case {
    const char* preset;
    const char* key;
    int id;
    const char* text;
  };
  const Case cases[] = {
      {"tinyllama-1.1b", "tokenizer.ggml.eos_token_id", 2, "</s>"},
      {"qwen2.5-0.5b", "tokenizer.ggml.eos_token_id", 151645, "<|im_end|>"},
      {"qwen2.5-0.5b", "tokenizer.ggml.bos_token_id", 151643, "<|endoftext|>"},
      {"llama-3.2-1b", "tokenizer.ggml.eos_token_id", 128009, "<|eot_id|>"},
      {"llama-3.2-1b", "tokenizer.ggml.bos_token_id", 128000, "<|begin_of_text|>"},
      {"gemma3-1b", "tokenizer.ggml.bos_token_id", 2, "<bos>"},
  };
  for (const Case& c : cases) {
    const SynthConfig cfg = preset(c.preset);
    jetlm::GgufMetadata m;
    jetlm::add_synthetic_vocab(m, cfg.vocab, cfg.n_tokenizer ? cfg.n_tokenizer : cfg.n_vocab, cfg.n_vocab);
    const jetlm::GgufMetaValue* tokens = m.find("tokenizer.ggml.tokens");
    ASSERT_EQ(tokens->count, static_cast<uint64_t>(cfg.n_vocab)) << c.preset;
    EXPECT_EQ(m.find(c.key)->bits, static_cast<uint64_t>(c.id)) << c.preset;
    EXPECT_EQ(tokens->strs[static_cast<size_t>(c.id)], c.text) << c.preset;
  }
  jetlm::GgufMetadata g;
  jetlm::add_synthetic_vocab(g, jetlm::VocabStyle::GemmaSpm, 1000, 1000);
  EXPECT_EQ(g.find("tokenizer.ggml.tokens")->strs[105], "<start_of_turn>");
  EXPECT_EQ(g.find("tokenizer.ggml.tokens")->strs[106], "<end_of_turn>");
}

// llama.cpp's loader rejects BPE vocabularies whose merges name missing
// tokens; every merge must join two tokens into a third that exists.
TEST(SynthVocab, TokensAreUniqueAndMergesAreValid) {
  for (jetlm::VocabStyle style : {jetlm::VocabStyle::LlamaSpm, jetlm::VocabStyle::GemmaSpm, jetlm::VocabStyle::Qwen2Bpe,
                                  jetlm::VocabStyle::Llama3Bpe}) {
    jetlm::GgufMetadata m;
    jetlm::add_synthetic_vocab(m, style, 30000, 30100);
    const auto& toks = m.find("tokenizer.ggml.tokens")->strs;
    ASSERT_EQ(toks.size(), 30100u);
    const std::set<std::string> set(toks.begin(), toks.end());
    EXPECT_EQ(set.size(), toks.size()) << "duplicate tokens, style " << static_cast<int>(style);
    EXPECT_EQ(toks.back(), "[PAD30099]");
    EXPECT_EQ(m.find("tokenizer.ggml.token_type")->count, 30100u);
    const jetlm::GgufMetaValue* merges = m.find("tokenizer.ggml.merges");
    if (style == jetlm::VocabStyle::Qwen2Bpe || style == jetlm::VocabStyle::Llama3Bpe) {
      ASSERT_NE(merges, nullptr);
      EXPECT_GT(merges->count, 29000u);
      for (const std::string& mg : merges->strs) {
        const size_t sp = mg.find(' ', 1);
        ASSERT_NE(sp, std::string::npos) << mg;
        const std::string a = mg.substr(0, sp), b = mg.substr(sp + 1);
        ASSERT_TRUE(set.count(a) && set.count(b) && set.count(a + b)) << mg;
      }
    } else {
      EXPECT_EQ(merges, nullptr);
      EXPECT_EQ(m.find("tokenizer.ggml.scores")->count, 30100u);
      EXPECT_EQ(set.count("<0x0A>"), 1u);  // byte fallback for newlines
    }
  }
}

// ---- whole files ------------------------------------------------------------------

TEST(Synth, SameArgumentsGiveTheSameBytes) {
  const std::string a = tmp("rep-a.gguf"), b = tmp("rep-b.gguf"), c = tmp("rep-c.gguf");
  ASSERT_EQ(synth({"--custom", kSmall[1], "--type", "q4_k_m", "--seed", "5", "-o", a, "-t", "1"}).exit_code, 0);
  ASSERT_EQ(synth({"--custom", kSmall[1], "--type", "q4_k_m", "--seed", "5", "-o", b, "-t", "2"}).exit_code, 0);
  ASSERT_EQ(synth({"--custom", kSmall[1], "--type", "q4_k_m", "--seed", "6", "-o", c}).exit_code, 0);
  const auto ba = jetlm_test::read_bytes(a);
  EXPECT_TRUE(ba == jetlm_test::read_bytes(b));
  EXPECT_FALSE(ba == jetlm_test::read_bytes(c));
  EXPECT_EQ(ba.size(), jetlm_test::read_bytes(c).size());
}

TEST(Synth, ModelsLoadAndGiveFiniteVariedLogits) {
  for (const char* spec : kSmall) {
    for (const char* type : {"f32", "q4_k_m"}) {
      const std::string path = tmp(std::string("live-") + type + ".gguf");
      const auto r = synth({"--custom", spec, "--type", type, "-o", path});
      ASSERT_EQ(r.exit_code, 0) << spec << ": " << r.err;
      const std::string out = tmp("live.f32");
      const int n = 48;
      const auto e = jetlm_test::run_jetlm({"eval", "-m", path, "--tokens", token_list(n, 512), "--logits", out, "--reference"});
      ASSERT_EQ(e.exit_code, 0) << spec << ": " << e.err;
      const std::vector<float> l = jetlm_test::read_f32_file(out);
      ASSERT_EQ(l.size(), static_cast<size_t>(n) * 512);
      std::set<int> argmaxes;
      for (int row = 0; row < n; ++row) {
        const auto st = row_stats(l, static_cast<size_t>(row), 512);
        ASSERT_TRUE(std::isfinite(st.first) && std::isfinite(st.second)) << spec << " row " << row;
        EXPECT_GT(st.second, 0.5) << spec << " " << type << ": flat logits at row " << row;
        int best = 0;
        for (int k = 1; k < 512; ++k)
          if (l[static_cast<size_t>(row) * 512 + k] > l[static_cast<size_t>(row) * 512 + best]) best = k;
        argmaxes.insert(best);
      }
      EXPECT_GT(argmaxes.size(), 8u) << spec << " " << type << ": the prediction hardly depends on the input";
    }
  }
}

// Over a 2048-token prompt the last positions still see finite, spread-out logits.
TEST(Synth, LogitsStayAliveThroughA2kPrompt) {
  const std::string path = tmp("long.gguf");
  ASSERT_EQ(synth({"--custom", "arch=llama,n_embd=64,n_layer=2,n_head=2,n_head_kv=1,n_ff=128,n_vocab=512,n_ctx=2048",
                   "--type", "q8_0", "-o", path}).exit_code, 0);
  const std::string out = tmp("long.f32");
  const int n = 2048;
  const auto e = jetlm_test::run_jetlm({"eval", "-m", path, "--tokens", token_list(n, 512), "--logits", out});
  ASSERT_EQ(e.exit_code, 0) << e.err;
  const std::vector<float> l = jetlm_test::read_f32_file(out);
  ASSERT_EQ(l.size(), static_cast<size_t>(n) * 512);
  for (int row : {0, 511, 1024, 2046, 2047}) {
    const auto st = row_stats(l, static_cast<size_t>(row), 512);
    EXPECT_TRUE(std::isfinite(st.second)) << row;
    EXPECT_GT(st.second, 0.5) << row;
  }
}

TEST(Synth, MetadataLlamaCppReads) {
  const std::string path = tmp("meta.gguf");
  ASSERT_EQ(synth({"--custom", kSmall[2], "--type", "f16", "-o", path, "--seed", "3"}).exit_code, 0);
  const auto f = jetlm::GgufFile::open(path);
  EXPECT_EQ(f->get_str("general.architecture"), "gemma3");
  EXPECT_EQ(f->get_u32("gemma3.attention.sliding_window"), 8u);
  EXPECT_EQ(f->get_u32("gemma3.attention.key_length"), 64u);
  EXPECT_EQ(f->get_u32("general.file_type"), 1u);
  EXPECT_EQ(f->get_str("tokenizer.ggml.model"), "llama");
  EXPECT_NE(f->get_str("general.description").find("not a trained model"), std::string::npos);
  EXPECT_EQ(f->find_tensor("output.weight"), nullptr);  // tied
  EXPECT_EQ(f->find_tensor("blk.0.attn_q.weight")->ne[1], 128);  // 2 heads of 64
  const auto tok = jetlm_test::run_jetlm({"tokenize", "-m", path, "-p", "the cat sat"});
  EXPECT_EQ(tok.exit_code, 0) << tok.err;

  const std::string l3 = tmp("meta-l3.gguf");
  ASSERT_EQ(synth({"--like", "llama-3.2-1b", "--custom", "n_layer=1,n_vocab=1024", "--type", "q8_0", "-o", l3}).exit_code, 0);
  const auto g = jetlm::GgufFile::open(l3);
  EXPECT_EQ(g->get_str("tokenizer.ggml.pre"), "llama-bpe");
  EXPECT_EQ(g->find_tensor("rope_freqs.weight")->ne[0], 32);
  EXPECT_EQ(g->find_tensor("rope_freqs.weight")->type, TensorType::F32);
  const auto tok3 = jetlm_test::run_jetlm({"tokenize", "-m", l3, "-p", "hello world"});
  EXPECT_EQ(tok3.exit_code, 0) << tok3.err;
}

TEST(Synth, VocabularyFromAnotherFile) {
  const std::string donor = tmp("donor.gguf");
  ASSERT_EQ(synth({"--custom", "arch=qwen2,n_embd=64,n_layer=1,n_head=2,n_head_kv=1,n_ff=64,n_vocab=600", "--type", "f32", "-o", donor}).exit_code, 0);
  // More embedding rows than tokens: the token arrays are padded.
  const std::string padded = tmp("padded.gguf");
  auto r = synth({"--custom", "arch=llama,n_embd=64,n_layer=1,n_head=2,n_head_kv=1,n_ff=64,n_vocab=700", "--vocab-from", donor,
                  "--type", "f32", "-o", padded});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto f = jetlm::GgufFile::open(padded);
  EXPECT_EQ(f->get_str("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(f->get_str_array("tokenizer.ggml.tokens").size(), 700u);
  EXPECT_EQ(f->get_str_array("tokenizer.ggml.tokens")[650], "[PAD650]");
  EXPECT_EQ(f->get_int_array("tokenizer.ggml.token_type")[650], 5);
  // Fewer rows than tokens: the embedding grows to the vocabulary.
  const std::string grown = tmp("grown.gguf");
  r = synth({"--custom", "arch=llama,n_embd=64,n_layer=1,n_head=2,n_head_kv=1,n_ff=64,n_vocab=300", "--vocab-from", donor,
             "--type", "f32", "-o", grown});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  f = jetlm::GgufFile::open(grown);
  EXPECT_EQ(f->find_tensor("token_embd.weight")->ne[1], 600);
  EXPECT_EQ(f->get_u32("llama.vocab_size"), 600u);
  r = synth({"--like", "tinyllama-1.1b", "--vocab-from", tmp("missing.gguf"), "-o", tmp("x.gguf")});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_FALSE(exists(tmp("x.gguf")));
}

TEST(Synth, CliErrors) {
  EXPECT_EQ(synth({"--like", "llama-9b", "-o", tmp("e.gguf")}).exit_code, 2);
  EXPECT_EQ(synth({"--like", "tinyllama-1.1b"}).exit_code, 2);  // no -o
  EXPECT_EQ(synth({"--like", "tinyllama-1.1b", "--type", "q4_k", "-o", tmp("e.gguf")}).exit_code, 2);
  EXPECT_EQ(synth({"--custom", "n_embd=64", "-o", tmp("e.gguf")}).exit_code, 2);  // no arch
  EXPECT_EQ(synth({"-o", tmp("e.gguf")}).exit_code, 2);
  EXPECT_FALSE(exists(tmp("e.gguf")));
  const auto r = synth({"--like", "qwen2.5-0.5b", "--type", "q4_k_m", "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("blk.23.ffn_down.weight"), std::string::npos);
}
