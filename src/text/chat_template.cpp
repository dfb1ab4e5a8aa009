#include "text/chat_template.h"

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

}  // namespace

std::string render_chat_template(const std::string& tmpl, const nlohmann::ordered_json& messages,
                                 const ChatTemplateInputs& in, const std::string& name) {
  using jinja::CallArgs;
  using jinja::Value;
  if (!messages.is_array()) fail("chat template: messages must be a JSON array, got ", messages.type_name());
  if (!in.extra.is_object()) fail("chat template: extra variables must be a JSON object, got ", in.extra.type_name());
  const jinja::Template t(tmpl, name);

  jinja::Variables vars;
  vars.emplace_back("messages", Value::from_json(messages));
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
  for (auto it = in.extra.begin(); it != in.extra.end(); ++it) vars.emplace_back(it.key(), Value::from_json(it.value()));
  return t.render(vars);
}

std::string render_chat_template(const std::string& tmpl, const nlohmann::json& messages, const std::string& bos,
                                 const std::string& eos, bool add_generation_prompt, const nlohmann::json& extra) {
  ChatTemplateInputs in;
  in.bos_token = bos;
  in.eos_token = eos;
  in.add_generation_prompt = add_generation_prompt;
  if (!extra.is_null()) in.extra = nlohmann::ordered_json::parse(extra.dump());
  return render_chat_template(tmpl, nlohmann::ordered_json::parse(messages.dump()), in);
}

}  // namespace jetlm
