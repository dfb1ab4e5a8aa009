// jetlm tokenize: the token ids of a text, for checking the tokenizers
// against llama.cpp's llama-tokenize and Hugging Face.
#include <cstdio>
#include <string>

#include "gguf/gguf.h"
#include "text/tokenizer.h"
#include "tools/args.h"
#include "tools/commands.h"
#include "util/error.h"
#include "util/read_file.h"
#include "util/std_output.h"

namespace jetlm {

// A piece as llama-tokenize shows it: the raw bytes, except that control
// characters are escaped so each token stays on its line.
static std::string printable(const std::string& piece) {
  std::string out;
  for (const char c : piece) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7F) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", u);
      out += esc;
    } else {
      out += c;
    }
  }
  return out;
}

int cmd_tokenize(int argc, char** argv) {
  Args args("tokenize", "jetlm tokenize -m MODEL (--text TEXT | --file FILE) [--no-bos] [--special] [--ids]");
  args.option("-m,--model", "MODEL", "GGUF file with a vocabulary (a model or a vocab-only file)");
  args.option("-p,--text", "TEXT", "text to tokenize, taken byte for byte");
  args.option("-f,--file", "FILE", "read the text from FILE (- for standard input), byte for byte");
  args.flag("--no-bos", "do not add BOS even when the vocabulary asks for it");
  args.flag("--special", "parse special-token text such as <|im_start|> into its token");
  args.flag("--ids", "print only the ids, space-separated on one line");
  if (!args.parse(argc, argv)) return 0;
  if (args.get("--model").empty()) throw UsageError("jetlm tokenize: -m MODEL is required");
  if (args.has("--text") == args.has("--file"))
    throw UsageError("jetlm tokenize: give exactly one of --text TEXT and --file FILE");

  const std::string text = args.has("--text") ? args.get("--text") : read_file(args.get("--file"), "text file");
  const auto file = GgufFile::open(args.get("--model"));
  const auto tok = Tokenizer::from_gguf(*file);
  const std::vector<int32_t> ids = tok->encode(text, !args.has("--no-bos"), args.has("--special"));

  std::string out;
  if (args.has("--ids")) {
    for (size_t i = 0; i < ids.size(); ++i) {
      if (i) out += ' ';
      out += std::to_string(ids[i]);
    }
    out += '\n';
  } else {
    for (const int32_t id : ids) {
      char num[16];
      std::snprintf(num, sizeof num, "%6d", id);
      out += str_cat(num, " -> '", printable(tok->token_to_piece(id, true)), "'\n");
    }
  }
  out_write(out);
  return 0;
}

}  // namespace jetlm
