// The fast CPU kernels against the scalar references, for every kernel level
// (scalar, avx2, avx512, avx512vnni / neon, dotprod: each test is
// instantiated per level, and skipped where this CPU or build lacks it), on seeded random inputs
// with odd sizes: rows that are not a multiple of the 4-row tile, 1..17
// tokens, head sizes that are not a multiple of the vector width.
//
// Three levels: each SIMD table against the portable table (decoders and
// quantizer exactly, matrix tiles up to summation order), the canonical
// decode against the reference dequantizer of src/formats, and each backend
// op against ops_ref with a normalised-error bound per format (the fast path
// rounds activations to 8 bits, the reference does not).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "backends/backend.h"
#include "backends/cpu/cpu_backend.h"
#include "backends/cpu/cpu_features.h"
#include "backends/cpu/cpu_matmul.h"
#include "backends/cpu/ops_ref.h"
#include "backends/cpu/thread_pool.h"
#include "formats/blocks.h"
#include "formats/tensor_type.h"
#include "models/context.h"
#include "models/model.h"
#include "test_util.h"
#include "util/error.h"
#include "util/fp16.h"

using namespace jetlm;
using cpu::CpuKernels;
using cpu::Family;

namespace {

// Every format with a fast kernel.
const TensorType kFormats[] = {TensorType::F32,  TensorType::F16,  TensorType::BF16,  TensorType::Q4_0,
                               TensorType::Q4_1, TensorType::Q5_0, TensorType::Q5_1,  TensorType::Q8_0,
                               TensorType::Q2_K, TensorType::Q3_K, TensorType::Q4_K,  TensorType::Q5_K,
                               TensorType::Q6_K, TensorType::IQ4_NL};

bool is_k(TensorType t) {
  Family f;
  return cpu_family_of(t, &f) && f == Family::KQuant;
}

// Normalised mean squared error ||a - b||^2 / ||b||^2.
double nmse(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (static_cast<double>(a[i]) - b[i]) * (static_cast<double>(a[i]) - b[i]);
    den += static_cast<double>(b[i]) * b[i];
  }
  return den > 0 ? num / den : num;
}

