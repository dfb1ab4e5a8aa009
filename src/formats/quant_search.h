// The error-minimising scale searches shared by the quantizers. They follow
// ggml's searches operation for operation (same float expression order, same
// tie-breaking) so that jetlm writes the blocks llama.cpp's llama-quantize
// writes; the ggml name of each is given for reference.
//
// Conventions: x holds n values; L receives one non-negative code per value;
// the returned scale d means x ~ d * (L - bias) (+ min for the offset searches).
#pragma once
#include <cstdint>
#include <cstring>

namespace jetlm {

// Round to nearest, ties to even, for |x| < 2^22: adding 1.5 * 2^23 leaves the
// rounded integer in the low mantissa bits (ggml's nearest_int).
inline int nearest_int(float x) {
  const float shifted = x + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &shifted, 4);
  return (bits & 0x007fffff) - 0x00400000;
}

// Below this absolute maximum a group counts as all zero (ggml's GROUP_MAX_EPS).
constexpr float kGroupMaxEps = 1e-15f;

// Symmetric codes in [-nmax, nmax-1], stored as L = code + nmax. Starts from
// the scale that maps the largest |x| to -nmax, then tries 18 nearby
// scales and keeps the one with the least weighted squared error (the least-
// squares scale for each candidate set of codes). weights null: w = x^2.
// (ggml: make_qx_quants with rmse_type 1.)
float fit_symmetric(int n, int nmax, const float* x, const float* weights, int8_t* L);

// As fit_symmetric for Q3_K without an importance matrix: w = x^2, and the
// codes are refined one at a time while that lowers the error. (ggml: make_q3_quants, do_rmse.)
float fit_symmetric_refine(int n, int nmax, const float* x, int8_t* L);

// Codes in [0, nmax] with x ~ d * L - min (min >= 0 returned in *the_min).
// Tries nstep+1 scales (nmax + rmin + rdelta*is) / (max - min) and, for each
// candidate set of codes, solves the weighted least-squares scale and offset;
// keeps the best by weighted squared (or, use_mad, absolute) error. Laux is
// scratch of n bytes. (ggml: make_qkx2_quants, make_qkx3_quants.)
float fit_scale_min(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                    uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad);

// Codes in [0, nmax] for non-negative x (the sub-block scales and mins of the
// K formats, quantized once more), weighted by quant_weights. (ggml: make_qp_quants.)
float fit_positive(int n, int nmax, const float* x, uint8_t* L, const float* quant_weights);

// Index of the entry of the sorted table val (n a power of two) nearest to x;
// a value halfway between two entries takes the upper one. (ggml: best_index_int8.)
int nearest_level(int n, const int8_t* val, float x);

}  // namespace jetlm
