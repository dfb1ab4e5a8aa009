// jetlm pull / -hf / -m ollama: against a fake Hub on loopback (tests/fake_hub.py)
// and a fake ollama store; nothing here reaches the network.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "hub/digest.h"
#include "test_util.h"

using namespace jetlm_test;
using nlohmann::json;

namespace {

const char* kCommit = "0123456789abcdef0123456789abcdef01234567";

std::string model_file(const std::string& name) { return data_path("models/" + name); }
std::string stories() { return std::string(JETLM_TEST_DATA) + "/../../models/stories260K.gguf"; }

void mkdirs(const std::string& p) {
  for (size_t k = 1; k <= p.size(); ++k)
    if (k == p.size() || p[k] == '/') ::mkdir(p.substr(0, k).c_str(), 0755);
}

size_t lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }
std::string last_line(std::string s) {
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s.substr(s.rfind('\n') + 1);
}

// The fake Hub, started once for the suite on a free port; each test gets its
// own repos (the config is re-read per request), cache and log position.
class Hub : public ::testing::Test {
 protected:
  static pid_t pid_;
  static int port_;
  static std::string dir_;

  static void SetUpTestSuite() {
    dir_ = temp_dir() + "/hub";
    mkdirs(dir_);
    std::ofstream(dir_ + "/config.json") << R"({"repos": {}})";
    std::ofstream(dir_ + "/log.jsonl", std::ios::app).flush();
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      const std::string script = std::string(JETLM_TEST_DATA) + "/../fake_hub.py";
      const std::string conf = dir_ + "/config.json", log = dir_ + "/log.jsonl";
      ::execlp("python3", "python3", script.c_str(), conf.c_str(), log.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    std::string line;  // the port, once it listens
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    port_ = std::atoi(line.c_str());
    ASSERT_GT(port_, 0);
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
    }
  }

  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    home_ = dir_ + "/" + name;
    mkdirs(home_ + "/llama");
    cache_ = home_ + "/cache";
    endpoint_ = "http://127.0.0.1:" + std::to_string(port_);
    ::setenv("HF_ENDPOINT", endpoint_.c_str(), 1);
    ::setenv("HF_HUB_CACHE", cache_.c_str(), 1);
    ::setenv("HF_HOME", (home_ + "/hf").c_str(), 1);  // never the developer's token
    ::setenv("LLAMA_CACHE", (home_ + "/llama").c_str(), 1);
    ::setenv("OLLAMA_MODELS", (home_ + "/ollama").c_str(), 1);
    for (const char* v : {"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE", "HF_TOKEN_PATH", "HUGGINGFACE_HUB_CACHE"})
      ::unsetenv(v);
    config_ = json{{"cdn_host", "localhost"}, {"repos", json::object()}};
    write_config();
    log_start_ = read_text(dir_ + "/log.jsonl").size();
  }

  // A repo of the fake Hub: {path in repo: local file}.
  json& repo(const std::string& name, const json& files) {
    json& r = config_["repos"][name];
    r = json{{"commit", kCommit}, {"files", files}};
    return r;
  }
  void write_config() {
    std::ofstream(dir_ + "/config.json.tmp") << config_.dump();
    ::rename((dir_ + "/config.json.tmp").c_str(), (dir_ + "/config.json").c_str());
  }
  // Requests since the test began.
  std::vector<json> requests() const {
    std::vector<json> out;
    std::istringstream in(read_text(dir_ + "/log.jsonl").substr(log_start_));
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) out.push_back(json::parse(line));
    return out;
  }
  std::vector<json> cdn_requests(const std::string& file) const {
    std::vector<json> out;
    for (const json& r : requests())
      if (r["path"].get<std::string>().find("/cdn/") == 0 && r["path"].get<std::string>().find(file) != std::string::npos)
        out.push_back(r);
    return out;
  }
  std::string snapshot(const std::string& repo, const std::string& file) const {
    std::string folder = "models--" + repo;
    folder.replace(folder.find('/'), 1, "--");
    return cache_ + "/" + folder + "/snapshots/" + kCommit + "/" + file;
  }
  RunResult pull(const std::string& ref) { return run_jetlm({"pull", ref}); }

  std::string home_, cache_, endpoint_;
  json config_;
  size_t log_start_ = 0;
};
pid_t Hub::pid_ = -1;
int Hub::port_ = 0;
std::string Hub::dir_;

