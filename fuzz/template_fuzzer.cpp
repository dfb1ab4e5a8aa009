// libFuzzer target for the chat-template engine: a template and the JSON it
// renders with, as an untrusted GGUF and an untrusted request would give
// them. Any input must render or throw jetlm::Error; a crash, a sanitizer
// report, an uncaught exception of another type, a hang or a blown memory
// limit is a bug. Build: cmake -DJETLM_FUZZ=ON with clang (.ci/fuzz-templates.sh).
//
// Input: template text, then a NUL byte, then JSON: an array of messages, or
// an object {"messages": [...], <more template variables>}. Without a NUL (or
// with JSON that does not parse) the template renders with one user message.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "text/chat_template.h"
#include "util/error.h"
#include "util/json_bounded.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const char* text = reinterpret_cast<const char*>(data);
  const void* nul = std::memchr(data, 0, size);
  const size_t tmpl_size = nul ? static_cast<size_t>(static_cast<const uint8_t*>(nul) - data) : size;
  const std::string tmpl(text, tmpl_size);
  const std::string json = nul ? std::string(text + tmpl_size + 1, size - tmpl_size - 1) : std::string();

  jetlm::ChatTemplateInputs in;
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  // Smaller caps than the defaults keep each run fast and far from
  // libFuzzer's memory limit; the code paths that enforce them are the same.
  in.limits.max_seconds = 1;
  in.limits.max_string_bytes = 1u << 20;
  in.limits.max_list_items = 1u << 16;
  in.limits.max_steps = 100000;
  nlohmann::ordered_json messages = nlohmann::ordered_json::array({{{"role", "user"}, {"content", "Hello"}}});
  try {
    nlohmann::ordered_json j = jetlm::parse_json_bounded(json, in.limits.max_value_depth, "fuzz input");
    if (j.is_array()) {
      messages = std::move(j);
    } else if (j.is_object()) {
      auto m = j.find("messages");
      if (m != j.end() && m->is_array()) messages = *m;
      j.erase("messages");
      in.extra = std::move(j);
    }
  } catch (const jetlm::Error&) {
    // Not JSON (or too deep): the template still renders with the default conversation.
  }
  try {
    (void)jetlm::render_chat_template(tmpl, messages, in, "fuzz");
  } catch (const jetlm::Error&) {
  }
  return 0;
}
