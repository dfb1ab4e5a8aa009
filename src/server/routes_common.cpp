#include <httplib.h>

#include "server/request_json.h"
#include "server/routes.h"

namespace jetlm {

using nlohmann::json;

void reply_json(httplib::Response& res, const json& body, int status) {
  res.status = status;
  res.set_content(to_wire(body), "application/json; charset=utf-8");
}

static int err_status(const ApiError& e, httplib::Response& res) {
  if (e.status == 503) res.set_header("Retry-After", "1");
  return e.status;
}

void reply_openai_error(httplib::Response& res, const ApiError& e) {
  json err = {{"message", e.what()}, {"type", e.type}, {"code", e.code.empty() ? json(e.status) : json(e.code)}};
  reply_json(res, {{"error", err}}, err_status(e, res));
}

void reply_ollama_error(httplib::Response& res, const ApiError& e) {
  reply_json(res, {{"error", e.what()}}, err_status(e, res));
}

void guarded(httplib::Response& res, bool ollama, const std::function<void()>& fn) {
  try {
    fn();
    return;
  } catch (const ApiError& e) {
    ollama ? reply_ollama_error(res, e) : reply_openai_error(res, e);
  } catch (const std::exception& e) {
    const ApiError err(500, str_cat("internal error: ", e.what()), "server_error");
    ollama ? reply_ollama_error(res, err) : reply_openai_error(res, err);
  }
}

void require_ready(const ServerState& st) {
  if (!st.ready) throw ApiError(503, "Loading model", "unavailable_error");
}

// A message's content as text: a string, null, or OpenAI's list of parts of which only text is supported.
static std::string content_text(const json& m) {
  const auto it = m.find("content");
  if (it == m.end() || it->is_null()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (!it->is_array()) throw ApiError(400, "'content' of a message must be a string or a list of parts");
  std::string text;
  for (const auto& part : *it) {
    if (!part.is_object() || str_field(part, "type", "text") != "text")
      throw ApiError(400, "only text content parts are supported");
    text += str_field(part, "text");
  }
  return text;
}

std::vector<int32_t> chat_prompt(const ServerState& st, const json& messages) {
  if (!messages.is_array()) throw ApiError(400, "'messages' must be a list");
  if (messages.empty()) throw ApiError(400, "'messages' must not be empty");
  json clean = json::array();
  for (const auto& m : messages) {
    if (!m.is_object()) throw ApiError(400, "each message must be an object");
    const auto role = m.find("role");
    if (role == m.end() || !role->is_string()) throw ApiError(400, "each message needs a string 'role'");
    json c = m;  // keep what templates may read (name, tool_calls, ...)
    c["content"] = content_text(m);
    clean.push_back(std::move(c));
  }
  try {
    return chat_prompt_tokens(st.session, clean, true);
  } catch (const Error& e) {
    throw ApiError(400, str_cat("the chat template failed on these messages: ", e.what()));
  }
}

std::vector<int32_t> text_prompt(const ServerState& st, const std::string& text) {
  const Tokenizer& tok = *st.session.tokenizer;
  return tok.encode(text, tok.add_bos(), true);
}

}  // namespace jetlm
