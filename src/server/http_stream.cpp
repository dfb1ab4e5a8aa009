#include "server/http_stream.h"

#include <httplib.h>

#include "server/peer.h"

namespace jetlm {

std::string sse(const std::string& payload) { return "data: " + payload + "\n\n"; }

void send_stream(ServerState& st, const httplib::Request& req, httplib::Response& res, std::shared_ptr<Job> job,
                 StreamFormat fmt) {
  // Proxies (nginx) must pass the events on as they come.
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");
  auto peer = std::make_shared<PeerWatch>(req.remote_addr, req.remote_port, req.local_port);
  auto acc = std::make_shared<Completion>();
  acc->n_prompt = job->n_prompt();
  auto started = std::make_shared<bool>(false);
  ServerState* s = &st;
  const std::string content_type = fmt.content_type;
  res.set_chunked_content_provider(
      content_type,
      [s, job, fmt, peer, acc, started](size_t, httplib::DataSink& sink) {
        auto write = [&](const std::string& text) { return text.empty() || sink.write(text.data(), text.size()); };
        if (!*started) {
          *started = true;
          if (fmt.head && !write(fmt.head())) {
            job->cancel();
            return false;
          }
        }
        // Wait a little for the first event, then take whatever else is ready
        // and send it in one write (a slow client gets fewer, larger chunks).
        TokenEvent e;
        std::string out;
        std::chrono::milliseconds wait(50);
        while (job->next(e, wait)) {
          wait = std::chrono::milliseconds(0);
          acc->add(e);
          if (e.done) {
            if (!e.text.empty()) out += fmt.piece(e);  // text held back to the end (a partial stop string)
            out += fmt.tail(*acc);
            if (!write(out)) return false;
            sink.done();
            return true;
          }
          out += fmt.piece(e);
          if (out.size() > 65536) break;
        }
        if (!write(out)) {
          job->cancel();
          return false;
        }
        if (peer->closed() || s->stopping) {
          job->cancel();
          return false;
        }
        return true;
      },
      [job](bool) { job->cancel(); });  // no-op once finished; frees the slot of an aborted stream
}

}  // namespace jetlm