json quant_repo_files() {
  return {{"tiny-Q4_K_M.gguf", model_file("tiny-llama-q4_k_m.gguf")},
          {"tiny-Q8_0.gguf", model_file("tiny-llama-q8_0.gguf")},
          {"tiny-Q4_0.gguf", model_file("tiny-llama-q4_0.gguf")},
          {"README.md", data_path("README.md")}};
}

TEST_F(Hub, TagSelectionAndDefault) {
  repo("org/tiny", quant_repo_files())["page_size"] = 2;  // the tree comes in pages (Link: rel="next")
  repo("org/noq4km", {{"m-Q8_0.gguf", model_file("tiny-llama-q8_0.gguf")}, {"m-Q4_0.gguf", model_file("tiny-llama-q4_0.gguf")}});
  write_config();
  struct Case {
    std::string ref, file;
  };
  for (const Case& c : std::vector<Case>{{"org/tiny", "tiny-Q4_K_M.gguf"},
                                         {"org/tiny:q8_0", "tiny-Q8_0.gguf"},
                                         {"org/tiny:Q4_0", "tiny-Q4_0.gguf"},
                                         {"org/noq4km", "m-Q8_0.gguf"}}) {
    const RunResult r = pull(c.ref);
    ASSERT_EQ(r.exit_code, 0) << c.ref << ": " << r.err;
    const std::string repo_name = c.ref.substr(0, c.ref.find(':'));
    EXPECT_EQ(last_line(r.out), snapshot(repo_name, c.file)) << c.ref;
    EXPECT_EQ(read_bytes(last_line(r.out)), read_bytes(config_["repos"][repo_name]["files"][c.file].get<std::string>()));
  }
  const RunResult bad = pull("org/tiny:Q5_K_M");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_EQ(lines(bad.err), 1u) << bad.err;
  EXPECT_NE(bad.err.find("Q4_0, Q4_K_M, Q8_0"), std::string::npos) << bad.err;
}

TEST_F(Hub, MmprojIsNeverPicked) {
  repo("org/vision", {{"mmproj-model-F16.gguf", model_file("tiny-llama-f16.gguf")}, {"model-F16.gguf", model_file("tiny-llama-f16.gguf")}});
  repo("org/onlyproj", {{"mmproj-F16.gguf", model_file("tiny-llama-f16.gguf")}});
  write_config();
  RunResult r = pull("org/vision");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(last_line(r.out), snapshot("org/vision", "model-F16.gguf"));
  r = pull("org/vision:F16");
  EXPECT_EQ(last_line(r.out), snapshot("org/vision", "model-F16.gguf"));
  EXPECT_TRUE(cdn_requests("mmproj").empty());
  r = pull("org/onlyproj");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no GGUF model"), std::string::npos) << r.err;
}

TEST_F(Hub, RedirectsRelativeAbsoluteAndNone) {
  for (const char* mode : {"relative", "absolute", "none"})
    repo(std::string("org/") + mode, {{"m-Q4_K_M.gguf", model_file("tiny-llama-q4_k_m.gguf")}})["redirect"] = mode;
  write_config();
  for (const char* mode : {"relative", "absolute", "none"}) {
    const RunResult r = pull(std::string("org/") + mode);
    ASSERT_EQ(r.exit_code, 0) << mode << ": " << r.err;
    EXPECT_EQ(read_bytes(last_line(r.out)), read_bytes(model_file("tiny-llama-q4_k_m.gguf"))) << mode;
  }
  const auto rel = cdn_requests("/cdn/org/relative/"), abs = cdn_requests("/cdn/org/absolute/");
  ASSERT_EQ(rel.size(), 1u);
  ASSERT_EQ(abs.size(), 1u);
  EXPECT_EQ(rel[0]["host"], "127.0.0.1:" + std::to_string(port_));
  EXPECT_EQ(abs[0]["host"], "localhost:" + std::to_string(port_));
}