std::vector<float> random_floats(std::mt19937& rng, size_t n, float scale = 1.f) {
  std::normal_distribution<float> dist(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

void put_f16(uint8_t* p, float v) {
  const uint16_t h = f32_to_fp16(v);
  std::memcpy(p, &h, 2);
}

// rows x cols of random blocks: random code bits, scales of a realistic size
// (every format decodes any bit pattern; only the fp16 scales need taming).
std::vector<uint8_t> random_matrix(std::mt19937& rng, TensorType t, int64_t rows, int64_t cols) {
  const size_t rb = row_bytes(t, cols);
  std::vector<uint8_t> m(rb * static_cast<size_t>(rows));
  if (t == TensorType::F32 || t == TensorType::F16 || t == TensorType::BF16) {
    const std::vector<float> f = random_floats(rng, static_cast<size_t>(rows * cols), 0.1f);
    for (size_t i = 0; i < f.size(); ++i) {
      if (t == TensorType::F32) std::memcpy(&m[4 * i], &f[i], 4);
      else {
        const uint16_t h = t == TensorType::F16 ? f32_to_fp16(f[i]) : f32_to_bf16(f[i]);
        std::memcpy(&m[2 * i], &h, 2);
      }
    }
    return m;
  }
  for (auto& b : m) b = static_cast<uint8_t>(rng());
  std::uniform_real_distribution<float> scale(0.002f, 0.02f);
  const TypeTraits& tr = type_traits(t);
  for (size_t blk = 0; blk < m.size() / tr.type_size; ++blk) {
    uint8_t* b = m.data() + blk * tr.type_size;
    switch (t) {
      case TensorType::Q4_1:
      case TensorType::Q5_1:
        put_f16(b, scale(rng));
        put_f16(b + 2, -8.f * scale(rng));
        break;
      case TensorType::Q2_K:
        put_f16(b + offsetof(BlockQ2_K, d), scale(rng));
        put_f16(b + offsetof(BlockQ2_K, dmin), scale(rng));
        break;
      case TensorType::Q3_K: put_f16(b + offsetof(BlockQ3_K, d), scale(rng)); break;
      case TensorType::Q4_K:
      case TensorType::Q5_K:
        put_f16(b, scale(rng) / 8);
        put_f16(b + 2, scale(rng) / 8);
        break;
      case TensorType::Q6_K: put_f16(b + offsetof(BlockQ6_K, d), scale(rng) / 16); break;
      default: put_f16(b, scale(rng)); break;  // Q4_0, Q5_0, Q8_0, IQ4_NL: d first
    }
  }
  return m;
}


// A decoded row in its own buffers.
struct Decoded {
  std::vector<float> f, d, m;
  std::vector<int8_t> q, sc;
  std::vector<int16_t> mn;
  cpu::PanelStore store;
  cpu::PanelRow row;
  explicit Decoded(int64_t k)
      : f(k), d(k / 32 + 1), m(k / 32 + 1), q(k), sc(k / 16 + 1), mn(k / 16 + 1),
        store{f.data(), q.data(), sc.data(), mn.data(), d.data(), m.data()} {}
};

// Values of a decoded row, from the canonical form of its family (layout.h).
std::vector<double> reconstruct(TensorType t, const cpu::PanelRow& r, int64_t k) {
  Family fam;
  cpu_family_of(t, &fam);
  std::vector<double> v(static_cast<size_t>(k));
  for (int64_t i = 0; i < k; ++i) {
    switch (fam) {
      case Family::Float: v[i] = r.f[i]; break;
      case Family::LegacySigned: v[i] = static_cast<double>(r.d[i / 32]) * r.q[i]; break;
      case Family::LegacyMin:
        v[i] = static_cast<double>(r.d[i / 32]) * static_cast<uint8_t>(r.q[i]) + r.m[i / 32];
        break;
      case Family::KQuant:
        v[i] = static_cast<double>(r.d[i / 256]) * r.sc[i / 16] * static_cast<uint8_t>(r.q[i]) -
               static_cast<double>(r.m[i / 256]) * r.mn[i / 16];
        break;
    }
  }
  return v;
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) setenv(name_.c_str(), old_.c_str(), 1);
    else unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};


// A test run once per kernel level (the suffix of its name), skipped where
// this CPU or build does not have the level.
class CpuLevel : public ::testing::TestWithParam<CpuIsa> {
 protected:
  void SetUp() override {
    if (!cpu_isa_supported(GetParam())) GTEST_SKIP() << cpu_isa_name(GetParam()) << ": not supported here";
    kt_ = &cpu_kernels(GetParam());
  }
  // The table under test (a list of one, so that the loops below read the same for any number).
  std::vector<const CpuKernels*> tables() const { return {kt_}; }

 private:
  const CpuKernels* kt_ = nullptr;
};

}  // namespace

INSTANTIATE_TEST_SUITE_P(Levels, CpuLevel, ::testing::ValuesIn(all_cpu_isas()),
                         [](const ::testing::TestParamInfo<CpuIsa>& i) { return std::string(cpu_isa_name(i.param)); });

// ---- ISA selection -------------------------------------------------------------

TEST(CpuFeatures, TablesAndSelection) {
  const std::vector<CpuIsa> isas = supported_cpu_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.front(), CpuIsa::Scalar);
#if defined(__x86_64__)
  EXPECT_EQ(cpu::kernels_neon(), nullptr);
  EXPECT_EQ(cpu::kernels_dotprod(), nullptr);
  // Each x86 level implies the previous one.
  EXPECT_TRUE(!cpu_isa_supported(CpuIsa::Avx512Vnni) || cpu_isa_supported(CpuIsa::Avx512));
  EXPECT_TRUE(!cpu_isa_supported(CpuIsa::Avx512) || cpu_isa_supported(CpuIsa::Avx2));
