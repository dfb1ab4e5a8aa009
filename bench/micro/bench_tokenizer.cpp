// Tokenizer throughput: MB of text per second on one thread, per vocabulary,
// by the thread's CPU time (per-core speed) and by the wall clock.
// Not a unit test (timings depend on the machine); the figures and the
// command line go to docs/benchmarks.md.
//
//   bench_tokenizer -m VOCAB.gguf[,VOCAB2.gguf...] [--file TEXT] [--mb 8] [--reps 5] [--chunk 0] [--letter a]
//
// --letter a: N MB of that one character, the mergers' worst case (one word,
// every merge in one queue; issue 23: 8 MB in under 5 s and 500 MB). The
// table then also gives each vocabulary's peak memory (a fresh process per
// vocabulary is the cleanest figure: run it with one -m at a time).
//
// Without --file the text is generated English-like prose (fixed seed, so
// every run and machine sees the same bytes): common words, capitals,
// punctuation, contractions, numbers and paragraph breaks.
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gguf/gguf.h"
#include "text/tokenizer.h"
#include "tools/args.h"
#include "util/error.h"

namespace {

const char* const kWords[] = {
    "the", "of", "and", "to", "a", "in", "is", "it", "you", "that", "he", "was", "for", "on", "are", "with",
    "as", "I", "his", "they", "be", "at", "one", "have", "this", "from", "or", "had", "by", "word", "but",
    "what", "some", "we", "can", "out", "other", "were", "all", "there", "when", "up", "use", "your", "how",
    "said", "an", "each", "she", "which", "do", "their", "time", "if", "will", "way", "about", "many", "then",
    "them", "write", "would", "like", "so", "these", "her", "long", "make", "thing", "see", "him", "two",
    "has", "look", "more", "day", "could", "go", "come", "did", "number", "sound", "no", "most", "people",
    "my", "over", "know", "water", "than", "call", "first", "who", "may", "down", "side", "been", "now",
    "find", "any", "new", "work", "part", "take", "get", "place", "made", "live", "where", "after", "back",
    "little", "only", "round", "man", "year", "came", "show", "every", "good", "me", "give", "our", "under",
    "name", "very", "through", "just", "form", "sentence", "great", "think", "say", "help", "low", "line",
    "differ", "turn", "cause", "much", "mean", "before", "move", "right", "boy", "old", "too", "same", "tell",
    "does", "set", "three", "want", "air", "well", "also", "play", "small", "end", "put", "home", "read",
    "hand", "port", "large", "spell", "add", "even", "land", "here", "must", "big", "high", "such", "follow",
    "act", "why", "ask", "men", "change", "went", "light", "kind", "off", "need", "house", "picture", "try",
    "us", "again", "animal", "point", "mother", "world", "near", "build", "self", "earth", "father", "don't",
    "it's", "can't", "we're", "they've", "government", "information", "development", "particularly",
    "understanding", "international", "responsibility", "environmental", "nevertheless", "Wednesday",
};

const char* const kSyllables[] = {"ba", "con", "de", "ex", "fi", "gra", "hel", "in", "ja", "ker", "lo", "men",
                                  "nu", "or", "pre", "qua", "ri", "sta", "tion", "un", "ver", "wo", "xy", "zen",
                                  "al", "ble", "ing", "ment", "ous", "ly", "er", "ness"};

// Deterministic prose of about n bytes. Two thirds of the words are common
// English ones; the rest come from 30000 made-up words drawn log-uniformly,
// so that rare words keep appearing as in real text (a tokenizer that
// remembers words cannot get by on the common ones alone).
std::string english_text(size_t n) {
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  const auto next = [&](uint32_t mod) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33) % mod;
  };
  const uint32_t n_words = sizeof kWords / sizeof kWords[0];
  const uint32_t n_syl = sizeof kSyllables / sizeof kSyllables[0];
  const auto made_up = [&]() {
    const double u = next(1u << 20) / double(1u << 20);
    uint32_t k = static_cast<uint32_t>(std::pow(30000.0, u));  // log-uniform rank in [1, 30000]
    std::string w;
    for (int syl = 0; syl < 2 + static_cast<int>(k % 3); ++syl) {
      w += kSyllables[k % n_syl];
      k = k / n_syl + 7 * static_cast<uint32_t>(syl + 1);
    }
    return w;
  };
  std::string s;
  s.reserve(n + 256);
  while (s.size() < n) {
    const uint32_t len = 5 + next(16);
    for (uint32_t w = 0; w < len; ++w) {
      const uint32_t kind = next(60);
      std::string word = kind == 0 ? std::to_string(next(3000)) : kind < 21 ? made_up() : kWords[next(n_words)];
      if (w == 0) word[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(word[0])));
      s += word;
      if (w + 1 < len) s += next(9) == 0 ? ", " : " ";
    }
    s += next(7) == 0 ? "? " : ". ";
    if (next(6) == 0) s += "\n\n";
  }
  return s;
}

