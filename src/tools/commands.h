// The jetlm subcommands. Each takes the arguments after its name and returns
// the exit code; errors are thrown as jetlm::Error / UsageError and turned
// into one line by main().
#pragma once

namespace jetlm {

using CommandFn = int (*)(int argc, char** argv);

struct Command {
  const char* name;
  const char* summary;
  CommandFn fn;
};

int cmd_eval(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_chat(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_batched_bench(int argc, char** argv);
int cmd_quantize(int argc, char** argv);
int cmd_synth(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_template(int argc, char** argv);
int cmd_pull(int argc, char** argv);
int cmd_models(int argc, char** argv);

// All subcommands, in the order `jetlm --help` lists them.
const Command* commands();
int command_count();

}  // namespace jetlm
