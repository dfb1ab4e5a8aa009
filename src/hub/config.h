// Where the Hub is, who we are to it and where its files go, read from the
// environment exactly as huggingface_hub reads it, so a user's cache and
// login carry over between jetlm, huggingface-cli and transformers.
#pragma once
#include <string>

namespace jetlm::hub {

struct HubConfig {
  std::string endpoint;   // $HF_ENDPOINT, else https://huggingface.co (no trailing '/')
  std::string token;      // $HF_TOKEN, else $HUGGING_FACE_HUB_TOKEN, else the file $HF_TOKEN_PATH or $HF_HOME/token
  std::string cache_dir;  // $HF_HUB_CACHE, $HUGGINGFACE_HUB_CACHE, $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub
  std::string llama_cache;  // $LLAMA_CACHE, else ~/.cache/llama.cpp (files reused when their sha256 matches)
  bool offline = false;   // $HF_HUB_OFFLINE is 1/on/yes/true (any case); main() sets it for --offline
};

HubConfig hub_config_from_env();

// Takes "--offline" out of argv wherever it is and sets HF_HUB_OFFLINE=1, so
// every command accepts it without declaring it. Returns the new argc.
int take_offline_flag(int argc, char** argv);

}  // namespace jetlm::hub
