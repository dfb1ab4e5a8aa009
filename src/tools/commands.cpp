#include "tools/commands.h"

namespace jetlm {

static const Command kCommands[] = {
    {"eval", "write the logits of a token sequence (for checking against references)", cmd_eval},
    {"info", "print a model's architecture, tensors and memory needs", cmd_info},
};

const Command* commands() { return kCommands; }
int command_count() { return static_cast<int>(sizeof kCommands / sizeof kCommands[0]); }

}  // namespace jetlm
