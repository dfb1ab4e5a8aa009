// jetlm bench: statistics, scenarios, the system monitor on fake Jetson trees,
// the scenario CLI and its JSON, plots, --url against a fake streaming server,
// llama-bench parity (-p ranges, -d, labels), --compare and --bandwidth.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "bench/bandwidth.h"
#include "bench/bench.h"
#include "bench/monitor.h"
#include "bench/prompt_text.h"
#include "bench/request_timing.h"
#include "bench/scenario.h"
#include "bench/stats.h"
#include "bench/sysfs_probe.h"
#include "models/model.h"
#include "test_util.h"
#include "text/tokenizer.h"
#include "util/error.h"

#ifdef JETLM_HAVE_HTTPLIB
#include <httplib.h>
#endif

namespace {

using nlohmann::json;
using jetlm_test::run_jetlm;

const std::string kModel = std::string(JETLM_TEST_DATA) + "/../../models/stories260K.gguf";

// Recursive copy of a fake tree into a fresh directory (so a test can change files).
void copy_tree(const std::string& from, const std::string& to) {
  ::mkdir(to.c_str(), 0755);
  for (const std::string& n : jetlm::list_dir(from)) {
    const std::string a = from + "/" + n, b = to + "/" + n;
    struct stat st;
    ASSERT_EQ(::stat(a.c_str(), &st), 0) << a;
    if (S_ISDIR(st.st_mode)) copy_tree(a, b);
    else jetlm_test::write_bytes(b, jetlm_test::read_bytes(a));
  }
}

std::string fake_tree(const std::string& name) {
  static int n = 0;
  const std::string dst = jetlm_test::temp_dir() + "/sysfs-" + name + "-" + std::to_string(n++);
  copy_tree(jetlm_test::data_path("sysfs/" + name), dst);
  return dst;
}

void write_text(const std::string& path, const std::string& s) { jetlm_test::write_bytes(path, std::vector<uint8_t>(s.begin(), s.end())); }

bool is_png(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char sig[8] = {0};
  f.read(reinterpret_cast<char*>(sig), 8);
  const unsigned char want[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return f.gcount() == 8 && std::equal(sig, sig + 8, want);
}

}  // namespace

// ---- statistics and shapes --------------------------------------------------------------

TEST(BenchStats, PercentilesInterpolateBetweenRanks) {
  std::vector<double> v;
  for (int i = 100; i >= 1; --i) v.push_back(i);  // unsorted on purpose
  const jetlm::Summary s = jetlm::summarize(v);
  EXPECT_DOUBLE_EQ(s.mean, 50.5);
  EXPECT_DOUBLE_EQ(s.p50, 50.5);
  EXPECT_NEAR(s.p90, 90.1, 1e-9);
  EXPECT_NEAR(s.p99, 99.01, 1e-9);
  EXPECT_EQ(s.min, 1);
  EXPECT_EQ(s.max, 100);
  EXPECT_EQ(jetlm::summarize({}).n, 0u);
}

TEST(BenchStats, RequestTimingDefinitions) {
  jetlm::RequestTiming a;
  a.n_prompt = 100;
  a.t_ms = {50, 60, 75, 100};  // TTFT 50, ITL 10 15 25, TTLT 100
  const jetlm::RunStats s = jetlm::run_stats({a}, 200);
  EXPECT_DOUBLE_EQ(s.ttft_ms.mean, 50);
  EXPECT_DOUBLE_EQ(s.ttlt_ms.mean, 100);
  EXPECT_EQ(s.itl_ms.n, 3u);
  EXPECT_DOUBLE_EQ(s.itl_ms.max, 25);
  EXPECT_DOUBLE_EQ(s.gen_tps.mean, 3 / 0.050);
  EXPECT_DOUBLE_EQ(s.prompt_tps.mean, 2000);
  EXPECT_DOUBLE_EQ(s.output_tps, 20);
  jetlm::RequestTiming bad;
  bad.ok = false;
  EXPECT_EQ(jetlm::run_stats({a, bad}, 200).n_errors, 1);
}

TEST(BenchScenarios, NamesListsAndShapes) {
  EXPECT_EQ(jetlm::parse_scenarios("all").size(), 9u);
  const auto v = jetlm::parse_scenarios("chat,64:8,context-heavy");
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].n_in, 128);
  EXPECT_EQ(v[0].n_out, 1024);
  EXPECT_EQ(v[1].n_in, 64);
  EXPECT_EQ(v[1].n_out, 8);
  EXPECT_EQ(v[2].n_in, 4096);
  EXPECT_THROW(jetlm::parse_scenarios("chatty"), jetlm::UsageError);
  EXPECT_THROW(jetlm::parse_scenarios("0:5"), jetlm::UsageError);
  for (const auto& s : jetlm::parse_scenarios("quick")) EXPECT_LE(s.n_in + s.n_out, 512);
  // The warm-up runs the same paths on a short request.
  const jetlm::Scenario w = jetlm::warmup_shape(v[2]), w1 = jetlm::warmup_shape(v[1]);
  EXPECT_EQ(w.n_in, 512);
  EXPECT_EQ(w.n_out, 4);
  EXPECT_EQ(w1.n_in, 64);
  EXPECT_EQ(w1.n_out, 4);
}

