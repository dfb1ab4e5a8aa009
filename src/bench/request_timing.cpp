#include "bench/request_timing.h"

namespace jetlm {

namespace {
double gen_tps_of(const RequestTiming& r) {
  const double span = r.ttlt_ms() - r.ttft_ms();
  return r.n_gen() > 1 && span > 0 ? (r.n_gen() - 1) * 1000.0 / span : 0;
}
}  // namespace

RunStats run_stats(const std::vector<RequestTiming>& reqs, double wall_ms) {
  RunStats s;
  std::vector<double> ttft, itl, ttlt, ptps, gtps;
  double tokens = 0;
  for (const RequestTiming& r : reqs) {
    if (r.timed_out) ++s.n_timeouts;
    if (!r.ok || r.t_ms.empty()) {
      ++s.n_errors;
      continue;
    }
    ++s.n_ok;
    tokens += r.n_gen();
    ttft.push_back(r.ttft_ms());
    ttlt.push_back(r.ttlt_ms());
    for (size_t i = 1; i < r.t_ms.size(); ++i) itl.push_back(r.t_ms[i] - r.t_ms[i - 1]);
    if (r.ttft_ms() > 0) ptps.push_back(r.n_prompt * 1000.0 / r.ttft_ms());
    if (r.n_gen() > 1) gtps.push_back(gen_tps_of(r));
  }
  s.ttft_ms = summarize(ttft);
  s.itl_ms = summarize(itl);
  s.ttlt_ms = summarize(ttlt);
  s.prompt_tps = summarize(ptps);
  s.gen_tps = summarize(gtps);
  if (wall_ms > 0) {
    s.output_tps = tokens * 1000.0 / wall_ms;
    s.request_rate = s.n_ok * 1000.0 / wall_ms;
  }
  return s;
}

void add_stats_json(nlohmann::json& j, const RunStats& s) {
  j["ttft_ms"] = to_json(s.ttft_ms);
  j["itl_ms"] = to_json(s.itl_ms);
  j["ttlt_ms"] = to_json(s.ttlt_ms);
  j["prompt_tps"] = to_json(s.prompt_tps);
  j["gen_tps"] = to_json(s.gen_tps);
  j["n_ok"] = s.n_ok;
  j["n_errors"] = s.n_errors;
  j["n_timeouts"] = s.n_timeouts;
  j["output_tps"] = s.output_tps;
  j["request_rate"] = s.request_rate;
}

nlohmann::json samples_json(const std::vector<RequestTiming>& reqs) {
  nlohmann::json ttft = nlohmann::json::array(), ttlt = nlohmann::json::array(), itl = nlohmann::json::array(),
                 gtps = nlohmann::json::array(), t = nlohmann::json::array(), start = nlohmann::json::array(),
                 errors = nlohmann::json::array();
  for (const RequestTiming& r : reqs) {
    if (!r.ok || r.t_ms.empty()) {
      errors.push_back(r.timed_out ? "timeout: " + r.error : r.error);
      continue;
    }
    ttft.push_back(r.ttft_ms());
    ttlt.push_back(r.ttlt_ms());
    gtps.push_back(gen_tps_of(r));
    start.push_back(r.start_ms);
    for (size_t i = 1; i < r.t_ms.size(); ++i) itl.push_back(r.t_ms[i] - r.t_ms[i - 1]);
    t.push_back(r.t_ms);
  }
  return nlohmann::json{{"ttft_ms", ttft}, {"ttlt_ms", ttlt}, {"itl_ms", itl}, {"gen_tps", gtps},
                        {"start_ms", start}, {"t_ms", t}, {"errors", errors}};
}

}  // namespace jetlm
