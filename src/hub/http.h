// One HTTP GET through libcurl, with redirects followed here rather than by
// curl so that the token goes to the Hub only: the Hub answers every LFS file
// with a 302 to a signed URL on a CDN host, which must not see it.
// TLS verification stays on; proxies come from the environment as curl reads them.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace jetlm::hub {

struct HttpRequest {
  std::string url;
  std::string token;         // sent as "Authorization: Bearer" ...
  std::string token_origin;  // ... only to URLs of this scheme://host:port
  int64_t range_from = -1;   // >= 0: "Range: bytes=N-"
};

struct HttpResponse {
  long status = 0;        // of the last answer (0: no answer)
  std::string error;      // curl's message when the transfer failed (network), else ""
  bool aborted = false;   // a callback asked to stop
  std::string final_url;  // after redirects
  std::vector<std::pair<std::string, std::string>> headers;  // of the last answer; names lower-case
  std::string error_body;  // the start of a >= 400 answer's body (the Hub's JSON "error")
  std::string header(const std::string& lower_name) const;  // "" when absent
};

struct HttpSink {
  // Called once before the first body byte of a 2xx answer; false aborts.
  std::function<bool(const HttpResponse&)> begin;
  // The body of the 2xx answer, piece by piece; false aborts.
  std::function<bool(const char*, size_t)> data;
};

HttpResponse http_get(const HttpRequest& req, const HttpSink& sink);
// The whole body of a small answer (API JSON) in body.
HttpResponse http_get_text(const HttpRequest& req, std::string& body);

// "https://host:port" of a URL (lower-case host, default port spelled out).
std::string url_origin(const std::string& url);
// Percent-encodes a file path for a URL, keeping '/'.
std::string url_path_escape(const std::string& path);

}  // namespace jetlm::hub
