// Scale searches of the reference quantizers (see quant_search.h). The float
// expressions keep ggml's operand order on purpose: a reordered sum or
// product can flip a rounding and with it a code, and then jetlm's files stop
// matching llama.cpp's byte for byte.
#include "formats/quant_search.h"

#include <algorithm>
#include <cmath>

// Same float results as the GCC build everywhere: no fused multiply-adds
// (GCC does not contract in ISO mode; clang would by default).
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

namespace jetlm {

namespace {

// Weighted sums of one candidate set of symmetric codes (code = l, not L).
struct SymSums {
  float sumlx = 0;  // sum w * x * l
  float suml2 = 0;  // sum w * l * l
};

inline int clamp_sym(int l, int nmax) { return std::max(-nmax, std::min(nmax - 1, l)); }

inline float weight_of(const float* weights, const float* x, int i) { return weights ? weights[i] : x[i] * x[i]; }

}  // namespace

float fit_symmetric(int n, int nmax, const float* x, const float* weights, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, static_cast<size_t>(n));
    return 0.f;
  }
  // The signed extreme maps to -nmax, the one code with no positive twin.
  float iscale = -nmax / max;
  SymSums best_sums;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_sym(nearest_int(iscale * x[i]), nmax);
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = weight_of(weights, x, i);
    best_sums.sumlx += w * x[i] * l;
    best_sums.suml2 += w * l * l;
  }
  float scale = best_sums.suml2 ? best_sums.sumlx / best_sums.suml2 : 0.0f;
  // With the least-squares scale the error is sum w x^2 - sumlx^2 / suml2, so
  // maximising sumlx * scale minimises the error.
  float best = scale * best_sums.sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    SymSums s;
    for (int i = 0; i < n; ++i) {
      const int l = clamp_sym(nearest_int(iscale * x[i]), nmax);
      const float w = weight_of(weights, x, i);
      s.sumlx += w * x[i] * l;
      s.suml2 += w * l * l;
    }
    if (s.suml2 > 0 && s.sumlx * s.sumlx > best * s.suml2) {
      for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(nmax + clamp_sym(nearest_int(iscale * x[i]), nmax));
      scale = s.sumlx / s.suml2;
      best = scale * s.sumlx;
    }
  }
  return scale;
}

float fit_symmetric_refine(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEps) {
    std::memset(L, 0, static_cast<size_t>(n));
    return 0.f;
  }
  const float iscale = -nmax / max;
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_sym(nearest_int(iscale * x[i]), nmax);
    L[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  // Coordinate descent: move one code to its best value for the scale the
  // others imply, keep it if sumlx^2 / suml2 (the explained energy) grows.
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * L[i];
      if (slx > 0) {
        float sl2 = suml2 - w * L[i] * L[i];
        const int new_l = clamp_sym(nearest_int(x[i] * sl2 / slx), nmax);
        if (new_l != L[i]) {
          slx += w * x[i] * new_l;
          sl2 += w * new_l * new_l;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<int8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

float fit_scale_min(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                    uint8_t* Laux, float rmin, float rdelta, int nstep, bool use_mad) {
  float min = x[0], max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  // The offset only ever shifts down: codes start at 0, so a positive
  // minimum is represented by the codes themselves.
  if (min > 0) min = 0;
  if (max <= min) {
    std::memset(L, 0, static_cast<size_t>(n));
    *the_min = -min;
    return 0.f;
  }
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    float diff = scale * L[i] + min - x[i];
    diff = use_mad ? std::fabs(diff) : diff * diff;
    best_error += weights[i] * diff;
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }
  for (int is = 0; is <= nstep; ++is) {
    iscale = (rmin + rdelta * is + nmax) / (max - min);
    float sum_l = 0, sum_l2 = 0, sum_xl = 0;
    for (int i = 0; i < n; ++i) {
      // Clamp before rounding: min is the best fit so far and may sit near
      // max, so the product can be far outside nearest_int's range.
      const float v = iscale * (x[i] - min);
      const int l = v > 0 ? nearest_int(std::min(v, static_cast<float>(nmax))) : 0;
      Laux[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }
    // Normal equations of min over (scale, offset) of sum w (scale*l + offset - x)^2.
    const float D = sum_w * sum_l2 - sum_l * sum_l;
    if (D > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float cur_error = 0;
      for (int i = 0; i < n; ++i) {
        float diff = this_scale * Laux[i] + this_min - x[i];
        diff = use_mad ? std::fabs(diff) : diff * diff;
        cur_error += weights[i] * diff;
      }
      if (cur_error < best_error) {
        std::memcpy(L, Laux, static_cast<size_t>(n));
        best_error = cur_error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

float fit_positive(int n, int nmax, const float* x, uint8_t* L, const float* quant_weights) {
  float max = 0;
  for (int i = 0; i < n; ++i) max = std::max(max, x[i]);
  if (max < kGroupMaxEps) {
    std::memset(L, 0, static_cast<size_t>(n));
    return 0.f;
  }
  // L is uint8_t as in ggml: a (pathological) negative input wraps the same way there.
  float iscale = nmax / max;
  for (int i = 0; i < n; ++i) L[i] = static_cast<uint8_t>(nearest_int(iscale * x[i]));
  const float scale = 1 / iscale;
  float best_mse = 0;
  for (int i = 0; i < n; ++i) {
    const float diff = x[i] - scale * L[i];
    best_mse += quant_weights[i] * diff * diff;
  }
  for (int is = -4; is <= 4; ++is) {
    if (is == 0) continue;
    const float iscale_is = (0.1f * is + nmax) / max;
    const float scale_is = 1 / iscale_is;
    float mse = 0;
    for (int i = 0; i < n; ++i) {
      const int l = std::min(nmax, nearest_int(iscale_is * x[i]));
      const float diff = x[i] - scale_is * l;
      mse += quant_weights[i] * diff * diff;
    }
    if (mse < best_mse) {
      best_mse = mse;
      iscale = iscale_is;
    }
  }
  float sumlx = 0, suml2 = 0;
  for (int i = 0; i < n; ++i) {
    const int l = std::min(nmax, nearest_int(iscale * x[i]));
    L[i] = static_cast<uint8_t>(l);
    const float w = quant_weights[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  // Same coordinate descent as fit_symmetric_refine, on non-negative codes.
  for (int itry = 0; itry < 5; ++itry) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = quant_weights[i];
      float slx = sumlx - w * x[i] * L[i];
      float sl2 = suml2 - w * L[i] * L[i];
      if (slx > 0 && sl2 > 0) {
        const int new_l = std::min(nmax, nearest_int(x[i] * sl2 / slx));
        if (new_l != L[i]) {
          slx += w * x[i] * new_l;
          sl2 += w * new_l * new_l;
          if (slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<uint8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (!n_changed) break;
  }
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

int nearest_level(int n, const int8_t* val, float x) {
  // Level i wins once x reaches the midpoint of val[i-1] and val[i]; doubling
  // x keeps that comparison exact. Binary search over a power-of-two table.
  const float x2 = x + x;
  int idx = 0;
  for (int step = n >> 1; step > 0; step >>= 1) {
    const int j = idx + step;
    if (x2 >= static_cast<float>(val[j - 1] + val[j])) idx = j;
  }
  return idx;
}

}  // namespace jetlm
