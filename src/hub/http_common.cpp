// The parts of the Hub's HTTP layer that need no libcurl (headers, URLs), apart
// from the transfer itself (http.cpp), so a build without libcurl
// (no_network.cpp) keeps them.
#include <algorithm>
#include <cctype>
#include <string>

#include "hub/http.h"

namespace jetlm::hub {

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

}  // namespace jetlm::hub
