#include "backends/cpu/cpu_matmul.h"

#include <algorithm>

#include "util/error.h"

namespace jetlm {

using cpu::Family;

bool cpu_family_of(TensorType t, Family* out) {
  switch (t) {
    case TensorType::F32:
    case TensorType::F16:
    case TensorType::BF16: *out = Family::Float; return true;
    case TensorType::Q8_0:
    case TensorType::IQ4_NL: *out = Family::LegacySigned; return true;
    case TensorType::Q4_0:
    case TensorType::Q5_0:
    case TensorType::Q4_1:
    case TensorType::Q5_1: *out = Family::LegacyMin; return true;
    case TensorType::Q2_K:
    case TensorType::Q3_K:
    case TensorType::Q4_K:
    case TensorType::Q5_K:
    case TensorType::Q6_K: *out = Family::KQuant; return true;
    default: return false;
  }
}

namespace {

// Bytes of a row tile that the token block should leave room for in L2.
constexpr int64_t kActBlockBytes = 256 * 1024;
// Below the wide kernel's range, tokens take the fused matrix-vector kernel
// once each (decoding every weight again, but reading it from memory once):
// rows in blocks of about kFewTokenRowBytes, which stay in L2 while they pass.
constexpr int kFewTokens = cpu::kWideMinTokens - 1;
constexpr int64_t kFewTokenRowBytes = 64 * 1024;

// Token t's rows of quantized activations, as a one-token ActQ8.
cpu::ActQ8 act_token(const cpu::ActQ8& a, int t) {
  cpu::ActQ8 v = a;
  const int64_t k = a.k;
  v.q = a.q + t * k;
  v.d = a.d + t * (k / a.block);
  if (a.s) v.s = a.s + t * (k / 32);
  v.bsum = a.bsum + t * (k / 16);
  return v;
}

template <class T>
void grow(std::vector<T>& v, size_t n) {  // buffers grow on the first call of each size, then stay
  if (v.size() < n) v.resize(n);
}

}  // namespace

// Decoded rows of one thread: up to kMaxWideRows rows of k values in each family's
// form, and the wide kernel's scratch.
struct CpuMatmul::ThreadPanel {
  int64_t k_float = 0, k_quant = 0;  // row lengths the buffers hold
  std::vector<float> f;
  std::vector<int8_t> q, sc;
  std::vector<int16_t> mn;
  std::vector<float> d, m;
  std::vector<uint8_t> scratch;
  cpu::PanelStore store[cpu::kMaxWideRows] = {};

