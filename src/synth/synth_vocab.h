// Vocabularies for synthetic models: the tokenizer.* metadata llama.cpp's
// loader needs, either generated (a made-up but well-formed vocabulary of the
// right size and family) or copied from a real GGUF file.
//
// Generated vocabularies keep the real models' special-token ids (<s> = 1,
// <|im_end|> = 151645, <start_of_turn> = 105, ...) and byte tokens, so chat
// templates and byte fallback work; the ordinary tokens are letter strings
// ("a", "▁the" style for SentencePiece, "Ġth" style for BPE), built so every
// BPE merge joins two existing tokens into a third, as the loader requires.
#pragma once
#include <string>

#include "gguf/gguf_writer.h"
#include "synth/presets.h"

namespace jetlm {

class GgufFile;

// Fewest tokens a style can have (its special and byte tokens, plus one).
int min_vocab_size(VocabStyle style);

// Appends the tokenizer.* keys of a generated vocabulary: n_tokenizer real
// entries, then [PADn] entries (type unused) up to n_vocab.
void add_synthetic_vocab(GgufMetadata& meta, VocabStyle style, int n_tokenizer, int n_vocab);

// Appends every tokenizer.* key of `from`. When it has fewer tokens than
// n_vocab, the token, score and type arrays are padded with [PADn] entries
// (type unused, score -1000), as llama.cpp's converter pads; returns the
// token count of the result, which may exceed n_vocab (then the model's
// embedding must grow to it). Throws Error when `from` has no token list.
int add_vocab_from(GgufMetadata& meta, const GgufFile& from, int n_vocab);

}  // namespace jetlm
