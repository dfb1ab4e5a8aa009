// Hostile input through the public commands (issue 23): files that must not
// be replaced or left half-written, signals, standard output that fails or
// closes, out-of-range options, a chat fed bad lines, misaligned GGUF data.
// Every case must end with exit 0/1/2, one line on stderr for 1/2, no signal.
#include <gtest/gtest.h>

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "gguf/gguf.h"
#include "gguf_builder.h"
#include "test_util.h"
#include "util/atomic_file.h"
#include "util/error.h"

using namespace jetlm_test;

namespace {

std::string bundled_model() { return std::string(JETLM_TEST_DATA) + "/../../models/stories260K.gguf"; }

struct Proc {
  int exit_code = -1;  // 128 + signal when killed
  std::string out, err;
  long max_rss_kib = 0;
};

std::string slurp(int fd) {
  std::string s;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  return s;
}

// Runs jetlm with stdout sent to out_path ("" captures it), stdin from
// stdin_text. on_start(pid) runs in the parent while the child runs.
Proc run_cli(const std::vector<std::string>& args, const std::string& out_path = "", const std::string& stdin_text = "",
             const std::function<void(pid_t)>& on_start = nullptr) {
  const std::string dir = temp_dir();
  static int counter = 0;
  const std::string base = dir + "/h" + std::to_string(counter++);
  { std::FILE* f = std::fopen((base + ".in").c_str(), "wb"); std::fwrite(stdin_text.data(), 1, stdin_text.size(), f); std::fclose(f); }
  const std::string out = out_path.empty() ? base + ".out" : out_path;
  const pid_t pid = fork();
  if (pid == 0) {
    const int in = ::open((base + ".in").c_str(), O_RDONLY);
    const int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open((base + ".err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    std::vector<char*> argv;
    std::string bin = jetlm_binary();
    argv.push_back(&bin[0]);
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(bin.c_str(), argv.data());
    _exit(127);
  }
  if (on_start) on_start(pid);
  int status = 0;
  struct rusage ru = {};
  ::wait4(pid, &status, 0, &ru);
  Proc r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.max_rss_kib = ru.ru_maxrss;
  if (out_path.empty()) r.out = read_text(out);
  r.err = read_text(base + ".err");
  ::unlink((base + ".in").c_str());
  ::unlink((base + ".err").c_str());
  if (out_path.empty()) ::unlink(out.c_str());
  return r;
}

int lines(const std::string& s) { return static_cast<int>(std::count(s.begin(), s.end(), '\n')); }

std::vector<std::string> list_dir(const std::string& d) {
  std::vector<std::string> names;
  if (DIR* dp = ::opendir(d.c_str())) {
    while (dirent* e = ::readdir(dp))
      if (std::strcmp(e->d_name, ".") && std::strcmp(e->d_name, "..")) names.push_back(e->d_name);
    ::closedir(dp);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string fresh_dir(const std::string& name) {
  const std::string d = temp_dir() + "/" + name;
  ::mkdir(d.c_str(), 0755);
  return d;
}

mode_t lmode(const std::string& p) {
  struct stat st;
  return ::lstat(p.c_str(), &st) == 0 ? st.st_mode : 0;
}

std::vector<std::string> eval_args(const std::string& out) {
  return {"eval", "-m", bundled_model(), "--tokens", "1,2,3", "--logits", out};
}

// ---- files ----------------------------------------------------------------

TEST(HostileFiles, DeviceIsWrittenInPlaceNeverReplaced) {
  const Proc ok = run_cli(eval_args("/dev/null"));
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_TRUE(S_ISCHR(lmode("/dev/null")));
  const Proc full = run_cli(eval_args("/dev/full"));
  EXPECT_EQ(full.exit_code, 1);
  EXPECT_EQ(lines(full.err), 1) << full.err;
  EXPECT_NE(full.err.find("No space left"), std::string::npos) << full.err;
  EXPECT_TRUE(S_ISCHR(lmode("/dev/full")));
}

TEST(HostileFiles, FifoWithoutReaderFailsAtOnceAndStaysAFifo) {
  const std::string d = fresh_dir("fifo");
  const std::string fifo = d + "/logits";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  const auto t0 = std::chrono::steady_clock::now();
  const Proc r = run_cli(eval_args(fifo));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(20));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_TRUE(S_ISFIFO(lmode(fifo)));
  EXPECT_EQ(list_dir(d), std::vector<std::string>{"logits"});

  // With a reader the logits go through the pipe: 3 tokens x n_vocab floats.
  std::string got;
  std::thread reader;
  const Proc w = run_cli(eval_args(fifo), "", "", [&](pid_t) {
    reader = std::thread([&] {
      const int fd = ::open(fifo.c_str(), O_RDONLY);
      got = slurp(fd);
      ::close(fd);
    });
  });
  reader.join();
  EXPECT_EQ(w.exit_code, 0) << w.err;
  EXPECT_EQ(got.size(), size_t{3} * 512 * 4);
  EXPECT_TRUE(S_ISFIFO(lmode(fifo)));
}

TEST(HostileFiles, DirectoryAndDanglingSymlinkAreRefused) {
  const std::string d = fresh_dir("refuse");
  const std::string sub = d + "/sub";
  ::mkdir(sub.c_str(), 0755);
  const Proc r = run_cli(eval_args(sub));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_TRUE(S_ISDIR(lmode(sub)));

  // A link to a file that does not exist (yet): following it would create
  // a file wherever the link's owner wants.
  const std::string link = d + "/out", where = d + "/victim";
  ASSERT_EQ(::symlink(where.c_str(), link.c_str()), 0);
  const Proc s = run_cli(eval_args(link));
  EXPECT_EQ(s.exit_code, 1);
  EXPECT_EQ(lines(s.err), 1) << s.err;
  EXPECT_EQ(lmode(where), 0u);
  EXPECT_EQ(list_dir(d), (std::vector<std::string>{"out", "sub"}));
}

TEST(HostileFiles, SymlinkToAFileIsFollowedAndStaysALink) {
  const std::string d = fresh_dir("follow");
  const std::string target = d + "/real.f32", link = d + "/link.f32";
  write_bytes(target, {1, 2, 3});
  ASSERT_EQ(::chmod(target.c_str(), 0640), 0);
  ASSERT_EQ(::symlink("real.f32", link.c_str()), 0);
  const Proc r = run_cli(eval_args(link));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(S_ISLNK(lmode(link)));
  EXPECT_EQ(read_bytes(target).size(), size_t{3} * 512 * 4);
  EXPECT_EQ(lmode(target) & 07777, 0640u);  // the replaced file keeps its permissions
  EXPECT_EQ(list_dir(d), (std::vector<std::string>{"link.f32", "real.f32"}));
}

TEST(HostileFiles, TemporaryNamesAreUnpredictableAndRemoved) {
  const std::string d = fresh_dir("tmpnames");
  const std::string out = d + "/x.bin";
  std::string first;
  {
    jetlm::AtomicFile a(out), b(out);
    first = a.temp_path();
    EXPECT_NE(a.temp_path(), b.temp_path());
    EXPECT_EQ(a.temp_path().rfind(out + ".tmp-", 0), 0u) << a.temp_path();
    EXPECT_EQ(a.temp_path().find(std::to_string(::getpid())), std::string::npos);
    EXPECT_TRUE(S_ISREG(lmode(a.temp_path())));
    // The name taken is not reused even by a symlink planted after the fact:
    // the file is already open, the link only replaces the directory entry.
    a.write("abc", 3);
  }
  EXPECT_EQ(list_dir(d), std::vector<std::string>{});  // both destroyed uncommitted
  {
    jetlm::AtomicFile a(out);
    a.write("abc", 3);
    a.commit();
  }
  EXPECT_EQ(list_dir(d), std::vector<std::string>{"x.bin"});
  EXPECT_EQ(read_bytes(out), (std::vector<uint8_t>{'a', 'b', 'c'}));
}

// A writer interrupted by SIGINT or SIGTERM ends with exit 1 and one line,
// removes its temporary, and leaves an existing output untouched.
void interrupt_synth(int sig) {
  const std::string d = fresh_dir(std::string("sig") + std::to_string(sig));
  const std::string out = d + "/model.gguf";
  write_bytes(out, {'o', 'l', 'd'});
  const Proc r = run_cli({"synth", "--custom", "arch=llama,n_embd=512,n_layer=64,n_head=8,n_head_kv=8,n_ff=1536,n_vocab=512",
                          "--type", "F32", "-t", "1", "-o", out},
                         "", "", [&](pid_t pid) {
                           // Signal once the temporary exists, i.e. mid-write.
                           for (int i = 0; i < 20000 && list_dir(d).size() < 2; ++i) ::usleep(500);
                           ::kill(pid, sig);
                         });
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("interrupted"), std::string::npos) << r.err;
  EXPECT_EQ(list_dir(d), std::vector<std::string>{"model.gguf"});
  EXPECT_EQ(read_bytes(out), (std::vector<uint8_t>{'o', 'l', 'd'}));
}

TEST(HostileFiles, SigtermMidWriteLeavesNothing) { interrupt_synth(SIGTERM); }
TEST(HostileFiles, SigintMidWriteLeavesNothing) { interrupt_synth(SIGINT); }

TEST(HostileFiles, FailedWriteLeavesNoTemporary) {
  const std::string d = fresh_dir("fail");
  // The model cannot be read: the command fails before or after opening its output.
  const Proc r = run_cli({"synth", "--like", "nosuchpreset", "--type", "F32", "-o", d + "/o.gguf"});
  EXPECT_EQ(r.exit_code, 2);
  const Proc q = run_cli({"quantize", d + "/missing.gguf", d + "/o.gguf", "Q8_0"});
  EXPECT_EQ(q.exit_code, 1);
  EXPECT_EQ(lines(q.err), 1) << q.err;
  EXPECT_EQ(list_dir(d), std::vector<std::string>{});
}

// ---- standard output ------------------------------------------------------

TEST(HostileStdout, FullDiskIsAnErrorOnEveryCommand) {
  const std::string msgs = temp_dir() + "/msgs.json";
  const std::string m = R"([{"role": "user", "content": "hi"}])";
  write_bytes(msgs, std::vector<uint8_t>(m.begin(), m.end()));
  const std::vector<std::vector<std::string>> cmds = {
      {"run", "-m", bundled_model(), "-p", "Once", "-n", "4", "--temp", "0"},
      {"tokenize", "-m", bundled_model(), "--text", "hello world"},
      {"info", "-m", bundled_model()},
      {"template", "--template", data_path("templates/Qwen-Qwen2.5-7B-Instruct.jinja"), "--messages", msgs},
  };
  for (const auto& c : cmds) {
    const Proc r = run_cli(c, "/dev/full");
    EXPECT_EQ(r.exit_code, 1) << c[0] << ": " << r.err;
    EXPECT_EQ(lines(r.err), 1) << c[0] << ": " << r.err;
    EXPECT_NE(r.err.find("standard output"), std::string::npos) << c[0] << ": " << r.err;
  }
}

// stdout is a pipe whose reader has gone: the command ends quietly, exit 0.
Proc run_into_closed_pipe(const std::vector<std::string>& args) {
  int p[2];
  EXPECT_EQ(::pipe(p), 0);
  const std::string path = "/dev/fd/" + std::to_string(p[1]);
  ::close(p[0]);
  Proc r = run_cli(args, path);
  ::close(p[1]);
  return r;
}

TEST(HostileStdout, ClosedPipeEndsQuietly) {
  const std::vector<std::vector<std::string>> cmds = {
      {"run", "-m", bundled_model(), "-p", "Once upon a time", "-n", "50", "--temp", "0"},
      {"tokenize", "-m", bundled_model(), "--text", std::string(100000, 'x')},
      {"info", "-m", bundled_model(), "--tensors"},
  };
  for (const auto& c : cmds) {
    const Proc r = run_into_closed_pipe(c);
    EXPECT_EQ(r.exit_code, 0) << c[0] << ": " << r.err;
    EXPECT_EQ(r.err.find("error"), std::string::npos) << c[0] << ": " << r.err;
  }
}

// ---- options --------------------------------------------------------------

TEST(HostileOptions, OutOfRangeNumbersAreUsageErrorsWithTheRange) {
  const std::vector<std::vector<std::string>> bad = {
      {"--temp", "nan"}, {"--temp", "inf"}, {"--temp", "-1"}, {"--top-p", "-0.5"}, {"--top-p", "0"},
      {"--top-p", "1.5"}, {"--top-k", "-5"}, {"--min-p", "nan"}, {"--repeat-penalty", "nan"},
      {"--repeat-penalty", "0"}, {"--repeat-last-n", "-7"}, {"--frequency-penalty", "inf"},
      {"--presence-penalty", "1e400"}, {"-b", "10000000000"}, {"-b", "0"}, {"-n", "99999999999"},
      {"-n", "-2"}, {"-t", "-1"}, {"-t", "100000"}, {"--seed", "-2"}, {"-c", "-1"}, {"-c", "99999999999999999999"},
      {"-n", " 5"}, {"-n", "5x"}, {"--temp", "0x"},
  };
  for (const auto& b : bad) {
    std::vector<std::string> args = {"run", "-m", bundled_model(), "-p", "x"};
    args.insert(args.end(), b.begin(), b.end());
    const Proc r = run_cli(args);
    EXPECT_EQ(r.exit_code, 2) << b[0] << " " << b[1] << ": " << r.err;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(b[0]), std::string::npos) << r.err;
  }
  const Proc r = run_cli({"run", "-m", bundled_model(), "-p", "x", "--top-k", "-5"});
  EXPECT_NE(r.err.find("[0, 2147483647]"), std::string::npos) << r.err;
}

TEST(HostileOptions, ContextIsCappedAtTheTrainedOneUnlessForced) {
  const Proc r = run_cli({"run", "-m", bundled_model(), "-p", "x", "-n", "1", "-c", "10000000"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("--ctx-force"), std::string::npos) << r.err;
  const Proc f = run_cli({"run", "-m", bundled_model(), "-p", "x", "-n", "1", "-c", "4096", "--ctx-force", "--temp", "0"});
  EXPECT_EQ(f.exit_code, 0) << f.err;
}

TEST(HostileOptions, KvCacheLargerThanMemoryIsRefusedBeforeAllocating) {
  // 32 KiB of KV per token (8 layers x 1024 x K and V x 2 bytes): 16M tokens need 512 GiB.
  const std::string model = temp_dir() + "/kv.gguf";
  const Proc s = run_cli({"synth", "--custom", "arch=llama,n_embd=1024,n_layer=8,n_head=8,n_head_kv=8,n_ff=64,n_vocab=512,n_ctx=1048576",
                          "--type", "Q4_0", "-o", model});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const Proc r = run_cli({"run", "-m", model, "-p", "x", "-n", "1", "-c", "16777216", "--ctx-force"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("KV cache"), std::string::npos) << r.err;
  EXPECT_LT(r.max_rss_kib, 1L << 20);  // refused, not attempted
  ::unlink(model.c_str());
}

TEST(HostileOptions, DirectoryAsInputFileIsNamed) {
  const std::string d = fresh_dir("indir");
  const std::vector<std::vector<std::string>> cmds = {
      {"run", "-m", bundled_model(), "-f", d},
      {"tokenize", "-m", bundled_model(), "-f", d},
      {"template", "--template", d, "--messages", d},
      {"template", "--template", data_path("templates/Qwen-Qwen2.5-7B-Instruct.jinja"), "--messages", d},
  };
  for (const auto& c : cmds) {
    const Proc r = run_cli(c);
    EXPECT_EQ(r.exit_code, 1) << c[0] << ": " << r.err;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("is a directory"), std::string::npos) << r.err;
  }
}

TEST(HostileOptions, EndlessInputFileStops) {
  const auto t0 = std::chrono::steady_clock::now();
  const Proc r = run_cli({"tokenize", "-m", bundled_model(), "-f", "/dev/zero"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("larger than"), std::string::npos) << r.err;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(30));
}

// ---- chat -----------------------------------------------------------------

TEST(HostileChat, BadLinesAreReportedAndTheSessionGoesOn) {
  const std::string input = std::string("Hello\n\xff\xfe broken\n") + "\xc3(\n" + "Tell me more\n/exit\n";
  const Proc r = run_cli({"chat", "-m", bundled_model(), "-n", "8", "--temp", "0"}, "", input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  size_t n_bad = 0;
  for (size_t at = r.err.find("not valid UTF-8"); at != std::string::npos; at = r.err.find("not valid UTF-8", at + 1)) ++n_bad;
  EXPECT_EQ(n_bad, 2u) << r.err;
  EXPECT_EQ(lines(r.err) - static_cast<int>(n_bad), lines(run_cli({"chat", "-m", bundled_model(), "-n", "8", "--temp", "0"}, "", "Hello\nTell me more\n/exit\n").err));
  EXPECT_FALSE(r.out.empty());
}

TEST(HostileChat, TemplateErrorIsReportedAndTheSessionGoesOn) {
  // A model whose chat template fails on one message: that line is reported
  // and dropped, the lines before and after it are answered.
  GgufBuilder v;
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    tokens.push_back(name);
    types.push_back(6);
  }
  v.kv_str("tokenizer.ggml.model", "llama");
  v.kv_str_array("tokenizer.ggml.tokens", tokens);
  v.kv_i32_array("tokenizer.ggml.token_type", types);
  v.kv_f32_array("tokenizer.ggml.scores", std::vector<float>(tokens.size(), 0.0f));
  v.kv_str("tokenizer.chat_template",
           "{% for m in messages %}{% if m.content == 'boom' %}{{ raise_exception('no boom here') }}{% endif %}"
           "{{ m.role }}: {{ m.content }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}");
  const std::string vocab = temp_dir() + "/tmpl_vocab.gguf", model = temp_dir() + "/tmpl.gguf";
  write_bytes(vocab, v.build());
  const Proc s = run_cli({"synth", "--custom", "arch=llama,n_embd=64,n_layer=1,n_head=2,n_head_kv=2,n_ff=64,n_vocab=260,n_ctx=512",
                          "--type", "F32", "--vocab-from", vocab, "-o", model});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  const Proc r = run_cli({"chat", "-m", model, "-n", "4", "--temp", "0", "--ignore-eos"}, "", "hello\nboom\nagain\n/exit\n");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("no boom here"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("eval time"), std::string::npos) << r.err;
  // Both good lines were answered: the template never saw "boom" again.
  const Proc twice = run_cli({"chat", "-m", model, "-n", "4", "--temp", "0", "--ignore-eos"}, "", "hello\nagain\n/exit\n");
  EXPECT_EQ(r.out, twice.out);
  ::unlink(vocab.c_str());
  ::unlink(model.c_str());
}

TEST(HostileChat, ContextOverflowDropsOldTurnsAndGoesOn) {
  std::string input;
  for (int i = 0; i < 6; ++i) input += "Once upon a time there was a little girl named Lily who liked to play outside\n";
  input += std::string(2000, 'a') + "\n";  // too long for the context even alone
  input += "The end\n/exit\n";
  const Proc r = run_cli({"chat", "-m", bundled_model(), "-c", "128", "-n", "24", "--temp", "0", "-sys", "Be brief"}, "", input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("dropped"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not sent"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("eval time"), std::string::npos) << r.err;  // reached the end of the session
}

TEST(HostileChat, CtrlCStopsOnlyTheAnswer) {
  // Interactive: the first answer runs long (no EOS, big budget) and gets
  // SIGINT once it has started; the second line must still be answered.
  int in[2], out[2];
  ASSERT_EQ(::pipe(in), 0);
  ASSERT_EQ(::pipe(out), 0);
  const std::string err_path = temp_dir() + "/ctrlc.err";
  const pid_t pid = fork();
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    const int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(e, 2);
    ::close(in[1]);
    ::close(out[0]);
    std::string bin = jetlm_binary(), m = bundled_model();
    const char* argv[] = {bin.c_str(), "chat", "-m", m.c_str(), "-c", "2048", "-n", "100000", "--ignore-eos", "--temp", "0", nullptr};
    ::execv(bin.c_str(), const_cast<char**>(argv));
    _exit(127);
  }
  ::close(in[0]);
  ::close(out[1]);
  const auto send = [&](const std::string& s) { ASSERT_EQ(::write(in[1], s.data(), s.size()), static_cast<ssize_t>(s.size())); };
  std::string got;
  const auto read_until = [&](const std::function<bool()>& done) {
    char buf[4096];
    const auto t0 = std::chrono::steady_clock::now();
    while (!done() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(60)) {
      struct pollfd p = {out[0], POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const ssize_t n = ::read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
  };
  // Waits until the answer stops (no output for half a second).
  const auto until_quiet = [&] {
    size_t last = got.size();
    auto since = std::chrono::steady_clock::now();
    read_until([&] {
      if (got.size() != last) {
        last = got.size();
        since = std::chrono::steady_clock::now();
      }
      return std::chrono::steady_clock::now() - since > std::chrono::milliseconds(500);
    });
  };
  send("Once upon a time\n");
  read_until([&] { return got.size() >= 20; });
  ::kill(pid, SIGINT);
  until_quiet();
  const size_t first = got.size();
  send("Then what happened\n");
  read_until([&] { return got.size() > first + 20; });
  ::kill(pid, SIGINT);
  until_quiet();
  const size_t second = got.size();
  send("/exit\n");
  ::close(in[1]);
  read_until([] { return false; });
  int status = 0;
  ::waitpid(pid, &status, 0);
  ::close(out[0]);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << read_text(err_path);
  EXPECT_GT(second, first + 20);          // the second line was answered after the first Ctrl-C
  EXPECT_LT(second, size_t{2} * 2048 * 8);  // and both answers were cut short, not run to the context's end
}

// ---- GGUF alignment -------------------------------------------------------

std::string parse_error(const std::vector<uint8_t>& img) {
  try {
    jetlm::GgufFile::parse(img.data(), img.size(), "a.gguf");
    return "";
  } catch (const jetlm::Error& e) {
    return e.what();
  }
}

TEST(HostileGguf, AlignmentBelowWhatTheTypeNeedsIsRefused) {
  // Headers of 4 consecutive sizes put the first (F32) tensor at 4 different
  // residues mod 4: with general.alignment 1 or 2 some of them misplace it.
  for (size_t align : {1, 2, 4, 32}) {
    int refused = 0;
    for (int pad = 0; pad < 4; ++pad) {
      GgufBuilder b;
      b.kv_u32("general.alignment", static_cast<uint32_t>(align));
      b.kv_str("general.name", std::string(static_cast<size_t>(pad), 'x'));
      b.tensor_f32("a", {3}, 1.0f, 1);
      b.tensor("h", {1}, 1, std::vector<uint8_t>(2, 0));  // F16, 2 bytes
      b.tensor_f32("b", {5}, 1.0f, 2);
      const std::string err = parse_error(b.build(align));
      if (err.empty()) continue;
      ++refused;
      EXPECT_NE(err.find("is not aligned"), std::string::npos) << align << ": " << err;
      EXPECT_NE(err.find("general.alignment = " + std::to_string(align)), std::string::npos) << err;
    }
    if (align >= 4) EXPECT_EQ(refused, 0) << align;
    else EXPECT_GE(refused, 2) << align;
  }
  GgufBuilder b;
  b.kv_u32("general.alignment", 48);
  EXPECT_NE(parse_error(b.build(32)).find("power of two"), std::string::npos);
}

}  // namespace