// A small file kept in git (no LFS): its blob is named by the git sha1, checked as git computes it.
TEST_F(Hub, NonLfsFileIsCheckedByGitSha1) {
  json& r = repo("org/git", {{"m-Q4_K_M.gguf", model_file("tiny-llama-q4_k_m.gguf")}});
  r["lfs"] = false;
  r["redirect"] = "none";
  json& bad = repo("org/gitbad", {{"m-Q4_K_M.gguf", model_file("tiny-llama-q4_k_m.gguf")}});
  bad["lfs"] = false;
  bad["corrupt"] = true;
  write_config();
  const RunResult ok = pull("org/git");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  char buf[512];
  const ssize_t n = ::readlink(last_line(ok.out).c_str(), buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, n).size(), std::string("../../blobs/").size() + 40);  // a sha1
  EXPECT_EQ(read_bytes(last_line(ok.out)), read_bytes(model_file("tiny-llama-q4_k_m.gguf")));
  const RunResult no = pull("org/gitbad");
  EXPECT_EQ(no.exit_code, 1);
  EXPECT_NE(no.err.find("checksum mismatch"), std::string::npos) << no.err;
}

TEST_F(Hub, DroppedConnectionResumesWithRange) {
  repo("org/drop", {{"m-Q4_K_M.gguf", model_file("tiny-llama-q4_k_m.gguf")}})["drop_once_after"] = 300000;
  write_config();
  const RunResult r = pull("org/drop");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_bytes(last_line(r.out)), read_bytes(model_file("tiny-llama-q4_k_m.gguf")));
  const auto cdn = cdn_requests("m-Q4_K_M.gguf");
  ASSERT_EQ(cdn.size(), 2u);
  EXPECT_TRUE(cdn[0]["range"].is_null());
  EXPECT_EQ(cdn[1]["range"], "bytes=300000-");
}

TEST_F(Hub, PartialFileOfAnEarlierRunIsResumed) {
  const std::string src = model_file("tiny-llama-q4_k_m.gguf");
  repo("org/resume", {{"m-Q4_K_M.gguf", src}});
  write_config();
  const std::string sha = jetlm::hub::file_digest(src, jetlm::hub::Digest::Kind::Sha256, 0);
  const std::string blobs = cache_ + "/models--org--resume/blobs";
  mkdirs(blobs);
  std::vector<uint8_t> head = read_bytes(src);
  head.resize(123457);
  write_bytes(blobs + "/" + sha + ".incomplete", head);
  const RunResult r = pull("org/resume");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_bytes(last_line(r.out)), read_bytes(src));
  const auto cdn = cdn_requests("m-Q4_K_M.gguf");
  ASSERT_EQ(cdn.size(), 1u);
  EXPECT_EQ(cdn[0]["range"], "bytes=123457-");
  EXPECT_NE(::access((blobs + "/" + sha + ".incomplete").c_str(), F_OK), 0);
}

TEST_F(Hub, ServerIgnoringRangeStartsOver) {
  const std::string src = model_file("tiny-llama-q4_k_m.gguf");
  repo("org/norange", {{"m-Q4_K_M.gguf", src}})["ignore_range"] = true;
  write_config();
  const std::string sha = jetlm::hub::file_digest(src, jetlm::hub::Digest::Kind::Sha256, 0);
  mkdirs(cache_ + "/models--org--norange/blobs");
  write_bytes(cache_ + "/models--org--norange/blobs/" + sha + ".incomplete", std::vector<uint8_t>(1000, 0xAB));
  const RunResult r = pull("org/norange");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_bytes(last_line(r.out)), read_bytes(src));
}

