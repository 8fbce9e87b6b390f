// The network: raw and packet sockets, any address beyond lo, and the host's abstract unix
// sockets (which live in the network namespace, not the file system).
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <string>

#include "attempt.h"

namespace bulkhead::escape {
namespace {

std::string Socket(int domain, int type, int protocol) {
  int fd = socket(domain, type | SOCK_CLOEXEC, protocol);
  std::string seen = Outcome(fd);
  if (fd >= 0) close(fd);
  return seen;
}

std::string RawSocket() {
  Probes p;
  p.Add("inet", Socket(AF_INET, SOCK_RAW, IPPROTO_RAW));
  p.Add("inet6", Socket(AF_INET6, SOCK_RAW, IPPROTO_RAW));
  return p.Result();
}

std::string PacketSocket() { return Socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL)); }

std::string Connect(const std::string& addr) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, addr.c_str(), &in4->sin_addr) == 1) {
    in4->sin_family = AF_INET;
    in4->sin_port = htons(22);
    len = sizeof *in4;
  } else if (inet_pton(AF_INET6, addr.c_str(), &in6->sin6_addr) == 1) {
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(22);
    len = sizeof *in6;
  } else {
    return Setup("bad address " + addr);
  }
  int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  // A kernel without the family (the VM's guest has no IPv6) cannot reach the address.
  if (fd < 0 && errno == EAFNOSUPPORT) return "EAFNOSUPPORT";
  if (fd < 0) return Setup("socket: " + ErrnoName(errno));
  std::string seen = Outcome(connect(fd, reinterpret_cast<sockaddr*>(&ss), len));
  // In progress means a route existed: as bad as a connection.
  if (seen == "EINPROGRESS") seen = "ok";
  close(fd);
  return seen;
}

std::string BeyondLo() {
  Probes p;
  if (struct if_nameindex* ifs = if_nameindex()) {
    for (struct if_nameindex* i = ifs; i->if_index != 0; ++i) {
      if (strcmp(i->if_name, "lo") != 0) p.Add("", std::string("iface:") + i->if_name);
    }
    if_freenameindex(ifs);
  }
  // The host's own addresses and gateway (from the runner), plus well-known ones.
  std::string addrs = Env("BH_HOST_ADDRS");
  addrs += (addrs.empty() ? "" : ",") + std::string("1.1.1.1,2606:4700:4700::1111");
  size_t pos = 0;
  while (pos < addrs.size()) {
    size_t comma = addrs.find(',', pos);
    if (comma == std::string::npos) comma = addrs.size();
    std::string a = addrs.substr(pos, comma - pos);
    if (!a.empty()) p.Add(a, Connect(a));
    pos = comma + 1;
  }
  return p.Result();
}

std::string AbstractUnix() {
  std::string name = Env("BH_HOST_ABSTRACT");
  if (name.empty()) return Setup("BH_HOST_ABSTRACT not set");
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (name.size() + 1 > sizeof addr.sun_path) return Setup("abstract name too long");
  memcpy(addr.sun_path + 1, name.data(), name.size());  // leading NUL: the abstract namespace
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Setup("socket: " + ErrnoName(errno));
  auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  std::string seen = Outcome(connect(fd, reinterpret_cast<sockaddr*>(&addr), len));
  close(fd);
  return seen;
}

}  // namespace

void AddNetworkAttempts(Attempts& out) {
  const char* raw_why =
      "capabilities: CAP_NET_RAW is dropped (EPERM); EAFNOSUPPORT where the kernel lacks the "
      "family (the vm tier's guest kernel has no packet sockets and no IPv6)";
  out.push_back({"raw_socket", "open raw IPv4 and IPv6 sockets", "EPERM|EAFNOSUPPORT", raw_why,
                 RawSocket});
  out.push_back(
      {"packet_socket", "open a packet socket", "EPERM|EAFNOSUPPORT", raw_why, PacketSocket});
  out.push_back(
      {"net_beyond_lo",
       "list interfaces; connect to the host's addresses, its gateway, 1.1.1.1 and an IPv6 address",
       "ENETUNREACH|EADDRNOTAVAIL|EAFNOSUPPORT",
       "network namespace: only lo, no route to the host, its gateway or beyond "
       "(ENETUNREACH), no source address to send from (EADDRNOTAVAIL); a kernel without "
       "IPv6 has no such socket (EAFNOSUPPORT)",
       BeyondLo});
  out.push_back(
      {"abstract_unix", "connect to an abstract unix socket the host listens on", "ECONNREFUSED",
       "network namespace: the host's abstract unix sockets are not in this one", AbstractUnix});
}

}  // namespace bulkhead::escape
