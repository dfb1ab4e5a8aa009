#include "tools/commands.h"

namespace jetlm {

static const Command kCommands[] = {
    {"run", "generate text from a prompt", cmd_run},
    {"chat", "talk to a model in its chat template", cmd_chat},
    {"eval", "write the logits of a token sequence (for checking against references)", cmd_eval},
    {"bench", "measure prompt processing and generation speed (llama-bench's tests and output)", cmd_bench},
    {"batched-bench", "many sequences generating together (llama-batched-bench's columns, TTFT, ITL)", cmd_batched_bench},
    {"info", "print a model's architecture, tensors and memory needs", cmd_info},
    {"quantize", "convert a model to another type with llama.cpp's mixing rules (Q4_K_M, Q8_0, ...)", cmd_quantize},
    {"synth", "write a random-weight model with a real model's shapes (for tests and benchmarks)", cmd_synth},
    {"tokenize", "print the token ids of a text", cmd_tokenize},
    {"template", "render a chat template for a conversation (as transformers does)", cmd_template},
    {"pull", "download a GGUF model from the Hugging Face Hub (REPO[:QUANT]) into its cache", cmd_pull},
    {"models", "list the models in the Hugging Face cache, or remove one (models rm REPO[:QUANT])", cmd_models},
};

const Command* commands() { return kCommands; }
int command_count() { return static_cast<int>(sizeof kCommands / sizeof kCommands[0]); }

}  // namespace jetlm