#elif defined(__aarch64__)
  EXPECT_EQ(cpu::kernels_avx2(), nullptr);
  EXPECT_EQ(cpu::kernels_avx512(), nullptr);
  EXPECT_EQ(cpu::kernels_avx512vnni(), nullptr);
  EXPECT_NE(cpu::kernels_neon(), nullptr);  // NEON is baseline AArch64
#endif
  {
    ScopedEnv unset("JETLM_CPU", "");
    EXPECT_EQ(select_cpu_isa(), isas.back());  // empty: the best level
  }
  for (CpuIsa isa : all_cpu_isas()) {
    CpuIsa parsed;
    ASSERT_TRUE(parse_cpu_isa(cpu_isa_name(isa), &parsed));
    EXPECT_EQ(parsed, isa);
    ScopedEnv env("JETLM_CPU", cpu_isa_name(isa));
    if (cpu_isa_supported(isa)) {
      EXPECT_EQ(select_cpu_isa(), isa);
      EXPECT_EQ(select_cpu_isa("scalar"), CpuIsa::Scalar);  // a name given wins over the variable
      EXPECT_STREQ(cpu_kernels(isa).name, cpu_isa_name(isa));
    } else {
      // A level this CPU cannot run: an error that says so, never a silent fallback.
      try {
        select_cpu_isa();
        ADD_FAILURE() << cpu_isa_name(isa) << " selected on a CPU without it";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("does not support"), std::string::npos) << e.what();
      }
      EXPECT_THROW(cpu_kernels(isa), Error);
    }
  }
  ScopedEnv bad("JETLM_CPU", "mmx");
  try {
    select_cpu_isa();
    ADD_FAILURE() << "JETLM_CPU=mmx accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown level"), std::string::npos) << e.what();
  }
  EXPECT_THROW(select_cpu_isa("avx3"), Error);
  EXPECT_GE(physical_cores(), 1);
}

// ---- thread pool ------------------------------------------------------------------

TEST(ThreadPool, EveryThreadRunsEveryTime) {
  for (int n : {1, 2, 3, 7}) {
    ThreadPool pool(n);
    std::atomic<int> calls{0}, sum{0};
    for (int rep = 0; rep < 200; ++rep) {
      pool.run([&](int ith, int nth) {
        EXPECT_EQ(nth, n);
        calls.fetch_add(1);
        sum.fetch_add(ith);
      });
    }
    EXPECT_EQ(calls.load(), 200 * n);
    EXPECT_EQ(sum.load(), 200 * n * (n - 1) / 2);
  }
}

TEST(ThreadPool, WakesSleepingWorkers) {
  ThreadPool pool(3);
  for (int rep = 0; rep < 3; ++rep) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));  // long enough for workers to block
    std::atomic<int> calls{0};
    pool.run([&](int, int) { calls.fetch_add(1); });
    EXPECT_EQ(calls.load(), 3);
  }
}

// ---- each table against the portable one ------------------------------------------

TEST_P(CpuLevel, DecodersMatchScalarAndReference) {
  std::mt19937 rng(1);
  const CpuKernels& scalar = *cpu::kernels_scalar();
  for (TensorType t : kFormats) {
    Family fam;
    ASSERT_TRUE(cpu_family_of(t, &fam));
    const int64_t k = is_k(t) ? 3 * 256 : (fam == Family::Float ? 237 : 7 * 32);
    const std::vector<uint8_t> m = random_matrix(rng, t, 1, k);
    std::vector<float> ref(static_cast<size_t>(k));
    type_traits(t).dequant(m.data(), ref.data(), k);
    Decoded want(k);
    scalar.decode[static_cast<int>(t)](m.data(), k, &want.store, &want.row);
    const std::vector<double> rec = reconstruct(t, want.row, k);
    double amax = 0;
    for (float x : ref) amax = std::max(amax, static_cast<double>(std::fabs(x)));
    for (int64_t i = 0; i < k; ++i)
      ASSERT_NEAR(rec[i], ref[i], 1e-6 * amax) << type_name(t) << " value " << i;
    for (const CpuKernels* kt : tables()) {
      Decoded got(k);
      kt->decode[static_cast<int>(t)](m.data(), k, &got.store, &got.row);
      const std::vector<double> g = reconstruct(t, got.row, k);
      for (int64_t i = 0; i < k; ++i) ASSERT_EQ(g[i], rec[i]) << kt->name << " " << type_name(t) << " value " << i;
    }
  }
}

