// Helpers shared by the tests: fixture paths, reading raw files, running the CLI.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace jetlm_test {

// Path of a file under tests/data.
std::string data_path(const std::string& rel);
// Path of the built jetlm binary.
std::string jetlm_binary();
// A fresh temporary directory for this process (created once, removed at exit).
std::string temp_dir();
std::vector<uint8_t> read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
std::vector<float> read_f32_file(const std::string& path);
std::string read_text(const std::string& path);

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Run the jetlm binary with arguments (no shell; each arg passed as is).
RunResult run_jetlm(const std::vector<std::string>& args, const std::string& stdin_text = "");

// ||a - b|| / ||b||
double rel_l2(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace jetlm_test
