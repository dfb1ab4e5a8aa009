#include "quant/tensor_stream.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <thread>

#include "quant/progress.h"
#include "util/error.h"
#include "util/fp16.h"

namespace jetlm {

double TensorReport::rmse() const { return n_values ? std::sqrt(err2 / static_cast<double>(n_values)) : 0.0; }
double TensorReport::relative_rmse() const { return ref2 > 0 ? std::sqrt(err2 / ref2) : 0.0; }

void convert_row(TensorType t, const float* src, void* dst, int64_t n, const float* imatrix) {
  const TypeTraits& tt = type_traits(t);
  if (tt.quant) {
    tt.quant(src, dst, n, imatrix);
    return;
  }
  // The float formats need no search; the traits table may not list a codec for them.
  switch (t) {
    case TensorType::F32:
      std::memcpy(dst, src, static_cast<size_t>(n) * 4);
      return;
    case TensorType::F16: {
      uint16_t* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_fp16(src[i]);
      return;
    }
    case TensorType::BF16: {
      uint16_t* d = static_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < n; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
    default:
      fail("jetlm cannot write ", tt.name, " tensors yet (no quantizer)");
  }
}

namespace {

struct Partial {
  double err2 = 0, ref2 = 0;
  std::exception_ptr error;
};

// Converts rows [first, first + n) of tensor t: source -> f32 -> out type (-> decoded, for stats).
void convert_rows(const StreamTensor& t, int64_t first, int64_t n, float* f32, uint8_t* out, size_t out_row,
                  bool stats, Partial& p) {
  const int64_t ne0 = t.out.ne[0];
  t.rows(first, n, f32);
  for (int64_t i = 0; i < n * ne0; ++i) {
    if (!std::isfinite(f32[i]))
      fail("tensor ", t.out.name, ": row ", first + i / ne0, " holds a non-finite value (", f32[i], ") at column ", i % ne0);
  }
  std::vector<float> decoded(stats ? static_cast<size_t>(ne0) : 0);
  const TypeTraits& tt = type_traits(t.out.type);
  for (int64_t r = 0; r < n; ++r) {
    const float* x = f32 + r * ne0;
    const float* w = nullptr;
    if (t.imatrix) {
      // 3-D expert tensors carry one weight vector per expert (ne[1] rows each).
      const int64_t expert = t.imatrix->size() > static_cast<size_t>(ne0) ? (first + r) / t.out.ne[1] : 0;
      w = t.imatrix->data() + expert * ne0;
    }
    uint8_t* q = out + static_cast<size_t>(r) * out_row;
    convert_row(t.out.type, x, q, ne0, w);
    if (stats) {
      tt.dequant(q, decoded.data(), ne0);
      for (int64_t k = 0; k < ne0; ++k) {
        const double d = static_cast<double>(decoded[k]) - x[k];
        p.err2 += d * d;
        p.ref2 += static_cast<double>(x[k]) * x[k];
      }
    }
  }
}

}  // namespace

std::vector<TensorReport> write_gguf_streaming(const std::string& path, const GgufMetadata& meta,
                                               const std::vector<StreamTensor>& tensors, const StreamOptions& opt) {
  std::vector<GgufTensorDesc> descs;
  descs.reserve(tensors.size());
  uint64_t total = 0;
  for (const StreamTensor& t : tensors) {
    if (!t.raw && !t.rows) fail(path, ": tensor ", t.out.name, ": has neither data nor a row source");
    if (t.imatrix) {
      const size_t ne0 = static_cast<size_t>(t.out.ne[0]);
      if (t.imatrix->size() != ne0 && t.imatrix->size() != ne0 * static_cast<size_t>(t.out.ne[2]))
        fail(path, ": tensor ", t.out.name, ": importance matrix has ", t.imatrix->size(), " values for rows of ", ne0);
    }
    descs.push_back(t.out);
    total += t.out.nbytes();
  }
  GgufWriter w(path, meta, descs);
  ProgressBar bar(total, opt.progress);
  const int n_threads = std::max(1, opt.n_threads);
  std::vector<TensorReport> reports;
  reports.reserve(tensors.size());
  uint64_t done = 0;

  for (const StreamTensor& t : tensors) {
    TensorReport rep;
    rep.name = t.out.name;
    rep.from = t.in_type;
    rep.to = t.out.type;
    std::copy(t.out.ne, t.out.ne + 4, rep.ne);
    rep.bytes = t.out.nbytes();
    rep.n_values = t.out.ne[0] * t.out.n_rows();

    if (t.raw) {
      // Unchanged tensors are copied in slices so the progress bar keeps moving.
      const size_t slice = size_t(64) << 20;
      for (size_t at = 0; at < rep.bytes; at += slice) {
        const size_t n = std::min(slice, rep.bytes - at);
        w.write(t.raw + at, n);
        done += n;
        bar.update(done, t.out.name);
      }
    } else {
      const int64_t ne0 = t.out.ne[0], rows = t.out.n_rows();
      const size_t out_row = row_bytes(t.out.type, ne0);
      const int64_t chunk = std::max<int64_t>(1, std::min<int64_t>(rows, static_cast<int64_t>(opt.chunk_values) / ne0));
      std::vector<float> f32(static_cast<size_t>(chunk * ne0));
      std::vector<uint8_t> out(static_cast<size_t>(chunk) * out_row);
      for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
        const int64_t n = std::min(chunk, rows - r0);
        const int nt = static_cast<int>(std::min<int64_t>(n_threads, n));
        std::vector<Partial> parts(static_cast<size_t>(nt));
        auto work = [&](int k) {
          const int64_t a = n * k / nt, b = n * (k + 1) / nt;
          try {
            convert_rows(t, r0 + a, b - a, f32.data() + a * ne0, out.data() + static_cast<size_t>(a) * out_row, out_row,
                         opt.stats, parts[static_cast<size_t>(k)]);
          } catch (...) {
            parts[static_cast<size_t>(k)].error = std::current_exception();
          }
        };
        std::vector<std::thread> pool;
        for (int k = 1; k < nt; ++k) pool.emplace_back(work, k);
        work(0);
        for (std::thread& th : pool) th.join();
        for (const Partial& p : parts) {
          if (p.error) std::rethrow_exception(p.error);
          rep.err2 += p.err2;
          rep.ref2 += p.ref2;
        }
        w.write(out.data(), static_cast<size_t>(n) * out_row);
        done += static_cast<uint64_t>(n) * out_row;
        bar.update(done, t.out.name);
      }
      rep.measured = opt.stats;
    }
    if (t.done) t.done();
    reports.push_back(std::move(rep));
  }
  bar.finish();
  w.finish();
  return reports;
}

}  // namespace jetlm
