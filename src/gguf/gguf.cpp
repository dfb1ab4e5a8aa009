#include "gguf/gguf.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "util/error.h"

namespace jetlm {

namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxArrayDepth = 8;        // real files nest at most 2; deeper is hostile
constexpr size_t kMaxAlignment = 1 << 20;

size_t fixed_size(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::BOOL:
      return 1;
    case GgufType::U16:
    case GgufType::I16:
      return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32:
      return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64:
      return 8;
    default:
      return 0;
  }
}

bool valid_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufType::F64); }

// Bounds-checked little-endian reader over the file image.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const std::string& file) : p_(data), size_(size), file_(file) {}

  template <class T>
  T read(const char* field) {
    need(sizeof(T), field);
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string_view read_string(const char* field) {
    const uint64_t n = read<uint64_t>(field);
    need(n, field);
    std::string_view s(reinterpret_cast<const char*>(p_ + pos_), static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  const uint8_t* take(uint64_t n, const char* field) {
    need(n, field);
    const uint8_t* q = p_ + pos_;
    pos_ += static_cast<size_t>(n);
    return q;
  }
  void need(uint64_t n, const char* field) const {
    if (n > size_ - pos_) fail(file_, ": ", field, ": truncated (needs ", n, " bytes at offset ", pos_, ", file has ", size_, ")");
  }
  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }
  const std::string& file() const { return file_; }

 private:
  const uint8_t* p_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& file_;
};

void read_value(Cursor& c, GgufType type, GgufValue& v, const std::string& key, int depth);

void read_scalar(Cursor& c, GgufType type, GgufValue& v, const char* field) {
  switch (type) {
    case GgufType::U8: v.u = c.read<uint8_t>(field); break;
    case GgufType::I8: v.i = c.read<int8_t>(field); break;
    case GgufType::U16: v.u = c.read<uint16_t>(field); break;
    case GgufType::I16: v.i = c.read<int16_t>(field); break;
    case GgufType::U32: v.u = c.read<uint32_t>(field); break;
    case GgufType::I32: v.i = c.read<int32_t>(field); break;
    case GgufType::U64: v.u = c.read<uint64_t>(field); break;
    case GgufType::I64: v.i = c.read<int64_t>(field); break;
    case GgufType::BOOL: {
      const uint8_t b = c.read<uint8_t>(field);
      if (b > 1) fail(c.file(), ": ", field, ": bool value ", int(b), " is neither 0 nor 1");
      v.u = b;
      break;
    }
    case GgufType::F32: v.f = c.read<float>(field); break;
    case GgufType::F64: v.f = c.read<double>(field); break;
    default: break;
  }
  switch (type) {
    case GgufType::U8:
    case GgufType::U16:
    case GgufType::U32:
    case GgufType::U64:
    case GgufType::BOOL:
      v.i = v.u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? static_cast<int64_t>(v.u) : -1;
      v.f = static_cast<double>(v.u);
      break;
    case GgufType::I8:
    case GgufType::I16:
    case GgufType::I32:
    case GgufType::I64:
      v.u = v.i >= 0 ? static_cast<uint64_t>(v.i) : 0;
      v.f = static_cast<double>(v.i);
      break;
    default: break;
  }
}

void read_value(Cursor& c, GgufType type, GgufValue& v, const std::string& key, int depth) {
  v.type = type;
  if (type == GgufType::STRING) {
    v.str = c.read_string(key.c_str());
    return;
  }
  if (type != GgufType::ARRAY) {
    read_scalar(c, type, v, key.c_str());
    return;
  }
  if (depth >= kMaxArrayDepth) fail(c.file(), ": ", key, ": arrays nested deeper than ", kMaxArrayDepth);
  const uint32_t et = c.read<uint32_t>(key.c_str());
  if (!valid_type(et)) fail(c.file(), ": ", key, ": unknown array element type ", et);
  v.elem_type = static_cast<GgufType>(et);
  v.count = c.read<uint64_t>(key.c_str());
  const size_t fs = fixed_size(v.elem_type);
  if (fs) {
    if (v.count > c.remaining() / fs) fail(c.file(), ": ", key, ": array of ", v.count, " elements runs past the end of the file");
    v.raw = c.take(v.count * fs, key.c_str());
    return;
  }
  // Strings take at least 8 bytes and arrays at least 12, so a count larger
  // than that allows is a lie: reject it before reserving memory.
  const uint64_t min_elem = v.elem_type == GgufType::STRING ? 8 : 12;
  if (v.count > c.remaining() / min_elem) fail(c.file(), ": ", key, ": array of ", v.count, " elements runs past the end of the file");
  if (v.elem_type == GgufType::STRING) {
    v.strs.reserve(static_cast<size_t>(v.count));
    for (uint64_t k = 0; k < v.count; ++k) v.strs.push_back(c.read_string(key.c_str()));
  } else {
    v.items.resize(static_cast<size_t>(v.count));
    for (uint64_t k = 0; k < v.count; ++k) read_value(c, GgufType::ARRAY, v.items[k], key, depth + 1);
  }
}

bool checked_mul(uint64_t a, uint64_t b, uint64_t* out) {
  if (a != 0 && b > std::numeric_limits<uint64_t>::max() / a) return false;
  *out = a * b;
  return true;
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  static const char* const names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32",
                                      "bool", "string", "array", "u64", "i64", "f64"};
  const uint32_t i = static_cast<uint32_t>(t);
  return i < 13 ? names[i] : "?";
}

