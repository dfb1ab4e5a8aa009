// The estimate behind -ngl auto and the GPU out-of-memory message: how many
// layers of a model fit in a given amount of free device memory.
#include <gtest/gtest.h>

#include "models/gpu_fit.h"
#include "models/model.h"
#include "test_util.h"

using namespace jetlm;
using jetlm_test::data_path;

namespace {

GpuFit fit_for(const Model& m, size_t free_bytes, bool in_place = false, int n_ctx = 256) {
  GpuFitInputs in;
  in.n_ctx = n_ctx;
  in.n_batch = 64;
  in.free_bytes = free_bytes;
  in.weights_in_place = in_place;
  return estimate_gpu_fit(m.hparams(), m.tensors(), in);
}

}  // namespace

TEST(GpuFit, LayersFitInProportionToFreeMemory) {
  auto m = Model::load(data_path("models/tiny-llama-q4_k_m.gguf"));
  const int L = m->hparams().n_layer;
  ASSERT_GE(L, 2);
  const GpuFit f = fit_for(*m, 0);
  EXPECT_EQ(f.max_layers, 0);
  EXPECT_GT(f.layer_bytes, 0);
  EXPECT_GT(f.output_bytes, 0);
  EXPECT_EQ(f.bytes_for(0, L), 0);
  for (int n = 1; n <= L + 1; ++n) EXPECT_GT(f.bytes_for(n, L), f.bytes_for(n - 1, L)) << n;
  EXPECT_EQ(f.bytes_for(L + 5, L), f.bytes_for(L + 1, L));  // -ngl 99 = everything
  // Exactly the bytes of n layers: n fit, n + 1 do not.
  for (int n = 1; n <= L + 1; ++n) {
    EXPECT_EQ(fit_for(*m, static_cast<size_t>(f.bytes_for(n, L))).max_layers, n) << n;
    EXPECT_EQ(fit_for(*m, static_cast<size_t>(f.bytes_for(n, L) - 1)).max_layers, n - 1) << n;
  }
  EXPECT_EQ(fit_for(*m, size_t(1) << 40).max_layers, L + 1);
}

TEST(GpuFit, InPlaceWeightsCountOnlyTheCache) {
  auto m = Model::load(data_path("models/tiny-llama-q4_k_m.gguf"));
  const HParams& hp = m->hparams();
  const GpuFit copied = fit_for(*m, 0), mapped = fit_for(*m, 0, true);
  const int64_t kv = int64_t(256) * (hp.n_embd_k_gqa() + hp.n_embd_v_gqa()) * 2;  // f16 cache
  EXPECT_EQ(mapped.layer_bytes, kv);
  EXPECT_GT(copied.layer_bytes, kv);
  EXPECT_EQ(mapped.output_bytes, 0);
  // A longer context costs cache bytes in every layer.
  EXPECT_EQ(fit_for(*m, 0, true, 512).layer_bytes, 2 * kv);
}
