#include "hub/http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

#include "util/error.h"

namespace jetlm::hub {

static const int kMaxRedirects = 10;

std::string HttpResponse::header(const std::string& lower_name) const {
  for (const auto& h : headers)
    if (h.first == lower_name) return h.second;
  return "";
}

std::string url_origin(const std::string& url) {
  const size_t sep = url.find("://");
  if (sep == std::string::npos) return "";
  std::string scheme = url.substr(0, sep);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::tolower);
  const size_t start = sep + 3;
  size_t end = url.find_first_of("/?#", start);
  if (end == std::string::npos) end = url.size();
  std::string authority = url.substr(start, end - start);
  const size_t at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  std::transform(authority.begin(), authority.end(), authority.begin(), ::tolower);
  const size_t colon = authority.rfind(':');
  const bool has_port = colon != std::string::npos && authority.find(']', colon) == std::string::npos;
  if (!has_port) authority += scheme == "https" ? ":443" : ":80";
  return scheme + "://" + authority;
}

std::string url_path_escape(const std::string& path) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

namespace {

struct Transfer {
  CURL* curl;
  const HttpSink* sink;
  HttpResponse* resp;
  bool begun = false;
};

long current_status(CURL* curl) {
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

size_t on_header(char* buf, size_t size, size_t n, void* user) {
  Transfer* t = static_cast<Transfer*>(user);
  std::string line(buf, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.compare(0, 5, "HTTP/") == 0) {
    t->resp->headers.clear();  // a new answer (after a 100 Continue)
  } else {
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), ::tolower);
      const size_t v = line.find_first_not_of(" \t", colon + 1);
      t->resp->headers.emplace_back(name, v == std::string::npos ? "" : line.substr(v));
    }
  }
  return size * n;
}

size_t on_body(char* buf, size_t size, size_t n, void* user) {
  Transfer* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  const long code = current_status(t->curl);
  if (code >= 300 && code < 400) return len;  // a redirect's body: dropped
  if (code >= 400) {
    if (t->resp->error_body.size() < 4096) t->resp->error_body.append(buf, std::min<size_t>(len, 4096));
    return len;
  }
  if (!t->begun) {
    t->begun = true;
    t->resp->status = code;
    if (t->sink->begin && !t->sink->begin(*t->resp)) {
      t->resp->aborted = true;
      return 0;
    }
  }
  if (t->sink->data && !t->sink->data(buf, len)) {
    t->resp->aborted = true;
    return 0;
  }
  return len;
}

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) fail("cannot initialise libcurl");
  });
}

}  // namespace

HttpResponse http_get(const HttpRequest& req, const HttpSink& sink) {
  global_init();
  CURL* curl = curl_easy_init();
  if (!curl) fail("cannot initialise libcurl");
  HttpResponse resp;
  std::string url = req.url;
  char errbuf[CURL_ERROR_SIZE];
  for (int hop = 0;; ++hop) {
    resp = HttpResponse();
    Transfer t{curl, &sink, &resp};
    errbuf[0] = '\0';
    curl_slist* headers = nullptr;
    if (!req.token.empty() && url_origin(url) == req.token_origin)
      headers = curl_slist_append(headers, ("Authorization: Bearer " + req.token).c_str());
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "jetlm/0.1");
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 30L);
    // A stalled connection (under 1 byte/s for a minute) is a network error, retried by the caller.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_BUFFERSIZE, 512L * 1024);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    const std::string range = req.range_from >= 0 ? std::to_string(req.range_from) + "-" : "";
    curl_easy_setopt(curl, CURLOPT_RANGE, range.empty() ? nullptr : range.c_str());
    const CURLcode rc = curl_easy_perform(curl);
    curl_slist_free_all(headers);
    resp.final_url = url;
    if (resp.status == 0) resp.status = current_status(curl);
    if (rc != CURLE_OK) {
      if (!resp.aborted) resp.error = errbuf[0] ? errbuf : curl_easy_strerror(rc);
      break;
    }
    if (resp.status < 300 || resp.status >= 400) break;
    char* next = nullptr;
    curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &next);  // curl resolves a relative Location
    if (!next) break;  // a 3xx without Location: the caller reports the status
    if (hop + 1 >= kMaxRedirects) {
      resp.error = str_cat("more than ", kMaxRedirects, " redirects");
      break;
    }
    url = next;
  }
  curl_easy_cleanup(curl);
  return resp;
}

HttpResponse http_get_text(const HttpRequest& req, std::string& body) {
  body.clear();
  HttpSink sink;
  sink.data = [&body](const char* p, size_t n) {
    body.append(p, n);
    return body.size() < (256u << 20);  // an API answer is never this large
  };
  return http_get(req, sink);
}

}  // namespace jetlm::hub