TEST_P(CpuLevel, QuantizeMatchesScalar) {
  std::mt19937 rng(2);
  const CpuKernels& scalar = *cpu::kernels_scalar();
  for (int block : {32, 256}) {
    const int64_t k = 3 * 256, n = 5;
    std::vector<float> x = random_floats(rng, static_cast<size_t>(n * k));
    x[7] = 0.f;
    std::fill(x.begin() + 256, x.begin() + 512, 0.f);  // an all-zero block
    auto run = [&](const CpuKernels& kt, std::vector<int8_t>& q, std::vector<float>& d, std::vector<float>& s,
                   std::vector<int16_t>& bs) {
      q.assign(n * k, 0);
      d.assign(n * k / block, 0.f);
      s.assign(n * k / 32, 0.f);
      bs.assign(n * k / 16, 0);
      cpu::ActQ8 a;
      a.q = q.data();
      a.d = d.data();
      a.s = s.data();
      a.bsum = bs.data();
      a.k = k;
      a.block = block;
      for (int t = 0; t < n; ++t) kt.quantize_row(x.data() + t * k, t, &a);
    };
    std::vector<int8_t> q0, q1;
    std::vector<float> d0, d1, s0, s1;
    std::vector<int16_t> b0, b1;
    run(scalar, q0, d0, s0, b0);
    for (size_t i = 0; i < q0.size(); ++i) {
      ASSERT_GE(q0[i], -127);
      ASSERT_NEAR(q0[i] * d0[i / block], x[i], d0[i / block] * 0.5f + 1e-7f);
    }
    for (const CpuKernels* kt : tables()) {
      run(*kt, q1, d1, s1, b1);
      EXPECT_EQ(q1, q0) << kt->name;
      EXPECT_EQ(d1, d0) << kt->name;
      EXPECT_EQ(b1, b0) << kt->name;
      EXPECT_EQ(s1, s0) << kt->name;
    }
  }
}

