#include "quant/recipe.h"

#include <algorithm>
#include <cstdlib>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"
#include "util/error.h"

namespace jetlm {
namespace {

// Broad roles, as llama.cpp's tensor_get_category sees names. attn_qkv and
// attn_kv_b count as attn_v: llama.cpp tests for attn_v-like roles first, so
// its separate attn_qkv rule never fires.
enum class Role { TokenEmbd, Output, AttnV, AttnK, AttnQ, AttnOutput, FfnUp, FfnGate, FfnDown, Other };

bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }

Role role_of(const std::string& name) {
  if (name == "output.weight") return Role::Output;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return Role::TokenEmbd;
  if (contains(name, "attn_qkv.weight") || contains(name, "attn_kv_b.weight") || contains(name, "attn_v.weight"))
    return Role::AttnV;
  if (contains(name, "attn_k.weight")) return Role::AttnK;
  if (contains(name, "attn_q.weight")) return Role::AttnQ;
  if (contains(name, "attn_output.weight")) return Role::AttnOutput;
  if (contains(name, "ffn_up")) return Role::FfnUp;
  if (contains(name, "ffn_gate")) return Role::FfnGate;
  if (contains(name, "ffn_down")) return Role::FfnDown;
  return Role::Other;
}

// Layer of a "blk.N." name, -1 otherwise (what sscanf("blk.%d.") yields).
int layer_of(const std::string& name) {
  if (name.compare(0, 4, "blk.") != 0) return -1;
  const char* p = name.c_str() + 4;
  char* end = nullptr;
  const long v = std::strtol(p, &end, 10);
  return end == p ? -1 : static_cast<int>(v);
}

bool is_quantized_ftype(FileType f) {
  switch (f) {
    case FileType::F32: case FileType::F16: case FileType::BF16: return false;
    default: return true;
  }
}

// Tensors llama.cpp never quantizes although they are 2-D "weight"s: small
// or numerically delicate ones (expert routers, conv kernels, positional tables).
const char* const kKeepSubstrings[] = {
    "_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
    "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
    "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
    "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight", "time_mix_a1.weight",
    "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight", "time_mix_decay_w1.weight",
    "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight", "attn_rel_b.weight", ".position_embd",
    "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos", ".patch_embd", ".patch_merger", "a.rvq.codebook",
    "mm.a.code_embd",
};

// More bits for the first and last eighth of the layers and every third one
// between (llama.cpp's use_more_bits).
bool use_more_bits(int i_layer, int n_layers) {
  return i_layer < n_layers / 8 || i_layer >= 7 * n_layers / 8 || (i_layer - n_layers / 8) % 3 == 2;
}

// Running state of one pass over the tensors, in llama.cpp's order.
struct Counters {
  int n_attn_v = 0, n_ffn_down = 0;
  int i_attn_v = 0, i_ffn_down = 0;
  bool tied_embeddings = true;
};

// The per-role mixing rules (llama_tensor_get_type_impl), for the file types jetlm writes.
TensorType mix_rule(const RecipeModel& m, const RecipeTensor& t, Role role, TensorType type, FileType f,
                    bool has_imatrix, Counters& c) {
  const bool falcon = m.arch == "falcon";
  if (role == Role::Output || (c.tied_embeddings && role == Role::TokenEmbd)) {
    // The output matrix decides every logit: Q6_K unless the rows do not fit.
    if (falcon || t.ne[0] % type_traits(type).block_size != 0) return TensorType::Q8_0;
    return type == TensorType::Q8_0 ? type : TensorType::Q6_K;
  }
  switch (role) {
    case Role::AttnV: {
      // V is small under GQA and sensitive: cheap to give it more bits.
      const int i = c.i_attn_v++;
      if (f == FileType::Q2_K) type = m.n_gqa() >= 4 ? TensorType::Q4_K : TensorType::Q3_K;
      else if (f == FileType::Q3_K_M) type = i < 2 ? TensorType::Q5_K : TensorType::Q4_K;
      else if (f == FileType::Q3_K_L) type = TensorType::Q5_K;
      else if (f == FileType::IQ4_NL && m.n_gqa() >= 4) type = TensorType::Q5_K;
      else if ((f == FileType::Q4_K_M || f == FileType::Q5_K_M) && use_more_bits(i, c.n_attn_v)) type = TensorType::Q6_K;
      else if (f == FileType::Q4_K_S && i < 4) type = TensorType::Q5_K;
      if (m.is_70b() && (type == TensorType::Q3_K || type == TensorType::Q4_K)) type = TensorType::Q5_K;
      if (m.n_expert == 8) type = TensorType::Q8_0;
      return type;
    }
    case Role::AttnK:
      return m.n_expert == 8 ? TensorType::Q8_0 : type;
    case Role::FfnDown: {
      int i = c.i_ffn_down++;
      const int n = c.n_ffn_down;
      if (m.n_expert > 1) {
        // Expert tensors of a layer are not consecutive: the layer comes from the name.
        i = layer_of(t.name);
        if (i < 0 || i >= n) fail("tensor ", t.name, ": cannot tell its layer (0..", n - 1, ")");
      }
      if (f == FileType::Q2_K) return TensorType::Q3_K;
      if (f == FileType::Q3_K_M)
        return i < n / 16 ? TensorType::Q5_K : (!falcon || use_more_bits(i, n)) ? TensorType::Q4_K : TensorType::Q3_K;
      if (f == FileType::Q3_K_L) return falcon ? TensorType::Q4_K : TensorType::Q5_K;
      if (f == FileType::Q4_K_M) {
        if (falcon) return i < n / 16 ? TensorType::Q6_K : use_more_bits(i, n) ? TensorType::Q5_K : TensorType::Q4_K;
        return use_more_bits(i, n) ? TensorType::Q6_K : type;
      }
      if (i < n / 8 && f == FileType::IQ4_NL && !has_imatrix) return TensorType::Q5_K;
      if (f == FileType::Q5_K_M && use_more_bits(i, n)) return TensorType::Q6_K;
      if (f == FileType::Q4_K_S && !falcon && i < n / 8) return TensorType::Q5_K;
      // With an imatrix the first ffn_down layers of Q4_0/Q5_0 can go wrong; without one
      // llama.cpp keeps the old layout, so files stay reproducible.
      if ((f == FileType::Q4_0 || f == FileType::Q5_0) && has_imatrix && i < n / 8)
        return f == FileType::Q4_0 ? TensorType::Q4_1 : TensorType::Q5_1;
      return type;
    }
    case Role::AttnOutput:
      if (falcon) return f == FileType::Q3_K_L ? TensorType::Q4_K : type;
      if (m.n_expert == 8) {
        switch (f) {
          case FileType::Q2_K: case FileType::Q3_K_S: case FileType::Q3_K_M: case FileType::IQ4_NL:
          case FileType::Q4_K_S: case FileType::Q4_K_M:
            return TensorType::Q5_K;
          default:
            return type;
        }
      }
      if (f == FileType::Q2_K) return TensorType::Q3_K;
      if (f == FileType::Q3_K_M) return TensorType::Q4_K;
      if (f == FileType::Q3_K_L) return TensorType::Q5_K;
      return type;
    default:
      return type;
  }
}

// A K-quant row must be whole 256-value super-blocks; otherwise llama.cpp
// picks the nearest 32-block type (then F16 if even that does not fit).
TensorType fall_back(const RecipeTensor& t, TensorType type, int* n_fallback) {
  const int64_t ncols = t.ne[0];
  if (ncols % type_traits(type).block_size == 0) return type;
  ++*n_fallback;
  TensorType to;
  switch (type) {
    case TensorType::Q2_K: case TensorType::Q3_K: to = TensorType::Q4_0; break;
    case TensorType::Q4_K: to = TensorType::Q5_0; break;
    case TensorType::Q5_K: to = TensorType::Q5_1; break;
    case TensorType::Q6_K: to = TensorType::Q8_0; break;
    default:
      fail("tensor ", t.name, ": rows of ", ncols, " values do not fit ", type_name(type), " blocks of ",
           type_traits(type).block_size, " and there is no fallback type for ", type_name(type));
  }
  return ncols % type_traits(to).block_size == 0 ? to : TensorType::F16;
}

}  // namespace

