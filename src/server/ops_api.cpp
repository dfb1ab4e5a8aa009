// Operations and utilities: /health (no key), /metrics (Prometheus text),
// /tokenize and /detokenize (llama-server's), /props, and the chat page at /.
#include <httplib.h>

#include "server/request_json.h"
#include "server/routes.h"

namespace jetlm {

using nlohmann::json;

void register_ops_routes(httplib::Server& svr, ServerState& st) {
  auto health = [&st](const httplib::Request&, httplib::Response& res) {
    if (st.ready) reply_json(res, {{"status", "ok"}});
    else reply_openai_error(res, ApiError(503, "Loading model", "unavailable_error"));
  };
  svr.Get("/health", health);
  svr.Get("/v1/health", health);

  svr.Get("/metrics", [&st](const httplib::Request&, httplib::Response& res) {
    guarded(res, false, [&] {
      require_ready(st);
      res.set_content(st.metrics.render(st.engine->stats()), "text/plain; version=0.0.4; charset=utf-8");
    });
  });

  svr.Post("/tokenize", [&st](const httplib::Request& req, httplib::Response& res) {
    guarded(res, false, [&] {
      require_ready(st);
      const json body = parse_request_json(req.body);
      const Tokenizer& tok = *st.session.tokenizer;
      const std::string text = str_field(body, "content");
      const bool add_special = bool_field(body, "add_special", false);
      const bool parse_special = bool_field(body, "parse_special", true);
      const bool with_pieces = bool_field(body, "with_pieces", false);
      const std::vector<int32_t> ids = tok.encode(text, add_special && tok.add_bos(), parse_special);
      json tokens = json::array();
      for (const int32_t id : ids) {
        if (with_pieces) tokens.push_back({{"id", id}, {"piece", tok.token_to_piece(id)}});
        else tokens.push_back(id);
      }
      reply_json(res, {{"tokens", tokens}});
    });
  });

  svr.Post("/detokenize", [&st](const httplib::Request& req, httplib::Response& res) {
    guarded(res, false, [&] {
      require_ready(st);
      const json body = parse_request_json(req.body);
      const Tokenizer& tok = *st.session.tokenizer;
      std::vector<int32_t> ids;
      const auto it = body.find("tokens");
      if (it != body.end() && !it->is_null()) {
        if (!it->is_array()) throw ApiError(400, "'tokens' must be a list of token ids");
        for (const auto& t : *it) {
          if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() >= tok.n_vocab())
            throw ApiError(400, str_cat("'tokens' must hold integers in [0, ", tok.n_vocab(), ")"));
          ids.push_back(static_cast<int32_t>(t.get<int64_t>()));
        }
      }
      reply_json(res, {{"content", tok.decode(ids)}});
    });
  });

  svr.Get("/props", [&st](const httplib::Request&, httplib::Response& res) {
    guarded(res, false, [&] {
      require_ready(st);
      const GgufFile& f = st.session.model->file();
      reply_json(res, {{"default_generation_settings", {{"n_ctx", st.engine->n_ctx_slot()}}},
                       {"total_slots", st.engine->stats().n_slots},
                       {"model_path", st.model_path},
                       {"model_alias", st.model_id},
                       {"chat_template", f.get_str_or("tokenizer.chat_template", "")}});
    });
  });

  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kChatPageHtml, "text/html; charset=utf-8");
  });
}

}  // namespace jetlm