  void reserve(int64_t cols, bool is_float) {
    const int R = cpu::kMaxWideRows;
    if (is_float) {
      if (cols <= k_float) return;
      f.resize(static_cast<size_t>(R * cols));
      for (int r = 0; r < R; ++r) store[r].f = f.data() + r * cols;
      k_float = cols;
    } else {
      if (cols <= k_quant) return;
      q.resize(static_cast<size_t>(R * cols));
      sc.resize(static_cast<size_t>(R * cols / 16));
      mn.resize(static_cast<size_t>(R * cols / 16));
      d.resize(static_cast<size_t>(R * cols / 32));
      m.resize(static_cast<size_t>(R * cols / 32));
      scratch.resize(static_cast<size_t>(cpu::wide_scratch_bytes(cols)));
      for (int r = 0; r < R; ++r) {
        store[r].q = q.data() + r * cols;
        store[r].sc = sc.data() + r * cols / 16;
        store[r].mn = mn.data() + r * cols / 16;
        store[r].d = d.data() + r * cols / 32;
        store[r].m = m.data() + r * cols / 32;
      }
      k_quant = cols;
    }
  }
};

CpuMatmul::CpuMatmul(ThreadPool& pool, const cpu::CpuKernels& kernels) : pool_(pool), kern_(kernels) {
  for (int i = 0; i < pool.size(); ++i) panels_.push_back(std::make_unique<ThreadPanel>());
}

CpuMatmul::~CpuMatmul() = default;

bool CpuMatmul::supports(TensorType t) const {
  Family f;
  const uint32_t id = static_cast<uint32_t>(t);
  return cpu_family_of(t, &f) && id < 32 && kern_.decode[id] != nullptr && kern_.gemv[id] != nullptr;
}

void CpuMatmul::quantize(const float* x, int n, int64_t k, int block, bool with_sums) {
  const size_t nk = static_cast<size_t>(n) * static_cast<size_t>(k);
  grow(act_q_, nk);
  grow(act_d_, nk / static_cast<size_t>(block));
  grow(act_bsum_, nk / 16);
  if (with_sums) grow(act_s_, nk / 32);
  act_.q = act_q_.data();
  act_.d = act_d_.data();
  act_.bsum = act_bsum_.data();
  act_.s = with_sums ? act_s_.data() : nullptr;
  act_.k = k;
  act_.block = block;
  if (n < 2 * pool_.size()) {
    for (int t = 0; t < n; ++t) kern_.quantize_row(x + static_cast<int64_t>(t) * k, t, &act_);
  } else {
    pool_.run([&](int ith, int nth) {
      for (int t = ith; t < n; t += nth) kern_.quantize_row(x + static_cast<int64_t>(t) * k, t, &act_);
    });
  }
}

void CpuMatmul::run(const Weight& w, const float* x, int n, float* y) {
  Family fam;
  if (!supports(w.type) || !cpu_family_of(w.type, &fam)) fail("internal: no fast matmul for ", type_name(w.type));
  const int64_t K = w.cols, R = w.rows;
  const size_t rb = row_bytes(w.type, K);
  const cpu::DecodeRowFn decode = kern_.decode[static_cast<uint32_t>(w.type)];
  const cpu::GemmFn gemm = kern_.gemm[static_cast<int>(fam)];
  const bool is_float = fam == Family::Float;
  // The 32-value families take the activation sums (offsets of unsigned codes).
  if (!is_float) quantize(x, n, K, cpu::act_block(fam), fam != Family::KQuant);

  const int nth = pool_.size();
  for (auto& p : panels_) p->reserve(K, is_float);

  // Chunks of rows, several per thread so that a thread slowed by another
  // process does not hold the others up; multiples of 16 rows keep the
  // threads' output stores on separate cache lines.
  const int64_t target_chunks = static_cast<int64_t>(nth) * 8;
  const int64_t chunk = std::max<int64_t>(16, (R + target_chunks - 1) / target_chunks + 15) / 16 * 16;
  const int64_t n_chunks = (R + chunk - 1) / chunk;
  // Tokens per block: their activations (about k bytes each) stay in L2 while every row tile passes.
  const int tb = static_cast<int>(std::max<int64_t>(8, std::min<int64_t>(n, kActBlockBytes / std::max<int64_t>(K, 1))));
  const uint8_t* base = static_cast<const uint8_t*>(w.data);

  WorkQueue queue;
  if (n <= kFewTokens) {
    // Token generation (one token, or one of each of a few sequences): the
    // fused kernel streams each row once, decoding in registers; further
    // tokens run it again over the same rows while they are still in L2.
    const cpu::GemvFn gemv = kern_.gemv[static_cast<uint32_t>(w.type)];
    const int64_t sub = n == 1 ? chunk : std::max<int64_t>(4, kFewTokenRowBytes / static_cast<int64_t>(rb)) / 4 * 4;
    auto rows = [&](int, int) {
      for (int64_t c = queue.take(); c < n_chunks; c = queue.take()) {
        const int64_t c1 = std::min(R, c * chunk + chunk);
        for (int64_t r0 = c * chunk; r0 < c1; r0 += sub) {
          const int nr = static_cast<int>(std::min(sub, c1 - r0));
          for (int t = 0; t < n; ++t) {
            const cpu::ActQ8 at = is_float ? act_ : act_token(act_, t);
            gemv(base + static_cast<size_t>(r0) * rb, rb, nr, K, &at, x + t * K, y + t * R + r0);
          }
        }
      }
    };
    if (n_chunks == 1) rows(0, 1);
    else pool_.run(rows);
    return;
  }
  // Prompt processing: the wide kernel (8 or 16 interleaved rows) where the ISA has one.
  const cpu::GemmFn wide = n >= cpu::kWideMinTokens ? kern_.gemm_wide[static_cast<int>(fam)] : nullptr;
  const int tile_rows = wide ? kern_.wide_rows[static_cast<int>(fam)] : cpu::kMaxTileRows;
  auto body = [&](int ith, int) {
    ThreadPanel& pn = *panels_[static_cast<size_t>(ith)];
    cpu::PanelRow rows[cpu::kMaxWideRows];
    for (int64_t c = queue.take(); c < n_chunks; c = queue.take()) {
      const int64_t r0 = c * chunk, r1 = std::min(R, r0 + chunk);
      for (int t0 = 0; t0 < n; t0 += tb) {
        const int nt = std::min(tb, n - t0);
        for (int64_t r = r0; r < r1; r += tile_rows) {
          const int nr = static_cast<int>(std::min<int64_t>(tile_rows, r1 - r));
          for (int i = 0; i < nr; ++i) decode(base + static_cast<size_t>(r + i) * rb, K, &pn.store[i], &rows[i]);
          cpu::GemmArgs a;
          a.rows = rows;
          a.n_rows = nr;
          a.k = K;
          a.x = x;
          a.act = &act_;
          a.t0 = t0;
          a.n_tok = nt;
          a.y = y + static_cast<int64_t>(t0) * R + r;
          a.ldy = R;
          a.scratch = pn.scratch.data();
          a.max_code = w.type == TensorType::Q6_K ? 63 : 31;
          (wide ? wide : gemm)(a);
        }
      }
    }
  };
  if (n_chunks == 1) body(0, 1);
  else pool_.run(body);
}

}  // namespace jetlm
