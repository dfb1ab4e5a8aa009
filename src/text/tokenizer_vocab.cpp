#include "text/tokenizer_vocab.h"

#include <algorithm>
#include <cctype>
#include <initializer_list>

#include "gguf/gguf.h"
#include "util/error.h"

namespace jetlm {

namespace {

uint32_t attr_from_type(int64_t type) {
  switch (type) {
    case 1: return kAttrNormal;
    case 2: return kAttrUnknown;
    case 3: return kAttrControl;
    case 4: return kAttrUserDefined;
    case 5: return kAttrUnused;
    case 6: return kAttrByte;
    default: return kAttrUndefined;
  }
}

// Token texts that mark a role in chat formats. Converters often leave these
// ids out of the metadata, so (as llama.cpp does) they are found by text; the
// order of each list decides when a vocabulary has more than one.
const std::initializer_list<const char*> kEotTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]", "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>",
    "<end_of_utterance>"};
const std::initializer_list<const char*> kEomTexts = {"<|eom_id|>"};
const std::initializer_list<const char*> kFimPreTexts = {
    "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "begin\xEF\xBD\x9C>",
    "<PRE>", "\xE2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>"};
const std::initializer_list<const char*> kFimSufTexts = {
    "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81hole\xEF\xBD\x9C>",
    "<SUF>", "\xE2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>"};
const std::initializer_list<const char*> kFimMidTexts = {
    "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<\xEF\xBD\x9C" "fim\xE2\x96\x81" "end\xEF\xBD\x9C>",
    "<MID>", "\xE2\x96\x81<MID>", "<|code_middle|>", "<|middle|>"};
const std::initializer_list<const char*> kFimPadTexts = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"};
const std::initializer_list<const char*> kFimRepTexts = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>",
                                                         "<reponame>"};
const std::initializer_list<const char*> kFimSepTexts = {"<|file_sep|>"};
// Tokens that end generation whatever the metadata says.
const std::initializer_list<const char*> kEogTexts = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
    "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>",
    "<\xEF\xBD\x9C" "end\xE2\x96\x81of\xE2\x96\x81sentence\xEF\xBD\x9C>"};

}  // namespace

Vocab::Vocab(const GgufFile& file, VocabKind kind, bool default_add_bos) {
  name_ = file.get_str_or("general.name", "");
  const std::vector<std::string_view> tokens = file.get_str_array("tokenizer.ggml.tokens");
  if (tokens.empty()) fail(file.path(), ": tokenizer.ggml.tokens: missing or empty");
  if (tokens.size() >= static_cast<size_t>(INT32_MAX))
    fail(file.path(), ": tokenizer.ggml.tokens: ", tokens.size(), " tokens is too many");
  const size_t n = tokens.size();

  score_ = file.get_f32_array("tokenizer.ggml.scores");
  if (score_.empty()) score_.assign(n, 0.0f);
  if (score_.size() < n)
    fail(file.path(), ": tokenizer.ggml.scores: ", score_.size(), " scores for ", n, " tokens");
  score_.resize(n);

  const std::vector<int64_t> types = file.get_int_array("tokenizer.ggml.token_type");
  if (!types.empty() && types.size() < n)
    fail(file.path(), ": tokenizer.ggml.token_type: ", types.size(), " types for ", n, " tokens");

  text_.resize(n);
  attr_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    // llama.cpp names empty entries so that no lookup of text ever hits them.
    text_[i] = tokens[i].empty() ? str_cat("[EMPTY_", i, "]") : std::string(tokens[i]);
    attr_[i] = types.empty() ? kAttrNormal : attr_from_type(types[i]);
  }
  size_t cap = 1024;
  while (cap < n * 2) cap *= 2;
  slots_.assign(cap, 0);
  mask_ = cap - 1;
  // A duplicated text keeps its first id (llama.cpp refuses such files; the
  // first id is what a converter that wrote it would have meant).
  for (size_t id = 0; id < n; ++id) {
    if (find(text_[id]) >= 0) continue;
    const uint64_t h = hash(text_[id]);
    uint64_t i = h & mask_;
    while (slots_[i] != 0) i = (i + 1) & mask_;
    slots_[i] = ((h >> 32) << 32) | (id + 1);
  }

  // SentencePiece files from before these keys existed meant <unk> <s> </s>
  // at 0 1 2. BPE gets no default ids: llama.cpp's 11 is a Falcon leftover
  // that would make "," end generation in GPT-2-like vocabularies.
  if (kind == VocabKind::Spm) {
    bos = 1;
    eos = 2;
    unk = 0;
    add_space_prefix = true;
  }
  add_bos = default_add_bos;
  add_space_prefix = file.get_bool_or("tokenizer.ggml.add_space_prefix", add_space_prefix);
  read_special_ids(file);
  add_bos = file.get_bool_or("tokenizer.ggml.add_bos_token", add_bos);
  add_eos = file.get_bool_or("tokenizer.ggml.add_eos_token", add_eos);
  if (add_bos && bos < 0)
    fail(file.path(), ": tokenizer.ggml.add_bos_token is true but there is no tokenizer.ggml.bos_token_id");
  if (add_eos && eos < 0)
    fail(file.path(), ": tokenizer.ggml.add_eos_token is true but there is no tokenizer.ggml.eos_token_id");

  detect_special_by_text();

  for (int32_t id = 0; id < size(); ++id)
    if (attr(id) & (kAttrControl | kAttrUserDefined | kAttrUnknown)) special_.push_back(id);
  std::stable_sort(special_.begin(), special_.end(),
                   [&](int32_t a, int32_t b) { return text(a).size() > text(b).size(); });

  apply_model_quirks(file);
}

