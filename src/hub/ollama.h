// Models that ollama already downloaded, used in place (no second copy):
//   {store}/manifests/registry.ollama.ai/{library|namespace}/{name}/{tag}   (or {host}/{path}/{tag})
//   {store}/blobs/sha256-{hex}
// The manifest's layer of media type application/vnd.ollama.image.model is the
// GGUF; .template and .params layers are ollama's chat template and options.
// Stores: $OLLAMA_MODELS, else ~/.ollama/models, then /usr/share/ollama/.ollama/models.
#pragma once
#include <string>
#include <vector>

namespace jetlm::hub {

struct OllamaModel {
  std::string name;           // "library/gemma3:1b" as found
  std::string manifest_path;
  std::string model_path;     // the GGUF blob
  std::string template_path;  // "" when the manifest has no such layer
  std::string params_path;
  std::string system_path;
};

// ref: NAME[:TAG] ("gemma3", "gemma3:1b", "me/model:q4", "hf.co/org/repo:Q4_K_M").
OllamaModel find_ollama_model(const std::string& ref);
std::vector<std::string> ollama_stores();

}  // namespace jetlm::hub
