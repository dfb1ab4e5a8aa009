// OpenAI's API: /v1/chat/completions, /v1/completions, /v1/models (also
// without the /v1 prefix, as llama-server accepts). Streams are SSE chunks,
// one per token event, ending in "data: [DONE]".
#include <httplib.h>

#include <atomic>
#include <cstdio>

#include "server/gen_params.h"
#include "server/http_stream.h"
#include "server/request_json.h"
#include "server/routes.h"

namespace jetlm {

using nlohmann::json;

namespace {

enum class Kind { Chat, Text };

// What one request asked for beyond the generation parameters.
struct Ask {
  Kind kind = Kind::Chat;
  bool stream = false;
  bool include_usage = false;
  int n_probs = -1;  // >= 0: logprobs wanted, with that many alternatives
  std::string id, model;
  int64_t created = 0;
};

std::string new_id(const char* prefix) {
  static std::atomic<uint64_t> counter{0};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s-%llx%06llx", prefix, static_cast<unsigned long long>(unix_now()),
                static_cast<unsigned long long>(counter.fetch_add(1) & 0xffffff));
  return buf;
}

json bytes_of(const std::string& s) {
  json b = json::array();
  for (const unsigned char c : s) b.push_back(c);
  return b;
}

// Chat logprobs of one token: {"token", "logprob", "bytes", "top_logprobs": [...]}.
json chat_logprob(const Tokenizer& tok, const TokenEvent& e) {
  const std::string piece = tok.token_to_piece(e.token);
  json top = json::array();
  for (const auto& t : e.top) {
    const std::string p = tok.token_to_piece(t.first);
    top.push_back({{"token", p}, {"logprob", t.second}, {"bytes", bytes_of(p)}});
  }
  return {{"token", piece}, {"logprob", e.logprob}, {"bytes", bytes_of(piece)}, {"top_logprobs", top}};
}

// Completions logprobs of a run of tokens, in the legacy layout of parallel lists.
json text_logprobs(const Tokenizer& tok, const std::vector<TokenEvent>& events, size_t text_offset) {
  json tokens = json::array(), lps = json::array(), tops = json::array(), offsets = json::array();
  for (const auto& e : events) {
    const std::string piece = tok.token_to_piece(e.token);
    tokens.push_back(piece);
    lps.push_back(e.logprob);
    json top = json::object();
    for (const auto& t : e.top) top[tok.token_to_piece(t.first)] = t.second;
    tops.push_back(top);
    offsets.push_back(text_offset);
    text_offset += piece.size();
  }
  return {{"tokens", tokens}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

json usage_of(const Completion& c) {
  const int completion = c.fin.stats.n_generated;
  return {{"prompt_tokens", c.n_prompt},
          {"completion_tokens", completion},
          {"total_tokens", c.n_prompt + completion},
          {"prompt_tokens_details", {{"cached_tokens", c.fin.stats.n_reused}}}};
}

// llama-server's timings object, which its clients and bench scripts read.
json timings_of(const Completion& c) {
  const GenerateStats& s = c.fin.stats;
  return {{"cache_n", s.n_reused},
          {"prompt_n", s.n_prompt},
          {"prompt_ms", s.prompt_ms},
          {"prompt_per_second", s.prompt_ms > 0 ? 1000.0 * s.n_prompt / s.prompt_ms : 0.0},
          {"predicted_n", s.n_generated},
          {"predicted_ms", s.generate_ms},
          {"predicted_per_second", s.generate_ms > 0 ? 1000.0 * s.n_generated / s.generate_ms : 0.0}};
}

json envelope(const Ask& a, bool chunk) {
  const char* object = a.kind == Kind::Chat ? (chunk ? "chat.completion.chunk" : "chat.completion") : "text_completion";
  return {{"id", a.id}, {"object", object}, {"created", a.created}, {"model", a.model}, {"system_fingerprint", "jetlm"}};
}

void check_engine_error(const Completion& c) {
  if (c.fin.stop_reason == "error") throw ApiError(500, str_cat("generation failed: ", c.fin.error), "server_error");
}

json full_answer(const ServerState& st, const Ask& a, const Completion& c) {
  check_engine_error(c);
  const Tokenizer& tok = *st.session.tokenizer;
  json choice = {{"index", 0}, {"finish_reason", finish_reason(c.fin)}, {"logprobs", nullptr}};
  if (a.kind == Kind::Chat) {
    choice["message"] = {{"role", "assistant"}, {"content", c.text}};
    if (a.n_probs >= 0) {
      json content = json::array();
      for (const auto& e : c.tokens) content.push_back(chat_logprob(tok, e));
      choice["logprobs"] = {{"content", content}};
    }
  } else {
    choice["text"] = c.text;
    if (a.n_probs >= 0) choice["logprobs"] = text_logprobs(tok, c.tokens, 0);
  }
  json out = envelope(a, false);
  out["choices"] = json::array({choice});
  out["usage"] = usage_of(c);
  out["timings"] = timings_of(c);
  return out;
}

StreamFormat stream_format(const ServerState& st, const Ask& a) {
  const Tokenizer* tok = st.session.tokenizer.get();
  auto text_offset = std::make_shared<size_t>(0);
  StreamFormat f;
  f.content_type = "text/event-stream";
  auto chunk = [a](json choice) {
    json out = envelope(a, true);
    out["choices"] = json::array({std::move(choice)});
    if (a.include_usage) out["usage"] = nullptr;
    return sse(to_wire(out));
  };
  if (a.kind == Kind::Chat)
    f.head = [chunk] {
      return chunk({{"index", 0}, {"delta", {{"role", "assistant"}, {"content", ""}}}, {"logprobs", nullptr}, {"finish_reason", nullptr}});
    };
  f.piece = [a, tok, chunk, text_offset](const TokenEvent& e) -> std::string {
    const bool lp = a.n_probs >= 0 && e.token >= 0;
    if (e.text.empty() && !lp) return "";
    json choice = {{"index", 0}, {"finish_reason", nullptr}, {"logprobs", nullptr}};
    if (a.kind == Kind::Chat) {
      choice["delta"] = {{"content", e.text}};
      if (lp) choice["logprobs"] = {{"content", json::array({chat_logprob(*tok, e)})}};
    } else {
      choice["text"] = e.text;
      if (lp) choice["logprobs"] = text_logprobs(*tok, {e}, *text_offset);
    }
    *text_offset += e.text.size();
    return chunk(choice);
  };
  f.tail = [a, chunk](const Completion& c) {
    std::string out;
    if (c.fin.stop_reason == "error") {
      json err = {{"message", "generation failed: " + c.fin.error}, {"type", "server_error"}, {"code", 500}};
      out += sse(to_wire({{"error", err}}));
    } else {
      json choice = {{"index", 0}, {"finish_reason", finish_reason(c.fin)}, {"logprobs", nullptr}};
      if (a.kind == Kind::Chat) choice["delta"] = json::object();
      else choice["text"] = "";
      json last = envelope(a, true);
      last["choices"] = json::array({choice});
      last["timings"] = timings_of(c);
      if (a.include_usage) last["usage"] = nullptr;
      out += sse(to_wire(last));
      if (a.include_usage) {
        json u = envelope(a, true);
        u["choices"] = json::array();
        u["usage"] = usage_of(c);
        out += sse(to_wire(u));
      }
    }
    return out + "data: [DONE]\n\n";
  };
  return f;
}

// The completions prompt: a string, a list of one string, a list of token ids, or a list of one such list.
std::vector<int32_t> completion_prompt(const ServerState& st, const json& body) {
  const auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) throw ApiError(400, "'prompt' is required");
  const json* p = &*it;
  if (p->is_array() && p->size() == 1 && ((*p)[0].is_string() || (*p)[0].is_array())) p = &(*p)[0];
  if (p->is_string()) return text_prompt(st, p->get<std::string>());
  if (p->is_array() && !p->empty()) {
    std::vector<int32_t> ids;
    const int64_t n_vocab = st.session.tokenizer->n_vocab();
    for (const auto& t : *p) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= n_vocab)
        throw ApiError(400, str_cat("'prompt' token ids must be integers in [0, ", n_vocab, ")"));
      ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
    }
    return ids;
  }
  throw ApiError(400, "'prompt' must be a string, a list of token ids, or a list of one of them");
}

