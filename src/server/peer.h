// Noticing a client that went away while its answer is being generated.
// cpp-httplib 0.11 does not hand the connection's socket to handlers, so it
// is found among the process's descriptors by its two endpoints (the 4-tuple
// is unique while the handler runs, and the descriptor stays open until it returns).
#pragma once
#include <string>

namespace jetlm {

class PeerWatch {
 public:
  PeerWatch(const std::string& remote_addr, int remote_port, int local_port);
  // True once the client closed or reset the connection (a pipelined next
  // request is data, not a close; a client that shuts down its sending side
  // after the request counts as gone). False when the socket was not found.
  bool closed() const;

 private:
  int fd_ = -1;
};

}  // namespace jetlm