TEST(BenchScenarios, PromptsHaveExactlyInTokensAndNoSharedPrefix) {
  auto model = jetlm::Model::load(kModel);
  auto tok = jetlm::Tokenizer::from_gguf(model->file());
  for (int n : {1, 7, 300, 2000}) EXPECT_EQ(jetlm::bench_prompt_tokens(*tok, n, 0).size(), static_cast<size_t>(n));
  const auto a = jetlm::bench_prompt_tokens(*tok, 64, 0), b = jetlm::bench_prompt_tokens(*tok, 64, 1);
  EXPECT_NE(std::vector<int32_t>(a.begin() + 1, a.begin() + 4), std::vector<int32_t>(b.begin() + 1, b.begin() + 4));
}

// ---- the monitor on fake Jetson trees -------------------------------------------------

TEST(BenchMonitor, JetsonNanoTree) {
  const std::string root = fake_tree("nano");
  jetlm::SysfsProbe probe(root);
  jetlm::MonitorInfo info;
  probe.describe(info);
  EXPECT_EQ(info.source, "jetson");
  EXPECT_EQ(info.n_cpu, 4);
  EXPECT_FLOAT_EQ(info.gpu_max_mhz, 921.6f);
  EXPECT_EQ(info.power_source, "ina3221 (iio)");
  ASSERT_EQ(info.rail_names.size(), 3u);
  EXPECT_EQ(info.rail_names[1], "POM_5V_GPU");
  ASSERT_EQ(info.temp_names.size(), 6u);
  EXPECT_EQ(info.temp_names[1], "CPU-therm");

  jetlm::MonitorSample s0;
  probe.read(s0);
  // 100 more busy and 100 more idle jiffies on cpu0; cpu1 busy only; cpu2, cpu3 idle-free busy 300.
  write_text(root + "/proc/stat",
             "cpu  4500 0 2000 14200 0 0 0 0 0 0\n"
             "cpu0 1100 0 500 3600 0 0 0 0 0 0\n"
             "cpu1 1100 0 500 3500 0 0 0 0 0 0\n"
             "cpu2 1100 0 600 3500 0 0 0 0 0 0\n"
             "cpu3 1100 0 600 3500 0 0 0 0 0 0\n");
  jetlm::MonitorSample s;
  probe.read(s);
  ASSERT_EQ(s.cpu_util.size(), 4u);
  EXPECT_FLOAT_EQ(s.cpu_util[0], 50.f);
  EXPECT_FLOAT_EQ(s.cpu_util[1], 100.f);
  EXPECT_FLOAT_EQ(s.cpu_util[3], 100.f);
  EXPECT_NEAR(s.cpu_util_total, 100.0 * 500 / 700, 1e-3);
  EXPECT_FLOAT_EQ(s.cpu_mhz[0], 1479.f);
  EXPECT_FLOAT_EQ(s.cpu_mhz[3], 921.6f);
  EXPECT_EQ(s.rss_bytes, 123456LL * 1024);
  EXPECT_EQ(s.mem_available_bytes, 2166348LL * 1024);
  EXPECT_FLOAT_EQ(s.gpu_util, 99.6f);
  EXPECT_FLOAT_EQ(s.gpu_mhz, 614.4f);
  ASSERT_EQ(s.temps_c.size(), 6u);
  EXPECT_FLOAT_EQ(s.temps_c[1], 85.5f);
  EXPECT_FLOAT_EQ(s.power_mw, 4283.f);  // the input rail, not the sum
  EXPECT_FLOAT_EQ(s.rails_mw[2], 601.f);
}