bool GgufValue::is_int() const {
  switch (type) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16:
    case GgufType::U32: case GgufType::I32: case GgufType::U64: case GgufType::I64:
      return true;
    default:
      return false;
  }
}

double GgufValue::num_at(uint64_t k) const {
  const uint8_t* p = raw + k * fixed_size(elem_type);
  switch (elem_type) {
    case GgufType::F32: { float f; std::memcpy(&f, p, 4); return f; }
    case GgufType::F64: { double d; std::memcpy(&d, p, 8); return d; }
    default: return static_cast<double>(int_at(k));
  }
}

int64_t GgufValue::int_at(uint64_t k) const {
  const uint8_t* p = raw + k * fixed_size(elem_type);
  switch (elem_type) {
    case GgufType::U8: case GgufType::BOOL: return *p;
    case GgufType::I8: return static_cast<int8_t>(*p);
    case GgufType::U16: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case GgufType::I16: { int16_t v; std::memcpy(&v, p, 2); return v; }
    case GgufType::U32: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    case GgufType::I32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    case GgufType::U64: { uint64_t v; std::memcpy(&v, p, 8); return static_cast<int64_t>(v); }
    case GgufType::I64: { int64_t v; std::memcpy(&v, p, 8); return v; }
    case GgufType::F32: { float f; std::memcpy(&f, p, 4); return static_cast<int64_t>(f); }
    case GgufType::F64: { double d; std::memcpy(&d, p, 8); return static_cast<int64_t>(d); }
    default: return 0;
  }
}

std::string GgufTensor::shape_str() const {
  std::string s = "[";
  for (int d = 0; d < n_dims; ++d) s += (d ? ", " : "") + std::to_string(ne[d]);
  return s + "]";
}

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path) {
  auto map = std::make_shared<MappedFile>(path);
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->map_ = map;
  f->path_ = path;
  f->base_ = map->data();
  f->size_ = map->size();
  f->parse_all();
  return f;
}

std::unique_ptr<GgufFile> GgufFile::parse(const uint8_t* data, size_t size, const std::string& name) {
  std::unique_ptr<GgufFile> f(new GgufFile());
  f->path_ = name;
  f->base_ = data;
  f->size_ = size;
  f->parse_all();
  return f;
}

