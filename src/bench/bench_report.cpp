// llama-bench's output formats, with two additions per result: the weight
// bandwidth achieved by token generation (GB/s) and the peak resident set.
#include <cinttypes>
#include <cstdio>
#include <string>
#include <vector>

#include "bench/bench.h"
#include "util/error.h"

namespace jetlm {

namespace {

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string size_str(uint64_t bytes) {
  const double mib = static_cast<double>(bytes) / (1024.0 * 1024.0);
  return mib < 1024.0 ? fmt("%.2f MiB", mib) : fmt("%.2f GiB", mib / 1024.0);
}

std::string params_str(int64_t n) {
  const double v = static_cast<double>(n);
  if (v >= 1e9) return fmt("%.2f B", v / 1e9);
  if (v >= 1e6) return fmt("%.2f M", v / 1e6);
  return fmt("%.2f K", v / 1e3);
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned char>(c));
      o += b;
      continue;
    }
    o += c;
  }
  return o;
}

const char* kv_name(TensorType t) { return t == TensorType::F32 ? "f32" : "f16"; }

// One result as llama-bench's JSON object (its field names), plus jetlm's.
std::string json_object(const BenchResult& r) {
  std::string s = "{";
  auto field = [&](const std::string& k, const std::string& v, bool quote) {
    if (s.size() > 1) s += ", ";
    s += "\"" + k + "\": " + (quote ? "\"" + json_escape(v) + "\"" : v);
  };
  auto num = [](double v) { return fmt("%.6f", v); };
  field("build_commit", "unknown", true);
  field("cpu_info", r.cpu_info, true);
  field("cpu_kernels", r.cpu_isa, true);
  field("backends", r.backend, true);
  field("model_filename", r.model.filename, true);
  field("model_type", r.model.type, true);
  field("model_size", std::to_string(r.model.size), false);
  field("model_n_params", std::to_string(r.model.n_params), false);
  field("n_batch", std::to_string(r.params.n_batch), false);
  field("n_threads", std::to_string(r.params.n_threads), false);
  field("type_k", kv_name(r.params.kv_type), true);
  field("type_v", kv_name(r.params.kv_type), true);
  field("n_gpu_layers", std::to_string(r.params.n_gpu_layers), false);
  field("n_prompt", std::to_string(r.params.test.n_prompt), false);
  field("n_gen", std::to_string(r.params.test.n_gen), false);
  field("n_depth", std::to_string(r.params.test.n_depth), false);
  field("test_time", r.test_time, true);
  field("avg_ns", std::to_string(static_cast<uint64_t>(r.avg_ns())), false);
  field("stddev_ns", std::to_string(static_cast<uint64_t>(r.stddev_ns())), false);
  field("avg_ts", num(r.avg_ts()), false);
  field("stddev_ts", num(r.stddev_ts()), false);
  std::string ns = "[", ts = "[";
  const std::vector<double> sts = r.samples_ts();
  for (size_t i = 0; i < r.samples_ns.size(); ++i) {
    ns += (i ? ", " : "") + std::to_string(r.samples_ns[i]);
    ts += (i ? ", " : "") + fmt("%.6f", sts[i]);
  }
  field("samples_ns", ns + "]", false);
  field("samples_ts", ts + "]", false);
  field("bytes_per_token", std::to_string(r.model.bytes_per_token), false);
  field("avg_gbs", num(r.gbs()), false);
  field("avg_flops", num(r.flops()), false);
  field("peak_gbs", num(r.peak_gbs), false);
  field("roofline_pct", r.roofline_pct() < 0 ? "null" : num(r.roofline_pct()), false);
  field("peak_rss", std::to_string(r.peak_rss), false);
  field("unified", r.params.unified ? "true" : "false", false);
  field("gpu_bytes", std::to_string(r.gpu_bytes), false);
  return s + "}";
}

