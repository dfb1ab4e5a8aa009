// Tensor formats: the traits table, golden dequantization against gguf-py, and
// round trips through every reference quantizer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "formats/blocks.h"
#include "formats/tensor_type.h"
#include "test_util.h"
#include "util/error.h"

using jetlm::TensorType;
using jetlm::TypeTraits;

namespace {

// Distance in units of the last place between two finite floats.
int64_t ulp_distance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  // Map the sign-magnitude bit patterns onto a monotonic integer line.
  const int64_t la = ia < 0 ? -static_cast<int64_t>(ia & 0x7fffffff) : ia;
  const int64_t lb = ib < 0 ? -static_cast<int64_t>(ib & 0x7fffffff) : ib;
  return la > lb ? la - lb : lb - la;
}

}  // namespace

// ---- traits -----------------------------------------------------------------

TEST(TensorType, TableMatchesGgml) {
  struct Expect {
    uint32_t id;
    const char* name;
    int64_t block;
    size_t size;
  };
  const Expect expect[] = {
      {0, "f32", 1, 4},        {1, "f16", 1, 2},        {2, "q4_0", 32, 18},     {3, "q4_1", 32, 20},
      {6, "q5_0", 32, 22},     {7, "q5_1", 32, 24},     {8, "q8_0", 32, 34},     {9, "q8_1", 32, 36},
      {10, "q2_K", 256, 84},   {11, "q3_K", 256, 110},  {12, "q4_K", 256, 144},  {13, "q5_K", 256, 176},
      {14, "q6_K", 256, 210},  {15, "q8_K", 256, 292},  {20, "iq4_nl", 32, 18},  {30, "bf16", 1, 2},
  };
  for (const Expect& e : expect) {
    const TypeTraits* t = jetlm::find_type_traits(e.id);
    ASSERT_NE(t, nullptr) << e.name;
    EXPECT_EQ(static_cast<uint32_t>(t->type), e.id);
    EXPECT_STREQ(t->name, e.name);
    EXPECT_EQ(t->block_size, e.block) << e.name;
    EXPECT_EQ(t->type_size, e.size) << e.name;
    EXPECT_NE(t->dequant, nullptr) << e.name;
    EXPECT_STREQ(jetlm::type_name(t->type), e.name);
  }
  EXPECT_EQ(jetlm::find_type_traits(4), nullptr);  // Q4_2, removed from ggml long ago
  EXPECT_EQ(jetlm::find_type_traits(1000), nullptr);
  EXPECT_THROW(jetlm::type_traits(static_cast<TensorType>(4)), jetlm::Error);
}

TEST(TensorType, ParseNames) {
  TensorType t;
  EXPECT_TRUE(jetlm::parse_type_name("q4_K", &t));
  EXPECT_EQ(t, TensorType::Q4_K);
  EXPECT_TRUE(jetlm::parse_type_name("Q4_k", &t));
  EXPECT_EQ(t, TensorType::Q4_K);
  EXPECT_TRUE(jetlm::parse_type_name("IQ4_NL", &t));
  EXPECT_EQ(t, TensorType::IQ4_NL);
  EXPECT_TRUE(jetlm::parse_type_name("bf16", &t));
  EXPECT_EQ(t, TensorType::BF16);
  EXPECT_TRUE(jetlm::parse_type_name("F32", &t));
  EXPECT_EQ(t, TensorType::F32);
  EXPECT_FALSE(jetlm::parse_type_name("q4", &t));
  EXPECT_FALSE(jetlm::parse_type_name("q4_0x", &t));
  EXPECT_FALSE(jetlm::parse_type_name("", &t));
}

TEST(TensorType, RowBytes) {
  EXPECT_EQ(jetlm::row_bytes(TensorType::F32, 7), 28u);
  EXPECT_EQ(jetlm::row_bytes(TensorType::BF16, 3), 6u);
  EXPECT_EQ(jetlm::row_bytes(TensorType::Q4_0, 64), 36u);
  EXPECT_EQ(jetlm::row_bytes(TensorType::Q6_K, 512), 420u);
  EXPECT_EQ(jetlm::row_bytes(TensorType::Q4_K, 0), 0u);
  EXPECT_THROW(jetlm::row_bytes(TensorType::Q4_0, 33), jetlm::Error);
  EXPECT_THROW(jetlm::row_bytes(TensorType::Q4_K, 128), jetlm::Error);
  EXPECT_THROW(jetlm::row_bytes(TensorType::Q8_0, -32), jetlm::Error);
  try {
    jetlm::row_bytes(TensorType::Q5_K, 100);
    FAIL() << "no throw";
  } catch (const jetlm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("q5_K"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("100"), std::string::npos) << e.what();
  }
}