TEST_F(Hub, CorruptedBytesAreRejected) {
  repo("org/corrupt", {{"m-Q4_K_M.gguf", model_file("tiny-llama-q4_k_m.gguf")}})["corrupt"] = true;
  write_config();
  const RunResult r = pull("org/corrupt");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("checksum mismatch"), std::string::npos) << r.err;
  EXPECT_NE(::access(snapshot("org/corrupt", "m-Q4_K_M.gguf").c_str(), F_OK), 0);
  // Neither a blob nor a partial file is left behind.
  for (const char* suffix : {"", ".incomplete"})
    EXPECT_NE(::access((cache_ + "/models--org--corrupt/blobs/" +
                        jetlm::hub::file_digest(model_file("tiny-llama-q4_k_m.gguf"), jetlm::hub::Digest::Kind::Sha256, 0) + suffix)
                           .c_str(),
                       F_OK),
              0);
  const RunResult ls = run_jetlm({"models"});
  EXPECT_EQ(ls.out.find("org/corrupt"), std::string::npos) << ls.out;
}

TEST_F(Hub, PrivateRepoNeedsTokenWhichNeverLeavesTheHub) {
  repo("org/private", {{"m-Q4_K_M.gguf", model_file("tiny-llama-q4_k_m.gguf")}})["token"] = "hf_secret";
  write_config();
  RunResult r = pull("org/private");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("HF_TOKEN"), std::string::npos) << r.err;
  ::setenv("HF_TOKEN", "hf_wrong", 1);
  EXPECT_EQ(pull("org/private").exit_code, 1);
  ::setenv("HF_TOKEN", "hf_secret", 1);
  r = pull("org/private");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_bytes(last_line(r.out)), read_bytes(model_file("tiny-llama-q4_k_m.gguf")));
  int hub_with_token = 0;
  for (const json& q : requests()) {
    if (q["path"].get<std::string>().find("/cdn/") == 0) EXPECT_TRUE(q["authorization"].is_null()) << q.dump();
    else if (q["authorization"] == "Bearer hf_secret") ++hub_with_token;
  }
  EXPECT_GE(hub_with_token, 3);  // revision, tree, resolve
  EXPECT_EQ(cdn_requests("m-Q4_K_M.gguf").size(), 1u);
}

TEST_F(Hub, TokenFromHfHomeAndGated) {
  repo("org/private", {{"m-Q4_K_M.gguf", model_file("tiny-llama-q4_k_m.gguf")}})["token"] = "hf_file";
  json& gated = repo("org/gated", {{"m-Q4_K_M.gguf", model_file("tiny-llama-q4_k_m.gguf")}});
  gated["gated"] = true;
  write_config();
  mkdirs(home_ + "/hf");
  std::ofstream(home_ + "/hf/token") << "hf_file\n";
  EXPECT_EQ(pull("org/private").exit_code, 0);
  const RunResult r = pull("org/gated");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("403"), std::string::npos) << r.err;
}

TEST_F(Hub, NotFoundAndNotGguf) {
  repo("org/html", {{"fake-Q4_K_M.gguf", data_path("README.md")}});
  write_config();
  ::setenv("HF_TOKEN", "hf_any", 1);  // with a token the Hub says 404, not 401
  RunResult r = pull("org/missing");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("404"), std::string::npos) << r.err;
  r = run_jetlm({"pull", "org/html", "--revision", "v9"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("404"), std::string::npos) << r.err;
  r = pull("org/html");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("not a GGUF"), std::string::npos) << r.err;
  r = run_jetlm({"pull", "not a repo"});
  EXPECT_EQ(r.exit_code, 2);
}

