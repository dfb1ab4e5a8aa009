// The CUDA backend against the CPU reference (backends/cpu/ops_ref.h): every
// op and every weight format on seeded random inputs with odd shapes, the
// fused launches against the same ops run one by one on the CPU, decode steps
// replayed from a captured graph, unified memory, and the golden logits of
// every fixture with full and partial offload and unified memory (in-process,
// as `jetlm eval -ngl N` runs them). Compiled in every build; each test is
// skipped when the build has no CUDA backend or the machine no GPU.
//
// Error measure: NMSE = sum (gpu - ref)^2 / sum ref^2. The matrix-vector and
// attention kernels compute in float32 like the reference (only the summation
// order differs): bound 1e-8. The prompt-processing path multiplies float16
// copies of weights and activations (cuBLAS): bound 1e-5.
#include <gtest/gtest.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/ops_ref.h"
#include "backends/gpu_factory.h"
#include "formats/tensor_type.h"
#include "gguf/gguf.h"
#include "models/context.h"
#include "models/model.h"
#include "test_util.h"
#include "util/error.h"
#include "util/fp16.h"
#ifdef JETLM_HAVE_CUDA
#include "backends/cuda/cuda_backend.h"
#endif

using namespace jetlm;
using namespace jetlm_test;

namespace {

#define REQUIRE_GPU()                                                        \
  do {                                                                       \
    if (!gpu_available()) GTEST_SKIP() << "no CUDA backend or no GPU here";  \
  } while (0)

const double kFloatBound = 1e-8;  // float32 kernels vs the float32 reference
const double kGemmBound = 1e-5;   // float16 operands (cuBLAS prompt path)
// Quantized weights, up to 32 tokens on sm_61+: activations rounded to 8 bits
// per 32 values (dp4a), as the CPU's fast kernels round them.
const double kInt8Bound = 5e-4;
// RoPE angles reach position x frequency ~ 1e3 rad; the GPU's powf may differ
// from the host's by an ulp, which moves the rotated values by ~1e-4.
const double kRopeBound = 1e-6;

double nmse(const std::vector<float>& got, const std::vector<float>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double d = static_cast<double>(got[i]) - ref[i];
    num += d * d;
    den += static_cast<double>(ref[i]) * ref[i];
  }
  return den > 0 ? num / den : num;
}

std::unique_ptr<Backend> make_gpu(bool unified = false) {
  GpuOptions o;
  o.unified = unified;
  return make_gpu_backend(o);
}