// ---- golden dequantization ---------------------------------------------------
// tests/data/dequant/<type>.raw is one tensor cut from a llama.cpp-written GGUF
// (extract.py), <type>.f32 what gguf-py's reference dequantizer made of it.

TEST(Dequant, GoldenMatchesGgufPy) {
  const nlohmann::json index = nlohmann::json::parse(jetlm_test::read_text(jetlm_test::data_path("dequant/index.json")));
  ASSERT_EQ(index.size(), 14u);
  for (const auto& entry : index) {
    const std::string type_str = entry.at("type").get<std::string>();
    SCOPED_TRACE(type_str);
    TensorType type;
    ASSERT_TRUE(jetlm::parse_type_name(type_str, &type));
    const TypeTraits& traits = jetlm::type_traits(type);

    std::string stem = type_str;
    for (char& c : stem) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

    const std::vector<uint8_t> raw = jetlm_test::read_bytes(jetlm_test::data_path("dequant/" + stem + ".raw"));
    const std::vector<float> expect =
        jetlm_test::read_f32_file(jetlm_test::data_path("dequant/" + entry.at("values").get<std::string>()));
    const int64_t n = entry.at("n_values").get<int64_t>();
    ASSERT_EQ(static_cast<int64_t>(expect.size()), n);
    ASSERT_EQ(raw.size(), jetlm::row_bytes(type, n));

    std::vector<float> got(static_cast<size_t>(n));
    traits.dequant(raw.data(), got.data(), n);
    int64_t worst_ulp = 0;
    size_t worst_at = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_TRUE(std::isfinite(got[i])) << "value " << i;
      const int64_t d = ulp_distance(got[i], expect[i]);
      if (d > worst_ulp) {
        worst_ulp = d;
        worst_at = i;
      }
    }
    EXPECT_LE(worst_ulp, 0) << "value " << worst_at << ": got " << got[worst_at] << ", gguf-py " << expect[worst_at];
  }
}

TEST(Dequant, UnalignedSourceGivesSameValues) {
  // Rows come straight out of a mapped file: no alignment may be assumed.
  const std::vector<uint8_t> raw = jetlm_test::read_bytes(jetlm_test::data_path("dequant/q4_k.raw"));
  const int64_t n = 2 * jetlm::QK_K;
  const size_t bytes = jetlm::row_bytes(TensorType::Q4_K, n);
  std::vector<uint8_t> shifted(bytes + 1);
  std::memcpy(shifted.data() + 1, raw.data(), bytes);
  std::vector<float> a(n), b(n);
  const TypeTraits& t = jetlm::type_traits(TensorType::Q4_K);
  t.dequant(raw.data(), a.data(), n);
  t.dequant(shifted.data() + 1, b.data(), n);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), n * sizeof(float)));
}

// ---- quantizers -----------------------------------------------------------

