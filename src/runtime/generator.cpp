#include "runtime/generator.h"

#include "engine/engine.h"
#include "util/error.h"

namespace jetlm {

Generator::Generator(Context& ctx, const Tokenizer& tok) {
  EngineOptions o;
  o.background = false;
  engine_ = std::make_unique<Engine>(ctx, tok, o);
}

Generator::~Generator() = default;

GenerateStats Generator::generate(const std::vector<int32_t>& prompt, const GenerateParams& p,
                                  const std::function<bool(const std::string&)>& on_text, const std::atomic<bool>* cancel) {
  Request r;
  r.prompt = prompt;
  r.params = p;
  TokenEvent fin;
  r.on_event = [&](const TokenEvent& e) {
    if (e.done) {
      fin = e;
      if (!e.text.empty()) on_text(e.text);
      return true;
    }
    if (cancel && cancel->load()) return false;
    return e.text.empty() || on_text(e.text);
  };
  engine_->submit(std::move(r));
  engine_->run_until_idle();
  if (fin.stop_reason == "error") throw Error(fin.error);
  return fin.stats;
}

}  // namespace jetlm
