// Options shared by the commands that run a model (run, chat, eval, bench, serve).
#pragma once
#include "models/context.h"
#include "tools/args.h"

namespace jetlm {

// -c, -b, -t, -ngl, --unified, --reference, --kv-type
void add_context_options(Args& a);
ContextOptions context_options(const Args& a, const Model& m);

}  // namespace jetlm
