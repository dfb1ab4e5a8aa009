#include "server/peer.h"

#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstdlib>

namespace jetlm {

static bool endpoint(int fd, bool peer, std::string* host, int* port) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  const int rc = peer ? ::getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len)
                      : ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  if (rc != 0 || (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) return false;
  char h[NI_MAXHOST], s[NI_MAXSERV];
  if (::getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, h, sizeof h, s, sizeof s, NI_NUMERICHOST | NI_NUMERICSERV) != 0)
    return false;
  *host = h;
  *port = std::atoi(s);
  return true;
}

PeerWatch::PeerWatch(const std::string& remote_addr, int remote_port, int local_port) {
  DIR* d = ::opendir("/proc/self/fd");
  if (!d) return;
  while (const dirent* e = ::readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    const int fd = std::atoi(e->d_name);
    std::string host;
    int port = 0;
    if (!endpoint(fd, true, &host, &port) || port != remote_port || host != remote_addr) continue;
    if (!endpoint(fd, false, &host, &port) || port != local_port) continue;
    fd_ = fd;
    break;
  }
  ::closedir(d);
}

bool PeerWatch::closed() const {
  if (fd_ < 0) return false;
  pollfd p{fd_, static_cast<short>(POLLIN | POLLRDHUP), 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
  char c;
  return ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;  // readable with nothing to read: EOF
}

}  // namespace jetlm