TEST(BenchMonitor, NanoThrottlingEnergyAndJson) {
  const std::string root = fake_tree("nano");
  jetlm::MonitorOptions mo;
  mo.root = root;
  jetlm::Monitor mon(mo);
  write_text(root + "/proc/stat", "cpu  8000 0 2000 14000 0 0 0 0 0 0\ncpu0 2000 0 500 3500 0 0 0 0 0 0\n"
                                  "cpu1 2000 0 500 3500 0 0 0 0 0 0\ncpu2 2000 0 500 3500 0 0 0 0 0 0\n"
                                  "cpu3 2000 0 500 3500 0 0 0 0 0 0\n");
  const double t0 = mon.now_ms();
  const jetlm::MonitorSample a = mon.sample_now();
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  const jetlm::MonitorSample b = mon.sample_now();
  // CPU-therm 85.5 C and busy cpu3 at 921.6 of 1479 MHz; the GPU at 99.6% runs 614 of 922 MHz.
  EXPECT_TRUE(b.throttled);
  const jetlm::MonitorSummary m = mon.summarize(t0, mon.now_ms(), 10);
  EXPECT_EQ(m.n_samples, 2);
  EXPECT_TRUE(m.throttled);
  EXPECT_NEAR(m.power_mean_w, 4.283, 1e-6);
  EXPECT_NEAR(m.energy_j, 4.283 * (b.t_ms - a.t_ms) / 1000.0, 1e-9);
  EXPECT_NEAR(m.j_per_token, m.energy_j / 10, 1e-12);
  EXPECT_NEAR(m.temp_max_c, 100.0, 1e-6);  // PMIC-Die is the hottest zone, but not a throttling one
  const json j = jetlm::to_json(m, mon.info());
  EXPECT_EQ(j["temp_zone_max_c"]["CPU-therm"].get<double>(), 85.5);
  EXPECT_TRUE(j["throttled"].get<bool>());

  // Cool the board: no longer throttled, though the clocks stay below their maxima.
  for (int z : {1, 2}) write_text(root + "/sys/class/thermal/thermal_zone" + std::to_string(z) + "/temp", "50000\n");
  EXPECT_FALSE(mon.sample_now().throttled);
}

TEST(BenchMonitor, Nano2GbHasNoPowerMonitor) {
  jetlm::MonitorOptions mo;
  mo.root = fake_tree("nano2gb");
  jetlm::Monitor mon(mo);
  const double t0 = mon.now_ms();
  mon.sample_now();
  EXPECT_EQ(mon.sample_now().power_mw, -1.f);
  const jetlm::MonitorSummary m = mon.summarize(t0, mon.now_ms(), 10);
  EXPECT_EQ(m.energy_j, -1);
  const json j = jetlm::to_json(m, mon.info());
  EXPECT_TRUE(j["energy_j"].is_null());
  EXPECT_TRUE(j["j_per_token"].is_null());
  EXPECT_EQ(jetlm::to_json(mon.info())["power_source"], "n/a");
}

