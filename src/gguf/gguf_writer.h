// Streaming GGUF v3 writer. The header (metadata and tensor infos) is written
// first, because every tensor's byte size follows from its type and shape;
// tensor data then streams through in file order, in chunks of any size, so a
// model never has to be in memory at once. The file goes to a temporary name
// and is renamed into place by finish(): an error, a full disk or a missing
// finish() leaves no output file.
//
// The layout is ggml's (gguf.cpp): data aligned to general.alignment (32 when
// absent), each tensor's data padded with zeros to the alignment, the last
// one included, so llama.cpp reads the files unchanged.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "formats/tensor_type.h"
#include "gguf/gguf.h"

namespace jetlm {

class AtomicFile;

// An owned metadata value (the reader's GgufValue points into a mapped file).
struct GgufMetaValue {
  GgufType type = GgufType::U8;
  uint64_t bits = 0;  // scalar payload: the value's little-endian bytes, zero-extended
  std::string str;    // STRING

  // ARRAY: exactly one of raw / strs / items holds the count elements.
  GgufType elem_type = GgufType::U8;
  uint64_t count = 0;
  std::vector<uint8_t> raw;             // fixed-size elements, count * size bytes
  std::vector<std::string> strs;        // STRING elements
  std::vector<GgufMetaValue> items;     // ARRAY elements (each an ARRAY value)

  static GgufMetaValue u8(uint8_t v);
  static GgufMetaValue i8(int8_t v);
  static GgufMetaValue u16(uint16_t v);
  static GgufMetaValue i16(int16_t v);
  static GgufMetaValue u32(uint32_t v);
  static GgufMetaValue i32(int32_t v);
  static GgufMetaValue u64(uint64_t v);
  static GgufMetaValue i64(int64_t v);
  static GgufMetaValue f32(float v);
  static GgufMetaValue f64(double v);
  static GgufMetaValue boolean(bool v);
  static GgufMetaValue string(std::string v);
  static GgufMetaValue f32_array(const std::vector<float>& v);
  static GgufMetaValue i32_array(const std::vector<int32_t>& v);
  static GgufMetaValue string_array(std::vector<std::string> v);
  // Elements of a fixed-size type given as little-endian bytes (count = bytes / size).
  static GgufMetaValue fixed_array(GgufType elem_type, std::vector<uint8_t> bytes);
  static GgufMetaValue array_of_arrays(std::vector<GgufMetaValue> arrays);
  // A deep copy of a value read from a file, type for type.
  static GgufMetaValue copy_of(const GgufValue& v);

  // Number of elements of an array, 0 for scalars.
  uint64_t size() const { return type == GgufType::ARRAY ? count : 0; }
};

// Metadata in file order. set() replaces a key by removing it and appending
// the new value, as ggml's gguf_set_val_* do, so re-typed files list their
// keys in the order llama.cpp's tools would.
class GgufMetadata {
 public:
  void set(const std::string& key, GgufMetaValue v);
  void remove(const std::string& key);
  const GgufMetaValue* find(const std::string& key) const;
  GgufMetaValue* find(const std::string& key);
  const std::vector<std::pair<std::string, GgufMetaValue>>& entries() const { return kv_; }

  // Every key of a file, in its order.
  static GgufMetadata copy_of(const GgufFile& f);

 private:
  std::vector<std::pair<std::string, GgufMetaValue>> kv_;
};

// One tensor as the writer lays it out.
struct GgufTensorDesc {
  std::string name;
  TensorType type = TensorType::F32;
  int n_dims = 1;
  int64_t ne[4] = {1, 1, 1, 1};  // ne[0]: row length

  int64_t n_rows() const { return ne[1] * ne[2] * ne[3]; }
  size_t nbytes() const;  // throws Error when ne[0] is not a whole number of blocks
};

class GgufWriter {
 public:
  // Validates everything (unique keys and names, names under 64 bytes, shapes
  // that fit the types, a power-of-two general.alignment of type u32), then
  // writes the header. Throws Error naming the output file and the field.
  GgufWriter(const std::string& path, const GgufMetadata& meta, std::vector<GgufTensorDesc> tensors);
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Appends tensor data in file order: the bytes of tensor 0, then tensor 1,
  // ...; a call may span tensor boundaries. Padding is inserted automatically.
  void write(const void* data, size_t n);
  // Index of the tensor the next write() lands in (== tensor count when done).
  size_t current_tensor() const { return cur_; }
  size_t alignment() const { return alignment_; }
  size_t data_offset() const { return data_offset_; }

  // Checks every tensor was written in full, then renames the file into place.
  void finish();

 private:
  void pad_to_alignment();

  std::string path_;
  std::unique_ptr<AtomicFile> file_;
  std::vector<GgufTensorDesc> tensors_;
  std::vector<size_t> sizes_;
  size_t alignment_ = 32;
  size_t data_offset_ = 0;
  size_t cur_ = 0;         // tensor being written
  size_t cur_done_ = 0;    // bytes of it written so far
  size_t pos_ = 0;         // bytes written to the file
};

// ggml's n_dims of a shape: trailing dimensions of size 1 do not count (at least 1).
int gguf_n_dims(const int64_t ne[4]);

}  // namespace jetlm