namespace {

// Deterministic on every platform (std::normal_distribution is not).
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {  // splitmix64
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  float normal() {                                                          // Box-Muller
    const double u1 = 1.0 - uniform(), u2 = uniform();
    return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
  }

 private:
  uint64_t s_;
};

// Weights-like rows: Gaussian with a per-row scale, and about one value in
// 128 an outlier at 5x (same statistics whatever the row length).
std::vector<float> weight_like(int64_t rows, int64_t ne0, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> x(static_cast<size_t>(rows * ne0));
  for (int64_t r = 0; r < rows; ++r) {
    const float scale = 0.02f * static_cast<float>(1 + 4 * rng.uniform());
    for (int64_t i = 0; i < ne0; ++i) {
      const float outlier = rng.next() % 128 == 0 ? 5.f : 1.f;
      x[r * ne0 + i] = outlier * scale * rng.normal();
    }
  }
  return x;
}

std::vector<uint8_t> quantize(TensorType t, const std::vector<float>& x, int64_t ne0, const float* imatrix = nullptr,
                              size_t dst_offset = 0) {
  const TypeTraits& tr = jetlm::type_traits(t);
  const size_t rb = jetlm::row_bytes(t, ne0);
  const int64_t rows = static_cast<int64_t>(x.size()) / ne0;
  std::vector<uint8_t> q(dst_offset + rb * rows, 0xA5);  // poison: every byte must be written
  for (int64_t r = 0; r < rows; ++r) tr.quant(x.data() + r * ne0, q.data() + dst_offset + r * rb, ne0, imatrix);
  return std::vector<uint8_t>(q.begin() + static_cast<std::ptrdiff_t>(dst_offset), q.end());
}

std::vector<float> dequantize(TensorType t, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  jetlm::type_traits(t).dequant(q.data(), y.data(), n);
  return y;
}

// Sum of w * (x - y)^2 over rows, w per column (all ones when w is empty).
double weighted_sq_error(const std::vector<float>& x, const std::vector<float>& y, const std::vector<float>& w) {
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = static_cast<double>(x[i]) - y[i];
    s += (w.empty() ? 1.0 : w[i % w.size()]) * d * d;
  }
  return s;
}

struct QuantCase {
  TensorType type;
  double max_rel_rms;  // bound on ||x - dequant(quant(x))|| / ||x|| for weight_like data
};

// Bounds: about 1.2x what the quantizers (= llama.cpp's, see MatchesLlamaQuantize)
// reach on weight_like data. Q8_K has one scale per 256 values, hence its
// larger error than Q8_0.
const QuantCase kQuantCases[] = {
    {TensorType::F32, 0},       {TensorType::F16, 3e-4},    {TensorType::BF16, 2.5e-3},
    {TensorType::Q8_0, 8e-3},   {TensorType::Q8_1, 8.5e-3}, {TensorType::Q8_K, 0.017},
    {TensorType::Q6_K, 0.026},  {TensorType::Q5_0, 0.069},  {TensorType::Q5_1, 0.052},
    {TensorType::Q5_K, 0.05},   {TensorType::Q4_0, 0.135},  {TensorType::Q4_1, 0.103},
    {TensorType::Q4_K, 0.097},  {TensorType::IQ4_NL, 0.11}, {TensorType::Q3_K, 0.21},
    {TensorType::Q2_K, 0.40},
};

// Row lengths with one block, several blocks and an odd number of blocks.
std::vector<int64_t> row_lengths(TensorType t) {
  const int64_t b = jetlm::type_traits(t).block_size;
  if (b == 1) return {1, 7, 256, 1000};
  if (b == 32) return {32, 96, 864, 4096};
  return {256, 768, 4096};
}

}  // namespace

TEST(Quant, EveryFormatIsWritable) {
  for (const QuantCase& c : kQuantCases) EXPECT_NE(jetlm::type_traits(c.type).quant, nullptr) << jetlm::type_name(c.type);
}

// The shared models were quantized by llama.cpp's llama-quantize from their
// F32 versions; jetlm must write the same bytes (tests/data/quant_ref).
TEST(Quant, MatchesLlamaQuantize) {
  const nlohmann::json index =
      nlohmann::json::parse(jetlm_test::read_text(jetlm_test::data_path("quant_ref/index.json")));
  ASSERT_EQ(index.size(), 11u);
  for (const auto& e : index) {
    const std::string type_str = e.at("type").get<std::string>();
    SCOPED_TRACE(type_str + " " + e.at("tensor").get<std::string>());
    TensorType type;
    ASSERT_TRUE(jetlm::parse_type_name(type_str, &type));
    const int64_t ne0 = e.at("row_length").get<int64_t>();
    const std::vector<float> x =
        jetlm_test::read_f32_file(jetlm_test::data_path("quant_ref/" + e.at("source").get<std::string>()));
    const std::vector<uint8_t> want =
        jetlm_test::read_bytes(jetlm_test::data_path("quant_ref/" + e.at("llama").get<std::string>()));
    ASSERT_EQ(static_cast<int64_t>(x.size()), ne0 * e.at("rows").get<int64_t>());
    const std::vector<uint8_t> got = quantize(type, x, ne0);
    ASSERT_EQ(got.size(), want.size());
    const size_t bs = jetlm::type_traits(type).type_size;
    size_t bad_blocks = 0, first_bad = 0;
    for (size_t b = 0; b < got.size() / bs; ++b) {
      if (std::memcmp(got.data() + b * bs, want.data() + b * bs, bs) != 0 && bad_blocks++ == 0) first_bad = b;
    }
    EXPECT_EQ(bad_blocks, 0u) << "of " << got.size() / bs << " blocks; first differing block " << first_bad;
  }
}

