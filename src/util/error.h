// One error policy for all of jetlm: recoverable failures throw jetlm::Error
// with a message that names the file/field/value; the CLI prints it as one
// line and exits non-zero. Nothing uses assert() to validate input.
#pragma once
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace jetlm {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& msg) : std::runtime_error(msg) {}
};

// A usage error (bad flag, missing argument): the CLI exits with code 2.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& msg) : Error(msg) {}
};

// Device memory ran out (the message says what was being allocated); callers
// that know the model add how much of it would fit.
class OutOfDeviceMemory : public Error {
 public:
  explicit OutOfDeviceMemory(const std::string& msg) : Error(msg) {}
};

namespace detail {
inline void append(std::ostringstream&) {}
template <class T, class... Rest>
void append(std::ostringstream& os, const T& v, Rest&&... rest) {
  os << v;
  append(os, std::forward<Rest>(rest)...);
}
}  // namespace detail

// Concatenate the arguments into a message: fmt("tensor ", name, " has ", n, " dims").
template <class... Args>
std::string str_cat(Args&&... args) {
  std::ostringstream os;
  detail::append(os, std::forward<Args>(args)...);
  return os.str();
}

template <class... Args>
[[noreturn]] void fail(Args&&... args) {
  throw Error(str_cat(std::forward<Args>(args)...));
}

}  // namespace jetlm
