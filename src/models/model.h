// A loaded model: the mapped GGUF file, its hyperparameters and bound tensors.
// Weights stay in the map (one copy); backends read them in place or upload them.
#pragma once
#include <memory>
#include <string>

#include "gguf/gguf.h"
#include "models/hparams.h"
#include "models/weights.h"

namespace jetlm {

class Model {
 public:
  // Opens and validates a GGUF model (throws Error naming file, field and reason).
  static std::unique_ptr<Model> load(const std::string& path);

  const GgufFile& file() const { return *file_; }
  const HParams& hparams() const { return hp_; }
  const ModelTensors& tensors() const { return tensors_; }

  // Bytes of all weight tensors (what a token reads is weights_bytes - token_embd + one row).
  size_t weights_bytes() const;
  // Weight bytes read per generated token: every matrix once, one embedding row.
  size_t bytes_per_token() const;
  int64_t n_params() const;

 private:
  Model() = default;
  std::unique_ptr<GgufFile> file_;
  HParams hp_;
  ModelTensors tensors_;
};

}  // namespace jetlm