TEST(Quant, RoundTripWithinBoundAndDeterministic) {
  uint64_t seed = 1;
  for (const QuantCase& c : kQuantCases) {
    for (const int64_t ne0 : row_lengths(c.type)) {
      SCOPED_TRACE(std::string(jetlm::type_name(c.type)) + " ne0=" + std::to_string(ne0));
      // At least 16K values per case, so the bound does not hinge on a few blocks.
      const std::vector<float> x = weight_like(std::max<int64_t>(4, 16384 / ne0), ne0, seed++);
      const std::vector<uint8_t> q = quantize(c.type, x, ne0);
      // Same input, same bytes, wherever the output lands.
      EXPECT_EQ(q, quantize(c.type, x, ne0));
      EXPECT_EQ(q, quantize(c.type, x, ne0, nullptr, 1));
      const std::vector<float> y = dequantize(c.type, q, static_cast<int64_t>(x.size()));
      for (float v : y) ASSERT_TRUE(std::isfinite(v));
      const double rel = std::sqrt(weighted_sq_error(x, y, {}) / weighted_sq_error(x, std::vector<float>(x.size()), {}));
      EXPECT_LE(rel, c.max_rel_rms);
    }
  }
}

namespace {

// Plain round-to-nearest with the format's group size and code range, and
// float scales that are not even rounded to fp16 or quantized (so slightly
// better than any real RTN encoding): the baseline the K searches must beat.
// Symmetric: the signed extreme maps to the most negative code, as in ggml.
double rtn_sq_error(const std::vector<float>& x, int group, int bits, bool with_min) {
  double err = 0;
  const int levels = 1 << bits;
  for (size_t g0 = 0; g0 < x.size(); g0 += group) {
    const float* xg = x.data() + g0;
    if (with_min) {
      const float mn = *std::min_element(xg, xg + group), mx = *std::max_element(xg, xg + group);
      const double d = (static_cast<double>(mx) - mn) / (levels - 1);
      for (int i = 0; i < group; ++i) {
        const double q = d > 0 ? std::min<double>(levels - 1, std::max(0.0, std::round((xg[i] - mn) / d))) : 0;
        err += std::pow(xg[i] - (mn + d * q), 2);
      }
    } else {
      float mx = 0;
      for (int i = 0; i < group; ++i) mx = std::fabs(xg[i]) > std::fabs(mx) ? xg[i] : mx;
      const double d = mx / -(levels / 2.0);
      for (int i = 0; i < group; ++i) {
        const double q = d != 0 ? std::min<double>(levels / 2 - 1, std::max<double>(-levels / 2, std::round(xg[i] / d))) : 0;
        err += std::pow(xg[i] - d * q, 2);
      }
    }
  }
  return err;
}

// The same baseline for IQ4_NL: nearest table level, extreme mapped to -127.
double rtn_iq4nl_sq_error(const std::vector<float>& x) {
  double err = 0;
  for (size_t g0 = 0; g0 < x.size(); g0 += 32) {
    float mx = 0;
    for (int i = 0; i < 32; ++i) mx = std::fabs(x[g0 + i]) > std::fabs(mx) ? x[g0 + i] : mx;
    const double d = mx / -127.0;
    for (int i = 0; i < 32; ++i) {
      double best = 1e30;
      for (int8_t v : jetlm::kIq4nlValues) best = std::min(best, std::pow(x[g0 + i] - d * v, 2));
      err += best;
    }
  }
  return err;
}

}  // namespace

