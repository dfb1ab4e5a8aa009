// GGUF (v2, v3) reader. The file is hostile input: every length, count,
// offset and tensor extent is checked against the file before use, and a bad
// file throws Error("<file>: <field>: <reason>"). Values point into the map.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "formats/tensor_type.h"
#include "util/mapped_file.h"

namespace jetlm {

enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
const char* gguf_type_name(GgufType t);

// One metadata value. Scalars are widened into u/i/f; strings and arrays of
// fixed-size elements point into the mapped file (little-endian, unaligned).
struct GgufValue {
  GgufType type = GgufType::U8;
  uint64_t u = 0;  // unsigned integers and bool
  int64_t i = 0;   // signed integers (also set for unsigned that fit)
  double f = 0;    // floats (also set for integers)
  std::string_view str;

  // Arrays
  GgufType elem_type = GgufType::U8;
  uint64_t count = 0;
  const uint8_t* raw = nullptr;         // fixed-size elements, count * size
  std::vector<std::string_view> strs;   // STRING elements
  std::vector<GgufValue> items;         // ARRAY elements (nested arrays)

  bool is_int() const;
  bool is_float() const { return type == GgufType::F32 || type == GgufType::F64; }
  // Element k of a numeric array, widened (caller checks k < count).
  double num_at(uint64_t k) const;
  int64_t int_at(uint64_t k) const;
};

struct GgufTensor {
  std::string name;
  TensorType type = TensorType::F32;
  int n_dims = 0;
  int64_t ne[4] = {1, 1, 1, 1};  // ne[0] is the row length (innermost)
  uint64_t offset = 0;           // from the start of the data section
  size_t nbytes = 0;
  const uint8_t* data = nullptr;  // into the map

  int64_t n_elements() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  std::string shape_str() const;
};

class GgufFile {
 public:
  // Map and parse a file (throws Error naming the file, field and reason).
  static std::unique_ptr<GgufFile> open(const std::string& path);
  // Parse an in-memory image (used by the fuzzer and tests); the bytes must outlive the object.
  static std::unique_ptr<GgufFile> parse(const uint8_t* data, size_t size, const std::string& name);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  size_t file_size() const { return size_; }
  const uint8_t* file_data() const { return base_; }
  size_t data_offset() const { return data_offset_; }
  size_t alignment() const { return alignment_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;
  bool has(const std::string& key) const { return find(key) != nullptr; }

  // Typed getters: throw Error("<file>: missing required key <key>") or on a type mismatch.
  // Integer getters accept any integer type whose value fits; float getters accept ints too.
  uint64_t get_u64(const std::string& key) const;
  uint32_t get_u32(const std::string& key) const;
  int64_t get_i64(const std::string& key) const;
  float get_f32(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::string get_str(const std::string& key) const;
  // Optional variants return the fallback when the key is absent (still throw on a bad type).
  uint32_t get_u32_or(const std::string& key, uint32_t fallback) const;
  float get_f32_or(const std::string& key, float fallback) const;
  bool get_bool_or(const std::string& key, bool fallback) const;
  std::string get_str_or(const std::string& key, const std::string& fallback) const;
  // Arrays: throw if present with the wrong element type; empty when absent.
  std::vector<std::string_view> get_str_array(const std::string& key) const;
  std::vector<float> get_f32_array(const std::string& key) const;
  std::vector<int64_t> get_int_array(const std::string& key) const;

  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* find_tensor(const std::string& name) const;

 private:
  GgufFile() = default;
  void parse_all();
  const GgufValue& require(const std::string& key) const;

  std::shared_ptr<MappedFile> map_;
  std::string path_;
  const uint8_t* base_ = nullptr;
  size_t size_ = 0;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::unordered_map<std::string, size_t> kv_index_;
  std::vector<GgufTensor> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace jetlm
