// launch_matvec: checks the arguments, then hands them to the family's kernels.
// Also the format table of the CUDA kernels and the process-wide PDL switch.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "backends/cuda/matvec.cuh"

namespace jetlm {
namespace cuda {

namespace {
bool g_pdl = false;
MatvecTuning g_tuning;

// Values per block of each format (the matvec kernels need whole blocks per row).
int block_values(WType t) {
  switch (t) {
    case WType::F32: case WType::F16: case WType::BF16: return 1;
    case WType::Q2_K: case WType::Q3_K: case WType::Q4_K: case WType::Q5_K: case WType::Q6_K: return 256;
    default: return 32;
  }
}
}  // namespace

void set_pdl(bool on) { g_pdl = on; }
void kernels_init() {
  (void)sm_count();
  (void)has_dp4a();
#ifdef JETLM_CUDA_TRACE
  trace_enable_dump();
#endif
}

#ifdef JETLM_CUDA_TRACE
namespace {
std::vector<TraceReader>& trace_readers() {
  static std::vector<TraceReader> r;
  return r;
}
void trace_dump() {
  const char* path = std::getenv("JETLM_CUDA_TRACE_OUT");
  std::vector<uint32_t> recs;
  for (TraceReader r : trace_readers()) r(recs);
  FILE* f = std::fopen(path, "wb");
  if (!f) return;
  std::fwrite(recs.data(), sizeof(uint32_t), recs.size(), f);
  std::fclose(f);
}
}  // namespace
bool trace_register(TraceReader r) {
  trace_readers().push_back(r);
  return true;
}
// At exit, after the run (registered once CUDA is up, so it runs before CUDA's own teardown).
void trace_enable_dump() {
  static bool done = false;
  if (done || !std::getenv("JETLM_CUDA_TRACE_OUT")) return;
  done = true;
  std::atexit(trace_dump);
}
#endif
bool pdl_enabled() { return g_pdl; }
void set_matvec_tuning(const MatvecTuning& t) { g_tuning = t; }
const MatvecTuning& matvec_tuning() { return g_tuning; }

bool wtype_supported(uint32_t id) {
  switch (static_cast<WType>(id)) {
    case WType::F32: case WType::F16: case WType::BF16: case WType::Q4_0: case WType::Q4_1: case WType::Q5_0:
    case WType::Q5_1: case WType::Q8_0: case WType::IQ4_NL: case WType::Q2_K: case WType::Q3_K: case WType::Q4_K:
    case WType::Q5_K: case WType::Q6_K:
      return true;
  }
  return false;
}

int wtype_row_alignment(WType t) {
  switch (t) {
    case WType::Q4_K: case WType::Q5_K: return 16;
    case WType::F32: case WType::Q4_1: case WType::Q5_1: case WType::Q2_K: return 4;
    default: return 2;
  }
}

void launch_matvec(const MatvecArgs& a, cudaStream_t s) {
  CUDA_REQUIRE(wtype_supported(static_cast<uint32_t>(a.type)), "unsupported weight type " + std::to_string(static_cast<int>(a.type)));
  CUDA_REQUIRE(a.n >= 1 && a.n <= 8, "n = " + std::to_string(a.n) + " tokens (1..8)");
  CUDA_REQUIRE(a.cols > 0 && a.cols % block_values(a.type) == 0, "cols = " + std::to_string(a.cols));
  CUDA_REQUIRE(a.n_seg >= 1 && a.n_seg <= 3, "n_seg = " + std::to_string(a.n_seg));
  CUDA_REQUIRE(a.x != nullptr && a.row_bytes > 0, "null input");
  CUDA_REQUIRE(a.glu == Act::None || (a.n_seg == 2 && a.seg[0].rows == a.seg[1].rows), "GLU needs a gate and an up weight of equal rows");
  CUDA_REQUIRE(!a.norm || a.norm_out != a.x, "the fused norm cannot run in place");
  const int align = wtype_row_alignment(a.type);
  CUDA_REQUIRE(a.row_bytes % align == 0, "row bytes " + std::to_string(a.row_bytes) + " not a multiple of " + std::to_string(align));
  for (int i = 0; i < a.n_seg; ++i) {
    const MatvecSeg& g = a.seg[i];
    CUDA_REQUIRE(g.w != nullptr && g.y != nullptr && g.rows > 0, "segment " + std::to_string(i) + " incomplete");
    CUDA_REQUIRE(reinterpret_cast<uintptr_t>(g.w) % align == 0, "weight not " + std::to_string(align) + "-byte aligned");
    CUDA_REQUIRE(!g.res_out || g.res, "residual output without residual input");
  }
  if (matvec_float(a, s) || matvec_legacy(a, s) || matvec_kquant(a, s)) return;
  CUDA_REQUIRE(false, "no kernel for weight type " + std::to_string(static_cast<int>(a.type)));
}

}  // namespace cuda
}  // namespace jetlm
