// The route tables of jetlm serve, one per API family, and the helpers they
// share for answering. Each register_* adds its handlers to the server.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/server_state.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace jetlm {

class ApiError;

void register_openai_routes(httplib::Server& svr, ServerState& st);  // /v1/...
void register_ollama_routes(httplib::Server& svr, ServerState& st);  // /api/...
void register_ops_routes(httplib::Server& svr, ServerState& st);     // /health, /metrics, /tokenize, /, ...

// The built-in chat page (plain HTML and JavaScript).
extern const char* const kChatPageHtml;

// Answers with a JSON body.
void reply_json(httplib::Response& res, const nlohmann::json& body, int status = 200);
// The error bodies of the peers: OpenAI's {"error": {"message", "type", "code"}}
// and ollama's {"error": "message"}. A 503 carries Retry-After.
void reply_openai_error(httplib::Response& res, const ApiError& e);
void reply_ollama_error(httplib::Response& res, const ApiError& e);

// ApiError 503 while the model is still loading.
void require_ready(const ServerState& st);

// The prompt of a chat: messages checked (a list of objects with a string
// role and string, null or text-part content) and rendered with the model's
// template (ChatML when the file has none). ApiError 400 on a bad message or template error.
std::vector<int32_t> chat_prompt(const ServerState& st, const nlohmann::json& messages);
// Plain text tokenized as llama-server does (BOS when the vocabulary wants one, special tokens parsed).
std::vector<int32_t> text_prompt(const ServerState& st, const std::string& text);

// Runs `fn`, turning ApiError (and any other exception) into an error answer in the given dialect.
void guarded(httplib::Response& res, bool ollama, const std::function<void()>& fn);

}  // namespace jetlm
