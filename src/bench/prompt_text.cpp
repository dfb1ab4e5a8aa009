#include "bench/prompt_text.h"

#include "text/tokenizer.h"
#include "util/error.h"

namespace jetlm {

const std::string& bench_passage() {
  static const std::string text =
      "The old lighthouse keeper climbed the spiral stairs every evening at dusk, counting the steps as his "
      "father had taught him. There were one hundred and twelve of them, worn smooth in the middle by more than "
      "a century of boots. At the top he wiped the salt from the great lens, checked the oil, and wrote the "
      "weather into a leather book: wind from the north-west, a low swell, clouds gathering over the islands. "
      "Ships no longer needed his light, because every vessel now carried a small box that knew its place on "
      "the sea to within a few metres, but he lit it anyway. Once, a girl from the village asked him why. He "
      "told her that machines fail in storms, that batteries die in the cold, and that a light on a rock is a "
      "promise kept by someone who stayed awake. She wrote that down in her notebook, then asked how far the "
      "beam could reach. Twenty-two nautical miles on a clear night, he said, and he showed her how the lens "
      "bent the flame into a single bright blade that swept the horizon once every ten seconds. In the winter "
      "the keeper repaired nets for the fishermen, baked bread in the stone oven behind the cottage, and read "
      "books about navigation, astronomy and the history of the coast. He learned that the first light on the "
      "rock had been a simple fire of coal in an iron basket, and that the keepers of that time had carried the "
      "fuel up the cliff path on their backs. He learned that the lens had been made in a workshop far inland, "
      "ground by hand from hundreds of pieces of glass, and brought to the island on a cart pulled by four "
      "horses. When the spring came, the girl returned with a question about the stars: why did the sailors "
      "steer by one of them and not another? The keeper took her outside after dark and pointed to the two "
      "bright stars at the edge of the great bear, and followed their line to the pole star, which hardly "
      "moves while the whole sky turns around it. ";
  return text;
}

std::vector<int32_t> bench_prompt_tokens(const Tokenizer& tok, int n, int variant) {
  if (n < 1) fail("a benchmark prompt needs at least one token, got ", n);
  const std::vector<int32_t> passage = tok.encode(bench_passage(), false, false);  // ~500 tokens: cheap
  if (passage.empty()) fail("the benchmark passage tokenizes to nothing");
  std::vector<int32_t> out;
  out.reserve(static_cast<size_t>(n));
  if (tok.add_bos() && tok.bos_id() >= 0) out.push_back(tok.bos_id());
  size_t at = (static_cast<size_t>(variant) * 37) % passage.size();
  while (static_cast<int>(out.size()) < n) {
    out.push_back(passage[at]);
    at = (at + 1) % passage.size();
  }
  return out;
}

}  // namespace jetlm
