// Standard output is checked like any file jetlm writes: a full disk or a
// closed terminal is an error (exit 1, one line), while a reader that went
// away (EPIPE: `jetlm tokenize ... | head -c1`) ends the command quietly,
// as Unix filters do. main() ignores SIGPIPE so that EPIPE arrives as an error.
#pragma once
#include <cstddef>
#include <string_view>

#include "util/error.h"

namespace jetlm {

// Thrown when standard output's reader has gone; main() exits 0 without a message.
class OutputClosed : public Error {
 public:
  OutputClosed() : Error("standard output was closed by its reader") {}
};

// fwrite + check; throws OutputClosed or Error.
void out_write(std::string_view text);
// fflush + check: for streamed output (tokens as they are generated).
void out_flush();
// At the end of a command: flush, check the stream's sticky error (printf
// results are not checked one by one) and close it.
void out_finish();

}  // namespace jetlm