void Vocab::read_special_ids(const GgufFile& file) {
  const std::pair<const char*, int32_t*> keys[] = {
      {"tokenizer.ggml.bos_token_id", &bos},         {"tokenizer.ggml.eos_token_id", &eos},
      {"tokenizer.ggml.eot_token_id", &eot},         {"tokenizer.ggml.eom_token_id", &eom},
      {"tokenizer.ggml.unknown_token_id", &unk},     {"tokenizer.ggml.padding_token_id", &pad},
      {"tokenizer.ggml.fim_pre_token_id", &fim_pre_}, {"tokenizer.ggml.fim_suf_token_id", &fim_suf_},
      {"tokenizer.ggml.fim_mid_token_id", &fim_mid_}, {"tokenizer.ggml.fim_pad_token_id", &fim_pad_},
      {"tokenizer.ggml.fim_rep_token_id", &fim_rep_}, {"tokenizer.ggml.fim_sep_token_id", &fim_sep_},
      {"tokenizer.ggml.prefix_token_id", &fim_pre_},  {"tokenizer.ggml.suffix_token_id", &fim_suf_},
      {"tokenizer.ggml.middle_token_id", &fim_mid_},
  };
  for (const auto& kv : keys) {
    int32_t& id = *kv.second;
    if (!valid(id)) id = -1;  // a family default the vocabulary is too small for
    const GgufValue* v = file.find(kv.first);
    if (!v) continue;
    if (!v->is_int()) fail(file.path(), ": ", kv.first, ": expected an integer, found ", gguf_type_name(v->type));
    // Out-of-range ids are ignored (the default stays), as llama.cpp does.
    if (v->i >= 0 && v->i < size()) id = static_cast<int32_t>(v->i);
  }
}

void Vocab::detect_special_by_text() {
  const auto mark_control = [&](int32_t id) { attr_[static_cast<size_t>(id)] |= kAttrControl; };
  const auto detect = [&](int32_t& slot, std::initializer_list<const char*> texts) {
    if (slot >= 0) return;
    for (const char* t : texts) {
      const int32_t id = find(t);
      if (id < 0) continue;
      slot = id;
      // Chat markers that a converter typed as normal text would otherwise be
      // spelled out letter by letter instead of ending the turn.
      mark_control(id);
      return;
    }
  };
  detect(eot, kEotTexts);
  detect(eom, kEomTexts);
  detect(fim_pre_, kFimPreTexts);
  detect(fim_suf_, kFimSufTexts);
  detect(fim_mid_, kFimMidTexts);
  detect(fim_pad_, kFimPadTexts);
  detect(fim_rep_, kFimRepTexts);
  detect(fim_sep_, kFimSepTexts);

  eog_.assign(text_.size(), false);
  for (const int32_t id : {fim_pad_, fim_rep_, fim_sep_, eos, eot, eom})
    if (valid(id)) eog_[static_cast<size_t>(id)] = true;
  for (const char* t : kEogTexts) {
    const int32_t id = find(t);
    if (id < 0) continue;
    eog_[static_cast<size_t>(id)] = true;
    mark_control(id);
  }
  // gpt-oss style vocabularies end a turn with <|return|> / <|call|>; there
  // <|end|> only closes a message and must not stop generation.
  const int32_t end = find("<|end|>");
  if (end >= 0 && ((find("<|return|>") >= 0 && find("<|call|>") >= 0) ||
                   (find("<|calls|>") >= 0 && find("<|flush|>") >= 0))) {
    eog_[static_cast<size_t>(end)] = false;
    attr_[static_cast<size_t>(end)] = kAttrUserDefined;
  }
}

void Vocab::apply_model_quirks(const GgufFile& file) {
  // Phi-3's tokenizer.json strips the whitespace that follows its chat
  // markers ("<|user|>\n" reads as "<|user|>"); the GGUF cannot say so, so
  // the model name decides, as in llama.cpp.
  std::string lower = name_;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.find("phi-3") == std::string::npos && lower.find("phi3") == std::string::npos) return;
  for (const int32_t id : special_) attr_[static_cast<size_t>(id)] |= kAttrRstrip;
  const int32_t eos_text = find("</s>");
  if (eos_text >= 0) attr_[static_cast<size_t>(eos_text)] |= kAttrRstrip;
  for (const char* t : {"<unk>", "<s>", "<|endoftext|>"}) {
    const int32_t id = find(t);
    if (id >= 0) attr_[static_cast<size_t>(id)] &= ~kAttrRstrip;
  }
}

}  // namespace jetlm