bool RecipeModel::is_70b() const {
  // llama.cpp's load_hparams: 80 llama layers with GQA are the 70B (without GQA the 65B); 80 qwen2 layers are 72B.
  if (n_layer != 80) return false;
  if (arch == "llama") return n_head != n_head_kv;
  return arch == "qwen2";
}

RecipeModel recipe_model_of(const GgufFile& f) {
  RecipeModel m;
  m.arch = f.get_str("general.architecture");
  const std::string a = m.arch + ".";
  m.n_layer = static_cast<int>(f.get_u32(a + "block_count"));
  // Head counts may be per-layer arrays; llama.cpp's n_gqa() looks at layer 0.
  auto first_int = [&](const std::string& key, int fallback) {
    const GgufValue* v = f.find(key);
    if (!v) return fallback;
    if (v->type == GgufType::ARRAY) {
      const std::vector<int64_t> xs = f.get_int_array(key);
      return xs.empty() ? fallback : static_cast<int>(xs[0]);
    }
    return static_cast<int>(f.get_u32(key));
  };
  m.n_head = first_int(a + "attention.head_count", 0);
  m.n_head_kv = first_int(a + "attention.head_count_kv", m.n_head);
  m.n_expert = static_cast<int>(f.get_u32_or(a + "expert_count", 0));
  return m;
}

