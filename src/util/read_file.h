// Reading a whole input file (a prompt, a template, a messages JSON) with
// messages that say what went wrong: a directory, a missing file, a read error.
#pragma once
#include <string>

namespace jetlm {

// The exact bytes of path ("-": standard input). what names the file in
// messages ("prompt file"). Throws Error, also past 256 MiB (an endless input).
std::string read_file(const std::string& path, const char* what);

}  // namespace jetlm
