#include "hub/quant.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <regex>

#include "util/error.h"

namespace jetlm::hub {

static std::string upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

static bool ends_with_ci(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && upper(s.substr(s.size() - suffix.size())) == upper(suffix);
}

static const std::regex& split_re() {
  static const std::regex re("-(\\d{5})-of-(\\d{5})\\.gguf$", std::regex::icase);
  return re;
}

std::string quant_of(const std::string& path) {
  static const std::regex re("(^|[-._/])(I?Q[0-9](_[A-Z0-9]+)*|TQ[0-9]_[0-9]|BF16|F16|F32)(?=$|[-./])", std::regex::icase);
  std::string s = std::regex_replace(path, split_re(), ".gguf");
  if (ends_with_ci(s, ".gguf")) s.resize(s.size() - 5);
  std::string found;
  for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator(); ++it) found = (*it)[2];
  return upper(found);
}

static std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::tolower);
  return s;
}

std::vector<std::string> select_gguf(const std::vector<std::string>& paths, const std::string& tag, const std::string& repo) {
  std::vector<std::string> models;
  for (const std::string& p : paths) {
    if (!ends_with_ci(p, ".gguf") || lower(p).find("mmproj") != std::string::npos) continue;
    if (is_later_part(p)) continue;  // they follow the first
    models.push_back(p);
  }
  std::sort(models.begin(), models.end());
  if (models.empty()) fail(repo, " has no GGUF model file");

  auto pick = [&](const std::string& t) -> std::string {
    std::string contains;
    for (const std::string& p : models) {
      if (quant_of(p) == upper(t)) return p;
      if (contains.empty() && lower(p).find(lower(t)) != std::string::npos) contains = p;
    }
    return contains;
  };
  std::string chosen;
  if (!tag.empty()) {
    chosen = pick(tag);
    if (chosen.empty()) {
      std::string avail;
      for (const std::string& p : models) {
        const std::string q = quant_of(p);
        const std::string item = q.empty() ? p : q;
        if (avail.find(item) == std::string::npos) avail += (avail.empty() ? "" : ", ") + item;
      }
      fail(repo, ": no GGUF file matches '", tag, "' (available: ", avail, ")");
    }
  } else {
    chosen = pick("Q4_K_M");
    if (chosen.empty()) chosen = pick("Q8_0");
    if (chosen.empty()) chosen = models.front();
  }

  return split_parts(paths, chosen, repo);
}

bool is_later_part(const std::string& path) {
  std::smatch m;
  return std::regex_search(path, m, split_re()) && std::stoi(m[1]) != 1;
}

std::vector<std::string> split_parts(const std::vector<std::string>& paths, const std::string& first, const std::string& repo) {
  std::vector<std::string> out = {first};
  std::smatch m;
  if (std::regex_search(first, m, split_re())) {
    const int n = std::stoi(m[2]);
    const std::string prefix = first.substr(0, static_cast<size_t>(m.position(0)));
    for (int k = 2; k <= n; ++k) {
      char part[40];
      std::snprintf(part, sizeof part, "-%05d-of-%s.gguf", k, m[2].str().c_str());
      const std::string want = prefix + part;
      const auto it = std::find_if(paths.begin(), paths.end(), [&](const std::string& p) { return lower(p) == lower(want); });
      if (it == paths.end()) fail(repo, ": split model ", first, " lacks its part ", want);
      out.push_back(*it);
    }
  }
  return out;
}

HubRef parse_hub_ref(const std::string& text) {
  HubRef r;
  r.repo = text;
  const size_t colon = text.rfind(':');
  if (colon != std::string::npos) {
    r.repo = text.substr(0, colon);
    r.tag = text.substr(colon + 1);
  }
  const size_t slash = r.repo.find('/');
  const bool ok = slash != std::string::npos && slash > 0 && slash + 1 < r.repo.size() &&
                  r.repo.find('/', slash + 1) == std::string::npos &&
                  std::all_of(r.repo.begin(), r.repo.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
                  }) &&
                  r.repo.find("..") == std::string::npos;
  if (!ok) throw UsageError(str_cat("'", text, "' is not a Hub model: expected ORG/NAME[:QUANT], e.g. Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M"));
  return r;
}

}  // namespace jetlm::hub