void generate(ServerState& st, const httplib::Request& req, httplib::Response& res, Kind kind) {
  require_ready(st);
  const json body = parse_request_json(req.body);
  str_field(body, "model");  // any name is served by the one model, but it must be a string
  Ask a;
  a.kind = kind;
  a.stream = bool_field(body, "stream", false);
  a.include_usage = bool_field(obj_field(body, "stream_options"), "include_usage", false);
  a.id = new_id(kind == Kind::Chat ? "chatcmpl" : "cmpl");
  a.model = st.model_id;
  a.created = unix_now();
  if (kind == Kind::Chat) {
    if (bool_field(body, "logprobs", false)) a.n_probs = static_cast<int>(int_field(body, "top_logprobs", 0, 0, 20));
  } else if (body.contains("logprobs") && !body["logprobs"].is_null()) {
    a.n_probs = body["logprobs"].is_boolean() ? (body["logprobs"].get<bool>() ? 0 : -1)
                                              : static_cast<int>(int_field(body, "logprobs", 0, 0, 20));
  }
  const json& rf = obj_field(body, "response_format");
  const std::string rf_type = str_field(rf, "type", "text");
  if (rf_type != "text")
    throw ApiError(400, str_cat("response_format '", rf_type, "' is not supported (jetlm serve has no constrained decoding yet)"));

  const auto bm = body.find("messages");
  if (kind == Kind::Chat && (bm == body.end() || bm->is_null())) throw ApiError(400, "'messages' is required");
  std::vector<int32_t> prompt = kind == Kind::Chat ? chat_prompt(st, *bm) : completion_prompt(st, body);
  const GenerateParams gp = generate_params(body, ApiDialect::OpenAI, static_cast<int>(prompt.size()), st.engine->n_ctx_slot());
  auto job = std::make_shared<Job>(st, std::move(prompt), gp, a.n_probs);
  if (a.stream) {
    send_stream(st, req, res, job, stream_format(st, a));
    return;
  }
  const Completion c = run_to_end(st, req, *job);
  reply_json(res, full_answer(st, a, c));
}

}  // namespace

