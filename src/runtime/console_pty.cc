#include "runtime/console_pty.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "base/scm.h"

namespace bulkhead::runtime {

Result<UniqueFd> HandOverRawPty(const std::string& console_socket,
                                const std::optional<oci::ConsoleSize>& size,
                                std::string_view who) {
  std::string w(who);
  BH_ASSIGN(UniqueFd console, ConnectUnix(console_socket).Context("--console-socket"));
  UniqueFd master(open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!master.valid()) return Error::FromErrno(w + ": opening /dev/ptmx");
  int unlock = 0, ptn = 0;
  if (ioctl(master.get(), TIOCSPTLCK, &unlock) != 0 || ioctl(master.get(), TIOCGPTN, &ptn) != 0) {
    return Error::FromErrno(w + ": setting up the pty");
  }
  UniqueFd slave(ioctl(master.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!slave.valid()) return Error::FromErrno(w + ": opening the pty's peer");
  termios t{};
  if (tcgetattr(slave.get(), &t) != 0) return Error::FromErrno(w + ": reading the pty's modes");
  cfmakeraw(&t);
  if (tcsetattr(slave.get(), TCSANOW, &t) != 0) return Error::FromErrno(w + ": a raw pty");
  if (size) {
    winsize ws{};
    ws.ws_row = static_cast<unsigned short>(size->height);
    ws.ws_col = static_cast<unsigned short>(size->width);
    if (ioctl(slave.get(), TIOCSWINSZ, &ws) != 0) return Error::FromErrno(w + ": the pty's size");
  }
  BH_TRY(SendWithFd(console.get(), "/dev/pts/" + std::to_string(ptn), master.get())
             .Context("sending the pty master to the console socket"));
  return slave;
}

}  // namespace bulkhead::runtime
