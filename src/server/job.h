// One generation request in the engine, seen from the HTTP thread that serves
// it. The engine's thread pushes TokenEvents (and updates the metrics); the
// HTTP thread pulls them, so a slow client never stalls the engine. A Job
// destroyed before its final event cancels its request.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "server/server_state.h"

namespace httplib {
struct Request;
}

namespace jetlm {

// The whole answer, accumulated from the events.
struct Completion {
  std::string text;                 // concatenated event text (what a stream sent)
  std::vector<TokenEvent> tokens;   // events of generated tokens (token >= 0), for logprobs
  TokenEvent fin;                   // the final event
  int n_prompt = 0;                 // tokens submitted
  void add(const TokenEvent& e);
};

// "stop" (end token, stop string, cancelled) or "length" (token budget or
// context full), as OpenAI's finish_reason and ollama's done_reason.
std::string finish_reason(const TokenEvent& fin);

class Job {
 public:
  // Submits; throws ApiError 503 (queue full) or 400 (prompt that cannot fit).
  Job(ServerState& st, std::vector<int32_t> prompt, const GenerateParams& p, int n_probs);
  ~Job();
  Job(const Job&) = delete;
  Job& operator=(const Job&) = delete;

  // The next event, waiting up to `wait`; false when none came in time.
  bool next(TokenEvent& e, std::chrono::milliseconds wait);
  void cancel();
  int n_prompt() const { return n_prompt_; }

 private:
  struct Shared;
  std::shared_ptr<Shared> sh_;  // also held by the engine's callback
  Engine& engine_;
  Engine::RequestId id_ = 0;
  int n_prompt_ = 0;
  bool finished_ = false;
};

// Runs a job to its final event for a non-streamed answer. Gives up (cancels)
// when the client disconnects or the server stops; fin.stop_reason is then "cancelled".
Completion run_to_end(ServerState& st, const httplib::Request& req, Job& job);

}  // namespace jetlm