TEST(Quant, SearchesBeatRoundToNearest) {
  struct Case {
    TensorType type;
    int group, bits;
    bool with_min;
    double max_ratio;  // bound on error(format) / error(ideal RTN)
  };
  const Case cases[] = {
      // Measured: 0.836, 0.975, 0.862, 0.942, 0.962, 0.940.
      {TensorType::Q2_K, 16, 2, true, 0.9},   {TensorType::Q3_K, 16, 3, false, 0.99},
      {TensorType::Q4_K, 32, 4, true, 0.92},  {TensorType::Q5_K, 32, 5, true, 0.98},
      {TensorType::Q6_K, 16, 6, false, 0.99}, {TensorType::IQ4_NL, 32, 4, false, 0.98},
  };
  const int64_t ne0 = 4096;
  const std::vector<float> x = weight_like(8, ne0, 77);
  for (const Case& c : cases) {
    const std::vector<float> y = dequantize(c.type, quantize(c.type, x, ne0), static_cast<int64_t>(x.size()));
    const double err = weighted_sq_error(x, y, {});
    const double rtn = c.type == TensorType::IQ4_NL ? rtn_iq4nl_sq_error(x) : rtn_sq_error(x, c.group, c.bits, c.with_min);
    EXPECT_LT(err / rtn, c.max_ratio) << jetlm::type_name(c.type);
  }
}

namespace {

// Importance per column, heavy-tailed like real activation statistics.
std::vector<float> importance(int64_t ne0, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> w(static_cast<size_t>(ne0));
  for (float& v : w) v = std::exp(1.5f * rng.normal());
  return w;
}

const TensorType kImatrixTypes[] = {TensorType::Q4_0, TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1,
                                    TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K,
                                    TensorType::Q6_K, TensorType::IQ4_NL};

}  // namespace

// With an importance matrix the searches trade error on unimportant columns
// for error on important ones: the importance-weighted error must drop.
TEST(Quant, ImatrixLowersWeightedError) {
  for (const TensorType t : kImatrixTypes) {
    const int64_t ne0 = jetlm::type_traits(t).block_size == 32 ? 864 : 1024;
    const std::vector<float> x = weight_like(16, ne0, 1000 + static_cast<uint64_t>(t));
    const std::vector<float> w = importance(ne0, 2000 + static_cast<uint64_t>(t));
    const std::vector<uint8_t> q_plain = quantize(t, x, ne0);
    const std::vector<uint8_t> q_imat = quantize(t, x, ne0, w.data());
    EXPECT_EQ(q_imat, quantize(t, x, ne0, w.data(), 3)) << jetlm::type_name(t) << ": not deterministic";
    const int64_t n = static_cast<int64_t>(x.size());
    const double e_plain = weighted_sq_error(x, dequantize(t, q_plain, n), w);
    const double e_imat = weighted_sq_error(x, dequantize(t, q_imat, n), w);
    // Measured 0.51 (Q2_K) .. 0.81 (Q5_0).
    EXPECT_LT(e_imat, 0.9 * e_plain) << jetlm::type_name(t);
  }
}

// Q8 formats have nothing to trade: ggml ignores the importance there.
TEST(Quant, ImatrixIgnoredByEightBitFormats) {
  const std::vector<float> x = weight_like(4, 256, 5);
  const std::vector<float> w = importance(256, 6);
  for (const TensorType t : {TensorType::Q8_0, TensorType::Q8_1, TensorType::Q8_K, TensorType::F16, TensorType::BF16}) {
    EXPECT_EQ(quantize(t, x, 256), quantize(t, x, 256, w.data())) << jetlm::type_name(t);
  }
}