// CPU time of this thread: on a shared machine the wall clock also counts the
// time other processes held the core, the CPU clock only this thread's work.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

std::string read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) jetlm::fail("cannot open ", path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int run(int argc, char** argv) {
  jetlm::Args args("bench_tokenizer",
                   "bench_tokenizer -m VOCAB.gguf[,VOCAB2...] [--file TEXT] [--mb N] [--reps N] [--chunk BYTES]");
  args.option("-m,--model", "FILES", "comma-separated GGUF files with vocabularies");
  args.option("--file", "TEXT", "text to tokenize (default: generated English prose)");
  args.option("--mb", "N", "size of the generated text in MB", "8");
  args.option("--reps", "N", "timed repetitions; the best is reported", "5");
  args.option("--chunk", "BYTES", "encode the text in pieces of this size (0: one call)", "0");
  args.option("--letter", "C", "the text is --mb MB of this one character (worst case) instead of prose");
  if (!args.parse(argc - 1, argv + 1)) return 0;
  if (args.get("--model").empty()) throw jetlm::UsageError("bench_tokenizer: -m VOCAB is required");

  const size_t n_bytes = static_cast<size_t>(args.get_double("--mb", 0.001, 4096) * 1e6);
  const std::string text = args.has("--file")     ? read_all(args.get("--file"))
                           : args.has("--letter") ? std::string(n_bytes, args.get("--letter").empty() ? 'a' : args.get("--letter")[0])
                                                  : english_text(n_bytes);
  const int reps = std::max<int>(1, static_cast<int>(args.get_int("--reps")));
  const size_t chunk = static_cast<size_t>(std::max<int64_t>(0, args.get_int("--chunk")));
  const std::string what = args.has("--file") ? args.get("--file") : args.has("--letter") ? "one letter repeated" : "generated English";
  std::printf("text: %s, %.2f MB, %s, best of %d\n", what.c_str(),
              text.size() / 1e6, chunk ? ("chunks of " + std::to_string(chunk) + " bytes").c_str() : "one call", reps);
  std::printf("| vocabulary | tokens | bytes/token | MB/s (CPU time) | MB/s (wall) | s (CPU) | peak MiB (process so far) |\n"
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");

  for (const std::string& path : args.get_list("--model")) {
    const auto file = jetlm::GgufFile::open(path);
    const auto tok = jetlm::Tokenizer::from_gguf(*file);
    double best = 1e30, best_cpu = 1e30;
    size_t n_tokens = 0;
    for (int r = 0; r < reps; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = thread_cpu_seconds();
      n_tokens = 0;
      if (chunk == 0) {
        n_tokens = tok->encode(text, false, false).size();
      } else {
        for (size_t off = 0; off < text.size(); off += chunk)
          n_tokens += tok->encode(std::string_view(text).substr(off, chunk), false, false).size();
      }
      best_cpu = std::min(best_cpu, thread_cpu_seconds() - c0);
      best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    const std::string name = path.substr(path.find_last_of('/') + 1);
    struct rusage ru = {};
    getrusage(RUSAGE_SELF, &ru);
    std::printf("| %s | %zu | %.2f | %.1f | %.1f | %.2f | %ld |\n", name.c_str(), n_tokens,
                static_cast<double>(text.size()) / n_tokens, text.size() / 1e6 / best_cpu, text.size() / 1e6 / best, best_cpu,
                ru.ru_maxrss / 1024);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const jetlm::UsageError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tokenizer: error: %s\n", e.what());
    return 1;
  }
}
