// jetlm bench --bandwidth, --compare, --plots, and the roofline figure the other modes use.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/gpu_factory.h"
#include "bench/bandwidth.h"
#include "tools/bench_cli.h"
#include "util/error.h"

namespace jetlm {

namespace {
using Json = nlohmann::json;

size_t bandwidth_bytes(const Args& a) {
  const int64_t mib = a.get_int("--bandwidth-mib");
  if (mib < 1 || mib > (1 << 16)) throw UsageError("--bandwidth-mib: expected 1..65536");
  return static_cast<size_t>(mib) << 20;
}

Json load_json(const std::string& path) {
  std::ifstream f(path);
  if (!f) fail("cannot read '", path, "'");
  std::stringstream ss;
  ss << f.rdbuf();
  Json j = Json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) fail("'", path, "' is not JSON");
  return j;
}

std::string str_of(const Json& j, const char* k) {
  if (!j.contains(k)) return "";
  return j[k].is_string() ? j[k].get<std::string>() : j[k].dump();
}

// Rows of a jetlm bench JSON file: a scenario file ({"runs": [...]}) or llama-bench's array.
struct Row {
  std::string key;
  std::vector<std::pair<std::string, double>> metrics;  // name, value (higher or lower is better: see name)
};
std::vector<Row> rows_of(const Json& j) {
  std::vector<Row> rows;
  if (j.is_object() && j.contains("runs")) {
    for (const Json& r : j["runs"]) {
      Row row;
      row.key = str_of(r, "model_type") + " | " + str_of(r, "backend") + " ngl " + str_of(r, "n_gpu_layers") + " | " +
                str_of(r, "scenario") + (str_of(r, "load") == "sync" ? "" : " " + str_of(r, "load"));
      row.metrics = {{"TTFT p50 ms", r["ttft_ms"]["p50"].get<double>()},
                     {"ITL p50 ms", r["itl_ms"]["p50"].get<double>()},
                     {"pp t/s", r["prompt_tps"]["mean"].get<double>()},
                     {"tg t/s", r["gen_tps"]["mean"].get<double>()}};
      rows.push_back(row);
    }
  } else if (j.is_array()) {
    for (const Json& r : j) {
      Row row;
      const std::string test = str_of(r, "n_prompt") + "+" + str_of(r, "n_gen") + (r.value("n_depth", 0) ? " @ d" + str_of(r, "n_depth") : "");
      row.key = str_of(r, "model_type") + " | " + str_of(r, "backends") + " ngl " + str_of(r, "n_gpu_layers") + " t " +
                str_of(r, "n_threads") + " | pp+tg " + test;
      row.metrics = {{"t/s", r["avg_ts"].get<double>()}};
      rows.push_back(row);
    }
  } else {
    fail("not a jetlm bench JSON file (expected {\"runs\": [...]} or an array of llama-bench rows)");
  }
  return rows;
}

std::string python_for_plots() {
  if (const char* p = std::getenv("JETLM_PYTHON")) return p;
  // Debian's python3-matplotlib lives with the system interpreter (a pyenv python3 first on PATH lacks it).
  struct stat st;
  if (::stat("/usr/bin/python3", &st) == 0) return "/usr/bin/python3";
  return "python3";
}

std::string plot_script() {
  if (const char* p = std::getenv("JETLM_PLOT_SCRIPT")) return p;
  std::vector<std::string> candidates;
  char exe[4096];
  const ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    std::string dir(exe, static_cast<size_t>(n));
    dir = dir.substr(0, dir.find_last_of('/'));
    // build/jetlm -> scripts/; an installed bin/jetlm -> share/jetlm/.
    candidates = {dir + "/../scripts/bench_plots.py", dir + "/../../scripts/bench_plots.py", dir + "/../share/jetlm/bench_plots.py"};
  }
  candidates.push_back("scripts/bench_plots.py");
  struct stat st;
  for (const std::string& c : candidates)
    if (::stat(c.c_str(), &st) == 0) return c;
  fail("--plots: scripts/bench_plots.py not found (set JETLM_PLOT_SCRIPT)");
}

}  // namespace