// The matrix tiles of every table (and the wide 8-row kernels where a table
// has them) against the portable table, odd shapes.
TEST_P(CpuLevel, GemmMatchesScalar) {
  std::mt19937 rng(3);
  const CpuKernels& scalar = *cpu::kernels_scalar();
  for (TensorType t : kFormats) {
    Family fam;
    ASSERT_TRUE(cpu_family_of(t, &fam));
    const int64_t k = is_k(t) ? 2 * 256 : (fam == Family::Float ? 7 * 32 + 13 : 9 * 32);
    if (fam == Family::Float && t != TensorType::F32) continue;  // F16/BF16 decode to the same float tile
    const int n = 17;
    constexpr int kRows = cpu::kMaxWideRows;
    const std::vector<uint8_t> m = random_matrix(rng, t, kRows, k);
    const std::vector<float> x = random_floats(rng, static_cast<size_t>(n * k));
    std::vector<Decoded> dec;
    for (int r = 0; r < kRows; ++r) dec.emplace_back(k);
    cpu::PanelRow rows[kRows];
    for (int r = 0; r < kRows; ++r)
      scalar.decode[static_cast<int>(t)](m.data() + r * row_bytes(t, k), k, &dec[r].store, &rows[r]);
    std::vector<int8_t> q(n * k);
    std::vector<float> d(n * k / 32), s(n * k / 32);
    std::vector<int16_t> bs(n * k / 16);
    cpu::ActQ8 a{q.data(), d.data(), s.data(), bs.data(), k, cpu::act_block(fam)};
    if (fam != Family::Float)  // float weights take the float activations
      for (int i = 0; i < n; ++i) scalar.quantize_row(x.data() + i * k, i, &a);
    std::vector<uint8_t> scratch(static_cast<size_t>(cpu::wide_scratch_bytes(k)));
    for (int nr : {1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 15, kRows}) {
      for (int nt : {1, 2, 3, 5, 17}) {
        cpu::GemmArgs g;
        g.k = k;
        g.x = x.data();
        g.act = &a;
        g.t0 = n - nt;
        g.n_tok = nt;
        g.ldy = nr;
        g.scratch = scratch.data();
        g.max_code = t == TensorType::Q6_K ? 63 : 31;
        std::vector<float> want(nt * nr), got(nt * nr);
        // The portable kernel takes 4 rows per call.
        for (int r0 = 0; r0 < nr; r0 += 4) {
          g.rows = rows + r0;
          g.n_rows = std::min(4, nr - r0);
          g.y = want.data() + r0;
          scalar.gemm[static_cast<int>(fam)](g);
        }
        for (const CpuKernels* kt : tables()) {
          for (int r0 = 0; r0 < nr; r0 += 4) {
            g.rows = rows + r0;
            g.n_rows = std::min(4, nr - r0);
            g.y = got.data() + r0;
            kt->gemm[static_cast<int>(fam)](g);
          }
          EXPECT_LT(nmse(got, want), 1e-11) << kt->name << " " << type_name(t) << " rows " << nr << " tokens " << nt;
          const cpu::GemmFn wide = kt->gemm_wide[static_cast<int>(fam)];
          if (wide && nr <= kt->wide_rows[static_cast<int>(fam)]) {
            std::fill(got.begin(), got.end(), 0.f);
            g.rows = rows;
            g.n_rows = nr;
            g.y = got.data();
            wide(g);
            EXPECT_LT(nmse(got, want), 1e-11) << kt->name << " wide " << type_name(t) << " rows " << nr << " tokens " << nt;
          }
        }
      }
    }
  }
}

// The fused matrix-vector kernels (token generation) of every table against
// the portable table, and against the panel path of the same table.
TEST_P(CpuLevel, GemvMatchesScalarAndPanel) {
  std::mt19937 rng(8);
  const CpuKernels& scalar = *cpu::kernels_scalar();
  for (TensorType t : kFormats) {
    Family fam;
    ASSERT_TRUE(cpu_family_of(t, &fam));
    const int64_t k = is_k(t) ? 3 * 256 : (fam == Family::Float ? 7 * 32 + 13 : 11 * 32);
    const int rows = 7;
    const std::vector<uint8_t> m = random_matrix(rng, t, rows, k);
    const std::vector<float> x = random_floats(rng, static_cast<size_t>(k));
    std::vector<int8_t> q(k);
    std::vector<float> d(k / 32), s(k / 32);
    std::vector<int16_t> bs(k / 16);
    cpu::ActQ8 a{q.data(), d.data(), s.data(), bs.data(), k, cpu::act_block(fam)};
    if (fam != Family::Float) scalar.quantize_row(x.data(), 0, &a);
    const size_t rb = row_bytes(t, k);
    std::vector<float> want(rows), got(rows), panel(rows);
    scalar.gemv[static_cast<int>(t)](m.data(), rb, rows, k, &a, x.data(), want.data());
    for (const CpuKernels* kt : tables()) {
      kt->gemv[static_cast<int>(t)](m.data(), rb, rows, k, &a, x.data(), got.data());
      EXPECT_LT(nmse(got, want), 1e-11) << kt->name << " " << type_name(t);
      for (int r = 0; r < rows; ++r) {
        Decoded dec(k);
        cpu::PanelRow row;
        kt->decode[static_cast<int>(t)](m.data() + r * rb, k, &dec.store, &row);
        cpu::GemmArgs g;
        g.rows = &row;
        g.n_rows = 1;
        g.k = k;
        g.x = x.data();
        g.act = &a;
        g.n_tok = 1;
        g.y = &panel[r];
        g.ldy = 1;
        kt->gemm[static_cast<int>(fam)](g);
      }
      EXPECT_LT(nmse(panel, got), 1e-11) << kt->name << " " << type_name(t) << " panel vs fused";
    }
  }
}