TEST(BenchMonitor, OrinTreeHwmonRailsAndOfflineCores) {
  const std::string root = fake_tree("orin");
  jetlm::SysfsProbe probe(root);
  jetlm::MonitorInfo info;
  probe.describe(info);
  EXPECT_EQ(info.n_cpu, 6);
  EXPECT_EQ(info.gpu_name, "17000000.ga10b");
  EXPECT_EQ(info.power_source, "ina3221 (hwmon)");
  ASSERT_EQ(info.rail_names.size(), 3u);  // the "sum of shunt voltages" channel is skipped
  jetlm::MonitorSample s0, s;
  probe.read(s0);
  probe.read(s);
  EXPECT_FLOAT_EQ(s.power_mw, 6000.f);  // VDD_IN: 5000 mV x 1200 mA
  EXPECT_FLOAT_EQ(s.rails_mw[1], 2000.f);
  EXPECT_FLOAT_EQ(s.gpu_util, 50.f);
  EXPECT_FLOAT_EQ(s.gpu_mhz, 624.75f);
  EXPECT_FLOAT_EQ(s.cpu_util[4], -1.f);  // offline: no line in /proc/stat
  EXPECT_FLOAT_EQ(s.cpu_mhz[5], -1.f);
  EXPECT_FLOAT_EQ(s.cpu_util[0], 0.f);   // unchanged counters: idle
}

// ---- scenario runs through the CLI -----------------------------------------------------

TEST(BenchScenarioCli, QuickJsonFieldsAndTimingIdentities) {
  const std::string out = jetlm_test::temp_dir() + "/quick.json";
  const int reps = 2;
  const auto r = run_jetlm({"bench", "--scenarios", "quick", "-m", kModel, "-r", std::to_string(reps), "--json", out,
                            "--peak-gbs", "20", "--sysfs-root", fake_tree("nano")});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("quick-chat"), std::string::npos);
  EXPECT_NE(r.err.find("3/3 runs"), std::string::npos);  // progress bar
  const json j = json::parse(jetlm_test::read_text(out));
  ASSERT_TRUE(j.contains("system"));
  EXPECT_EQ(j["system"]["monitor"]["source"], "jetson");
  ASSERT_EQ(j["models"].size(), 1u);
  EXPECT_EQ(j["models"][0]["type"], "llama 293K all F32");
  ASSERT_EQ(j["runs"].size(), 3u);
  for (const json& run : j["runs"]) {
    for (const char* k : {"scenario", "n_prompt", "n_gen", "repetitions", "prompt_tps", "gen_tps", "bandwidth_gbs", "roofline_pct", "monitor", "samples"})
      EXPECT_TRUE(run.contains(k)) << k;
    for (const char* k : {"ttft_ms", "itl_ms", "ttlt_ms", "prompt_tps", "gen_tps"})
      for (const char* f : {"mean", "p50", "p90", "p99", "min", "max"}) EXPECT_TRUE(run[k].contains(f)) << k << "." << f;
    const int n_gen = run["n_gen"];
    const json& s = run["samples"];
    EXPECT_EQ(s["itl_ms"].size(), static_cast<size_t>((n_gen - 1) * reps));
    ASSERT_EQ(s["ttft_ms"].size(), static_cast<size_t>(reps));
    double tps_sum = 0;
    for (int i = 0; i < reps; ++i) {
      const double ttft = s["ttft_ms"][i], ttlt = s["ttlt_ms"][i];
      EXPECT_GE(ttlt, ttft);
      EXPECT_EQ(s["t_ms"][i].size(), static_cast<size_t>(n_gen));
      const double tps = (n_gen - 1) * 1000.0 / (ttlt - ttft);
      EXPECT_NEAR(s["gen_tps"][i].get<double>(), tps, tps * 0.01);
      tps_sum += tps;
    }
    EXPECT_NEAR(run["gen_tps"]["mean"].get<double>(), tps_sum / reps, tps_sum / reps * 0.01);
    EXPECT_GE(run["ttlt_ms"]["min"].get<double>(), run["ttft_ms"]["min"].get<double>());
    EXPECT_GT(run["bandwidth_gbs"].get<double>(), 0);
    EXPECT_NEAR(run["roofline_pct"].get<double>(), 100 * run["bandwidth_gbs"].get<double>() / 20, 1e-6);
    EXPECT_NEAR(run["monitor"]["power_mean_w"].get<double>(), 4.283, 1e-6);  // the fake Nano's input rail
  }
  EXPECT_GT(j["timeline"]["t_ms"].size(), 0u);
  // Bookkeeping: the command's time covers the timed and warm-up requests; the rest is a share of it.
  const json& t = j["timing"];
  EXPECT_GE(t["command_ms"].get<double>(), t["timed_requests_ms"].get<double>() + t["warmup_requests_ms"].get<double>());
  EXPECT_GT(t["warmup_requests_ms"].get<double>(), 0);
  EXPECT_NEAR(t["overhead_pct"].get<double>(),
              100 * (t["command_ms"].get<double>() - t["timed_requests_ms"].get<double>() - t["warmup_requests_ms"].get<double>()) /
                  t["command_ms"].get<double>(),
              1e-9);

  // --plots from the file just written: every picture, valid PNGs.
  const std::string dir = jetlm_test::temp_dir() + "/plots";
  const auto p = run_jetlm({"bench", "--plots", dir, "--json", out});
  ASSERT_EQ(p.exit_code, 0) << p.err;
  for (const char* f : {"ttft_vs_size.png", "gen_tps_vs_size.png", "backend_bars.png", "memory_vs_speed.png", "itl_distribution.png",
                        "scenario_heatmap.png", "timeline.png", "roofline.png"})
    EXPECT_TRUE(is_png(dir + "/" + f)) << f;

  // --compare of the file with itself: every ratio is 1.
  const auto c = run_jetlm({"bench", "--compare", out, out});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("1.000x"), std::string::npos) << c.out;
}