bool tensor_is_quantizable(const std::string& name, const int64_t ne[4], bool quantize_output) {
  if (gguf_n_dims(ne) < 2) return false;
  if (name.size() < 6 || name.compare(name.size() - 6, 6, "weight") != 0) return false;
  if (!quantize_output && name == "output.weight") return false;
  if (name == "position_embd.weight" || name == "token_types.weight") return false;
  for (const char* s : kKeepSubstrings)
    if (contains(name, s)) return false;
  return true;
}

std::vector<size_t> llama_tensor_order(const std::vector<std::string>& names) {
  std::vector<size_t> order(names.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int la = layer_of(names[a]), lb = layer_of(names[b]);
    if (la != lb) return la < lb;
    return names[a] < names[b];
  });
  return order;
}

RecipeResult choose_tensor_types(const RecipeModel& model, const std::vector<RecipeTensor>& tensors,
                                 const RecipeOptions& opt) {
  const TensorType base = default_tensor_type(opt.ftype);
  Counters c;
  c.n_ffn_down = model.n_layer;
  for (const RecipeTensor& t : tensors) {
    const Role r = role_of(t.name);
    if (r == Role::AttnV) ++c.n_attn_v;
    if (r == Role::Output) c.tied_embeddings = false;
  }

  RecipeResult res;
  res.types.resize(tensors.size());
  std::vector<std::string> names;
  names.reserve(tensors.size());
  for (const RecipeTensor& t : tensors) names.push_back(t.name);
  for (size_t idx : llama_tensor_order(names)) {
    const RecipeTensor& t = tensors[idx];
    TensorType type = t.type;
    if (tensor_is_quantizable(t.name, t.ne, opt.quantize_output)) {
      type = base;
      if (is_quantized_ftype(opt.ftype)) {
        if (!opt.pure) type = mix_rule(model, t, role_of(t.name), type, opt.ftype, opt.has_imatrix, c);
        type = fall_back(t, type, &res.n_fallback);
      }
    }
    res.types[idx] = type;
  }
  return res;
}

}  // namespace jetlm
