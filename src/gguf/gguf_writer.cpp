#include "gguf/gguf_writer.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "util/atomic_file.h"
#include "util/error.h"

namespace jetlm {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint32_t kVersion = 3;
constexpr size_t kMaxName = 64;          // ggml's GGML_MAX_NAME, terminator included
constexpr size_t kMaxAlignment = 1 << 20;

size_t fixed_size(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::BOOL: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    default: return 0;
  }
}

template <class T>
GgufMetaValue scalar(GgufType type, T v) {
  GgufMetaValue m;
  m.type = type;
  std::memcpy(&m.bits, &v, sizeof v);  // little-endian host: low bytes hold the value
  return m;
}

// Serialises the header into memory (a few MB at most: the vocabulary).
class Buffer {
 public:
  template <class T>
  void put(T v) {
    const size_t at = b_.size();
    b_.resize(at + sizeof v);
    std::memcpy(b_.data() + at, &v, sizeof v);
  }
  void bytes(const void* p, size_t n) {
    const uint8_t* q = static_cast<const uint8_t*>(p);
    b_.insert(b_.end(), q, q + n);
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    bytes(s.data(), s.size());
  }
  std::vector<uint8_t>& data() { return b_; }

 private:
  std::vector<uint8_t> b_;
};

void put_value(Buffer& b, const GgufMetaValue& v, const std::string& path, const std::string& key);

void put_array_body(Buffer& b, const GgufMetaValue& v, const std::string& path, const std::string& key) {
  b.put<uint32_t>(static_cast<uint32_t>(v.elem_type));
  b.put<uint64_t>(v.count);
  if (const size_t fs = fixed_size(v.elem_type)) {
    if (v.raw.size() != v.count * fs) fail(path, ": ", key, ": array holds ", v.raw.size(), " bytes for ", v.count, " elements");
    b.bytes(v.raw.data(), v.raw.size());
  } else if (v.elem_type == GgufType::STRING) {
    if (v.strs.size() != v.count) fail(path, ": ", key, ": array holds ", v.strs.size(), " strings for ", v.count, " elements");
    for (const std::string& s : v.strs) b.str(s);
  } else if (v.elem_type == GgufType::ARRAY) {
    if (v.items.size() != v.count) fail(path, ": ", key, ": array holds ", v.items.size(), " arrays for ", v.count, " elements");
    for (const GgufMetaValue& item : v.items) {
      if (item.type != GgufType::ARRAY) fail(path, ": ", key, ": an element of an array of arrays is not an array");
      put_array_body(b, item, path, key);
    }
  } else {
    fail(path, ": ", key, ": unknown array element type ", static_cast<uint32_t>(v.elem_type));
  }
}

void put_value(Buffer& b, const GgufMetaValue& v, const std::string& path, const std::string& key) {
  if (v.type == GgufType::STRING) {
    b.str(v.str);
  } else if (v.type == GgufType::ARRAY) {
    put_array_body(b, v, path, key);
  } else if (const size_t fs = fixed_size(v.type)) {
    b.bytes(&v.bits, fs);
  } else {
    fail(path, ": ", key, ": unknown value type ", static_cast<uint32_t>(v.type));
  }
}

}  // namespace

// ---- values -----------------------------------------------------------------

GgufMetaValue GgufMetaValue::u8(uint8_t v) { return scalar(GgufType::U8, v); }
GgufMetaValue GgufMetaValue::i8(int8_t v) { return scalar(GgufType::I8, v); }
GgufMetaValue GgufMetaValue::u16(uint16_t v) { return scalar(GgufType::U16, v); }
GgufMetaValue GgufMetaValue::i16(int16_t v) { return scalar(GgufType::I16, v); }
GgufMetaValue GgufMetaValue::u32(uint32_t v) { return scalar(GgufType::U32, v); }
GgufMetaValue GgufMetaValue::i32(int32_t v) { return scalar(GgufType::I32, v); }
GgufMetaValue GgufMetaValue::u64(uint64_t v) { return scalar(GgufType::U64, v); }
GgufMetaValue GgufMetaValue::i64(int64_t v) { return scalar(GgufType::I64, v); }
GgufMetaValue GgufMetaValue::f32(float v) { return scalar(GgufType::F32, v); }
GgufMetaValue GgufMetaValue::f64(double v) { return scalar(GgufType::F64, v); }
GgufMetaValue GgufMetaValue::boolean(bool v) { return scalar(GgufType::BOOL, static_cast<uint8_t>(v ? 1 : 0)); }

GgufMetaValue GgufMetaValue::string(std::string v) {
  GgufMetaValue m;
  m.type = GgufType::STRING;
  m.str = std::move(v);
  return m;
}

