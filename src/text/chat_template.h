// Renders a model's chat template (the GGUF's tokenizer.chat_template) into
// the prompt text, byte for byte as transformers' apply_chat_template does:
// jinja2 with trim_blocks, lstrip_blocks and loop controls, plus the
// raise_exception() global and transformers' tojson filter.
#pragma once
#include <ctime>
#include <string>

#include <nlohmann/json.hpp>

#include "text/jinja/budget.h"

namespace jetlm {

struct ChatTemplateInputs {
  std::string bos_token, eos_token;
  bool add_generation_prompt = true;
  // More template variables, e.g. {"tools": [...], "enable_thinking": false}.
  // Keys keep their order (tojson of tool schemas prints them as given).
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  // Define strftime_now(fmt) (transformers >= 4.43 does). Off by default:
  // the reference renderings (plain jinja2) leave it undefined, so Llama 3.x
  // templates fall back to their fixed "26 Jul 2024".
  bool define_strftime_now = false;
  std::time_t now = 0;  // strftime_now's clock (local time); 0: the current time
  // The template is untrusted code: its time, recursion and memory budget
  // (also the nesting allowed in messages and extra).
  jinja::Limits limits;
};

// Parses and renders. `messages` is an OpenAI-style array of {"role", "content", ...}.
// Throws Error("<name>:<line>: ...") for a syntax error, a runtime error, or a
// raise_exception("...") in the template (the message is the template's text),
// or a template or input that exceeds in.limits.
std::string render_chat_template(const std::string& tmpl, const nlohmann::ordered_json& messages,
                                 const ChatTemplateInputs& in, const std::string& name = "chat_template");

// Convenience form. Note nlohmann::json sorts object keys; pass ordered_json
// through ChatTemplateInputs where key order matters (tool schemas).
std::string render_chat_template(const std::string& tmpl, const nlohmann::json& messages, const std::string& bos,
                                 const std::string& eos, bool add_generation_prompt,
                                 const nlohmann::json& extra = nlohmann::json::object());

// ChatML, used (with a warning printed by the caller) when a GGUF has no template.
extern const char* const kChatMlTemplate;

}  // namespace jetlm