TEST_F(Hub, OfflineFromCacheAndWithoutIt) {
  repo("org/tiny", quant_repo_files());
  write_config();
  const RunResult online = pull("org/tiny:Q8_0");
  ASSERT_EQ(online.exit_code, 0) << online.err;
  const size_t before = requests().size();
  ::setenv("HF_HUB_OFFLINE", "True", 1);
  RunResult r = pull("org/tiny:Q8_0");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(last_line(r.out), last_line(online.out));
  r = pull("org/tiny:Q4_0");  // not cached
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("offline"), std::string::npos) << r.err;
  ::unsetenv("HF_HUB_OFFLINE");
  r = run_jetlm({"--offline", "pull", "org/tiny:Q8_0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_jetlm({"pull", "org/other", "--offline"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(requests().size(), before);  // no request at all
  // The Hub unreachable: the cached copy is used, with a warning.
  ::setenv("HF_ENDPOINT", "http://127.0.0.1:1", 1);
  r = pull("org/tiny:Q8_0");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(last_line(r.out), last_line(online.out));
  EXPECT_NE(r.err.find("cached copy"), std::string::npos) << r.err;
  r = pull("org/tiny:Q4_0");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("cannot reach"), std::string::npos) << r.err;
}

TEST_F(Hub, SplitFilesInADirectory) {
  repo("org/split", {{"Q4_K_M/m-Q4_K_M-00001-of-00002.gguf", model_file("tiny-llama-q4_k_m.gguf")},
                     {"Q4_K_M/m-Q4_K_M-00002-of-00002.gguf", model_file("tiny-llama-q4_0.gguf")},
                     {"m-Q8_0.gguf", model_file("tiny-llama-q8_0.gguf")}});
  write_config();
  const RunResult r = pull("org/split");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(last_line(r.out), snapshot("org/split", "Q4_K_M/m-Q4_K_M-00001-of-00002.gguf"));
  EXPECT_NE(r.out.find(snapshot("org/split", "Q4_K_M/m-Q4_K_M-00002-of-00002.gguf")), std::string::npos);
  EXPECT_EQ(read_bytes(snapshot("org/split", "Q4_K_M/m-Q4_K_M-00002-of-00002.gguf")), read_bytes(model_file("tiny-llama-q4_0.gguf")));
  char buf[512];
  const ssize_t n = ::readlink(snapshot("org/split", "Q4_K_M/m-Q4_K_M-00002-of-00002.gguf").c_str(), buf, sizeof buf);
  ASSERT_GT(n, 0);
  EXPECT_EQ(std::string(buf, n).substr(0, 15), "../../../blobs/");
  const RunResult ls = run_jetlm({"models"});
  EXPECT_NE(ls.out.find("(+1 parts)"), std::string::npos) << ls.out;
}

TEST_F(Hub, TwoConcurrentPullsFetchOnce) {
  repo("org/slow", {{"m-Q4_K_M.gguf", model_file("tiny-llama-q4_k_m.gguf")}})["slow_ms"] = 40;  // ~0.6 s
  write_config();
  auto spawn = [](const std::string& out) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string bin = jetlm_binary();
      std::freopen(out.c_str(), "w", stdout);
      std::freopen((out + ".err").c_str(), "w", stderr);
      ::execl(bin.c_str(), bin.c_str(), "pull", "org/slow", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  };
  const pid_t a = spawn(home_ + "/a.out");
  ::usleep(100000);
  const pid_t b = spawn(home_ + "/b.out");
  int sa = 0, sb = 0;
  ::waitpid(a, &sa, 0);
  ::waitpid(b, &sb, 0);
  EXPECT_EQ(WEXITSTATUS(sa), 0) << read_text(home_ + "/a.out.err");
  EXPECT_EQ(WEXITSTATUS(sb), 0) << read_text(home_ + "/b.out.err");
  EXPECT_EQ(read_text(home_ + "/a.out"), read_text(home_ + "/b.out"));
  EXPECT_EQ(read_bytes(last_line(read_text(home_ + "/a.out"))), read_bytes(model_file("tiny-llama-q4_k_m.gguf")));
  EXPECT_EQ(cdn_requests("m-Q4_K_M.gguf").size(), 1u);
  EXPECT_NE(read_text(home_ + "/b.out.err").find("waiting for another"), std::string::npos);
}