void register_openai_routes(httplib::Server& svr, ServerState& st) {
  auto chat = [&st](const httplib::Request& req, httplib::Response& res) {
    guarded(res, false, [&] { generate(st, req, res, Kind::Chat); });
  };
  auto text = [&st](const httplib::Request& req, httplib::Response& res) {
    guarded(res, false, [&] { generate(st, req, res, Kind::Text); });
  };
  auto models = [&st](const httplib::Request&, httplib::Response& res) {
    guarded(res, false, [&] {
      require_ready(st);
      const Model& m = *st.session.model;
      json meta = {{"n_vocab", m.hparams().n_vocab},
                   {"n_ctx_train", m.hparams().n_ctx_train},
                   {"n_ctx", st.engine->n_ctx_slot()},
                   {"n_params", m.n_params()},
                   {"size", m.file().file_size()}};
      json model = {{"id", st.model_id}, {"object", "model"}, {"created", st.created}, {"owned_by", "jetlm"}, {"meta", meta}};
      reply_json(res, {{"object", "list"}, {"data", json::array({model})}});
    });
  };
  for (const char* p : {"/v1/chat/completions", "/chat/completions"}) svr.Post(p, chat);
  for (const char* p : {"/v1/completions", "/completions"}) svr.Post(p, text);
  for (const char* p : {"/v1/models", "/models"}) svr.Get(p, models);
}

}  // namespace jetlm
