// Streaming a job's events to the client as they come: SSE for the OpenAI
// routes ("data: {...}\n\n" ... "data: [DONE]\n\n"), NDJSON for ollama's.
// The words come from a StreamFormat; this file owns the waiting, the writes,
// and the cancelling when the client goes away.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "server/job.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace jetlm {

struct StreamFormat {
  std::string content_type;                                  // text/event-stream, application/x-ndjson
  std::function<std::string()> head;                         // sent before the first event (may be null)
  std::function<std::string(const TokenEvent&)> piece;       // for each event with text or a token ("" sends nothing)
  std::function<std::string(const Completion&)> tail;        // after the final event (the whole answer so far)
};

// Sets up res to stream the job; the HTTP thread then runs it after the handler returns.
void send_stream(ServerState& st, const httplib::Request& req, httplib::Response& res, std::shared_ptr<Job> job,
                 StreamFormat fmt);

// One SSE event line pair: "data: <payload>\n\n".
std::string sse(const std::string& payload);

}  // namespace jetlm
