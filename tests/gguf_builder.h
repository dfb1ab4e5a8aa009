// Builds GGUF images in memory for tests: valid ones, and hostile ones by
// editing fields of a valid image.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace jetlm_test {

class GgufBuilder {
 public:
  explicit GgufBuilder(uint32_t version = 3) : version_(version) {}

  void kv_u32(const std::string& k, uint32_t v) { key(k, 4); put(v); ++n_kv_; }
  void kv_f32(const std::string& k, float v) { key(k, 6); put(v); ++n_kv_; }
  void kv_bool(const std::string& k, bool v) { key(k, 7); put(static_cast<uint8_t>(v)); ++n_kv_; }
  void kv_str(const std::string& k, const std::string& v) { key(k, 8); str(v); ++n_kv_; }
  void kv_str_array(const std::string& k, const std::vector<std::string>& v) {
    key(k, 9);
    put(uint32_t(8));
    put(uint64_t(v.size()));
    for (const auto& s : v) str(s);
    ++n_kv_;
  }
  void kv_f32_array(const std::string& k, const std::vector<float>& v) {
    key(k, 9);
    put(uint32_t(6));
    put(uint64_t(v.size()));
    for (float f : v) put(f);
    ++n_kv_;
  }
  void kv_i32_array(const std::string& k, const std::vector<int32_t>& v) {
    key(k, 9);
    put(uint32_t(5));
    put(uint64_t(v.size()));
    for (int32_t x : v) put(x);
    ++n_kv_;
  }
  // A tensor of type (ggml id) with dims; data = raw bytes (size must match the type).
  void tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type, const std::vector<uint8_t>& data) {
    tensors_.push_back({name, std::move(dims), type, data});
  }
  // An F32 tensor filled by a simple deterministic pattern scaled by `scale`.
  void tensor_f32(const std::string& name, std::vector<uint64_t> dims, float scale, uint32_t seed) {
    uint64_t n = 1;
    for (auto d : dims) n *= d;
    std::vector<uint8_t> bytes(n * 4);
    uint32_t s = seed * 2654435761u + 1;
    for (uint64_t i = 0; i < n; ++i) {
      s = s * 1664525u + 1013904223u;
      const float v = scale * (static_cast<float>(s >> 8) / 16777216.f - 0.5f);
      std::memcpy(&bytes[i * 4], &v, 4);
    }
    tensor(name, std::move(dims), 0, bytes);
  }

  std::vector<uint8_t> build(size_t alignment = 32) const {
    std::vector<uint8_t> out;
    auto put_to = [&](const void* p, size_t n) { out.insert(out.end(), static_cast<const uint8_t*>(p), static_cast<const uint8_t*>(p) + n); };
    const uint32_t magic = 0x46554747;
    put_to(&magic, 4);
    put_to(&version_, 4);
    const uint64_t nt = tensors_.size(), nkv = n_kv_;
    put_to(&nt, 8);
    put_to(&nkv, 8);
    put_to(kv_.data(), kv_.size());
    uint64_t offset = 0;
    for (const auto& t : tensors_) {
      const uint64_t len = t.name.size();
      put_to(&len, 8);
      put_to(t.name.data(), t.name.size());
      const uint32_t nd = static_cast<uint32_t>(t.dims.size());
      put_to(&nd, 4);
      for (uint64_t d : t.dims) put_to(&d, 8);
      put_to(&t.type, 4);
      put_to(&offset, 8);
      offset += (t.data.size() + alignment - 1) / alignment * alignment;
    }
    while (out.size() % alignment) out.push_back(0);
    for (const auto& t : tensors_) {
      out.insert(out.end(), t.data.begin(), t.data.end());
      while (out.size() % alignment) out.push_back(0);
    }
    return out;
  }

 private:
  struct T {
    std::string name;
    std::vector<uint64_t> dims;
    uint32_t type;
    std::vector<uint8_t> data;
  };
  template <class V>
  void put(V v) {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&v);
    kv_.insert(kv_.end(), p, p + sizeof(V));
  }
  void str(const std::string& s) {
    put(uint64_t(s.size()));
    kv_.insert(kv_.end(), s.begin(), s.end());
  }
  void key(const std::string& k, uint32_t type) {
    str(k);
    put(type);
  }
  uint32_t version_;
  uint64_t n_kv_ = 0;
  std::vector<uint8_t> kv_;
  std::vector<T> tensors_;
};

// A complete, tiny llama model (2 layers, n_embd 8, vocab 16) that jetlm can run.
inline GgufBuilder tiny_llama_builder() {
  GgufBuilder b;
  b.kv_str("general.architecture", "llama");
  b.kv_u32("llama.context_length", 64);
  b.kv_u32("llama.embedding_length", 8);
  b.kv_u32("llama.block_count", 2);
  b.kv_u32("llama.feed_forward_length", 16);
  b.kv_u32("llama.attention.head_count", 2);
  b.kv_u32("llama.attention.head_count_kv", 1);
  b.kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
  b.tensor_f32("token_embd.weight", {8, 16}, 1.f, 1);
  b.tensor_f32("output_norm.weight", {8}, 2.f, 2);
  for (int il = 0; il < 2; ++il) {
    const std::string p = "blk." + std::to_string(il) + ".";
    b.tensor_f32(p + "attn_norm.weight", {8}, 2.f, 10 + il);
    b.tensor_f32(p + "attn_q.weight", {8, 8}, 1.f, 20 + il);
    b.tensor_f32(p + "attn_k.weight", {8, 4}, 1.f, 30 + il);
    b.tensor_f32(p + "attn_v.weight", {8, 4}, 1.f, 40 + il);
    b.tensor_f32(p + "attn_output.weight", {8, 8}, 1.f, 50 + il);
    b.tensor_f32(p + "ffn_norm.weight", {8}, 2.f, 60 + il);
    b.tensor_f32(p + "ffn_gate.weight", {8, 16}, 1.f, 70 + il);
    b.tensor_f32(p + "ffn_up.weight", {8, 16}, 1.f, 80 + il);
    b.tensor_f32(p + "ffn_down.weight", {16, 8}, 1.f, 90 + il);
  }
  return b;
}

}  // namespace jetlm_test
