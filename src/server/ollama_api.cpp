// ollama's API: /api/chat and /api/generate (NDJSON streams by default, one
// object per token event, the last with done: true and durations in
// nanoseconds), /api/tags, /api/show, /api/ps, /api/version.
#include <httplib.h>

#include <cmath>
#include <cstdio>

#include "quant/file_type.h"
#include "server/gen_params.h"
#include "server/http_stream.h"
#include "server/request_json.h"
#include "server/routes.h"

namespace jetlm {

using nlohmann::json;

// The version /api/version reports: jetlm serve's own, in ollama's semver form.
static const char* const kServeVersion = "0.1.0";

namespace {

enum class Kind { Chat, Generate };

int64_t ns(double ms) { return static_cast<int64_t>(std::llround(ms * 1e6)); }

// "260K", "1.2B": ollama's parameter_size.
std::string param_size(int64_t n) {
  char buf[32];
  if (n >= 1000000000) std::snprintf(buf, sizeof buf, "%.1fB", n / 1e9);
  else if (n >= 1000000) std::snprintf(buf, sizeof buf, "%.0fM", n / 1e6);
  else std::snprintf(buf, sizeof buf, "%.0fK", n / 1e3);
  return buf;
}

json details(const ServerState& st) {
  const Model& m = *st.session.model;
  const GgufFile& f = m.file();
  const std::string arch = m.hparams().arch_name;
  std::string quant = "unknown";
  if (const GgufValue* v = f.find("general.file_type")) quant = file_type_name(static_cast<FileType>(v->u));
  return {{"parent_model", ""}, {"format", "gguf"}, {"family", arch}, {"families", json::array({arch})},
          {"parameter_size", param_size(m.n_params())}, {"quantization_level", quant}};
}

// A stable stand-in for ollama's sha256 digest (not a content hash: hashing
// gigabytes at every /api/tags would be slow). FNV-1a of path and size.
std::string digest(const ServerState& st) {
  uint64_t h = 1469598103934665603ull;
  const std::string key = st.model_path + "#" + std::to_string(st.session.model->file().file_size());
  for (const unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  char buf[80];
  std::snprintf(buf, sizeof buf, "%016llx%016llx%016llx%016llx", static_cast<unsigned long long>(h),
                static_cast<unsigned long long>(h * 31), static_cast<unsigned long long>(h * 131),
                static_cast<unsigned long long>(h * 1313));
  return buf;
}

json model_entry(const ServerState& st) {
  return {{"name", st.model_id}, {"model", st.model_id}, {"modified_at", rfc3339_now()},
          {"size", st.session.model->file().file_size()}, {"digest", digest(st)}, {"details", details(st)}};
}

// The scalar metadata of the file (arrays such as the vocabulary left out).
json model_info(const ServerState& st) {
  const Model& m = *st.session.model;
  json info = json::object();
  for (const auto& kv : m.file().metadata()) {
    const GgufValue& v = kv.second;
    if (kv.first == "tokenizer.chat_template") continue;
    if (v.type == GgufType::STRING) info[kv.first] = std::string(v.str);
    else if (v.type == GgufType::BOOL) info[kv.first] = v.u != 0;
    else if (v.is_float()) info[kv.first] = v.f;
    else if (v.type != GgufType::ARRAY) info[kv.first] = v.i;
  }
  info["general.parameter_count"] = m.n_params();
  return info;
}

struct Ask {
  Kind kind = Kind::Chat;
  bool stream = true;  // ollama streams unless told not to
  std::string model;
  std::chrono::steady_clock::time_point t0;
};

json head_fields(const Ask& a) { return {{"model", a.model}, {"created_at", rfc3339_now()}}; }

json text_object(const Ask& a, const std::string& text, bool done) {
  json o = head_fields(a);
  if (a.kind == Kind::Chat) o["message"] = {{"role", "assistant"}, {"content", text}};
  else o["response"] = text;
  o["done"] = done;
  return o;
}

json final_object(const Ask& a, const ServerState& st, const Completion& c, const std::string& text) {
  json o = text_object(a, text, true);
  const GenerateStats& s = c.fin.stats;
  o["done_reason"] = finish_reason(c.fin);
  o["total_duration"] =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - a.t0).count();
  o["load_duration"] = 0;  // the model stays loaded
  o["prompt_eval_count"] = s.n_prompt + s.n_reused;
  o["prompt_eval_duration"] = ns(s.prompt_ms);
  o["eval_count"] = s.n_generated;
  o["eval_duration"] = ns(s.generate_ms);
  return o;
}

void generate(ServerState& st, const httplib::Request& req, httplib::Response& res, Kind kind) {
  Ask a;
  a.t0 = std::chrono::steady_clock::now();
  require_ready(st);
  const json body = parse_request_json(req.body);
  a.kind = kind;
  a.stream = bool_field(body, "stream", true);
  a.model = str_field(body, "model", st.model_id);
  if (a.model.empty()) a.model = st.model_id;
  const json& options = obj_field(body, "options");
  std::vector<int32_t> prompt;
  if (kind == Kind::Chat) {
    const auto m = body.find("messages");
    if (m == body.end() || m->is_null() || (m->is_array() && m->empty())) {  // ollama: "load the model"
      json o = text_object(a, "", true);
      o["done_reason"] = "load";
      reply_json(res, o);
      return;
    }
    prompt = chat_prompt(st, *m);
  } else {
    const std::string text = str_field(body, "prompt");
    if (text.empty()) {
      json o = text_object(a, "", true);
      o["done_reason"] = "load";
      reply_json(res, o);
      return;
    }
    if (bool_field(body, "raw", false)) {
      prompt = text_prompt(st, text);
    } else {  // ollama renders the prompt (and system) as a chat turn
      json msgs = json::array();
      const std::string system = str_field(body, "system");
      if (!system.empty()) msgs.push_back({{"role", "system"}, {"content", system}});
      msgs.push_back({{"role", "user"}, {"content", text}});
      prompt = chat_prompt(st, msgs);
    }
  }
  const GenerateParams gp = generate_params(options, ApiDialect::Ollama, static_cast<int>(prompt.size()), st.engine->n_ctx_slot());
  auto job = std::make_shared<Job>(st, std::move(prompt), gp, -1);
  if (a.stream) {
    StreamFormat f;
    f.content_type = "application/x-ndjson";
    f.piece = [a](const TokenEvent& e) { return e.text.empty() ? std::string() : to_wire(text_object(a, e.text, false)) + "\n"; };
    ServerState* s = &st;
    f.tail = [a, s](const Completion& c) {
      if (c.fin.stop_reason == "error") return to_wire({{"error", "generation failed: " + c.fin.error}}) + "\n";
      return to_wire(final_object(a, *s, c, "")) + "\n";
    };
    send_stream(st, req, res, job, f);
    return;
  }
  const Completion c = run_to_end(st, req, *job);
  if (c.fin.stop_reason == "error") throw ApiError(500, "generation failed: " + c.fin.error, "server_error");
  reply_json(res, final_object(a, st, c, c.text));
}

}  // namespace

void register_ollama_routes(httplib::Server& svr, ServerState& st) {
  svr.Post("/api/chat", [&st](const httplib::Request& req, httplib::Response& res) {
    guarded(res, true, [&] { generate(st, req, res, Kind::Chat); });
  });
  svr.Post("/api/generate", [&st](const httplib::Request& req, httplib::Response& res) {
    guarded(res, true, [&] { generate(st, req, res, Kind::Generate); });
  });
  svr.Get("/api/tags", [&st](const httplib::Request&, httplib::Response& res) {
    guarded(res, true, [&] {
      require_ready(st);
      reply_json(res, {{"models", json::array({model_entry(st)})}});
    });
  });
  svr.Get("/api/ps", [&st](const httplib::Request&, httplib::Response& res) {
    guarded(res, true, [&] {
      require_ready(st);
      json e = model_entry(st);
      e["expires_at"] = "2099-01-01T00:00:00Z";  // loaded for the server's lifetime
      e["size_vram"] = 0;
      reply_json(res, {{"models", json::array({e})}});
    });
  });
  svr.Post("/api/show", [&st](const httplib::Request& req, httplib::Response& res) {
    guarded(res, true, [&] {
      require_ready(st);
      parse_request_json(req.body);  // the one model is shown whatever its name
      const GgufFile& f = st.session.model->file();
      reply_json(res, {{"license", f.get_str_or("general.license", "")},
                       {"modelfile", "# served by jetlm from " + st.model_path},
                       {"parameters", ""},
                       {"template", f.get_str_or("tokenizer.chat_template", "")},
                       {"details", details(st)},
                       {"model_info", model_info(st)},
                       {"capabilities", json::array({"completion"})},
                       {"modified_at", rfc3339_now()}});
    });
  });
  svr.Get("/api/version", [](const httplib::Request&, httplib::Response& res) {
    reply_json(res, {{"version", kServeVersion}});
  });
}

}  // namespace jetlm