void GgufFile::parse_all() {
  Cursor c(base_, size_, path_);
  if (size_ < 4 || c.read<uint32_t>("magic") != kMagic) fail(path_, ": magic: bad magic (not a GGUF file)");
  version_ = c.read<uint32_t>("version");
  if (version_ != 2 && version_ != 3) fail(path_, ": version: unsupported GGUF version ", version_, " (jetlm reads 2 and 3)");
  const uint64_t n_tensors = c.read<uint64_t>("tensor_count");
  const uint64_t n_kv = c.read<uint64_t>("metadata_kv_count");
  // Every pair takes at least 8 (key length) + 4 (type) + 1 bytes; every tensor info at least 8+4+8+4+8.
  if (n_kv > c.remaining() / 13) fail(path_, ": metadata_kv_count: ", n_kv, " pairs cannot fit in the file");
  if (n_tensors > c.remaining() / 32) fail(path_, ": tensor_count: ", n_tensors, " tensors cannot fit in the file");

  kv_.reserve(static_cast<size_t>(n_kv));
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key(c.read_string("metadata key"));
    const uint32_t t = c.read<uint32_t>(key.c_str());
    if (!valid_type(t)) fail(path_, ": ", key, ": unknown value type ", t);
    GgufValue v;
    read_value(c, static_cast<GgufType>(t), v, key, 0);
    if (kv_index_.count(key)) fail(path_, ": ", key, ": duplicate metadata key");
    kv_index_[key] = kv_.size();
    kv_.emplace_back(std::move(key), std::move(v));
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (!a->is_int() || a->u == 0 || a->u > kMaxAlignment || (a->u & (a->u - 1)) != 0)
      fail(path_, ": general.alignment: must be a power of two up to ", kMaxAlignment);
    alignment_ = static_cast<size_t>(a->u);
  }

  tensors_.reserve(static_cast<size_t>(n_tensors));
  for (uint64_t k = 0; k < n_tensors; ++k) {
    GgufTensor t;
    t.name = std::string(c.read_string("tensor name"));
    const std::string field = "tensor " + t.name;
    const uint32_t nd = c.read<uint32_t>(field.c_str());
    if (nd == 0 || nd > 4) fail(path_, ": ", field, ": ", nd, " dimensions (1 to 4 supported)");
    t.n_dims = static_cast<int>(nd);
    uint64_t n_el = 1;
    for (uint32_t d = 0; d < nd; ++d) {
      const uint64_t ne = c.read<uint64_t>(field.c_str());
      if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        fail(path_, ": ", field, ": dimension ", d, " is ", ne);
      if (!checked_mul(n_el, ne, &n_el) || n_el > (uint64_t(1) << 48)) fail(path_, ": ", field, ": element count overflows");
      t.ne[d] = static_cast<int64_t>(ne);
    }
    const uint32_t type = c.read<uint32_t>(field.c_str());
    const TypeTraits* tt = find_type_traits(type);
    if (!tt || !tt->dequant) fail(path_, ": ", field, ": unknown or unsupported tensor type ", type);
    t.type = tt->type;
    if (t.ne[0] % tt->block_size != 0)
      fail(path_, ": ", field, ": row length ", t.ne[0], " is not a multiple of the ", tt->name, " block size ", tt->block_size);
    uint64_t nbytes;
    if (!checked_mul(n_el / static_cast<uint64_t>(tt->block_size), tt->type_size, &nbytes)) fail(path_, ": ", field, ": byte size overflows");
    t.nbytes = static_cast<size_t>(nbytes);
    t.offset = c.read<uint64_t>(field.c_str());
    if (t.offset % alignment_ != 0) fail(path_, ": ", field, ": offset ", t.offset, " is not aligned to ", alignment_);
    if (tensor_index_.count(t.name)) fail(path_, ": ", field, ": duplicate tensor name");
    tensor_index_[t.name] = tensors_.size();
    tensors_.push_back(std::move(t));
  }

  const size_t pos = c.pos();
  data_offset_ = (pos + alignment_ - 1) / alignment_ * alignment_;
  if (n_tensors > 0 && data_offset_ > size_) fail(path_, ": data section: starts at ", data_offset_, " past the end of the file (", size_, " bytes)");
  for (auto& t : tensors_) {
    const uint64_t avail = size_ - data_offset_;
    if (t.offset > avail || t.nbytes > avail - t.offset)
      fail(path_, ": tensor ", t.name, ": data [", t.offset, ", +", t.nbytes, ") lies outside the file (data section holds ", avail, " bytes)");
    // Kernels read a tensor as its element or block type (float, fp16
    // fields), so its bytes must sit at that type's natural alignment: the
    // largest power of two dividing the block size, at most 4. A file whose
    // general.alignment is smaller than that can misplace them.
    const size_t type_size = find_type_traits(static_cast<uint32_t>(t.type))->type_size;
    const size_t need = std::min<size_t>(4, type_size & (~type_size + 1));
    if ((data_offset_ + t.offset) % need != 0)
      fail(path_, ": tensor ", t.name, ": data at file offset ", data_offset_ + t.offset, " is not aligned to the ", need,
           " bytes its type ", type_name(t.type), " needs (general.alignment = ", alignment_,
           "; rewrite the file with the default alignment of 32)");
    t.data = base_ + data_offset_ + t.offset;
  }
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensor* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const GgufValue& GgufFile::require(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) fail(path_, ": missing required key ", key);
  return *v;
}