class MarkdownPrinter : public BenchPrinter {
 public:
  MarkdownPrinter(FILE* out, bool ngl) : out_(out), ngl_(ngl) {}
  void begin() override {
    std::fprintf(out_, "| %-30s | %10s | %10s | %-10s | %7s |%s %13s | %20s | %11s | %8s |%s\n", "model", "size", "params",
                 "backend", "threads", ngl_ ? "   ngl |" : "", "test", "t/s", "GB/s|FLOP/s", "RSS MiB", ngl_ ? " GPU MiB |" : "");
    std::fprintf(out_, "| %s | %s | %s | %s | %s |%s %s | %s | %s | %s |%s\n", std::string(30, '-').c_str(),
                 "---------:", "---------:", "----------", "------:", ngl_ ? " ----: |" : "", "------------:",
                 "-------------------:", "----------:", "-------:", ngl_ ? " -------: |" : "");
  }
  void result(const BenchResult& r) override {
    const std::string ts = fmt("%.2f", r.avg_ts()) + " ± " + fmt("%.2f", r.stddev_ts());
    // GB/s of weights for tg (with % of the measured peak), FLOP/s for pp.
    std::string gbs = r.gbs() > 0 ? fmt("%.1f", r.gbs()) : r.flops() > 0 ? fmt("%.1f GF", r.flops() / 1e9) : "";
    if (r.roofline_pct() >= 0) gbs += fmt(" %.0f%%", r.roofline_pct());
    const std::string ngl = ngl_ ? fmt(" %5.0f |", r.params.n_gpu_layers) : "";
    // The GPU column counts device memory only: with --unified the weights are in RSS alone (counted once).
    const std::string gpu = !ngl_ ? "" : (r.gpu_bytes >= 0 ? fmt(" %7.0f |", static_cast<double>(r.gpu_bytes) / 1048576.0) : "         |");
    std::fprintf(out_, "| %-30s | %10s | %10s | %-10s | %7d |%s %13s | %20s | %11s | %8.0f |%s\n", r.model.type.c_str(),
                 size_str(r.model.size).c_str(), params_str(r.model.n_params).c_str(), r.backend.c_str(),
                 r.params.n_threads, ngl.c_str(), r.params.test.name().c_str(), ts.c_str(), gbs.c_str(),
                 static_cast<double>(r.peak_rss) / (1024.0 * 1024.0), gpu.c_str());
    std::fflush(out_);
  }

 private:
  FILE* out_;
  bool ngl_;
};

class CsvPrinter : public BenchPrinter {
 public:
  explicit CsvPrinter(FILE* out) : out_(out) {}
  void begin() override {
    std::fprintf(out_,
                 "model_filename,model_type,model_size,model_n_params,backends,cpu_info,cpu_kernels,n_threads,n_gpu_layers,n_batch,"
                 "type_k,n_prompt,n_gen,n_depth,test_time,avg_ns,stddev_ns,avg_ts,stddev_ts,avg_gbs,peak_rss,unified,gpu_bytes\n");
  }
  void result(const BenchResult& r) override {
    std::fprintf(out_, "\"%s\",\"%s\",%" PRIu64 ",%" PRId64 ",\"%s\",\"%s\",\"%s\",%d,%d,%d,\"%s\",%d,%d,%d,\"%s\",%.0f,%.0f,%.6f,%.6f,%.3f,%" PRIu64 ",%d,%" PRId64 "\n",
                 r.model.filename.c_str(), r.model.type.c_str(), r.model.size, r.model.n_params, r.backend.c_str(),
                 r.cpu_info.c_str(), r.cpu_isa.c_str(), r.params.n_threads, r.params.n_gpu_layers, r.params.n_batch,
                 kv_name(r.params.kv_type), r.params.test.n_prompt, r.params.test.n_gen, r.params.test.n_depth, r.test_time.c_str(),
                 r.avg_ns(), r.stddev_ns(), r.avg_ts(), r.stddev_ts(), r.gbs(), r.peak_rss, r.params.unified ? 1 : 0,
                 r.gpu_bytes);
    std::fflush(out_);
  }

 private:
  FILE* out_;
};

class JsonPrinter : public BenchPrinter {
 public:
  JsonPrinter(FILE* out, bool lines) : out_(out), lines_(lines) {}
  void begin() override {
    if (!lines_) std::fprintf(out_, "[\n");
  }
  void result(const BenchResult& r) override {
    if (lines_) std::fprintf(out_, "%s\n", json_object(r).c_str());
    else std::fprintf(out_, "%s  %s", first_ ? "" : ",\n", json_object(r).c_str());
    first_ = false;
    std::fflush(out_);
  }
  void end() override {
    if (!lines_) std::fprintf(out_, "\n]\n");
  }

 private:
  FILE* out_;
  bool lines_;
  bool first_ = true;
};

}  // namespace

std::unique_ptr<BenchPrinter> make_bench_printer(const std::string& format, FILE* out, bool show_ngl) {
  if (format == "md") return std::make_unique<MarkdownPrinter>(out, show_ngl);
  if (format == "csv") return std::make_unique<CsvPrinter>(out);
  if (format == "json") return std::make_unique<JsonPrinter>(out, false);
  if (format == "jsonl") return std::make_unique<JsonPrinter>(out, true);
  throw UsageError("-o: expected md, csv, json or jsonl, got '" + format + "'");
}

}  // namespace jetlm
