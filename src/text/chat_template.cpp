#include "text/chat_template.h"

#include <algorithm>

#include "text/jinja/interpreter.h"
#include "util/error.h"

namespace jetlm {

const char* const kChatMlTemplate =
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

namespace {

std::string strftime_now(const std::string& fmt, std::time_t now) {
  if (now == 0) now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  // strftime gives 0 both for "no room" and for an empty result; grow until it fits.
  for (size_t cap = 64; cap <= (1u << 16); cap *= 4) {
    std::string buf(cap, '\0');
    const size_t n = std::strftime(&buf[0], cap, fmt.c_str(), &tm);
    if (n > 0 || fmt.empty()) return buf.substr(0, n);
  }
  return "";
}

// Both JSON flavours convert straight to template values (no dump and
// re-parse: that would recurse over a deeply nested input).
template <class Json>
std::string render(const std::string& tmpl, const Json& messages, const Json& extra, const ChatTemplateInputs& in,
                   const std::string& name) {
  using jinja::CallArgs;
  using jinja::Value;
  if (!messages.is_array()) fail("chat template: messages must be a JSON array, got ", messages.type_name());
  if (!extra.is_object()) fail("chat template: extra variables must be a JSON object, got ", extra.type_name());
  const jinja::Template t(tmpl, name);

  jinja::Variables vars;
  {
    const jinja::Budget conversion(in.limits);  // bounds the nesting of messages and extra
    vars.emplace_back("messages", Value::from_json(messages));
    for (auto it = extra.begin(); it != extra.end(); ++it) vars.emplace_back(it.key(), Value::from_json(it.value()));
  }
  const size_t n_extra = vars.size() - 1;
  vars.emplace_back("bos_token", Value(in.bos_token));
  vars.emplace_back("eos_token", Value(in.eos_token));
  vars.emplace_back("add_generation_prompt", Value(in.add_generation_prompt));
  // transformers' global: lets a template reject a conversation with its own message.
  vars.emplace_back("raise_exception", Value::function("raise_exception", [](const CallArgs& a) -> Value {
                      const Value* msg = a.find(0, "message");
                      fail(msg ? msg->str() : std::string("raise_exception() called"));
                    }));
  if (in.define_strftime_now) {
    const std::time_t now = in.now;
    vars.emplace_back("strftime_now", Value::function("strftime_now", [now](const CallArgs& a) {
                        const Value* fmt = a.find(0, "format");
                        if (!fmt || !fmt->is_string()) fail("TypeError: strftime_now() needs a format string");
                        return Value(strftime_now(fmt->as_string(), now));
                      }));
  }
  // Extra variables go last, so they override the fixed ones as before.
  std::rotate(vars.begin() + 1, vars.begin() + 1 + static_cast<std::ptrdiff_t>(n_extra), vars.end());
  return t.render(vars, in.limits);
}

}  // namespace

std::string render_chat_template(const std::string& tmpl, const nlohmann::ordered_json& messages,
                                 const ChatTemplateInputs& in, const std::string& name) {
  return render(tmpl, messages, in.extra, in, name);
}

std::string render_chat_template(const std::string& tmpl, const nlohmann::json& messages, const std::string& bos,
                                 const std::string& eos, bool add_generation_prompt, const nlohmann::json& extra) {
  ChatTemplateInputs in;
  in.bos_token = bos;
  in.eos_token = eos;
  in.add_generation_prompt = add_generation_prompt;
  return render(tmpl, messages, extra.is_null() ? nlohmann::json::object() : extra, in, "chat_template");
}

}  // namespace jetlm