double bench_peak_gbs(const Args& a, bool gpu) {
  if (a.has("--peak-gbs")) return a.get_double("--peak-gbs");
  static double host = -1, device = -1;
  if (gpu) {
    if (device < 0) {
      GpuBandwidth g;
      device = gpu_measure_bandwidth(bandwidth_bytes(a), &g) ? g.device_read_gbs : 0;
    }
    if (device > 0) return device;
  }
  if (host < 0) host = measure_host_read_bandwidth(bandwidth_bytes(a), 0, 3).read_gbs;
  return host;
}

int bench_bandwidth(const Args& a) {
  const int threads = a.has("-t") ? bench_int_list(a, "-t", 1).front() : 0;
  const Json j = measure_bandwidth_json(bandwidth_bytes(a), threads);
  std::printf("| %-34s | %10s |\n|%s|%s|\n", "measurement", "GB/s", std::string(36, '-').c_str(), "-----------:");
  auto row = [&](const char* name, const char* key) {
    if (j.contains(key) && j[key].is_number()) std::printf("| %-34s | %10.2f |\n", name, j[key].get<double>());
  };
  std::printf("| %-34s | %10.2f |\n", ("host read, " + std::to_string(j["host_threads"].get<int>()) + " threads").c_str(),
              j["host_read_gbs"].get<double>());
  row("GPU read of device memory", "gpu_device_read_gbs");
  row("GPU device-to-device copy (r+w)", "gpu_d2d_copy_gbs");
  row("host-to-device copy (pinned)", "gpu_h2d_gbs");
  row("GPU read of mapped host memory", "gpu_mapped_read_gbs");
  if (a.has("--json")) {
    std::ofstream f(a.get("--json"));
    f << j.dump(1) << "\n";
    if (!f) fail("--json: cannot write '", a.get("--json"), "'");
  }
  return 0;
}

int bench_compare(const Args& a) {
  if (a.positional().size() != 1) throw UsageError("--compare: expected --compare A.json B.json");
  const std::vector<Row> ra = rows_of(load_json(a.get("--compare"))), rb = rows_of(load_json(a.positional()[0]));
  std::printf("| %-60s | %-12s | %12s | %12s | %7s |\n|%s|%s|%s|%s|%s|\n", "run", "metric", "A", "B", "B/A",
              std::string(62, '-').c_str(), std::string(14, '-').c_str(), "-------------:", "-------------:", "--------:");
  int matched = 0;
  for (const Row& x : ra)
    for (const Row& y : rb) {
      if (x.key != y.key) continue;
      ++matched;
      for (size_t m = 0; m < x.metrics.size() && m < y.metrics.size(); ++m) {
        const double av = x.metrics[m].second, bv = y.metrics[m].second;
        std::printf("| %-60s | %-12s | %12.2f | %12.2f | %7s |\n", m == 0 ? x.key.substr(0, 60).c_str() : "",
                    x.metrics[m].first.c_str(), av, bv, av != 0 ? (std::to_string(bv / av).substr(0, 5) + "x").c_str() : "n/a");
      }
      break;
    }
  if (matched == 0) fail("--compare: no run of the first file matches one of the second (model, backend, ngl, test)");
  return 0;
}

void bench_plots(const std::string& json_path, const std::string& dir) {
  const std::string py = python_for_plots(), script = plot_script();
  std::fflush(stdout);
  const pid_t pid = fork();
  if (pid < 0) fail("--plots: fork failed");
  if (pid == 0) {
    std::vector<const char*> argv = {py.c_str(), script.c_str(), json_path.c_str(), "--out", dir.c_str(), nullptr};
    execvp(argv[0], const_cast<char* const*>(argv.data()));
    std::fprintf(stderr, "jetlm bench --plots: cannot run %s\n", py.c_str());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fail("--plots: ", py, " ", script, " failed (python3-matplotlib installed?)");
}

}  // namespace jetlm
