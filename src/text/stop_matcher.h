// Stop strings over streamed text. A stop string may arrive split across
// tokens ("<|im_" then "end|>"), so text that could still become the start of
// a stop string is held back until it either completes one or cannot.
#pragma once
#include <string>
#include <vector>

namespace jetlm {

// Length of the longest suffix of `text` that is a proper prefix of `stop`
// (what a streamer must hold back for this one stop string).
size_t partial_stop_length(const std::string& text, const std::string& stop);

class StopMatcher {
 public:
  // Empty strings are ignored.
  explicit StopMatcher(std::vector<std::string> stops);

  struct Result {
    std::string text;      // safe to show now
    bool stopped = false;  // a stop string completed; text ends right before it
  };

  // Feeds the next piece of generated text. Once stopped, further input is ignored.
  Result push(const std::string& chunk);
  // End of generation without a stop: returns the held-back text.
  std::string flush();

  bool stopped() const { return stopped_; }
  size_t held() const { return pending_.size(); }  // bytes held back now
  const std::string& matched() const { return matched_; }  // the stop string that ended it

 private:
  std::vector<std::string> stops_;
  std::string pending_;
  std::string matched_;
  bool stopped_ = false;
};

}  // namespace jetlm
