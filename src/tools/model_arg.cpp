#include "tools/model_arg.h"

#include "hub/config.h"
#include "hub/ollama.h"
#include "hub/pull.h"
#include "util/error.h"

namespace jetlm {

void add_hub_options(Args& a) {
  a.option("-hf,--hf-repo", "REPO[:QUANT]",
           "model from the Hugging Face Hub, downloaded to its cache if missing (QUANT default Q4_K_M; "
           "--offline or HF_HUB_OFFLINE=1: cache only)");
}

static ModelSource from_value(const std::string& value, bool hub) {
  ModelSource s;
  if (hub) {
    s.path = hub::pull_model(hub::hub_config_from_env(), value).paths.at(0);
  } else if (value.compare(0, 7, "ollama:") == 0) {
    const hub::OllamaModel m = hub::find_ollama_model(value.substr(7));
    s.path = m.model_path;
    s.ollama_template = m.template_path;
    s.ollama_params = m.params_path;
    s.ollama_system = m.system_path;
  } else {
    s.path = value;
  }
  return s;
}

ModelSource resolve_model_source(const Args& a) {
  const std::string m = a.get("-m"), hf = a.get("-hf");
  if (!m.empty() && !hf.empty()) throw UsageError("give -m or -hf, not both");
  return from_value(hf.empty() ? m : hf, !hf.empty());
}

std::string resolve_model_arg(const Args& a) { return resolve_model_source(a).path; }

std::string resolve_model_name(const std::string& value, bool hub) { return from_value(value, hub).path; }

}  // namespace jetlm
