// Tensor formats: the traits table, golden dequantization against gguf-py, and
// round trips through every reference quantizer.
#include <gtest/gtest.h>

#include <cctype>
#include <cmath>
#include <cstring>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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
