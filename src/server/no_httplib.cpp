// Built instead of the server when cpp-httplib is missing (e.g. the static
// AArch64 cross build): jetlm serve then says what to install.
#include "tools/commands.h"
#include "util/error.h"

namespace jetlm {

int cmd_serve(int, char**) {
  fail("this jetlm was built without cpp-httplib, so it has no server: install libcpp-httplib-dev and rebuild");
}

}  // namespace jetlm
