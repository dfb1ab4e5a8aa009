// Text <-> token ids, driven only by the GGUF's tokenizer.ggml.* metadata.
// Implementations: SentencePiece-style ("llama") and byte-level BPE ("gpt2").
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace jetlm {

class GgufFile;

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Builds the tokenizer the file describes; throws Error for an unknown
  // tokenizer.ggml.model / .pre or malformed vocabulary arrays.
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& file);

  // Tokenize text. add_bos: prepend BOS when the vocabulary wants one
  // (tokenizer.ggml.add_bos_token), and append EOS in the rare vocabularies
  // with tokenizer.ggml.add_eos_token (llama.cpp's add_special).
  // parse_special: text such as "<|im_start|>" becomes its special token;
  // otherwise it is tokenized as plain text (user-defined tokens, type 4, are
  // still split out, as Hugging Face and llama.cpp do).
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const = 0;

  // A rendered chat prompt: special tokens are parsed in the template's text
  // but not inside plain_spans (byte offset, length), the user-supplied content.
  virtual std::vector<int32_t> encode_chat(std::string_view text, bool add_bos,
                                           const std::vector<std::pair<size_t, size_t>>& plain_spans) const = 0;

  // The bytes of one token as they appear in the output text (byte tokens give
  // their single byte, SentencePiece's U+2581 becomes a space; control and
  // unknown tokens give their text only when render_special is true,
  // user-defined ones always). Throws Error for an id outside the vocabulary.
  virtual std::string token_to_piece(int32_t id, bool render_special = false) const = 0;

  // Decode a whole sequence (strips the leading space SentencePiece adds after BOS).
  // The exact bytes: ids that end inside a UTF-8 character give that partial
  // character (StreamDecoder is the way to get display-safe text).
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;

  virtual int32_t n_vocab() const = 0;
  virtual int32_t bos_id() const = 0;  // -1 when none
  virtual int32_t eos_id() const = 0;  // -1 when none
  virtual int32_t eot_id() const = 0;  // -1 when none
  virtual bool add_bos() const = 0;
  // True for ids that end a turn (EOS, EOT, <end_of_turn>, <|im_end|>, <|eot_id|> ...).
  virtual bool is_end_of_generation(int32_t id) const = 0;
  // True when encode puts a space ("\u2581") before the text, so the first
  // decoded token carries a space the input did not have (SentencePiece).
  virtual bool adds_space_prefix() const { return false; }
};

// Streams token pieces to text without ever emitting half a UTF-8 character:
// bytes are held back until the character they start is complete.
// Bytes that can never become a valid character are emitted as U+FFFD at
// once, so the output is always valid UTF-8. Like decode(), the first token
// after an optional BOS loses the space SentencePiece put in front of the
// text; pass strip_first_space = false when streaming a continuation (tokens
// after a prompt that was not pushed here).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool strip_first_space = true)
      : tok_(tok), first_(strip_first_space) {}
  // Returns the text that became complete with this token (may be empty).
  std::string push(int32_t id);
  // Whatever is still held back at the end (invalid sequences as U+FFFD).
  std::string flush();

 private:
  const Tokenizer& tok_;
  std::string pending_;
  bool first_ = true;
};

}  // namespace jetlm