// ---- backend ops against ops_ref ------------------------------------------------------

namespace {

std::unique_ptr<Backend> fast_backend(const CpuKernels& kt, int threads) {
  CpuOptions o;
  o.n_threads = threads;
  o.isa = kt.name;
  return make_cpu_backend(o);
}

// Bound on the normalised error of a matmul against float32 activations: the
// fast path rounds activations to 8 bits per 32 (per 256 for K formats).
double matmul_bound(TensorType t) {
  Family f;
  cpu_family_of(t, &f);
  if (f == Family::Float) return 1e-10;
  return f == Family::KQuant ? 2e-4 : 1e-4;
}

}  // namespace

TEST_P(CpuLevel, MatmulEveryFormatOddShapes) {
  std::mt19937 rng(4);
  for (const CpuKernels* kt : tables()) {
    for (int threads : {1, 3}) {
      auto be = fast_backend(*kt, threads);
      for (TensorType t : kFormats) {
        const int64_t cols = is_k(t) ? 512 : (t == TensorType::F32 || t == TensorType::F16 ? 200 : 160);
        const int64_t rows = threads == 1 ? 37 : 131;
        const std::vector<uint8_t> m = random_matrix(rng, t, rows, cols);
        Weight w;
        w.type = t;
        w.cols = cols;
        w.rows = rows;
        w.data = m.data();
        for (int n = 1; n <= 17; n += (n < 5 ? 1 : 6)) {
          const std::vector<float> x = random_floats(rng, static_cast<size_t>(n * cols));
          std::vector<float> want(n * rows), got(n * rows);
          ref::matmul(w, x.data(), n, want.data());
          be->matmul(w, x.data(), n, got.data());
          EXPECT_LT(nmse(got, want), matmul_bound(t))
              << kt->name << " " << type_name(t) << " threads " << threads << " tokens " << n;
        }
      }
    }
  }
}

TEST_P(CpuLevel, ElementwiseOps) {
  std::mt19937 rng(5);
  for (const CpuKernels* kt : tables()) {
    auto be = fast_backend(*kt, 2);
    for (int64_t dim : {1, 7, 64, 896, 100003}) {
      const std::vector<float> a = random_floats(rng, dim, 3.f), b = random_floats(rng, dim);
      std::vector<float> want(dim), got(dim);
      for (Glu g : {Glu::SiLU, Glu::GeluTanh}) {
        ref::glu(g, a.data(), b.data(), dim, want.data());
        be->glu(g, a.data(), b.data(), dim, got.data());
        EXPECT_LT(nmse(got, want), 1e-12) << kt->name << " glu " << static_cast<int>(g) << " n " << dim;
      }
      std::vector<float> wv(dim);
      for (auto& x : wv) x = 1.f + 0.1f * std::uniform_real_distribution<float>(-1, 1)(rng);
      Weight nw;
      nw.type = TensorType::F32;
      nw.cols = dim;
      nw.rows = 1;
      nw.data = wv.data();
      ref::rms_norm(a.data(), wv.data(), 1e-6f, 1, dim, want.data());
      be->rms_norm(a.data(), &nw, 1e-6f, 1, dim, got.data());
      EXPECT_LT(nmse(got, want), 1e-9) << kt->name << " rms_norm " << dim;  // the reference sums serially
      be->add(a.data(), b.data(), dim, got.data());
      for (int64_t i = 0; i < dim; ++i) ASSERT_EQ(got[i], a[i] + b[i]);
      got = a;
      be->scale(got.data(), dim, 0.37f);
      for (int64_t i = 0; i < dim; ++i) ASSERT_EQ(got[i], a[i] * 0.37f);
    }
  }
}

