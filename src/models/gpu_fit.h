// How many layers of a model fit in a GPU's free memory: the estimate behind
// -ngl auto (the default) and behind the out-of-memory message of an explicit
// -ngl. Weights count their file bytes (none when the GPU reads the map in
// place), the KV cache its rows, plus the activations and workspaces of one
// batch and a fixed reserve for the CUDA context and libraries.
#pragma once
#include <cstddef>
#include <cstdint>

#include "formats/tensor_type.h"
#include "models/hparams.h"
#include "models/weights.h"

namespace jetlm {

struct GpuFitInputs {
  int n_ctx = 0;
  int n_seq = 1;  // sequence slots of the KV cache
  int n_batch = 512;
  TensorType kv_type = TensorType::F16;
  bool weights_in_place = false;  // unified memory: weights stay in the (registered) map
  size_t free_bytes = 0;          // device memory free before the model is loaded
};

struct GpuFit {
  int64_t layer_bytes = 0;   // one transformer layer: weights + its KV cache (largest layer)
  int64_t output_bytes = 0;  // output norm + output matrix (on the GPU only with every layer)
  int64_t fixed_bytes = 0;   // activations, logits, workspaces, reserve
  int max_layers = 0;        // the largest -ngl that fits: 0..n_layer, n_layer + 1 = everything
  // Estimated device bytes for -ngl n (n clamped to 0..n_layer + 1).
  int64_t bytes_for(int n, int n_layer) const;
};

GpuFit estimate_gpu_fit(const HParams& hp, const ModelTensors& t, const GpuFitInputs& in);

}  // namespace jetlm