// A full disk (here: the file size limit, which fails write() the same way)
// keeps the partial file for the next run and leaves nothing in the snapshot.
TEST_F(Hub, DiskFullKeepsThePartialFileForResume) {
  const std::string src = model_file("tiny-llama-q4_k_m.gguf");
  repo("org/full", {{"m-Q4_K_M.gguf", src}});
  write_config();
  const std::string out = home_ + "/full.out";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const rlimit lim = {300000, 300000};
    ::setrlimit(RLIMIT_FSIZE, &lim);
    ::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing
    std::freopen(out.c_str(), "w", stdout);
    std::freopen((out + ".err").c_str(), "w", stderr);
    const std::string bin = jetlm_binary();
    ::execl(bin.c_str(), bin.c_str(), "pull", "org/full", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  const std::string err = read_text(out + ".err");
  EXPECT_EQ(WEXITSTATUS(status), 1) << err;
  EXPECT_EQ(lines(err), 1u) << err;
  EXPECT_NE(err.find("resume"), std::string::npos) << err;
  EXPECT_NE(::access(snapshot("org/full", "m-Q4_K_M.gguf").c_str(), F_OK), 0);
  const std::string sha = jetlm::hub::file_digest(src, jetlm::hub::Digest::Kind::Sha256, 0);
  const std::string partial = cache_ + "/models--org--full/blobs/" + sha + ".incomplete";
  struct stat st;
  ASSERT_EQ(::stat(partial.c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 300000);
  const RunResult r = pull("org/full");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_bytes(last_line(r.out)), read_bytes(src));
  const auto cdn = cdn_requests("m-Q4_K_M.gguf");
  ASSERT_EQ(cdn.size(), 2u);
  EXPECT_EQ(cdn[1]["range"], "bytes=300000-");
}

// Read back as huggingface_hub does: refs/main -> snapshots/{commit}/{file} -> ../../blobs/{sha256}.
TEST_F(Hub, CacheLayoutAsHuggingfaceHubReadsIt) {
  const std::string src = model_file("tiny-llama-q4_k_m.gguf");
  repo("org/tiny", quant_repo_files());
  write_config();
  ASSERT_EQ(pull("org/tiny").exit_code, 0);
  const std::string dir = cache_ + "/models--org--tiny";
  EXPECT_EQ(read_text(dir + "/refs/main"), kCommit);  // no newline
  char buf[512];
  const ssize_t n = ::readlink((dir + "/snapshots/" + kCommit + "/tiny-Q4_K_M.gguf").c_str(), buf, sizeof buf);
  ASSERT_GT(n, 0);
  const std::string sha = jetlm::hub::file_digest(src, jetlm::hub::Digest::Kind::Sha256, 0);
  EXPECT_EQ(std::string(buf, n), "../../blobs/" + sha);
  EXPECT_EQ(read_bytes(dir + "/blobs/" + sha), read_bytes(src));
  struct stat st;
  EXPECT_EQ(::stat((cache_ + "/.locks/models--org--tiny/" + sha + ".lock").c_str(), &st), 0);
  // A cache entry written by hand as huggingface-cli leaves it is used without a download.
  repo("org/other", quant_repo_files());
  write_config();
  const std::string other = cache_ + "/models--org--other";
  mkdirs(other + "/blobs");
  mkdirs(other + "/refs");
  mkdirs(other + "/snapshots/" + kCommit);
  write_bytes(other + "/blobs/" + sha, read_bytes(src));
  std::ofstream(other + "/refs/main") << kCommit;
  ASSERT_EQ(::symlink(("../../blobs/" + sha).c_str(), (other + "/snapshots/" + kCommit + "/tiny-Q4_K_M.gguf").c_str()), 0);
  const RunResult r = pull("org/other");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(last_line(r.out), snapshot("org/other", "tiny-Q4_K_M.gguf"));
  EXPECT_TRUE(cdn_requests("/cdn/org/other/").empty());
}

TEST_F(Hub, ReusesLlamaCppCacheBySha256) {
  const std::string src = model_file("tiny-llama-q4_k_m.gguf");
  repo("org/tiny", quant_repo_files());
  write_config();
  write_bytes(home_ + "/llama/org_tiny_tiny-Q4_K_M.gguf", read_bytes(src));
  std::vector<uint8_t> wrong = read_bytes(model_file("tiny-llama-q8_0.gguf"));
  write_bytes(home_ + "/llama/org_tiny_tiny-Q8_0.gguf", std::vector<uint8_t>(wrong.size(), 0));  // same size, other bytes
  RunResult r = pull("org/tiny");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("llama.cpp"), std::string::npos) << r.err;
  EXPECT_TRUE(cdn_requests("tiny-Q4_K_M").empty());
  r = pull("org/tiny:Q8_0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(cdn_requests("tiny-Q8_0").size(), 1u);
  EXPECT_EQ(read_bytes(last_line(r.out)), wrong);
}

TEST_F(Hub, ModelsListAndRemove) {
  repo("org/tiny", quant_repo_files());
  write_config();
  ASSERT_EQ(pull("org/tiny").exit_code, 0);
  ASSERT_EQ(pull("org/tiny:Q8_0").exit_code, 0);
  RunResult ls = run_jetlm({"models"});
  ASSERT_EQ(ls.exit_code, 0) << ls.err;
  EXPECT_NE(ls.out.find("tiny-Q4_K_M.gguf"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("Q8_0"), std::string::npos) << ls.out;
  const RunResult rm = run_jetlm({"models", "rm", "org/tiny:Q8_0"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  ls = run_jetlm({"models"});
  EXPECT_EQ(ls.out.find("tiny-Q8_0.gguf"), std::string::npos) << ls.out;
  EXPECT_NE(ls.out.find("tiny-Q4_K_M.gguf"), std::string::npos) << ls.out;
  const std::string sha8 = jetlm::hub::file_digest(model_file("tiny-llama-q8_0.gguf"), jetlm::hub::Digest::Kind::Sha256, 0);
  EXPECT_NE(::access((cache_ + "/models--org--tiny/blobs/" + sha8).c_str(), F_OK), 0);
  EXPECT_EQ(run_jetlm({"models", "rm", "org/tiny:Q8_0"}).exit_code, 1);
}

TEST_F(Hub, RunHfMatchesRunM) {
  repo("org/stories", {{"stories260K-F32.gguf", stories()}, {"tiny-Q4_K_M.gguf", model_file("tiny-llama-q4_k_m.gguf")}});
  write_config();
  const std::vector<std::string> gen = {"-p", "Once upon a time", "-n", "24", "--temp", "0"};
  auto run_with = [&](std::vector<std::string> model) {
    model.insert(model.begin(), "run");
    model.insert(model.end(), gen.begin(), gen.end());
    return run_jetlm(model);
  };
  const RunResult want = run_with({"-m", stories()});
  ASSERT_EQ(want.exit_code, 0) << want.err;
  const RunResult got = run_with({"-hf", "org/stories:F32"});
  ASSERT_EQ(got.exit_code, 0) << got.err;
  EXPECT_EQ(got.out, want.out);
  const RunResult offline = run_with({"-hf", "org/stories:F32", "--offline"});
  EXPECT_EQ(offline.out, want.out) << offline.err;
  const RunResult info = run_jetlm({"info", "-hf", "org/stories:F32"});
  EXPECT_EQ(info.exit_code, 0) << info.err;
  EXPECT_EQ(run_jetlm({"run", "-m", stories(), "-hf", "org/stories", "-p", "x"}).exit_code, 2);
}

// A fake ollama store: blobs/sha256-{hex} and manifests/{host}/{namespace}/{name}/{tag}.
class Ollama : public Hub {
 protected:
  // No Hub needed: only its environment and directories.
  static void SetUpTestSuite() {
    dir_ = temp_dir() + "/ollama-suite";
    mkdirs(dir_);
    std::ofstream(dir_ + "/log.jsonl", std::ios::app).flush();
  }
  static void TearDownTestSuite() {}
  std::string add_blob(const std::string& bytes) {
    const std::string tmp = home_ + "/blob.tmp";
    write_bytes(tmp, std::vector<uint8_t>(bytes.begin(), bytes.end()));
    const std::string sha = jetlm::hub::file_digest(tmp, jetlm::hub::Digest::Kind::Sha256, 0);
    mkdirs(home_ + "/ollama/blobs");
    ::rename(tmp.c_str(), (home_ + "/ollama/blobs/sha256-" + sha).c_str());
    return "sha256:" + sha;
  }
  std::string add_model(const std::string& manifest_dir, const std::vector<std::pair<std::string, std::string>>& layers) {
    json m = {{"schemaVersion", 2}, {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"}, {"layers", json::array()}};
    std::string model_blob;
    for (const auto& l : layers) {
      const std::string digest = add_blob(l.second);
      m["layers"].push_back({{"mediaType", "application/vnd.ollama.image." + l.first}, {"digest", digest}, {"size", l.second.size()}});
      if (l.first == "model") model_blob = home_ + "/ollama/blobs/sha256-" + digest.substr(7);
    }
    const std::string path = home_ + "/ollama/manifests/" + manifest_dir;
    mkdirs(path.substr(0, path.rfind('/')));
    std::ofstream(path) << m.dump();
    return model_blob;
  }
};

TEST_F(Ollama, DefaultTagNamespacedAndHostedModelsRunInPlace) {
  const std::vector<uint8_t> s = read_bytes(stories());
  const std::string gguf(s.begin(), s.end());
  const std::string blob = add_model("registry.ollama.ai/library/stories/latest", {{"model", gguf}});
  add_model("registry.ollama.ai/someone/stories/q8",
            {{"model", gguf}, {"template", "{{ .Prompt }}"}, {"params", R"({"stop":["<|end|>"],"temperature":0.7})"}});
  add_model("hf.co/org/stories-GGUF/F32", {{"model", gguf}});
  const std::vector<std::string> gen = {"-p", "Once upon a time", "-n", "16", "--temp", "0"};
  auto run_with = [&](const std::string& m) {
    std::vector<std::string> a = {"run", "-m", m};
    a.insert(a.end(), gen.begin(), gen.end());
    return run_jetlm(a);
  };
  const RunResult want = run_with(blob);
  ASSERT_EQ(want.exit_code, 0) << want.err;
  for (const char* name : {"ollama:stories", "ollama:stories:latest", "ollama:someone/stories:q8", "ollama:hf.co/org/stories-GGUF:F32"}) {
    const RunResult got = run_with(name);
    EXPECT_EQ(got.exit_code, 0) << name << ": " << got.err;
    EXPECT_EQ(got.out, want.out) << name;
  }
  const RunResult info = run_jetlm({"info", "-m", "ollama:someone/stories:q8"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  EXPECT_NE(info.out.find("ollama template: {{ .Prompt }}"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("ollama params:"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("temperature"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find(blob), std::string::npos) << info.out;  // the blob itself, no copy
}

TEST_F(Ollama, ErrorsAreOneLine) {
  add_model("registry.ollama.ai/library/safet/latest", {{"tensor", "not a gguf"}, {"tensor", "more"}});
  add_model("registry.ollama.ai/library/text/latest", {{"model", "this is not GGUF"}});
  struct Case {
    std::string name, expect;
  };
  for (const Case& c : std::vector<Case>{{"ollama:safet", "tensor layers"}, {"ollama:text", "not a GGUF"}, {"ollama:nothere:1b", "not found"}}) {
    const RunResult r = run_jetlm({"run", "-m", c.name, "-p", "x"});
    EXPECT_EQ(r.exit_code, 1) << c.name;
    EXPECT_EQ(lines(r.err), 1u) << r.err;
    EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
  }
}

}  // namespace
