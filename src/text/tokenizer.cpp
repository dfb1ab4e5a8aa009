#include "text/tokenizer.h"

#include "gguf/gguf.h"
#include "text/bpe_tokenizer.h"
#include "text/spm_tokenizer.h"
#include "util/error.h"

namespace jetlm {

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
  const std::string model = file.get_str_or("tokenizer.ggml.model", "");
  if (model == "llama") return std::make_unique<SpmTokenizer>(file);
  if (model == "gpt2") {
    // Resolve .pre first: an unsupported one fails before the big arrays load.
    const BpePreConfig pre = bpe_pre_config(file.get_str_or("tokenizer.ggml.pre", ""));
    return std::make_unique<BpeTokenizer>(file, pre);
  }
  if (model.empty()) fail(file.path(), ": no tokenizer.ggml.model (the file has no vocabulary)");
  fail(file.path(), ": unsupported tokenizer.ggml.model '", model, "' (supported: llama, gpt2)");
}

}  // namespace jetlm
