#include "hub/api.h"

#include <nlohmann/json.hpp>

namespace jetlm::hub {

HttpRequest hub_request(const HubConfig& cfg, const std::string& url) {
  HttpRequest r;
  r.url = url;
  r.token = cfg.token;
  r.token_origin = url_origin(cfg.endpoint);
  return r;
}

std::string resolve_url(const HubConfig& cfg, const std::string& repo, const std::string& commit, const std::string& file) {
  return cfg.endpoint + "/" + repo + "/resolve/" + commit + "/" + url_path_escape(file);
}

static std::string hub_message(const HttpResponse& r) {
  try {
    const nlohmann::json j = nlohmann::json::parse(r.error_body);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) return j["error"].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  return "";
}

void check_answer(const HttpResponse& r, const std::string& what) {
  if (!r.error.empty()) throw NetworkError(str_cat("cannot reach ", url_origin(r.final_url), " for ", what, ": ", r.error));
  if (r.status >= 200 && r.status < 300) return;
  // The Hub answers 401 for a missing repository asked anonymously and for a stale token.
  if (r.status == 401) fail(what, ": not found, or private/gated: set or check HF_TOKEN (HTTP 401)");
  if (r.status == 403) {
    const std::string m = hub_message(r);
    fail(what, ": access denied (HTTP 403", m.empty() ? "" : ": " + m,
         "); a gated model needs its conditions accepted on the Hub by the token's account");
  }
  if (r.status == 404) fail(what, ": not found (HTTP 404: no such repository, revision or file)");
  if (r.status >= 500) throw NetworkError(str_cat(what, ": the Hub answered HTTP ", r.status));
  fail(what, ": unexpected HTTP ", r.status, " from ", url_origin(r.final_url));
}

// <https://host/api/...?cursor=x>; rel="next"
static std::string next_link(const std::string& link) {
  size_t pos = 0;
  while (pos < link.size()) {
    const size_t lt = link.find('<', pos), gt = link.find('>', lt == std::string::npos ? pos : lt);
    if (lt == std::string::npos || gt == std::string::npos) break;
    size_t end = link.find(',', gt);
    if (end == std::string::npos) end = link.size();
    if (link.substr(gt, end - gt).find("rel=\"next\"") != std::string::npos) return link.substr(lt + 1, gt - lt - 1);
    pos = end + 1;
  }
  return "";
}

static nlohmann::json get_json(const HubConfig& cfg, const std::string& url, const std::string& what, std::string* next) {
  std::string body;
  const HttpResponse r = http_get_text(hub_request(cfg, url), body);
  check_answer(r, what);
  if (next) *next = next_link(r.header("link"));
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::exception&) {
    fail(what, ": the Hub's answer to ", url, " is not JSON");
  }
}

RepoListing list_repo(const HubConfig& cfg, const std::string& repo, const std::string& revision) {
  RepoListing out;
  const std::string api = cfg.endpoint + "/api/models/" + repo;
  const nlohmann::json info = get_json(cfg, api + "/revision/" + url_path_escape(revision), repo, nullptr);
  if (!info.is_object() || !info.contains("sha") || !info["sha"].is_string())
    fail(repo, ": the Hub's revision answer has no commit (\"sha\")");
  out.commit = info["sha"].get<std::string>();
  std::string url = api + "/tree/" + out.commit + "?recursive=true";
  for (int page = 0; !url.empty(); ++page) {
    if (page > 10000) fail(repo, ": the Hub's file list does not end");
    std::string next;
    const nlohmann::json tree = get_json(cfg, url, repo, &next);
    if (!tree.is_array()) fail(repo, ": the Hub's file list is not an array");
    for (const auto& e : tree) {
      if (!e.is_object() || e.value("type", "") != "file" || !e.contains("path")) continue;
      RepoFile f;
      f.path = e["path"].get<std::string>();
      f.size = e.value("size", int64_t(0));
      f.git_oid = e.value("oid", "");
      if (e.contains("lfs") && e["lfs"].is_object()) {
        const auto& l = e["lfs"];
        f.sha256 = l.contains("oid") ? l.value("oid", "") : l.value("sha256", "");
        if (l.contains("size")) f.size = l.value("size", f.size);
      }
      out.files.push_back(f);
    }
    url = next;
  }
  return out;
}

}  // namespace jetlm::hub
