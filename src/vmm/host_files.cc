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

Result<agent::WritebackTarget> OpenWriteback(const WritebackConfig& w) {
  const std::string what = "writeback volume " + std::to_string(w.volume) + ": " + w.path;
  agent::WritebackTarget t;
  t.volume = w.volume;
  t.host_path = w.path;
  t.max_bytes = w.max_mib << 20;
  t.max_entries = w.max_mib * vmproto::kVolumeEntriesPerMib;
  struct stat st;
  if (stat(w.path.c_str(), &st) != 0) return Error::FromErrno(what);
  t.file = S_ISREG(st.st_mode);
  if (!t.file && !S_ISDIR(st.st_mode)) return Error(what + ": neither a directory nor a regular file");
  // A file is opened for writing now (O_NONBLOCK: never wait on a fifo swapped in); a
  // directory is only a place to resolve beneath.
  int flags = t.file ? O_WRONLY | O_NOCTTY | O_NONBLOCK : O_PATH | O_DIRECTORY;
  t.fd = UniqueFd(open(w.path.c_str(), flags | O_CLOEXEC));
  if (!t.fd) return Error::FromErrno(what);
  struct stat opened;
  if (fstat(t.fd.get(), &opened) != 0) return Error::FromErrno(what);
  if ((opened.st_mode & S_IFMT) != (st.st_mode & S_IFMT)) return Error(what + ": changed while it was opened");
  size_t slash = w.path.rfind('/');
  t.file_name = w.path.substr(slash + 1);
  return t;
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
    for (const WritebackConfig& w : config.agent->writeback) {
      BH_ASSIGN(agent::WritebackTarget t, OpenWriteback(w));
      f.writeback.push_back(std::move(t));
    }
    BH_ASSIGN(f.agent_listen, agent::ListenUnix(config.agent->socket));  // last: nothing fails after it
  }
  return f;
}

}  // namespace bulkhead::vmm