TEST(BenchScenarioCli, InProcessConcurrencyBatchesRequests) {
  const std::string out = jetlm_test::temp_dir() + "/conc.json";
  const auto r = run_jetlm({"bench", "--scenarios", "16:8", "-m", kModel, "-r", "4", "--concurrency", "2", "--json", out,
                            "--peak-gbs", "0", "--no-monitor"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(jetlm_test::read_text(out));
  const json& run = j["runs"][0];
  EXPECT_EQ(run["load"], "concurrency=2");
  EXPECT_EQ(run["n_ok"], 4);
  EXPECT_EQ(run["samples"]["itl_ms"].size(), 7u * 4);
  EXPECT_TRUE(run["roofline_pct"].is_null());  // --peak-gbs 0: no roofline
  EXPECT_TRUE(run["monitor"].is_null());
}

TEST(BenchScenarioCli, UsageErrors) {
  EXPECT_EQ(run_jetlm({"bench", "--scenarios", "quick", "-m", kModel, "--sweep"}).exit_code, 2);
  EXPECT_EQ(run_jetlm({"bench", "--scenarios", "nope", "-m", kModel}).exit_code, 2);
  EXPECT_EQ(run_jetlm({"bench", "--scenarios", "quick"}).exit_code, 2);
  EXPECT_EQ(run_jetlm({"bench", "--compare", "a.json"}).exit_code, 2);
  EXPECT_EQ(run_jetlm({"bench", "-m", kModel, "-p", "64-8*2"}).exit_code, 2);
}

// ---- llama-bench parity ------------------------------------------------------------------

TEST(BenchParity, PromptRangesDepthAndLabels) {
  const auto r = run_jetlm({"bench", "-m", kModel, "-p", "8-32*2", "-n", "4", "-d", "0,16", "-r", "1", "-o", "json", "--peak-gbs", "10"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json j = json::parse(r.out);
  ASSERT_EQ(j.size(), 8u);  // (pp8, pp16, pp32, tg4) x depth 0, 16
  EXPECT_EQ(j[1]["n_prompt"], 16);
  EXPECT_EQ(j[2]["n_prompt"], 32);
  EXPECT_EQ(j[0]["n_depth"], 0);
  EXPECT_EQ(j[4]["n_depth"], 16);
  EXPECT_GT(j[0]["avg_flops"].get<double>(), 0);
  EXPECT_GT(j[3]["roofline_pct"].get<double>(), 0);
  EXPECT_EQ(j[0]["model_type"], "llama 293K all F32");

  EXPECT_EQ(jetlm::params_label(494032768), "0.5B");
  EXPECT_EQ(jetlm::params_label(1100048384), "1.1B");
  EXPECT_EQ(jetlm::params_label(7000000000), "7B");
  EXPECT_EQ(jetlm::params_label(15200000), "15M");
  auto q = jetlm::Model::load(jetlm_test::data_path("models/tiny-qwen2-q4_0.gguf"));
  const std::string type = jetlm::describe_model(*q, "x").type;
  EXPECT_EQ(type.compare(0, 6, "qwen2 "), 0) << type;
  EXPECT_EQ(type.find('?'), std::string::npos) << type;
}

TEST(BenchBandwidth, HostReadIsMeasured) {
  const jetlm::HostBandwidth h = jetlm::measure_host_read_bandwidth(size_t(8) << 20, 2, 2);
  EXPECT_GT(h.read_gbs, 0.1);
  EXPECT_EQ(h.n_threads, 2);
  const auto r = run_jetlm({"bench", "--bandwidth", "--bandwidth-mib", "8"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("host read"), std::string::npos);
}

// ---- --url against a fake streaming server ----------------------------------------------

#ifdef JETLM_HAVE_HTTPLIB
namespace {
// Streams n_out one-word chunks 2 ms apart after a 20 ms "prompt"; /tokenize splits on spaces.
class FakeServer {
 public:
  FakeServer() {
    srv_.Post("/tokenize", [](const httplib::Request& req, httplib::Response& res) {
      const json b = json::parse(req.body);
      const std::string text = b["content"];
      json ids = json::array();
      size_t at = 0;
      while (at < text.size()) {
        const size_t sp = text.find(' ', at);
        ids.push_back(static_cast<int>(at));  // a word's offset is its "id"
        at = sp == std::string::npos ? text.size() : sp + 1;
      }
      res.set_content(json{{"tokens", ids}}.dump(), "application/json");
    });
    srv_.Post("/detokenize", [](const httplib::Request& req, httplib::Response& res) {
      const json b = json::parse(req.body);
      std::string text;
      for (size_t i = 0; i < b["tokens"].size(); ++i) text += "w ";
      res.set_content(json{{"content", text}}.dump(), "application/json");
    });
    auto stream = [this](bool openai) {
      return [this, openai](const httplib::Request& req, httplib::Response& res) {
        const json b = json::parse(req.body);
        if (b["model"] == "broken") {
          res.status = 500;
          return;
        }
        ++n_requests_;
        const std::string prompt = b["prompt"];
        last_prompt_words_ = static_cast<int>(std::count(prompt.begin(), prompt.end(), ' '));
        const int n = openai ? b["max_tokens"].get<int>() : b["options"]["num_predict"].get<int>();
        res.set_chunked_content_provider(openai ? "text/event-stream" : "application/x-ndjson",
                                         [n, openai](size_t, httplib::DataSink& sink) {
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          for (int i = 0; i < n; ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
            const std::string msg = openai ? "data: " + json{{"choices", {{{"text", "tok "}}}}}.dump() + "\n\n"
                                           : json{{"response", "tok "}, {"done", false}}.dump() + "\n";
            sink.write(msg.data(), msg.size());
          }
          const std::string end = openai ? "data: [DONE]\n\n" : json{{"response", ""}, {"done", true}}.dump() + "\n";
          sink.write(end.data(), end.size());
          sink.done();
          return true;
        });
      };
    };
    srv_.Post("/v1/completions", stream(true));
    srv_.Post("/api/generate", stream(false));
    port_ = srv_.bind_to_any_port("127.0.0.1");
    th_ = std::thread([this] { srv_.listen_after_bind(); });
  }
  ~FakeServer() {
    srv_.stop();
    th_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::atomic<int> n_requests_{0};
  std::atomic<int> last_prompt_words_{0};

 private:
  httplib::Server srv_;
  int port_ = 0;
  std::thread th_;
};
}  // namespace

TEST(BenchRemote, OpenAiStreamingSyncAndConcurrent) {
  FakeServer server;
  const std::string out = jetlm_test::temp_dir() + "/remote.json";
  const auto r = run_jetlm({"bench", "--url", server.url(), "--model-name", "fake", "--scenarios", "16:8", "-r", "3",
                            "--json", out, "--no-monitor"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(server.n_requests_, 4);  // warm-up + 3
  EXPECT_EQ(server.last_prompt_words_, 16);  // IN tokens through the server's /tokenize + /detokenize
  json j = json::parse(jetlm_test::read_text(out));
  EXPECT_EQ(j["remote"]["prompt_source"], "server /tokenize");
  ASSERT_EQ(j["runs"].size(), 1u);
  const json& run = j["runs"][0];
  EXPECT_EQ(run["n_ok"], 3);
  EXPECT_EQ(run["samples"]["itl_ms"].size(), 7u * 3);
  EXPECT_GE(run["ttft_ms"]["min"].get<double>(), 20.0);  // the server's prompt delay
  EXPECT_GE(run["itl_ms"]["p50"].get<double>(), 1.5);
  EXPECT_EQ(run["load"], "sync");

  const auto c = run_jetlm({"bench", "--url", server.url(), "--scenarios", "16:4", "-r", "2", "--concurrency", "3",
                            "--json", out, "--no-monitor"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  j = json::parse(jetlm_test::read_text(out));
  EXPECT_EQ(j["runs"][0]["load"], "concurrency=3");
  EXPECT_EQ(j["runs"][0]["n_ok"], 3);  // at least N requests for N in flight
  EXPECT_GT(j["runs"][0]["request_rate"].get<double>(), 0);
}

TEST(BenchRemote, OllamaRatesSweepAndErrors) {
  FakeServer server;
  const std::string out = jetlm_test::temp_dir() + "/ollama.json";
  auto r = run_jetlm({"bench", "--url", server.url(), "--api", "ollama", "--model-name", "fake", "--scenarios", "8:5",
                      "-r", "2", "--rate", "poisson:50", "--json", out, "--no-monitor"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(jetlm_test::read_text(out));
  EXPECT_EQ(j["runs"][0]["load"], "poisson=50");
  EXPECT_EQ(j["runs"][0]["samples"]["itl_ms"].size(), 4u * 2);

  r = run_jetlm({"bench", "--url", server.url(), "--model-name", "fake", "--scenarios", "8:3", "-r", "2", "--sweep",
                 "--json", out, "--no-monitor"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = json::parse(jetlm_test::read_text(out));
  ASSERT_GE(j["runs"].size(), 2u);
  EXPECT_EQ(j["runs"][0]["load"], "sync");
  EXPECT_EQ(j["runs"][1]["load"], "throughput");

  r = run_jetlm({"bench", "--url", server.url(), "--model-name", "broken", "--scenarios", "8:3", "-r", "2", "--json", out, "--no-monitor"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  j = json::parse(jetlm_test::read_text(out));
  EXPECT_EQ(j["runs"][0]["n_errors"], 2);
  EXPECT_EQ(j["runs"][0]["samples"]["errors"][0], "HTTP 500");
}
#endif