GgufMetaValue GgufMetaValue::fixed_array(GgufType elem_type, std::vector<uint8_t> bytes) {
  const size_t fs = fixed_size(elem_type);
  if (!fs) fail("GGUF array: element type ", gguf_type_name(elem_type), " is not fixed-size");
  if (bytes.size() % fs != 0) fail("GGUF array: ", bytes.size(), " bytes is not a whole number of ", gguf_type_name(elem_type));
  GgufMetaValue m;
  m.type = GgufType::ARRAY;
  m.elem_type = elem_type;
  m.count = bytes.size() / fs;
  m.raw = std::move(bytes);
  return m;
}

GgufMetaValue GgufMetaValue::f32_array(const std::vector<float>& v) {
  std::vector<uint8_t> bytes(v.size() * 4);
  if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
  return fixed_array(GgufType::F32, std::move(bytes));
}

GgufMetaValue GgufMetaValue::i32_array(const std::vector<int32_t>& v) {
  std::vector<uint8_t> bytes(v.size() * 4);
  if (!v.empty()) std::memcpy(bytes.data(), v.data(), bytes.size());
  return fixed_array(GgufType::I32, std::move(bytes));
}

GgufMetaValue GgufMetaValue::string_array(std::vector<std::string> v) {
  GgufMetaValue m;
  m.type = GgufType::ARRAY;
  m.elem_type = GgufType::STRING;
  m.count = v.size();
  m.strs = std::move(v);
  return m;
}

GgufMetaValue GgufMetaValue::array_of_arrays(std::vector<GgufMetaValue> arrays) {
  for (const GgufMetaValue& a : arrays)
    if (a.type != GgufType::ARRAY) fail("GGUF array of arrays: an element is not an array");
  GgufMetaValue m;
  m.type = GgufType::ARRAY;
  m.elem_type = GgufType::ARRAY;
  m.count = arrays.size();
  m.items = std::move(arrays);
  return m;
}

GgufMetaValue GgufMetaValue::copy_of(const GgufValue& v) {
  switch (v.type) {
    case GgufType::U8: return u8(static_cast<uint8_t>(v.u));
    case GgufType::I8: return i8(static_cast<int8_t>(v.i));
    case GgufType::U16: return u16(static_cast<uint16_t>(v.u));
    case GgufType::I16: return i16(static_cast<int16_t>(v.i));
    case GgufType::U32: return u32(static_cast<uint32_t>(v.u));
    case GgufType::I32: return i32(static_cast<int32_t>(v.i));
    case GgufType::U64: return u64(v.u);
    case GgufType::I64: return i64(v.i);
    case GgufType::F32: return f32(static_cast<float>(v.f));  // the reader widened a float: exact
    case GgufType::F64: return f64(v.f);
    case GgufType::BOOL: return boolean(v.u != 0);
    case GgufType::STRING: return string(std::string(v.str));
    case GgufType::ARRAY: break;
  }
  GgufMetaValue m;
  m.type = GgufType::ARRAY;
  m.elem_type = v.elem_type;
  m.count = v.count;
  if (const size_t fs = fixed_size(v.elem_type)) {
    m.raw.assign(v.raw, v.raw + v.count * fs);
  } else if (v.elem_type == GgufType::STRING) {
    m.strs.reserve(v.strs.size());
    for (std::string_view s : v.strs) m.strs.emplace_back(s);
  } else {
    m.items.reserve(v.items.size());
    for (const GgufValue& item : v.items) m.items.push_back(copy_of(item));
  }
  return m;
}

// ---- metadata ---------------------------------------------------------------

void GgufMetadata::set(const std::string& key, GgufMetaValue v) {
  remove(key);
  kv_.emplace_back(key, std::move(v));
}

void GgufMetadata::remove(const std::string& key) {
  for (auto it = kv_.begin(); it != kv_.end(); ++it) {
    if (it->first == key) {
      kv_.erase(it);
      return;
    }
  }
}

