// libFuzzer target for the GGUF reader and the model loader: any input must
// either load or throw jetlm::Error. Build: cmake -DJETLM_FUZZ=ON with clang.
#include <cstddef>
#include <cstdint>

#include "gguf/gguf.h"
#include "models/hparams.h"
#include "models/weights.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = jetlm::GgufFile::parse(data, size, "fuzz.gguf");
    for (const auto& kv : f->metadata()) (void)kv.first.size();
    jetlm::HParams hp = jetlm::read_hparams(*f);
    jetlm::ModelTensors t = jetlm::bind_tensors(*f, hp);
    (void)t;
  } catch (const jetlm::Error&) {
  }
  return 0;
}
