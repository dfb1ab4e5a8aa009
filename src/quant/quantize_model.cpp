#include "quant/quantize_model.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "gguf/gguf.h"
#include "quant/recipe.h"
#include "util/error.h"

namespace jetlm {
namespace {

bool is_float_type(TensorType t) { return t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16; }

// Drops input pages from this process once read (they are
// clean file pages: the kernel re-reads them if touched again), so resident
// memory does not grow to the size of the model.
void release_pages(const uint8_t* p, size_t n) {
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t a = (reinterpret_cast<uintptr_t>(p) + page - 1) / page * page;
  const uintptr_t b = (reinterpret_cast<uintptr_t>(p) + n) / page * page;
  if (b > a) ::madvise(reinterpret_cast<void*>(a), b - a, MADV_DONTNEED);
}

GgufMetadata output_metadata(const GgufFile& in, FileType ftype) {
  GgufMetadata meta = GgufMetadata::copy_of(in);
  // One output file, whatever the input's split bookkeeping said.
  meta.remove("split.no");
  meta.remove("split.count");
  meta.remove("split.tensors.count");
  meta.set("general.quantization_version", GgufMetaValue::u32(kQuantizationVersion));
  meta.set("general.file_type", GgufMetaValue::u32(static_cast<uint32_t>(ftype)));
  return meta;
}

}  // namespace

QuantizeResult quantize_model(const std::string& in_path, const std::string& out_path, const QuantizeOptions& opt) {
  const std::unique_ptr<GgufFile> in = GgufFile::open(in_path);
  if (in->get_u32_or("split.count", 1) > 1)
    fail(in_path, ": split.count: split models are not supported (merge the parts with llama-gguf-split --merge first)");

  const std::vector<GgufTensor>& src = in->tensors();
  std::vector<RecipeTensor> rt(src.size());
  std::vector<std::string> names(src.size());
  for (size_t i = 0; i < src.size(); ++i) {
    rt[i].name = names[i] = src[i].name;
    rt[i].type = src[i].type;
    std::copy(src[i].ne, src[i].ne + 4, rt[i].ne);
  }
  RecipeOptions ro;
  ro.ftype = opt.ftype;
  ro.pure = opt.pure;
  ro.quantize_output = !opt.keep_output;
  ro.has_imatrix = opt.imatrix != nullptr;
  const RecipeResult plan = choose_tensor_types(recipe_model_of(*in), rt, ro);

  QuantizeResult res;
  res.n_fallback = plan.n_fallback;
  std::vector<StreamTensor> out;
  out.reserve(src.size());
  for (size_t i : llama_tensor_order(names)) {
    const GgufTensor& t = src[i];
    const TensorType to = plan.types[i];
    if (to != t.type && !is_float_type(t.type) && !opt.allow_requantize)
      fail(in_path, ": tensor ", t.name, " is already quantized (", type_name(t.type), "); converting it to ", type_name(to),
           " adds a second rounding error (pass --allow-requantize to do it anyway)");
    StreamTensor s;
    s.out.name = t.name;
    s.out.type = to;
    std::copy(t.ne, t.ne + 4, s.out.ne);
    s.out.n_dims = gguf_n_dims(t.ne);  // as ggml writes it
    s.in_type = t.type;
    if (to == t.type) {
      s.raw = t.data;
    } else {
      const TypeTraits& from = type_traits(t.type);
      const size_t in_row = row_bytes(t.type, t.ne[0]);
      const uint8_t* data = t.data;
      const int64_t ne0 = t.ne[0];
      // Rows are contiguous, so a range of them dequantizes in one call; once
      // decoded they are not read again, so their pages can go at once.
      s.rows = [&from, data, in_row, ne0](int64_t first, int64_t n, float* dst) {
        const uint8_t* p = data + static_cast<size_t>(first) * in_row;
        from.dequant(p, dst, n * ne0);
        release_pages(p, static_cast<size_t>(n) * in_row);
      };
      if (opt.imatrix) s.imatrix = opt.imatrix->find(t.name);
    }
    s.done = [data = t.data, n = t.nbytes] { release_pages(data, n); };
    res.bytes_in += t.nbytes;
    res.bytes_out += s.out.nbytes();
    out.push_back(std::move(s));
  }

  if (opt.dry_run) {
    for (const StreamTensor& s : out) {
      TensorReport r;
      r.name = s.out.name;
      r.from = s.in_type;
      r.to = s.out.type;
      std::copy(s.out.ne, s.out.ne + 4, r.ne);
      r.bytes = s.out.nbytes();
      r.n_values = s.out.ne[0] * s.out.n_rows();
      res.tensors.push_back(std::move(r));
    }
    return res;
  }

  StreamOptions so;
  so.n_threads = opt.n_threads > 0 ? opt.n_threads : std::max(1u, std::thread::hardware_concurrency());
  so.stats = opt.stats;
  so.progress = opt.progress;
  res.tensors = write_gguf_streaming(out_path, output_metadata(*in, opt.ftype), out, so);
  return res;
}

}  // namespace jetlm