std::vector<float> randn(size_t n, std::mt19937& rng, float scale = 1.f) {
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// A device buffer holding host data; read back with get().
struct DevBuf {
  Backend* be;
  float* p;
  int64_t n;
  DevBuf(Backend& b, const std::vector<float>& host) : be(&b), p(b.alloc(static_cast<int64_t>(host.size()))), n(static_cast<int64_t>(host.size())) {
    b.write(p, host.data(), n);
  }
  DevBuf(Backend& b, int64_t count) : be(&b), p(b.alloc(count)), n(count) {
    const std::vector<float> poison(static_cast<size_t>(count), std::nanf(""));
    b.write(p, poison.data(), count);  // unwritten outputs show up as NaN
  }
  std::vector<float> get() const {
    std::vector<float> v(static_cast<size_t>(n));
    be->read(p, v.data(), n);
    return v;
  }
};

// Offsets of the fp16 scale fields in one block of each format: random bits
// there would be inf/NaN, so they get small finite values; every other byte
// is a valid code whatever its value.
std::vector<int> scale_offsets(TensorType t) {
  switch (t) {
    case TensorType::Q4_0: case TensorType::Q5_0: case TensorType::Q8_0: case TensorType::IQ4_NL: return {0};
    case TensorType::Q4_1: case TensorType::Q5_1: case TensorType::Q4_K: case TensorType::Q5_K: return {0, 2};
    case TensorType::Q2_K: return {80, 82};
    case TensorType::Q3_K: return {108};
    case TensorType::Q6_K: return {208};
    default: return {};
  }
}

// A weight tensor of random content in host memory, as the GGUF reader would describe it.
struct HostTensor {
  std::vector<uint8_t> bytes;
  GgufTensor t;
  HostTensor(TensorType type, int64_t rows, int64_t cols, std::mt19937& rng) {
    const size_t rb = row_bytes(type, cols);
    bytes.resize(rb * static_cast<size_t>(rows));
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    if (type == TensorType::F32) {
      for (size_t i = 0; i < bytes.size() / 4; ++i) {
        const float f = u(rng);
        std::memcpy(&bytes[4 * i], &f, 4);
      }
    } else if (type == TensorType::F16 || type == TensorType::BF16) {
      for (size_t i = 0; i < bytes.size() / 2; ++i) {
        const uint16_t h = type == TensorType::F16 ? f32_to_fp16(u(rng)) : f32_to_bf16(u(rng));
        std::memcpy(&bytes[2 * i], &h, 2);
      }
    } else {
      for (uint8_t& b : bytes) b = static_cast<uint8_t>(byte(rng));
      const TypeTraits& tr = type_traits(type);
      std::uniform_real_distribution<float> sc(0.002f, 0.02f);
      for (size_t blk = 0; blk < bytes.size() / tr.type_size; ++blk)
        for (int off : scale_offsets(type)) {
          const uint16_t h = f32_to_fp16(sc(rng));
          std::memcpy(&bytes[blk * tr.type_size + static_cast<size_t>(off)], &h, 2);
        }
    }
    t.name = std::string("random.") + type_name(type);
    t.type = type;
    t.n_dims = 2;
    t.ne[0] = cols;
    t.ne[1] = rows;
    t.nbytes = bytes.size();
    t.data = bytes.data();
  }
  const float* f32() const { return reinterpret_cast<const float*>(bytes.data()); }
  Weight host_weight() const {
    Weight w;
    w.src = &t;
    w.type = t.type;
    w.cols = t.ne[0];
    w.rows = t.ne[1];
    w.data = t.data;
    return w;
  }
};

const TensorType kAllTypes[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16, TensorType::Q4_0, TensorType::Q4_1,
                                TensorType::Q5_0, TensorType::Q5_1, TensorType::Q8_0, TensorType::IQ4_NL, TensorType::Q2_K,
                                TensorType::Q3_K, TensorType::Q4_K, TensorType::Q5_K, TensorType::Q6_K};

// Variant 2 is a long row: split over several warps, staged in two passes.
int64_t odd_cols(TensorType t, int variant) {
  const int64_t bs = type_traits(t).block_size;
  if (bs == 1) return variant == 2 ? 4100 : (variant ? 100 : 33);  // float rows of any length, not a multiple of 8
  if (bs == 32) return variant == 2 ? 32 * 181 : (variant ? 32 * 7 : 32 * 3);
  return variant == 2 ? 256 * 23 : (variant ? 256 * 3 : 256);
}

void begin_batch(Backend& be, const std::vector<int32_t>& pos, const std::vector<int32_t>& ids,
                 const std::vector<int32_t>* seq = nullptr) {
  Batch b;
  b.pos = pos.data();
  b.ids = ids.data();
  b.seq = seq ? seq->data() : nullptr;
  b.n = static_cast<int>(pos.size());
  be.begin(b);
}

// ---- matmul: every format, token counts on each path ----------------------

class MatmulTest : public ::testing::TestWithParam<TensorType> {};

// The NMSE of one product of n random tokens against the reference.
double matmul_error(Backend& gpu, const HostTensor& w, const Weight& gw, int n, std::mt19937& rng) {
  const int64_t rows = w.t.ne[1], cols = w.t.ne[0];
  const std::vector<int32_t> pos(static_cast<size_t>(n), 0), ids(static_cast<size_t>(n), 0);
  begin_batch(gpu, pos, ids);
  const std::vector<float> x = randn(static_cast<size_t>(n * cols), rng);
  std::vector<float> ref(static_cast<size_t>(n * rows));
  ref::matmul(w.host_weight(), x.data(), n, ref.data());
  DevBuf dx(gpu, x), dy(gpu, int64_t(n) * rows);
  gpu.matmul(gw, dx.p, n, dy.p);
  return nmse(dy.get(), ref);
}

// Every token count against the reference: n <= 8 (32 for quantized weights)
// on the matrix-vector kernels, the rest on the GEMM path. With int8 off the
// quantized formats take the float matrix-vector kernel (the sm_53 one).
void check_matmul(TensorType type, bool int8) {
  auto gpu = make_gpu();
#ifdef JETLM_HAVE_CUDA
  // After make_gpu(): the backend sets the tuning from the environment.
  const cuda::MatvecTuning saved = cuda::matvec_tuning();
  cuda::MatvecTuning tuning = saved;
  tuning.int8 = int8 ? 1 : 0;
  cuda::set_matvec_tuning(tuning);
#endif
  std::mt19937 rng(1234 + static_cast<int>(type));
  const bool is_float = type == TensorType::F32 || type == TensorType::F16 || type == TensorType::BF16;
  const double mv_bound = is_float || !int8 ? kFloatBound : kInt8Bound;
  for (int variant = 0; variant < 3; ++variant) {
    const int64_t cols = odd_cols(type, variant);
    const int64_t rows = variant == 2 ? 67 : (variant ? 131 : 37);
    HostTensor w(type, rows, cols, rng);
    const Weight gw = gpu->load_weight(w.t);
    for (int n : {1, 2, 3, 5, 8, 13, 40}) {
      const bool gemm = n > 32 || (n > 8 && is_float);
      EXPECT_LE(matmul_error(*gpu, w, gw, n, rng), gemm ? kGemmBound : mv_bound)
          << type_name(type) << " rows " << rows << " cols " << cols << " n " << n << (int8 ? "" : " (float kernel)");
    }
  }
#ifdef JETLM_HAVE_CUDA
  // The long row once more with every split of it over the warps of a block.
  HostTensor w(type, 67, odd_cols(type, 2), rng);
  const Weight gw = gpu->load_weight(w.t);
  for (int split : {1, 2, 3, 4, 6, 12}) {
    tuning.split = split;
    cuda::set_matvec_tuning(tuning);
    for (int n : {1, 3})
      EXPECT_LE(matmul_error(*gpu, w, gw, n, rng), mv_bound) << type_name(type) << " n " << n << " split " << split;
  }
  cuda::set_matvec_tuning(saved);
#endif
}

TEST_P(MatmulTest, MatchesReference) {
  REQUIRE_GPU();
  check_matmul(GetParam(), true);
}

TEST_P(MatmulTest, FloatKernelMatchesReference) {
  REQUIRE_GPU();
  check_matmul(GetParam(), false);
}

std::string type_case(const ::testing::TestParamInfo<TensorType>& info) { return type_name(info.param); }

INSTANTIATE_TEST_SUITE_P(AllFormats, MatmulTest, ::testing::ValuesIn(kAllTypes), type_case);

// Embedding rows: the GPU dequantizer is bit-exact with the reference.
TEST_P(MatmulTest, EmbedIsExact) {
  REQUIRE_GPU();
  const TensorType type = GetParam();
  auto gpu = make_gpu();
  std::mt19937 rng(99 + static_cast<int>(type));
  const int64_t cols = odd_cols(type, 1), rows = 29;
  HostTensor w(type, rows, cols, rng);
  const Weight gw = gpu->load_weight(w.t);
  const std::vector<int32_t> ids = {3, 0, 28, 3, 17}, pos = {0, 1, 2, 3, 4};
  begin_batch(*gpu, pos, ids);
  DevBuf out(*gpu, int64_t(ids.size()) * cols);
  gpu->embed(gw, out.p);
  std::vector<float> ref(ids.size() * static_cast<size_t>(cols));
  ref::embed(w.host_weight(), ids.data(), static_cast<int>(ids.size()), ref.data());
  EXPECT_EQ(out.get(), ref) << type_name(type);
  // Followed by a scale (Gemma's sqrt(n_embd)), which the lookup takes over: still exact.
  const float s = std::sqrt(static_cast<float>(cols));
  gpu->embed(gw, out.p);
  gpu->scale(out.p, int64_t(ids.size()) * cols, s);
  for (float& v : ref) v *= s;
  EXPECT_EQ(out.get(), ref) << type_name(type) << " scaled";
}

// ---- fused launches: the model's op sequences vs the reference op by op ----

// q, k, v of one normed input with biases; where their types differ, the
// products of the other type run as a second launch beside the first.
TEST(CudaFusion, NormQkvBiasMatches) {
  REQUIRE_GPU();
  std::mt19937 rng(7);
  auto gpu = make_gpu();
  const int64_t E = 256, Q = 256, K = 64;
  const TensorType kTypes[][3] = {{TensorType::Q4_K, TensorType::Q4_K, TensorType::Q4_K},
                                  {TensorType::Q4_K, TensorType::Q4_K, TensorType::Q6_K},
                                  {TensorType::Q5_0, TensorType::Q5_0, TensorType::Q8_0},
                                  {TensorType::Q4_K, TensorType::Q6_K, TensorType::Q6_K}};
  for (const auto& types : kTypes) {
    HostTensor wq(types[0], Q, E, rng), wk(types[1], K, E, rng), wv(types[2], K, E, rng);
    HostTensor nw(TensorType::F32, 1, E, rng), bq(TensorType::F32, 1, Q, rng), bk(TensorType::F32, 1, K, rng),
        bv(TensorType::F32, 1, K, rng);
    const Weight gq = gpu->load_weight(wq.t), gk = gpu->load_weight(wk.t), gv = gpu->load_weight(wv.t);
    const Weight gn = gpu->load_weight(nw.t), gbq = gpu->load_weight(bq.t), gbk = gpu->load_weight(bk.t),
                 gbv = gpu->load_weight(bv.t);
    for (int n : {1, 3, 8}) {
      const std::string what = std::string(type_name(types[2])) + " v, n=" + std::to_string(n);
      const std::vector<int32_t> pos(static_cast<size_t>(n), 0);
      begin_batch(*gpu, pos, pos);
      const std::vector<float> x = randn(static_cast<size_t>(n * E), rng, 3.f);
      DevBuf dx(*gpu, x), dh(*gpu, n * E), dq(*gpu, n * Q), dk(*gpu, n * K), dv(*gpu, n * K);
      gpu->rms_norm(dx.p, &gn, 1e-5f, n, E, dh.p);
      gpu->matmul(gq, dh.p, n, dq.p);
      gpu->matmul(gk, dh.p, n, dk.p);
      gpu->matmul(gv, dh.p, n, dv.p);
      gpu->add_bias(dq.p, gbq, n, Q);
      gpu->add_bias(dk.p, gbk, n, K);
      gpu->add_bias(dv.p, gbv, n, K);
      std::vector<float> h(static_cast<size_t>(n * E)), q(static_cast<size_t>(n * Q)), k(static_cast<size_t>(n * K)),
          v(static_cast<size_t>(n * K));
      ref::rms_norm(x.data(), nw.f32(), 1e-5f, n, E, h.data());
      ref::matmul(wq.host_weight(), h.data(), n, q.data());
      ref::matmul(wk.host_weight(), h.data(), n, k.data());
      ref::matmul(wv.host_weight(), h.data(), n, v.data());
      ref::add_bias(q.data(), bq.f32(), n, Q);
      ref::add_bias(k.data(), bk.f32(), n, K);
      ref::add_bias(v.data(), bv.f32(), n, K);
      EXPECT_LE(nmse(dh.get(), h), kFloatBound) << what;
      EXPECT_LE(nmse(dq.get(), q), kInt8Bound) << what;
      EXPECT_LE(nmse(dk.get(), k), kInt8Bound) << what;
      EXPECT_LE(nmse(dv.get(), v), kInt8Bound) << what;
    }
  }
}

TEST(CudaFusion, NormGateUpGluAndResidualMatch) {
  REQUIRE_GPU();
  std::mt19937 rng(8);
  auto gpu = make_gpu();
  const int64_t E = 192, F = 160;
  for (Glu act : {Glu::SiLU, Glu::GeluTanh}) {
    HostTensor wg(TensorType::Q8_0, F, E, rng), wu(TensorType::Q8_0, F, E, rng);
    HostTensor wd2(TensorType::Q8_0, E, F, rng), nw(TensorType::F32, 1, E, rng);
    const Weight gg = gpu->load_weight(wg.t), gu = gpu->load_weight(wu.t), gd = gpu->load_weight(wd2.t), gn = gpu->load_weight(nw.t);
    for (int n : {1, 2, 7}) {
      const std::vector<int32_t> pos(static_cast<size_t>(n), 0);
      begin_batch(*gpu, pos, pos);
      const std::vector<float> x0 = randn(static_cast<size_t>(n * E), rng, 2.f);
      DevBuf dx(*gpu, x0), dh(*gpu, n * E), dg(*gpu, n * F), du(*gpu, n * F), dout(*gpu, n * E);
      gpu->rms_norm(dx.p, &gn, 1e-6f, n, E, dh.p);
      gpu->matmul(gg, dh.p, n, dg.p);
      gpu->matmul(gu, dh.p, n, du.p);
      gpu->glu(act, dg.p, du.p, n * F, dg.p);
      gpu->matmul(gd, dg.p, n, dout.p);
      gpu->add(dx.p, dout.p, n * E, dx.p);
      std::vector<float> x = x0, h(x.size()), g(static_cast<size_t>(n * F)), u(g.size()), out(x.size());
      ref::rms_norm(x.data(), nw.f32(), 1e-6f, n, E, h.data());
      ref::matmul(wg.host_weight(), h.data(), n, g.data());
      ref::matmul(wu.host_weight(), h.data(), n, u.data());
      ref::glu(act, g.data(), u.data(), n * F, g.data());
      ref::matmul(wd2.host_weight(), g.data(), n, out.data());
      for (size_t i = 0; i < x.size(); ++i) x[i] += out[i];
      EXPECT_LE(nmse(dg.get(), g), kInt8Bound) << n;
      EXPECT_LE(nmse(du.get(), u), kInt8Bound) << n;
      EXPECT_LE(nmse(dout.get(), out), kInt8Bound) << n;
      EXPECT_LE(nmse(dx.get(), x), kInt8Bound) << n;
    }
  }
}

TEST(CudaFusion, PostNormResidualMatches) {
  REQUIRE_GPU();
  std::mt19937 rng(9);
  auto gpu = make_gpu();
  const int n = 5, E = 300;
  HostTensor nw(TensorType::F32, 1, E, rng);
  const Weight gn = gpu->load_weight(nw.t);
  const std::vector<int32_t> pos(n, 0);
  begin_batch(*gpu, pos, pos);
  const std::vector<float> x0 = randn(n * E, rng), y0 = randn(n * E, rng, 4.f);
  DevBuf dx(*gpu, x0), dy(*gpu, y0);
  gpu->rms_norm(dy.p, &gn, 1e-6f, n, E, dy.p);
  gpu->add(dx.p, dy.p, n * E, dx.p);
  std::vector<float> x = x0, y = y0;
  ref::rms_norm(y.data(), nw.f32(), 1e-6f, n, E, y.data());
  for (size_t i = 0; i < x.size(); ++i) x[i] += y[i];
  EXPECT_LE(nmse(dy.get(), y), kFloatBound);
  EXPECT_LE(nmse(dx.get(), x), kFloatBound);
}

// ---- element-wise ops ------------------------------------------------------

// Gemma 3's post-norm + residual followed by the next norm and products (a
// post-norm + residual launch, then the norm-fused gate/up launch), with rows
// that fit the int8 staging in shared memory and rows that do not (7 tokens
// of 3200 values).
TEST(CudaFusion, PostNormResidualThenNormedProductsMatch) {
  REQUIRE_GPU();
  std::mt19937 rng(10);
  auto gpu = make_gpu();
  for (int64_t E : {int64_t(256), int64_t(32 * 100)}) {
    const int64_t F = 96;
    HostTensor wg(TensorType::Q8_0, F, E, rng), wu(TensorType::Q8_0, F, E, rng);
    HostTensor pw(TensorType::F32, 1, E, rng), fw(TensorType::F32, 1, E, rng);
    const Weight gg = gpu->load_weight(wg.t), gu = gpu->load_weight(wu.t), gp = gpu->load_weight(pw.t),
                 gf = gpu->load_weight(fw.t);
    for (int n : {1, 2, 7}) {
      const std::vector<int32_t> pos(static_cast<size_t>(n), 0);
      begin_batch(*gpu, pos, pos);
      const std::vector<float> x0 = randn(static_cast<size_t>(n * E), rng), y0 = randn(static_cast<size_t>(n * E), rng, 4.f);
      DevBuf dx(*gpu, x0), dy(*gpu, y0), dh(*gpu, n * E), dg(*gpu, n * F), du(*gpu, n * F);
      gpu->rms_norm(dy.p, &gp, 1e-6f, n, E, dy.p);
      gpu->add(dx.p, dy.p, n * E, dx.p);
      gpu->rms_norm(dx.p, &gf, 1e-6f, n, E, dh.p);
      gpu->matmul(gg, dh.p, n, dg.p);
      gpu->matmul(gu, dh.p, n, du.p);
      gpu->glu(Glu::GeluTanh, dg.p, du.p, n * F, dg.p);
      std::vector<float> x = x0, y = y0, h(x.size()), g(static_cast<size_t>(n * F)), u(g.size());
      ref::rms_norm(y.data(), pw.f32(), 1e-6f, n, E, y.data());
      for (size_t i = 0; i < x.size(); ++i) x[i] += y[i];
      ref::rms_norm(x.data(), fw.f32(), 1e-6f, n, E, h.data());
      ref::matmul(wg.host_weight(), h.data(), n, g.data());
      ref::matmul(wu.host_weight(), h.data(), n, u.data());
      ref::glu(Glu::GeluTanh, g.data(), u.data(), n * F, g.data());
      EXPECT_LE(nmse(dy.get(), y), kFloatBound) << "E " << E << " n " << n;
      EXPECT_LE(nmse(dx.get(), x), kFloatBound) << "E " << E << " n " << n;
      EXPECT_LE(nmse(dg.get(), g), kInt8Bound) << "E " << E << " n " << n;
      EXPECT_LE(nmse(du.get(), u), kInt8Bound) << "E " << E << " n " << n;
    }
  }
}

TEST(CudaOps, ElementwiseMatch) {
  REQUIRE_GPU();
  std::mt19937 rng(10);
  auto gpu = make_gpu();
  const int rows = 7, dim = 1001;
  const int64_t N = int64_t(rows) * dim;
  const std::vector<int32_t> pos(rows, 0);
  begin_batch(*gpu, pos, pos);
  const std::vector<float> a = randn(N, rng), b = randn(N, rng, 3.f);
  HostTensor nw(TensorType::F32, 1, dim, rng);
  const Weight gn = gpu->load_weight(nw.t);
  DevBuf da(*gpu, a), db(*gpu, b), o1(*gpu, N), o2(*gpu, N), o3(*gpu, N), o4(*gpu, N), o5(*gpu, N);
  gpu->rms_norm(da.p, &gn, 1e-5f, rows, dim, o1.p);
  gpu->rms_norm(da.p, nullptr, 1e-5f, rows, dim, o2.p);
  gpu->add(da.p, db.p, N, o3.p);
  gpu->glu(Glu::SiLU, da.p, db.p, N, o4.p);
  gpu->glu(Glu::GeluTanh, da.p, db.p, N, o5.p);
  std::vector<float> r1(N), r2(N), r3(N), r4(N), r5(N);
  ref::rms_norm(a.data(), nw.f32(), 1e-5f, rows, dim, r1.data());
  ref::rms_norm(a.data(), nullptr, 1e-5f, rows, dim, r2.data());
  for (int64_t i = 0; i < N; ++i) r3[i] = a[i] + b[i];
  ref::glu(Glu::SiLU, a.data(), b.data(), N, r4.data());
  ref::glu(Glu::GeluTanh, a.data(), b.data(), N, r5.data());
  EXPECT_LE(nmse(o1.get(), r1), kFloatBound);
  EXPECT_LE(nmse(o2.get(), r2), kFloatBound);
  EXPECT_LE(nmse(o3.get(), r3), kFloatBound);
  EXPECT_LE(nmse(o4.get(), r4), kFloatBound);
  EXPECT_LE(nmse(o5.get(), r5), kFloatBound);
  // scale, copy, add_bias in place
  HostTensor bias(TensorType::F32, 1, dim, rng);
  const Weight gb = gpu->load_weight(bias.t);
  gpu->scale(o3.p, N, 0.37f);
  gpu->copy(o3.p, N, o4.p);
  gpu->add_bias(o4.p, gb, rows, dim);
  std::vector<float> r = r3;
  for (float& v : r) v *= 0.37f;
  ref::add_bias(r.data(), bias.f32(), rows, dim);
  EXPECT_LE(nmse(o4.get(), r), kFloatBound);
}

TEST(CudaOps, RopeMatches) {
  REQUIRE_GPU();
  std::mt19937 rng(11);
  auto gpu = make_gpu();
  for (bool neox : {false, true}) {
    for (int n_rot : {64, 32}) {
      const int n = 6, H = 5, hd = 64;
      HostTensor ff(TensorType::F32, 1, n_rot / 2, rng);
      for (size_t i = 0; i < static_cast<size_t>(n_rot / 2); ++i) reinterpret_cast<float*>(ff.bytes.data())[i] = 1.f + 0.5f * std::fabs(reinterpret_cast<float*>(ff.bytes.data())[i]);
      const Weight gff = gpu->load_weight(ff.t);
      const std::vector<int32_t> pos = {0, 1, 7, 100, 1000, 4000};
      begin_batch(*gpu, pos, pos);
      const std::vector<float> x0 = randn(n * H * hd, rng);
      RopeParams p;
      p.n_rot = n_rot;
      p.freq_base = 10000.f;
      p.freq_scale = 0.5f;
      p.neox = neox;
      p.freq_factors = n_rot == 32 ? &gff : nullptr;
      DevBuf dx(*gpu, x0);
      gpu->rope(dx.p, n, H, hd, p);
      std::vector<float> x = x0;
      ref::rope(x.data(), n, H, hd, p, n_rot == 32 ? ff.f32() : nullptr, pos.data());
      EXPECT_LE(nmse(dx.get(), x), kRopeBound) << "neox " << neox << " n_rot " << n_rot;
    }
  }
}

// ---- attention: GQA groups, head sizes, windows, KV types, splits -----------

struct AttnCase {
  int n_head, n_head_kv, hd, window;
  TensorType kv;
  int prefill;  // tokens of the first batch; then single-token steps
  int hdv = 0;  // value head size when it differs from hd
  int n_ctx = 700;
};

class AttentionTest : public ::testing::TestWithParam<AttnCase> {};

TEST_P(AttentionTest, MatchesReferenceAcrossSteps) {
  REQUIRE_GPU();
  const AttnCase c = GetParam();
  std::mt19937 rng(12 + c.n_head + c.hd);
  auto gpu = make_gpu();
  const int n_ctx = c.n_ctx;
  const int hdv = c.hdv ? c.hdv : c.hd;
  const int64_t krow = int64_t(c.n_head_kv) * c.hd, vrow = int64_t(c.n_head_kv) * hdv;
  // The device cache has three slots (the sequence in slot 1) and, with a
  // window, only a ring of window + 63 positions (batches here are at most 64
  // tokens of one sequence); the reference cache is one plain strip.
  const int ring = c.window > 0 ? std::min(n_ctx, c.window + 63) : n_ctx;
  KvLayer gkv = gpu->alloc_kv(3, n_ctx, ring, krow, vrow, c.kv);
  const size_t esz = c.kv == TensorType::F32 ? 4 : 2;
  std::vector<uint8_t> host_kv(static_cast<size_t>(n_ctx * (krow + vrow)) * esz);
  KvLayer hkv;
  hkv.type = c.kv;
  hkv.n_ctx = hkv.ring = n_ctx;
  hkv.k_row = krow;
  hkv.v_row = vrow;
  hkv.k = host_kv.data();
  hkv.v = host_kv.data() + static_cast<size_t>(n_ctx * krow) * esz;
  AttnParams p;
  p.n_head = c.n_head;
  p.n_head_kv = c.n_head_kv;
  p.head_dim_k = c.hd;
  p.head_dim_v = hdv;
  p.scale = 1.f / std::sqrt(static_cast<float>(c.hd));
  p.window = c.window;
  RopeParams rp;
  rp.n_rot = c.hd;
  rp.neox = true;
  int past = 0;
  // Ends with a second prompt batch after the single steps (a chunked prompt; tokens past n_ctx dropped).
  // (With a window ring, a prefill longer than 64 tokens goes in batches of 64.)
  std::vector<int> steps;
  if (c.window == 0) steps.push_back(c.prefill);
  else
    for (int left = c.prefill; left > 0; left -= 64) steps.push_back(std::min(left, 64));
  for (int n : {1, 1, 8, 1, 3, 37}) steps.push_back(n);
  for (int n : steps) {
    n = std::min(n, n_ctx - past);
    if (n <= 0) break;
    std::vector<int32_t> pos(static_cast<size_t>(n)), seq(static_cast<size_t>(n), 1);
    for (int i = 0; i < n; ++i) pos[static_cast<size_t>(i)] = past + i;
    begin_batch(*gpu, pos, pos, &seq);
    const std::vector<float> q0 = randn(static_cast<size_t>(n) * c.n_head * c.hd, rng), k0 = randn(static_cast<size_t>(n) * krow, rng),
                             v0 = randn(static_cast<size_t>(n) * vrow, rng);
    DevBuf dq(*gpu, q0), dk(*gpu, k0), dv(*gpu, v0), dout(*gpu, int64_t(n) * c.n_head * hdv);
    gpu->rope(dq.p, n, c.n_head, c.hd, rp);
    gpu->rope(dk.p, n, c.n_head_kv, c.hd, rp);
    gpu->attention(dq.p, dk.p, dv.p, gkv, p, n, dout.p);
    std::vector<float> q = q0, k = k0, out(static_cast<size_t>(n) * c.n_head * hdv);
    ref::rope(q.data(), n, c.n_head, c.hd, rp, nullptr, pos.data());
    ref::rope(k.data(), n, c.n_head_kv, c.hd, rp, nullptr, pos.data());
    ref::attention(q.data(), k.data(), v0.data(), hkv, p, Batch{pos.data(), pos.data(), nullptr, n}, out.data());
    EXPECT_LE(nmse(dout.get(), out), kRopeBound) << "step of " << n << " at " << past;
    // (A one-token step rotates q inside the attention blocks and leaves the buffer as it was.)
    if (n > 1) {
      EXPECT_LE(nmse(dq.get(), q), kRopeBound);
    }
    past += n;
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, AttentionTest,
                         ::testing::Values(AttnCase{4, 4, 64, 0, TensorType::F16, 5},      // MHA
                                           AttnCase{32, 4, 64, 0, TensorType::F16, 300},   // TinyLlama-like, splits
                                           AttnCase{14, 2, 64, 0, TensorType::F16, 130},   // group of 7
                                           AttnCase{16, 1, 128, 0, TensorType::F32, 260},  // group of 16, f32 cache
                                           AttnCase{4, 1, 256, 16, TensorType::F16, 40},   // Gemma-like window
                                           AttnCase{6, 2, 128, 200, TensorType::F16, 500},
                                           // key heads past the one-token kernel's 256: prepared, then the general kernel
                                           AttnCase{8, 2, 320, 0, TensorType::F16, 30, 64},
                                           AttnCase{4, 2, 32, 0, TensorType::F32, 10, 8},
                                           // short contexts that one larger decode block covers without splits
                                           AttnCase{4, 2, 128, 0, TensorType::F16, 20, 0, 120},
                                           AttnCase{4, 1, 256, 0, TensorType::F32, 20, 0, 64},
                                           // prompt tiles of 64 tokens (enough blocks), and a window with a float cache
                                           AttnCase{32, 4, 64, 0, TensorType::F16, 600},
                                           AttnCase{32, 8, 64, 50, TensorType::F32, 300}));

// Gemma's per-head q/k norms before RoPE, fused into the head preparation.
TEST(CudaFusion, QkNormRopeAttentionMatches) {
  REQUIRE_GPU();
  std::mt19937 rng(13);
  auto gpu = make_gpu();
  const int H = 4, Hkv = 1, hd = 256, n_ctx = 64;
  KvLayer gkv = gpu->alloc_kv(1, n_ctx, n_ctx, Hkv * hd, Hkv * hd, TensorType::F16);
  std::vector<uint8_t> host_kv(static_cast<size_t>(n_ctx * 2 * Hkv * hd) * 2);
  KvLayer hkv = gkv;
  hkv.k = host_kv.data();
  hkv.v = host_kv.data() + static_cast<size_t>(n_ctx * Hkv * hd) * 2;
  HostTensor qn(TensorType::F32, 1, hd, rng), kn(TensorType::F32, 1, hd, rng);
  const Weight gqn = gpu->load_weight(qn.t), gkn = gpu->load_weight(kn.t);
  AttnParams p;
  p.n_head = H;
  p.n_head_kv = Hkv;
  p.head_dim_k = p.head_dim_v = hd;
  p.scale = 0.0625f;
  p.window = 16;
  RopeParams rp;
  rp.n_rot = hd;
  rp.neox = true;
  rp.freq_base = 10000.f;
  int past = 0;
  for (int n : {20, 1, 1, 1}) {
    std::vector<int32_t> pos(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) pos[static_cast<size_t>(i)] = past + i;
    begin_batch(*gpu, pos, pos);
    const std::vector<float> q0 = randn(static_cast<size_t>(n * H * hd), rng), k0 = randn(static_cast<size_t>(n * Hkv * hd), rng),
                             v0 = randn(static_cast<size_t>(n * Hkv * hd), rng);
    DevBuf dq(*gpu, q0), dk(*gpu, k0), dv(*gpu, v0), dout(*gpu, int64_t(n) * H * hd);
    gpu->rms_norm(dq.p, &gqn, 1e-6f, int64_t(n) * H, hd, dq.p);
    gpu->rms_norm(dk.p, &gkn, 1e-6f, int64_t(n) * Hkv, hd, dk.p);
    gpu->rope(dq.p, n, H, hd, rp);
    gpu->rope(dk.p, n, Hkv, hd, rp);
    gpu->attention(dq.p, dk.p, dv.p, gkv, p, n, dout.p);
    std::vector<float> q = q0, k = k0, out(static_cast<size_t>(n * H * hd));
    ref::rms_norm(q.data(), qn.f32(), 1e-6f, int64_t(n) * H, hd, q.data());
    ref::rms_norm(k.data(), kn.f32(), 1e-6f, int64_t(n) * Hkv, hd, k.data());
    ref::rope(q.data(), n, H, hd, rp, nullptr, pos.data());
    ref::rope(k.data(), n, Hkv, hd, rp, nullptr, pos.data());
    ref::attention(q.data(), k.data(), v0.data(), hkv, p, Batch{pos.data(), pos.data(), nullptr, n}, out.data());
    EXPECT_LE(nmse(dout.get(), out), kRopeBound) << n;
    past += n;
  }
}

// Continuous batching: one pass mixes single decode tokens of several
// sequences (each at its own length, one of them on a window ring) with a
// prompt chunk of another; the reference runs the same slotted cache on the host.
TEST(CudaAttention, MixedSequencesMatchReference) {
  REQUIRE_GPU();
  std::mt19937 rng(21);
  auto gpu = make_gpu();
  for (int window : {0, 24}) {
    const int H = 8, Hkv = 2, hd = 64, n_ctx = 256, n_seq = 5;
    const int ring = window ? window + 40 - 1 : n_ctx;
    const int64_t row = int64_t(Hkv) * hd;
    KvLayer gkv = gpu->alloc_kv(n_seq, n_ctx, ring, row, row, TensorType::F16);
    std::vector<uint8_t> host_kv(static_cast<size_t>(n_seq * ring * 2 * row) * 2);
    KvLayer hkv = gkv;
    hkv.k = host_kv.data();
    hkv.v = host_kv.data() + static_cast<size_t>(n_seq * ring * row) * 2;
    AttnParams p;
    p.n_head = H;
    p.n_head_kv = Hkv;
    p.head_dim_k = p.head_dim_v = hd;
    p.scale = 0.125f;
    p.window = window;
    std::vector<int> len(n_seq, 0);
    // Steps: (slot, tokens) runs; prompts of 40 at most per run (the ring's batch bound).
    const std::vector<std::vector<std::pair<int, int>>> steps = {
        {{0, 40}, {2, 7}}, {{0, 1}, {2, 1}, {4, 33}}, {{0, 1}, {2, 1}, {4, 1}, {1, 40}},
        {{1, 1}, {0, 1}, {4, 1}, {2, 1}}, {{3, 12}, {0, 1}, {1, 1}, {2, 1}, {4, 1}}, {{0, 40}, {1, 1}, {2, 1}, {3, 1}, {4, 1}}};
    for (const auto& st : steps) {
      std::vector<int32_t> pos, seq;
      for (const auto& r : st)
        for (int i = 0; i < r.second; ++i) {
          seq.push_back(r.first);
          pos.push_back(len[static_cast<size_t>(r.first)]++);
        }
      const int n = static_cast<int>(pos.size());
      begin_batch(*gpu, pos, pos, &seq);
      const std::vector<float> q = randn(static_cast<size_t>(n * H * hd), rng), k = randn(static_cast<size_t>(n * row), rng),
                               v = randn(static_cast<size_t>(n * row), rng);
      DevBuf dq(*gpu, q), dk(*gpu, k), dv(*gpu, v), dout(*gpu, int64_t(n) * H * hd);
      gpu->attention(dq.p, dk.p, dv.p, gkv, p, n, dout.p);
      std::vector<float> out(static_cast<size_t>(n * H * hd));
      ref::attention(q.data(), k.data(), v.data(), hkv, p, Batch{pos.data(), pos.data(), seq.data(), n}, out.data());
      EXPECT_LE(nmse(dout.get(), out), kRopeBound) << "window " << window << " step of " << n;
    }
  }
}

#ifdef JETLM_HAVE_CUDA
// The graph tests' step: h = norm(x) with nw, y = W h (Q4_K), on a CUDA backend.
struct GraphStep {
  static constexpr int64_t E = 256;
  std::mt19937 rng;
  std::unique_ptr<Backend> be = make_gpu();
  cuda::CudaBackend* cuda_be = dynamic_cast<cuda::CudaBackend*>(be.get());
  HostTensor w, nw;
  Weight gw, gn;
  explicit GraphStep(unsigned seed)
      : rng(seed), w(TensorType::Q4_K, E, E, rng), nw(TensorType::F32, 1, E, rng), gw(be->load_weight(w.t)),
        gn(be->load_weight(nw.t)) {}
};

// A one-token step is captured once and replayed: same results as without graphs.
TEST(CudaGraph, DecodeStepsReplayOneGraph) {
  REQUIRE_GPU();
  GraphStep gs(14);
  ASSERT_NE(gs.cuda_be, nullptr);
  const int64_t E = GraphStep::E;
  Backend* be = gs.be.get();
  const HostTensor &w = gs.w, &nw = gs.nw;
  const Weight &gw = gs.gw, &gn = gs.gn;
  std::mt19937& rng = gs.rng;
  std::vector<float> x = randn(E, rng);
  DevBuf dx(*be, x), dh(*be, E), dy(*be, E);
  for (int step = 0; step < 6; ++step) {
    const std::vector<int32_t> pos = {step};
    begin_batch(*be, pos, pos);
    be->write(dx.p, x.data(), E);
    be->rms_norm(dx.p, &gn, 1e-5f, 1, E, dh.p);
    be->matmul(gw, dh.p, 1, dy.p);
    be->add(dx.p, dy.p, E, dx.p);
    std::vector<float> got(E);
    be->read(dx.p, got.data(), E);
    std::vector<float> h(E), y(E);
    ref::rms_norm(x.data(), nw.f32(), 1e-5f, 1, E, h.data());
    ref::matmul(w.host_weight(), h.data(), 1, y.data());
    for (int64_t i = 0; i < E; ++i) x[i] += y[i];
    EXPECT_LE(nmse(got, x), kInt8Bound) << "step " << step;
    x = got;
  }
  EXPECT_EQ(gs.cuda_be->graphs_captured(), 1);
  EXPECT_EQ(gs.cuda_be->graph_launches(), 6);
}

// Batches marked `repeats` start the recorded step before its ops arrive. The
// results stay right when a step differs from the recording (another op, a
// read in the middle: the queued ops run again after the speculative launch)
// and when a step leaves out its host write (the recording starts at the first op).
TEST(CudaGraph, SpeculativeReplayMatchesAndFallsBack) {
  REQUIRE_GPU();
  GraphStep gs(15);
  ASSERT_NE(gs.cuda_be, nullptr);
  const int64_t E = GraphStep::E;
  Backend* be = gs.be.get();
  const HostTensor &w = gs.w, &nw = gs.nw;
  const Weight &gw = gs.gw, &gn = gs.gn;
  std::mt19937& rng = gs.rng;
  DevBuf dx(*be, E), dh(*be, E), dy(*be, E);
  // step kinds: 0 the usual one, 1 an extra scale, 2 a read of h in the middle, 3 x left from the last step
  const int kinds[] = {0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0};
  std::vector<float> x = randn(E, rng);
  int step = 0;
  for (const int kind : kinds) {
    Batch b;
    const int32_t pos = step, id = 0;
    b.pos = &pos;
    b.ids = &id;
    b.n = 1;
    b.repeats = true;
    be->begin(b);
    if (kind != 3) {
      x = randn(E, rng);
      be->write(dx.p, x.data(), E);
    }
    be->rms_norm(dx.p, &gn, 1e-5f, 1, E, dh.p);
    std::vector<float> h(E), y(E), got(E), got_h(E);
    ref::rms_norm(x.data(), nw.f32(), 1e-5f, 1, E, h.data());
    if (kind == 2) {
      be->read(dh.p, got_h.data(), E);
      EXPECT_LE(nmse(got_h, h), kFloatBound) << "step " << step;
    }
    be->matmul(gw, dh.p, 1, dy.p);
    ref::matmul(w.host_weight(), h.data(), 1, y.data());
    if (kind == 1) {
      be->scale(dy.p, E, 0.5f);
      for (float& v : y) v *= 0.5f;
    }
    be->read(dy.p, got.data(), E);
    EXPECT_LE(nmse(got, y), kInt8Bound) << "step " << step << " kind " << kind;
    ++step;
  }
  EXPECT_GE(gs.cuda_be->graph_launches(), 13);
}
#endif

// ---- unified memory: weights read in place from a read-only file mapping ----

TEST(CudaUnified, MappedWeightsGiveTheSameResult) {
  REQUIRE_GPU();
  std::mt19937 rng(15);
  HostTensor w(TensorType::Q6_K, 67, 512, rng);
  const std::string path = temp_dir() + "/unified.bin";
  write_bytes(path, w.bytes);
  const int fd = ::open(path.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  void* map = ::mmap(nullptr, w.bytes.size(), PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  ASSERT_NE(map, MAP_FAILED);
  {
    GgufTensor mapped = w.t;
    mapped.data = static_cast<const uint8_t*>(map);
    auto uni = make_gpu(true);
    auto copy = make_gpu(false);
    const Weight wu = uni->load_weight(mapped), wc = copy->load_weight(w.t);
    const std::vector<int32_t> pos = {0, 1, 2};
    begin_batch(*uni, pos, pos);
    begin_batch(*copy, pos, pos);
    const std::vector<float> x = randn(3 * 512, rng);
    DevBuf xu(*uni, x), yu(*uni, 3 * 67), xc(*copy, x), yc(*copy, 3 * 67);
    uni->matmul(wu, xu.p, 3, yu.p);
    copy->matmul(wc, xc.p, 3, yc.p);
    EXPECT_EQ(yu.get(), yc.get());
  }
  ::munmap(map, w.bytes.size());
}

// ---- golden logits on the GPU: full offload, partial offload, unified --------

std::vector<std::string> golden_names() {
  std::vector<std::string> out;
  DIR* d = opendir(data_path("golden").c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    const std::string f = e->d_name;
    if (f.size() > 5 && f.compare(f.size() - 5, 5, ".json") == 0 && f.rfind("tiny-", 0) == 0) out.push_back(f.substr(0, f.size() - 5));
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

double golden_bound(const std::string& name) {
  const std::string kind = name.substr(name.rfind('-') + 1);
  if (kind == "f32") return 1e-3;
  if (kind == "f16") return 5e-3;
  if (kind == "bf16") return 2e-2;
  return 5e-2;
}

// Offload modes, run in-process through Context (what `jetlm eval -ngl N
// [--unified] [--incremental]` does), so this binary needs no CLI beside it.
// chunk: tokens per decode call (0: all at once). Chunks of 40 make two
// batches of one shape: the second replays the first one's captured graph.
struct GpuMode {
  const char* name;
  int ngl;
  bool unified;
  int chunk;
};
const GpuMode kGpuModes[] = {
    {"full_batch", 99, false, 0},       {"full_incremental", 99, false, 1},
    {"partial_batch", 1, false, 0},     {"partial_incremental", 2, false, 1},
    {"unified_batch", 99, true, 0},     {"unified_incremental", 99, true, 1},
    {"full_chunked", 99, false, 40},
};

class GpuGoldens : public ::testing::TestWithParam<std::tuple<std::string, int>> {};

TEST_P(GpuGoldens, LogitsMatchExact) {
  REQUIRE_GPU();
  const std::string name = std::get<0>(GetParam());
  const GpuMode& mode = kGpuModes[std::get<1>(GetParam())];
  const nlohmann::json c = nlohmann::json::parse(read_text(data_path("golden/" + name + ".json")));
  std::vector<int32_t> ids;
  for (const auto& t : c["tokens"]) ids.push_back(t.get<int32_t>());
  auto model = Model::load(data_path("models/" + name + ".gguf"));
  ContextOptions co;
  co.n_ctx = std::max<int>(static_cast<int>(ids.size()), std::min(model->hparams().n_ctx_train, 4096));
  co.n_gpu_layers = mode.ngl;
  co.unified = mode.unified;
  Context ctx(*model, co);
  const size_t V = static_cast<size_t>(model->hparams().n_vocab);
  std::vector<float> logits(ids.size() * V);
  const size_t chunk = mode.chunk ? static_cast<size_t>(mode.chunk) : ids.size();
  for (size_t i = 0; i < ids.size(); i += chunk) {
    const int n = static_cast<int>(std::min(chunk, ids.size() - i));
    ctx.decode(&ids[i], n, n > 1, logits.data() + i * V);
  }
  const double e = rel_l2(logits, read_f32_file(data_path("golden/" + name + ".exact.f32")));
  EXPECT_LE(e, golden_bound(name)) << name << " " << mode.name << " on " << ctx.backend_summary();
  EXPECT_FALSE(std::isnan(e));
}

std::string golden_case(const ::testing::TestParamInfo<GpuGoldens::ParamType>& info) {
  std::string n = std::get<0>(info.param) + "_" + kGpuModes[std::get<1>(info.param)].name;
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(AllFixtures, GpuGoldens,
                         ::testing::Combine(::testing::ValuesIn(golden_names()), ::testing::Range(0, 7)), golden_case);

TEST(CudaErrors, NoGpuOrBadDeviceIsAClearError) {
  if (gpu_available()) {
    GpuOptions o;
    o.device = 1000;
    try {
      make_gpu_backend(o);
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("device"), std::string::npos) << e.what();
    }
  } else {
    EXPECT_THROW(make_gpu_backend(GpuOptions()), Error);
  }
}

}  // namespace