TEST_P(CpuLevel, RopeMatchesReference) {
  std::mt19937 rng(6);
  for (const CpuKernels* kt : tables()) {
    auto be = fast_backend(*kt, 2);
    for (bool neox : {false, true}) {
      const int n = 5, n_head = 3, head_dim = 80;
      std::vector<int32_t> ids(n, 0), pos = {0, 1, 7, 300, 4095};
      be->begin(Batch{ids.data(), pos.data(), nullptr, n});
      RopeParams p;
      p.n_rot = 64;
      p.freq_base = 10000.f;
      p.freq_scale = 0.5f;
      p.neox = neox;
      std::vector<float> want = random_floats(rng, static_cast<size_t>(n * n_head * head_dim)), got = want;
      ref::rope(want.data(), n, n_head, head_dim, p, nullptr, pos.data());
      be->rope(got.data(), n, n_head, head_dim, p);
      // Same float formula as the reference; the compiler may still contract
      // or vectorize the two differently (AArch64 -O3), hence not bit-exact.
      EXPECT_LT(nmse(got, want), 1e-12) << kt->name << " neox " << neox;
    }
  }
}

// Attention over a cache filled in several batches, GQA, sliding window, odd head sizes;
// the fast backend's cache has three slots (the sequence in the last one) and,
// with a window, only a ring of window + 99 positions (the longest batch is 100).
TEST_P(CpuLevel, AttentionMatchesReference) {
  std::mt19937 rng(7);
  struct Case {
    int n_head, n_head_kv, head_dim, window;
  };
  for (const CpuKernels* kt : tables()) {
    for (const Case c : {Case{4, 2, 64, 0}, Case{6, 1, 80, 5}, Case{2, 2, 36, 0}, Case{12, 1, 256, 0}}) {
      for (TensorType kv_type : {TensorType::F32, TensorType::F16}) {
        auto be = fast_backend(*kt, 3);
        CpuOptions ro;
        ro.reference = true;
        auto rb = make_cpu_backend(ro);
        const int n_ctx = 160;
        const int64_t kd = static_cast<int64_t>(c.n_head_kv) * c.head_dim;
        KvLayer kv_ref = rb->alloc_kv(1, n_ctx, n_ctx, kd, kd, TensorType::F32);
        const int ring = c.window > 0 ? c.window + 99 : n_ctx;
        KvLayer kv = be->alloc_kv(3, n_ctx, ring, kd, kd, kv_type);
        AttnParams p;
        p.n_head = c.n_head;
        p.n_head_kv = c.n_head_kv;
        p.head_dim_k = p.head_dim_v = c.head_dim;
        p.scale = 1.f / std::sqrt(static_cast<float>(c.head_dim));
        p.window = c.window;
        int past = 0;
        for (int n : {17, 1, 3, 100, 1}) {
          std::vector<int32_t> ids(n, 0), pos(n), seq(n, 2);
          for (int i = 0; i < n; ++i) pos[i] = past + i;
          rb->begin(Batch{ids.data(), pos.data(), nullptr, n});
          be->begin(Batch{ids.data(), pos.data(), seq.data(), n});
          const std::vector<float> q = random_floats(rng, static_cast<size_t>(n) * c.n_head * c.head_dim);
          const std::vector<float> k = random_floats(rng, static_cast<size_t>(n * kd));
          const std::vector<float> v = random_floats(rng, static_cast<size_t>(n * kd));
          std::vector<float> want(q.size()), got(q.size());
          rb->attention(q.data(), k.data(), v.data(), kv_ref, p, n, want.data());
          be->attention(q.data(), k.data(), v.data(), kv, p, n, got.data());
          const double bound = kv_type == TensorType::F16 ? 2e-6 : 1e-11;
          EXPECT_LT(nmse(got, want), bound) << kt->name << " heads " << c.n_head << "/" << c.n_head_kv << " dim "
                                            << c.head_dim << " kv " << type_name(kv_type) << " n " << n;
          past += n;
        }
      }
    }
  }
}

