#include "jail/loopback.h"

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

#include "base/unique_fd.h"

namespace bulkhead::jail {

Status BringUpLoopback() {
  UniqueFd s(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s) return Error::FromErrno("bringing up lo: socket");
  ifreq ifr{};
  memcpy(ifr.ifr_name, "lo", 3);
  if (ioctl(s.get(), SIOCGIFFLAGS, &ifr) != 0) return Error::FromErrno("bringing up lo: SIOCGIFFLAGS");
  if ((ifr.ifr_flags & IFF_UP) != 0) return Ok();
  ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
  if (ioctl(s.get(), SIOCSIFFLAGS, &ifr) != 0) return Error::FromErrno("bringing up lo: SIOCSIFFLAGS");
  return Ok();
}

}  // namespace bulkhead::jail