const GgufMetaValue* GgufMetadata::find(const std::string& key) const {
  for (const auto& kv : kv_)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

GgufMetaValue* GgufMetadata::find(const std::string& key) {
  for (auto& kv : kv_)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

GgufMetadata GgufMetadata::copy_of(const GgufFile& f) {
  GgufMetadata m;
  m.kv_.reserve(f.metadata().size());
  for (const auto& kv : f.metadata()) m.kv_.emplace_back(kv.first, GgufMetaValue::copy_of(kv.second));
  return m;
}

// ---- tensors ----------------------------------------------------------------

size_t GgufTensorDesc::nbytes() const {
  return row_bytes(type, ne[0]) * static_cast<size_t>(n_rows());
}

int gguf_n_dims(const int64_t ne[4]) {
  for (int d = 3; d >= 1; --d)
    if (ne[d] != 1) return d + 1;
  return 1;
}

// ---- writer -----------------------------------------------------------------

GgufWriter::GgufWriter(const std::string& path, const GgufMetadata& meta, std::vector<GgufTensorDesc> tensors)
    : path_(path), tensors_(std::move(tensors)) {
  std::unordered_set<std::string> keys;
  for (const auto& kv : meta.entries()) {
    if (kv.first.empty()) fail(path_, ": metadata: empty key");
    if (!keys.insert(kv.first).second) fail(path_, ": metadata: duplicate key ", kv.first);
  }
  if (const GgufMetaValue* a = meta.find("general.alignment")) {
    // ggml reads the alignment with gguf_get_val_u32, which rejects other types.
    if (a->type != GgufType::U32) fail(path_, ": general.alignment: must be of type u32, found ", gguf_type_name(a->type));
    const uint64_t v = a->bits;
    if (v == 0 || v > kMaxAlignment || (v & (v - 1)) != 0)
      fail(path_, ": general.alignment: ", v, " is not a power of two up to ", kMaxAlignment);
    alignment_ = static_cast<size_t>(v);
  }

  std::unordered_set<std::string> names;
  sizes_.reserve(tensors_.size());
  for (const GgufTensorDesc& t : tensors_) {
    if (t.name.empty() || t.name.size() >= kMaxName)
      fail(path_, ": tensor '", t.name, "': name must be 1 to ", kMaxName - 1, " bytes");
    if (!names.insert(t.name).second) fail(path_, ": tensor ", t.name, ": duplicate name");
    if (t.n_dims < 1 || t.n_dims > 4) fail(path_, ": tensor ", t.name, ": ", t.n_dims, " dimensions (1 to 4 supported)");
    for (int d = 0; d < 4; ++d) {
      if (t.ne[d] <= 0 || (d >= t.n_dims && t.ne[d] != 1))
        fail(path_, ": tensor ", t.name, ": dimension ", d, " is ", t.ne[d]);
    }
    try {
      sizes_.push_back(t.nbytes());
    } catch (const Error& e) {
      fail(path_, ": tensor ", t.name, ": ", e.what());
    }
  }

  Buffer b;
  b.put<uint32_t>(kMagic);
  b.put<uint32_t>(kVersion);
  b.put<uint64_t>(tensors_.size());
  b.put<uint64_t>(meta.entries().size());
  for (const auto& kv : meta.entries()) {
    b.str(kv.first);
    b.put<uint32_t>(static_cast<uint32_t>(kv.second.type));
    put_value(b, kv.second, path_, kv.first);
  }
  uint64_t offset = 0;
  for (size_t i = 0; i < tensors_.size(); ++i) {
    const GgufTensorDesc& t = tensors_[i];
    b.str(t.name);
    b.put<uint32_t>(static_cast<uint32_t>(t.n_dims));
    for (int d = 0; d < t.n_dims; ++d) b.put<uint64_t>(static_cast<uint64_t>(t.ne[d]));
    b.put<uint32_t>(static_cast<uint32_t>(t.type));
    b.put<uint64_t>(offset);
    offset += (sizes_[i] + alignment_ - 1) / alignment_ * alignment_;
  }
  data_offset_ = (b.data().size() + alignment_ - 1) / alignment_ * alignment_;
  b.data().resize(data_offset_, 0);

  file_.reset(new AtomicFile(path_));
  file_->write(b.data().data(), b.data().size());
  pos_ = b.data().size();
  // Zero-byte tensors need no data: move past them now.
  while (cur_ < tensors_.size() && sizes_[cur_] == 0) ++cur_;
}

GgufWriter::~GgufWriter() = default;

void GgufWriter::pad_to_alignment() {
  static const uint8_t zeros[64] = {};
  size_t pad = (alignment_ - pos_ % alignment_) % alignment_;
  while (pad > 0) {
    const size_t n = pad < sizeof zeros ? pad : sizeof zeros;
    file_->write(zeros, n);
    pos_ += n;
    pad -= n;
  }
}

void GgufWriter::write(const void* data, size_t n) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    if (cur_ >= tensors_.size()) fail(path_, ": ", n, " bytes of tensor data written past the last tensor");
    const size_t take = std::min(n, sizes_[cur_] - cur_done_);
    file_->write(p, take);
    pos_ += take;
    cur_done_ += take;
    p += take;
    n -= take;
    if (cur_done_ == sizes_[cur_]) {
      pad_to_alignment();
      cur_done_ = 0;
      ++cur_;
      while (cur_ < tensors_.size() && sizes_[cur_] == 0) ++cur_;
    }
  }
}

void GgufWriter::finish() {
  if (cur_ < tensors_.size())
    fail(path_, ": tensor ", tensors_[cur_].name, ": only ", cur_done_, " of its ", sizes_[cur_], " bytes were written");
  file_->commit();
}

}  // namespace jetlm