static void want_int(const std::string& path, const std::string& key, const GgufValue& v) {
  if (!v.is_int() && v.type != GgufType::BOOL) fail(path, ": ", key, ": expected an integer, found ", gguf_type_name(v.type));
}

uint64_t GgufFile::get_u64(const std::string& key) const {
  const GgufValue& v = require(key);
  want_int(path_, key, v);
  if (v.i < 0) fail(path_, ": ", key, ": negative value ", v.i);
  return v.u;
}

uint32_t GgufFile::get_u32(const std::string& key) const {
  const uint64_t u = get_u64(key);
  if (u > std::numeric_limits<uint32_t>::max()) fail(path_, ": ", key, ": value ", u, " is too large");
  return static_cast<uint32_t>(u);
}

int64_t GgufFile::get_i64(const std::string& key) const {
  const GgufValue& v = require(key);
  want_int(path_, key, v);
  return v.i;
}

float GgufFile::get_f32(const std::string& key) const {
  const GgufValue& v = require(key);
  if (!v.is_int() && !v.is_float()) fail(path_, ": ", key, ": expected a number, found ", gguf_type_name(v.type));
  return static_cast<float>(v.f);
}

bool GgufFile::get_bool(const std::string& key) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::BOOL && !v.is_int()) fail(path_, ": ", key, ": expected a bool, found ", gguf_type_name(v.type));
  return v.u != 0;
}

std::string GgufFile::get_str(const std::string& key) const {
  const GgufValue& v = require(key);
  if (v.type != GgufType::STRING) fail(path_, ": ", key, ": expected a string, found ", gguf_type_name(v.type));
  return std::string(v.str);
}

uint32_t GgufFile::get_u32_or(const std::string& key, uint32_t fallback) const { return has(key) ? get_u32(key) : fallback; }
float GgufFile::get_f32_or(const std::string& key, float fallback) const { return has(key) ? get_f32(key) : fallback; }
bool GgufFile::get_bool_or(const std::string& key, bool fallback) const { return has(key) ? get_bool(key) : fallback; }
std::string GgufFile::get_str_or(const std::string& key, const std::string& fallback) const {
  return has(key) ? get_str(key) : fallback;
}

static const GgufValue* find_array(const GgufFile& f, const std::string& key) {
  const GgufValue* v = f.find(key);
  if (v && v->type != GgufType::ARRAY) fail(f.path(), ": ", key, ": expected an array, found ", gguf_type_name(v->type));
  return v;
}

std::vector<std::string_view> GgufFile::get_str_array(const std::string& key) const {
  const GgufValue* v = find_array(*this, key);
  if (!v) return {};
  if (v->elem_type != GgufType::STRING) fail(path_, ": ", key, ": expected an array of strings, found ", gguf_type_name(v->elem_type));
  return v->strs;
}

std::vector<float> GgufFile::get_f32_array(const std::string& key) const {
  const GgufValue* v = find_array(*this, key);
  if (!v) return {};
  if (!fixed_size(v->elem_type) || v->elem_type == GgufType::BOOL)
    fail(path_, ": ", key, ": expected an array of numbers, found ", gguf_type_name(v->elem_type));
  std::vector<float> out(static_cast<size_t>(v->count));
  for (uint64_t k = 0; k < v->count; ++k) out[k] = static_cast<float>(v->num_at(k));
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue* v = find_array(*this, key);
  if (!v) return {};
  if (!fixed_size(v->elem_type) || v->elem_type == GgufType::F32 || v->elem_type == GgufType::F64)
    fail(path_, ": ", key, ": expected an array of integers, found ", gguf_type_name(v->elem_type));
  std::vector<int64_t> out(static_cast<size_t>(v->count));
  for (uint64_t k = 0; k < v->count; ++k) out[k] = v->int_at(k);
  return out;
}

}  // namespace jetlm
