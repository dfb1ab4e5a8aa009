// Data layouts shared by the fast CPU kernels of every ISA: activations
// quantized to 8 bits, and weight rows decoded into a "canonical" form that
// one matrix kernel per format family can consume.
//
// Why decode first: every quantized format is, after unpacking, small integer
// codes with integer or float group scales. Decoding a few rows once into an
// L1/L2-resident panel and then sweeping many tokens over it reuses each
// decoded block across the whole token tile (prompt processing), and keeps the
// format-specific code down to one small block decoder per format
// (decode_impl.h). Token generation calls the same decoders from the fused
// matrix-vector kernels (gemv_impl.h), which multiply in registers and never
// store a panel.
//
// Plain structs of pointers only: this header is included by the ISA-specific
// translation units, which must not share inline code with the portable ones.
#pragma once
#include <cstdint>

namespace jetlm {
namespace cpu {

// Format families: each has one matrix kernel (per ISA).
enum class Family : uint8_t {
  Float,        // F32/F16/BF16 weights decoded to float32; float activations
  LegacySigned, // 32-value blocks, signed codes, float scale (Q8_0, IQ4_NL)
  LegacyMin,    // 32-value blocks, unsigned codes, float scale and offset (Q4_1, Q5_1;
                // Q4_0 and Q5_0 too, their bias -8 / -16 as the offset)
  KQuant,       // 256-value super-blocks, unsigned codes, integer sub-scales and mins (Q2_K..Q6_K)
};

// Values per activation scale for a family (one activation d per weight scale group).
constexpr int act_block(Family f) { return f == Family::KQuant ? 256 : 32; }

// n tokens of activations, each row of k values quantized: x ~= d[k / block] * q[k].
// Rows are contiguous per array: token t's codes start at q + t * k.
struct ActQ8 {
  int8_t* q = nullptr;      // [n][k], rows 32-byte aligned (k is a multiple of 32)
  float* d = nullptr;       // [n][k / block]
  float* s = nullptr;       // [n][k / 32]: d * sum of the 32 codes of each block (LegacyMin offsets)
  int16_t* bsum = nullptr;  // [n][k / 16]: sum of each 16 codes (KQuant mins)
  int64_t k = 0;
  int block = 32;
};

// One weight row decoded to the canonical form of its family. Per family:
//   Float:        f[k]
//   LegacySigned: q[k] signed codes, d[k/32];                 w = d * q
//   LegacyMin:    q[k] unsigned codes, d[k/32], m[k/32];      w = d * q + m
//   KQuant:       q[k] unsigned codes, sc[k/16], mn[k/16], d[k/256], dmin[k/256];
//                 w = d * sc[g] * q - dmin * mn[g]   (g = group of 16 values)
// Signed offsets of the K formats (Q3_K's -4, Q6_K's -32) are folded into mn
// with dmin = d, so that every K code is unsigned: x86's maddubs multiplies
// unsigned by signed bytes.
struct PanelRow {
  const float* f = nullptr;
  const int8_t* q = nullptr;
  const int8_t* sc = nullptr;
  const int16_t* mn = nullptr;
  const float* d = nullptr;
  const float* m = nullptr;  // LegacyMin offsets; KQuant dmin
};

// Writable storage for one decoded row (sized by the caller for k values).
struct PanelStore {
  float* f;
  int8_t* q;
  int8_t* sc;
  int16_t* mn;
  float* d;
  float* m;
  PanelRow view() const { return PanelRow{f, q, sc, mn, d, m}; }
};

// Decodes one row of k values of a file format into a panel row. For F32
// weights the decoder may point f at the source instead of copying.
using DecodeRowFn = void (*)(const void* src, int64_t k, PanelStore* out, PanelRow* row);

// y[t * ldy + r] = dot(row r, token t) for rows [0, n_rows) of the panel and
// tokens [0, n_tok). x: float activations (Float family, row stride k), or
// act (the other families), tokens counted from act row t0.
struct GemmArgs {
  const PanelRow* rows = nullptr;
  int n_rows = 0;  // up to 4 (gemm), up to the table's wide_rows (gemm_wide)
  int64_t k = 0;
  const float* x = nullptr;  // Float family: [n_tok][k]
  const ActQ8* act = nullptr;
  int t0 = 0;     // first token (row of x / act)
  int n_tok = 0;
  float* y = nullptr;  // y[t * ldy + r], t counted from t0
  int64_t ldy = 0;
  // gemm_wide only: per-thread scratch of at least wide_scratch_bytes(k), and the
  // largest unsigned code of the format (how many products fit an int16 lane).
  uint8_t* scratch = nullptr;
  int max_code = 255;
};
// Most rows of one wide call (kernels.h: kMaxWideRows).
constexpr int kMaxWideRowsLayout = 16;
// Per 8 rows: interleaved codes (8 k), and per 256 values 16 + 8 vectors of
// scales and mins and 2 x 8 floats (K formats); per 32 values 2 x 8 floats
// (32-value formats).
constexpr int64_t wide_scratch_bytes(int64_t k) {
  return kMaxWideRowsLayout / 8 * (8 * k + 4 * k + 2 * 8 * (k / 32) * 4) + 128;
}
using GemmFn = void (*)(const GemmArgs& a);

}  // namespace cpu
}  // namespace jetlm
