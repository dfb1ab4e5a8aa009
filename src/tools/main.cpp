// jetlm: entry point. Dispatches to a subcommand and turns any error into one
// line on stderr and a non-zero exit code (1: failure, 2: usage).
#include <csignal>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>

#include "hub/config.h"
#include "tools/commands.h"
#include "util/error.h"
#include "util/std_output.h"

static void print_usage(FILE* f) {
  std::fprintf(f, "usage: jetlm COMMAND [options]   (jetlm COMMAND --help for its options)\n\ncommands:\n");
  for (int i = 0; i < jetlm::command_count(); ++i)
    std::fprintf(f, "  %-10s %s\n", jetlm::commands()[i].name, jetlm::commands()[i].summary);
}

int main(int argc, char** argv) {
  argc = jetlm::hub::take_offline_flag(argc, argv);  // --offline anywhere on the line
  // A closed pipe on stdout arrives as EPIPE (OutputClosed), not as a kill.
  std::signal(SIGPIPE, SIG_IGN);
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const char* name = argv[1];
  if (!std::strcmp(name, "-h") || !std::strcmp(name, "--help") || !std::strcmp(name, "help")) {
    print_usage(stdout);
    return 0;
  }
  for (int i = 0; i < jetlm::command_count(); ++i) {
    const jetlm::Command& c = jetlm::commands()[i];
    if (std::strcmp(c.name, name) != 0) continue;
    try {
      const int rc = c.fn(argc - 2, argv + 2);
      jetlm::out_finish();
      return rc;
    } catch (const jetlm::OutputClosed&) {
      return 0;  // the reader has what it wanted (head, less quit)
    } catch (const jetlm::UsageError& e) {
      std::fprintf(stderr, "jetlm: %s\n", e.what());
      return 2;
    } catch (const jetlm::Error& e) {
      std::fprintf(stderr, "jetlm: error: %s\n", e.what());
      return 1;
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "jetlm: error: out of memory\n");
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "jetlm: error: %s\n", e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "jetlm: unknown command '%s' (jetlm --help lists them)\n", name);
  return 2;
}
