#include "hub/config.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "hub/fs.h"

namespace jetlm::hub {

static std::string hf_home() {
  const std::string h = env("HF_HOME");
  if (!h.empty()) return h;
  const std::string xdg = env("XDG_CACHE_HOME");
  return (xdg.empty() ? home_dir() + "/.cache" : xdg) + "/huggingface";
}

static bool truthy(std::string v) {
  std::transform(v.begin(), v.end(), v.begin(), ::tolower);
  return v == "1" || v == "on" || v == "yes" || v == "true";
}

static std::string trim(std::string s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

HubConfig hub_config_from_env() {
  HubConfig c;
  c.endpoint = env("HF_ENDPOINT");
  if (c.endpoint.empty()) c.endpoint = "https://huggingface.co";
  while (!c.endpoint.empty() && c.endpoint.back() == '/') c.endpoint.pop_back();

  c.token = trim(env("HF_TOKEN"));
  if (c.token.empty()) c.token = trim(env("HUGGING_FACE_HUB_TOKEN"));
  if (c.token.empty()) {
    std::string path = env("HF_TOKEN_PATH");
    if (path.empty()) path = hf_home() + "/token";
    if (is_file(path)) c.token = trim(read_small_file(path));
  }

  c.cache_dir = env("HF_HUB_CACHE");
  if (c.cache_dir.empty()) c.cache_dir = env("HUGGINGFACE_HUB_CACHE");
  if (c.cache_dir.empty()) c.cache_dir = hf_home() + "/hub";

  c.llama_cache = env("LLAMA_CACHE");
  if (c.llama_cache.empty()) {
    const std::string xdg = env("XDG_CACHE_HOME");
    c.llama_cache = (xdg.empty() ? home_dir() + "/.cache" : xdg) + "/llama.cpp";
  }
  c.offline = truthy(env("HF_HUB_OFFLINE"));
  return c;
}

int take_offline_flag(int argc, char** argv) {
  int out = 0;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--offline") {
      ::setenv("HF_HUB_OFFLINE", "1", 1);
      continue;
    }
    argv[out++] = argv[i];
  }
  argv[out] = nullptr;
  return out;
}

}  // namespace jetlm::hub
