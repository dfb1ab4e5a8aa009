// The few POSIX file operations the Hub cache needs (no <filesystem>: gcc 8
// on the Jetson needs extra linking for it).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace jetlm::hub {

bool is_file(const std::string& path);  // a regular file, following symlinks
bool is_dir(const std::string& path);
int64_t file_size(const std::string& path);  // -1 when missing
void make_dirs(const std::string& path);     // mkdir -p; throws Error
// Names in a directory (no "." or ".."); empty when it does not exist.
std::vector<std::string> list_dir(const std::string& path);
std::string read_small_file(const std::string& path);  // throws Error
// Written to a temporary beside it and renamed, so readers never see half of it.
void write_small_file(const std::string& path, const std::string& text);
std::string parent_dir(const std::string& path);
std::string home_dir();
// $NAME when set and non-empty, else "".
std::string env(const char* name);
// The first 4 bytes are "GGUF".
bool has_gguf_magic(const std::string& path);
// Sets the access time to now (what `jetlm models` shows as last used).
void touch_atime(const std::string& path);

}  // namespace jetlm::hub
