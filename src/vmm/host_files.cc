#include "vmm/host_files.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "vmm/agent/listen_socket.h"

namespace bulkhead::vmm {
namespace {

Result<UniqueFd> OpenRegular(const std::string& path, int flags, const std::string& what) {
  UniqueFd fd(open(path.c_str(), flags | O_CLOEXEC | O_NOCTTY));
  if (!fd) return Error::FromErrno(what + " " + path);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Error::FromErrno(what + " " + path);
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    return Error(what + " " + path + ": not a regular file or block device");
  }
  return fd;
}

Result<UniqueFd> ConnectConsole(const ConsoleConfig& c) {
  if (c.fd >= 0) {
    // An inherited fd: take it over (and keep it from any exec).
    if (fcntl(c.fd, F_SETFD, FD_CLOEXEC) != 0) {
      return Error::FromErrno("console fd " + std::to_string(c.fd) + " is not open");
    }
    return UniqueFd(c.fd);
  }
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (c.socket.size() >= sizeof(addr.sun_path)) return Error("console socket path too long: " + c.socket);
  memcpy(addr.sun_path, c.socket.c_str(), c.socket.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return Error::FromErrno("console socket");
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return Error::FromErrno("connecting to the console socket " + c.socket);
  }
  return fd;
}

}  // namespace

Result<HostFiles> OpenHostFiles(const VmConfig& config) {
  HostFiles f;
  BH_ASSIGN(f.kvm, Kvm::Open());
  BH_ASSIGN(f.kernel, OpenRegular(config.kernel, O_RDONLY, "kernel"));
  if (!config.initrd.empty()) {
    BH_ASSIGN(f.initrd, OpenRegular(config.initrd, O_RDONLY, "initrd"));
  }
  for (const DiskConfig& d : config.disks) {
    BH_ASSIGN(UniqueFd fd, OpenRegular(d.path, d.read_only ? O_RDONLY : O_RDWR, "disk \"" + d.id + "\""));
    f.disks.push_back(std::move(fd));
  }
  switch (config.serial.output) {
    case SerialConfig::Output::kStdout:
      f.serial_out = STDOUT_FILENO;
      break;
    case SerialConfig::Output::kFile:
      f.serial_file = UniqueFd(open(config.serial.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
      if (!f.serial_file) return Error::FromErrno("serial log " + config.serial.path);
      f.serial_out = f.serial_file.get();
      break;
    case SerialConfig::Output::kNone:
      break;
  }
  if (config.console) {
    BH_ASSIGN(f.console, ConnectConsole(*config.console));
  }
  if (config.agent) {
    // The device writes the guest's frames into one end; the relay reads them at the other.
    int sp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) return Error::FromErrno("agent socketpair");
    f.console = UniqueFd(sp[0]);
    f.agent_console = UniqueFd(sp[1]);
    BH_ASSIGN(f.agent_listen, agent::ListenUnix(config.agent->socket));  // last: nothing fails after it
  }
  return f;
}

}  // namespace bulkhead::vmm