// Degenerate rows must not produce NaN/inf or nonsense, with or without importance.
TEST(Quant, DegenerateRows) {
  struct Row {
    const char* name;
    float (*value)(int64_t i);
    bool below_fp16;  // values under fp16's smallest subnormal
  };
  const Row rows[] = {
      {"zeros", [](int64_t) { return 0.f; }, false},
      {"constant", [](int64_t) { return 0.75f; }, false},
      {"negative constant", [](int64_t) { return -3.f; }, false},
      {"one spike", [](int64_t i) { return i == 37 ? 4.f : 0.f; }, false},
      {"positive ramp", [](int64_t i) { return 0.01f * static_cast<float>(i % 97); }, false},
      {"negative ramp", [](int64_t i) { return -0.01f * static_cast<float>(i % 89) - 1.f; }, false},
      {"tiny", [](int64_t i) { return 1e-9f * static_cast<float>((i * 7919) % 13 - 6); }, true},
      {"large", [](int64_t i) { return 3e4f * static_cast<float>((i * 7919) % 13 - 6) / 6; }, false},
  };
  const int64_t ne0 = 512;
  const std::vector<float> ones(ne0, 1.f);
  for (const QuantCase& c : kQuantCases) {
    for (const Row& r : rows) {
      for (const float* imatrix : {static_cast<const float*>(nullptr), ones.data()}) {
        SCOPED_TRACE(std::string(jetlm::type_name(c.type)) + " " + r.name + (imatrix ? " imatrix" : ""));
        std::vector<float> x(ne0);
        for (int64_t i = 0; i < ne0; ++i) x[i] = r.value(i);
        const std::vector<float> y = dequantize(c.type, quantize(c.type, x, ne0, imatrix), ne0);
        double sq_x = 0;
        for (int64_t i = 0; i < ne0; ++i) {
          ASSERT_TRUE(std::isfinite(y[i])) << "value " << i;
          sq_x += static_cast<double>(x[i]) * x[i];
        }
        if (sq_x == 0) {
          for (int64_t i = 0; i < ne0; ++i) ASSERT_EQ(y[i], 0.f) << "value " << i;
          continue;
        }
        const double rel = std::sqrt(weighted_sq_error(x, y, {}) / sq_x);
        // Values below fp16's range lose everything in formats with fp16
        // scales (as in ggml); all else stays within the weight_like bound.
        EXPECT_LE(rel, r.below_fp16 ? 1.0 : c.max_rel_rms);
      }
    }
  }
}

TEST(Quant, Q8KBlockSumsAndRounding) {
  const std::vector<float> x = weight_like(1, 1024, 9);
  const std::vector<uint8_t> q = quantize(TensorType::Q8_K, x, 1024);
  ASSERT_EQ(q.size(), 4 * sizeof(jetlm::BlockQ8_K));
  for (int b = 0; b < 4; ++b) {
    jetlm::BlockQ8_K blk;
    std::memcpy(&blk, q.data() + b * sizeof(blk), sizeof(blk));
    float amax = 0;
    for (int j = 0; j < jetlm::QK_K; ++j) amax = std::max(amax, std::fabs(x[b * jetlm::QK_K + j]));
    EXPECT_FLOAT_EQ(std::fabs(blk.d), amax / 127);
    for (int g = 0; g < jetlm::QK_K / 16; ++g) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += blk.qs[16 * g + l];
      EXPECT_EQ(blk.bsums[g], sum);
    }
    // Round to nearest: every value within half a step (plus float slack).
    for (int j = 0; j < jetlm::QK_K; ++j) {
      EXPECT_LE(std::fabs(x[b * jetlm::QK_K + j] - blk.d * blk.qs[j]), 0.5f * std::fabs(blk.d) * 1.0001f);
    }
  }
}

TEST(Quant, HalfFormatsRoundToNearestEven) {
  // F16: 1 + 2^-11 is a tie between 1 and 1 + 2^-10: even mantissa wins.
  const std::vector<float> x = {1.0f + 0x1.0p-11f, 1.0f + 3 * 0x1.0p-11f, 65504.f, 1e6f, -0.f, 0x1.0p-24f};
  const int64_t n = static_cast<int64_t>(x.size());
  const std::vector<float> h = dequantize(TensorType::F16, quantize(TensorType::F16, x, n), n);
  EXPECT_EQ(h[0], 1.0f);
  EXPECT_EQ(h[1], 1.0f + 0x1.0p-9f);
  EXPECT_EQ(h[2], 65504.f);
  EXPECT_TRUE(std::isinf(h[3]));
  EXPECT_TRUE(std::signbit(h[4]));
  EXPECT_EQ(h[5], 0x1.0p-24f);  // smallest subnormal survives
  // BF16 keeps the float exponent: 1e6 survives, mantissa cut to 8 bits.
  const std::vector<float> b = dequantize(TensorType::BF16, quantize(TensorType::BF16, x, n), n);
  EXPECT_EQ(b[0], 1.0f);
  EXPECT_NEAR(b[3], 1e6f, 1e6f * 0x1.0p-8f);
}
