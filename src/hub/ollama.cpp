#include "hub/ollama.h"

#include <nlohmann/json.hpp>

#include "hub/fs.h"
#include "util/error.h"

namespace jetlm::hub {

static const char* kModelLayer = "application/vnd.ollama.image.model";
static const char* kTensorLayer = "application/vnd.ollama.image.tensor";

std::vector<std::string> ollama_stores() {
  const std::string e = env("OLLAMA_MODELS");
  if (!e.empty()) return {e};
  return {home_dir() + "/.ollama/models", "/usr/share/ollama/.ollama/models"};
}

// "gemma3:1b" -> "registry.ollama.ai/library/gemma3/1b"
static std::string manifest_rel(const std::string& ref, std::string* shown) {
  std::string name = ref, tag = "latest";
  const size_t colon = ref.rfind(':'), slash = ref.rfind('/');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    name = ref.substr(0, colon);
    tag = ref.substr(colon + 1);
  }
  if (name.empty() || tag.empty() || name.find("..") != std::string::npos || tag.find('/') != std::string::npos)
    throw UsageError(str_cat("'ollama:", ref, "' is not an ollama model name: expected ollama:NAME[:TAG]"));
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t k = 0; k <= name.size(); ++k)
    if (k == name.size() || name[k] == '/') {
      parts.push_back(name.substr(start, k - start));
      start = k + 1;
    }
  // A first component with a dot (or port) is a registry host, as in docker names.
  const bool has_host = parts.size() >= 2 && parts[0].find_first_of(".:") != std::string::npos;
  std::string path = has_host ? name : "registry.ollama.ai/" + (parts.size() == 1 ? "library/" + name : name);
  *shown = name + ":" + tag;
  return "manifests/" + path + "/" + tag;
}

OllamaModel find_ollama_model(const std::string& ref) {
  OllamaModel m;
  const std::string rel = manifest_rel(ref, &m.name);
  std::string store, tried;
  for (const std::string& s : ollama_stores()) {
    tried += (tried.empty() ? "" : ", ") + s;
    if (is_file(s + "/" + rel)) {
      store = s;
      break;
    }
  }
  if (store.empty()) fail("ollama model ", m.name, " not found in ", tried, " (ollama pull ", m.name, " first, or set OLLAMA_MODELS)");
  m.manifest_path = store + "/" + rel;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_small_file(m.manifest_path));
  } catch (const nlohmann::json::exception&) {
    fail("ollama manifest ", m.manifest_path, " is not JSON");
  }
  if (!j.is_object() || !j.contains("layers") || !j["layers"].is_array()) fail("ollama manifest ", m.manifest_path, " has no layers");
  bool tensors = false;
  for (const auto& l : j["layers"]) {
    if (!l.is_object()) continue;
    const std::string type = l.value("mediaType", ""), digest = l.value("digest", "");
    std::string blob = digest;
    const size_t colon = blob.find(':');
    if (colon == std::string::npos || blob.find('/') != std::string::npos) continue;
    blob = store + "/blobs/" + blob.replace(colon, 1, "-");
    if (type == kModelLayer && m.model_path.empty()) m.model_path = blob;
    else if (type == kTensorLayer) tensors = true;
    else if (type == "application/vnd.ollama.image.template") m.template_path = blob;
    else if (type == "application/vnd.ollama.image.params") m.params_path = blob;
    else if (type == "application/vnd.ollama.image.system") m.system_path = blob;
  }
  if (m.model_path.empty() && tensors)
    fail("ollama model ", m.name, " is stored as tensor layers (", kTensorLayer, "), not one GGUF file; jetlm cannot read it");
  if (m.model_path.empty()) fail("ollama model ", m.name, " has no model layer (", kModelLayer, ") in ", m.manifest_path);
  if (!is_file(m.model_path)) fail("ollama model ", m.name, ": its blob ", m.model_path, " is missing");
  if (!has_gguf_magic(m.model_path)) fail("ollama model ", m.name, ": ", m.model_path, " is not a GGUF file");
  return m;
}

}  // namespace jetlm::hub