// ---- a whole model through each table -------------------------------------------------

TEST_P(CpuLevel, ModelMatchesReferenceLogits) {
  const std::string path = std::string(JETLM_TEST_DATA) + "/../../models/stories260K.gguf";
  auto model = Model::load(path);
  const std::vector<int32_t> ids = {1, 403, 407, 261, 378, 13, 417, 45, 2, 300, 301, 302, 303};
  const int V = model->hparams().n_vocab;
  ContextOptions ro;
  ro.reference = true;
  Context ref_ctx(*model, ro);
  std::vector<float> want(ids.size() * V);
  ref_ctx.decode(ids.data(), static_cast<int>(ids.size()), true, want.data());
  {
    const CpuIsa isa = GetParam();
    ScopedEnv env("JETLM_CPU", cpu_isa_name(isa));
    for (bool incremental : {false, true}) {
      ContextOptions co;
      co.n_threads = 2;
      Context ctx(*model, co);
      std::vector<float> got(ids.size() * V);
      if (incremental) {
        for (size_t i = 0; i < ids.size(); ++i) ctx.decode(&ids[i], 1, false, got.data() + i * V);
      } else {
        ctx.decode(ids.data(), static_cast<int>(ids.size()), true, got.data());
      }
      EXPECT_LT(std::sqrt(nmse(got, want)), 1e-3) << cpu_isa_name(isa) << (incremental ? " incremental" : " batch");
    }
  }
}

// ---- jetlm bench ---------------------------------------------------------------------

TEST(CpuBench, SweepsListsAndReportsEverySample) {
  const std::string model = std::string(JETLM_TEST_DATA) + "/../../models/stories260K.gguf";
  const auto r = jetlm_test::run_jetlm(
      {"bench", "-m", model, "-p", "8,16", "-n", "4", "-pg", "8,4", "-t", "1,2", "-r", "2", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j.size(), 8u);  // 2 thread counts x (pp8, pp16, tg4, pp8+tg4)
  for (const auto& row : j) {
    EXPECT_EQ(row["samples_ns"].size(), 2u);
    EXPECT_EQ(row["samples_ts"].size(), 2u);
    EXPECT_GT(row["avg_ts"].get<double>(), 0.0);
    EXPECT_GT(row["peak_rss"].get<double>(), 0.0);
    EXPECT_EQ(row["gpu_bytes"], -1);  // CPU only: no device memory
    EXPECT_EQ(row["unified"], false);
    const bool tg = row["n_prompt"] == 0;
    EXPECT_EQ(row["avg_gbs"].get<double>() > 0.0, tg) << row.dump();
  }
  EXPECT_EQ(j[0]["n_threads"], 1);
  EXPECT_EQ(j[4]["n_threads"], 2);
  EXPECT_EQ(j[3]["n_prompt"], 8);
  EXPECT_EQ(j[3]["n_gen"], 4);

  const auto md = jetlm_test::run_jetlm({"bench", "-m", model, "-p", "8", "-n", "0", "-r", "1"});
  ASSERT_EQ(md.exit_code, 0) << md.err;
  EXPECT_NE(md.out.find("| model"), std::string::npos);
  EXPECT_NE(md.out.find("pp8"), std::string::npos);
  EXPECT_EQ(jetlm_test::run_jetlm({"bench", "-m", model, "-o", "xml"}).exit_code, 2);
  EXPECT_EQ(jetlm_test::run_jetlm({"bench"}).exit_code, 2);
}
