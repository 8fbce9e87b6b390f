// Escapes through the runtime rather than the kernel: overwriting the runtime binary
// (CVE-2019-5736), descriptors and a working directory leaked from the runtime
// (CVE-2024-21626), a setuid binary in the image, and keystrokes pushed into the terminal.
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "attempt.h"

namespace bulkhead::escape {
namespace {

std::string ExeOverwrite() {
  // The runner starts the container at a script whose interpreter is /proc/self/exe, so the
  // runtime's own binary runs inside; a preloaded library there keeps an O_PATH descriptor
  // to it and execs this attempt with BH_EXE_FD. Reopening that descriptor for writing,
  // once the runtime has exited, is the overwrite.
  std::string var = Env("BH_EXE_FD");
  if (var.empty()) return Setup("BH_EXE_FD not set: start through the /proc/self/exe trap");
  int fd = atoi(var.c_str());
  struct stat held {
  }, self{};
  if (fstat(fd, &held) != 0) return Setup("BH_EXE_FD is not open: " + ErrnoName(errno));
  if (stat("/proc/self/exe", &self) == 0 && held.st_ino == self.st_ino &&
      held.st_dev == self.st_dev) {
    return Setup("the trap caught bh-escape, not the runtime");
  }
  if (!S_ISREG(held.st_mode)) return Setup("BH_EXE_FD is not a regular file");
  std::string path = "/proc/self/fd/" + std::to_string(fd);
  std::string seen;
  int w = -1;
  // ETXTBSY only means the runtime still runs; wait for it to exit, as the real attack does.
  for (int i = 0; i < 100; ++i) {
    w = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    seen = Outcome(w);
    if (seen != "ETXTBSY") break;
    usleep(50 * 1000);
  }
  if (w < 0) return seen;
  // Opened: a sealed copy still refuses the write. Write back the byte that is there, so
  // even a successful write leaves the binary as it was.
  char byte = 0;
  int r = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r < 0 || pread(r, &byte, 1, 0) != 1) return Setup("reading the runtime binary back");
  close(r);
  seen = Outcome(pwrite(w, &byte, 1, 0));
  close(w);
  return seen;
}

std::string LeakedFds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return Setup("opendir /proc/self/fd: " + ErrnoName(errno));
  std::string fds, leaks;
  std::vector<int> seen;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    int fd = atoi(e->d_name);
    if (fd == dirfd(d) || fd == g_report_fd) continue;
    seen.push_back(fd);
  }
  closedir(d);
  std::sort(seen.begin(), seen.end());
  for (int fd : seen) {
    fds += (fds.empty() ? "" : ",") + std::to_string(fd);
    if (fd > 2) {
      char target[PATH_MAX] = {};
      std::string link = "/proc/self/fd/" + std::to_string(fd);
      ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
      leaks += "+leak:" + std::to_string(fd) + "=" + (n > 0 ? target : "?");
    }
  }
  return "fds=" + fds + leaks;
}

std::string CwdInRoot() {
  // Climb from the working directory until '..' stays put, then compare with '/': a cwd
  // outside the root (a leaked host directory) climbs to a different top.
  int fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Setup("open .: " + ErrnoName(errno));
  struct stat cur {};
  fstat(fd, &cur);
  for (int i = 0; i < 4096; ++i) {
    int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    struct stat parent {};
    if (up < 0 || fstat(up, &parent) != 0) return Setup("openat ..: " + ErrnoName(errno));
    close(fd);
    fd = up;
    if (parent.st_ino == cur.st_ino && parent.st_dev == cur.st_dev) break;
    cur = parent;
  }
  close(fd);
  struct stat root {};
  stat("/", &root);
  bool inside = root.st_ino == cur.st_ino && root.st_dev == cur.st_dev;
  char buf[PATH_MAX] = {};
  bool reachable = getcwd(buf, sizeof buf) != nullptr && buf[0] == '/';
  return inside && reachable ? "in-root" : "outside-root";
}

std::string SetuidBinary() {
  if (getuid() == 0) return Setup("runs as root: set process.user.uid to 1000");
  struct stat st {};
  if (stat("/bh-escape-suid", &st) != 0 || (st.st_mode & S_ISUID) == 0 || st.st_uid != 0) {
    return Setup("/bh-escape-suid is not a setuid-root copy");
  }
  Probes p;
  p.Add("exec", RunCapture({"/bh-escape-suid", "whoami"}));
  p.Add("setresuid", Outcome(setresuid(0, 0, 0)));
  return p.Result();
}

std::string Tiocsti() {
  if (isatty(0) == 0) return Setup("stdin is not a terminal: run with process.terminal");
  char c = '#';
  Probes p;
  p.Add("TIOCSTI", Outcome(ioctl(0, TIOCSTI, &c)));
  // The kernel reads the request as 32 bits; junk above them must not slip past the filter.
  p.Add("TIOCSTI|1<<32", Outcome(syscall(SYS_ioctl, 0, TIOCSTI | (1UL << 32), &c)));
  char sel = 2;  // TIOCLINUX TIOCL_SETSEL
  p.Add("TIOCLINUX", Outcome(ioctl(0, TIOCLINUX, &sel)));
  return p.Result();
}

}  // namespace

void AddRuntimeAttempts(Attempts& out) {
  out.push_back({"proc_self_exe",
                 "reopen the runtime's binary for writing via /proc/self/exe (CVE-2019-5736)",
                 "EACCES|EROFS|EPERM",
                 "the runtime runs from a read-only bind mount of its binary (EROFS; a sealed "
                 "memfd copy, EPERM, before Linux 5.12); with the user namespace the host "
                 "root's file is not writable anyway (EACCES) (CVE-2019-5736)",
                 ExeOverwrite});
  out.push_back({"leaked_fds",
                 "list its descriptors: anything beyond stdio leaked from the runtime", "fds=0,1,2",
                 "the runtime closes every descriptor but stdio before exec, the caller's "
                 "extra ones too (CVE-2024-21626)",
                 LeakedFds});
  out.push_back({"cwd_in_root",
                 "climb from its working directory and compare with / (CVE-2024-21626)", "in-root",
                 "process.cwd is entered after pivot_root; a cwd of /proc/self/fd/N names no "
                 "host directory (CVE-2024-21626)",
                 CwdInRoot});
  out.push_back({"setuid_binary", "as uid 1000, exec a setuid-root binary; setresuid(0)",
                 "euid=1000|EPERM",
                 "no_new_privs: exec ignores the setuid bit; setresuid needs CAP_SETUID (EPERM)",
                 SetuidBinary});
  out.push_back({"tiocsti",
                 "push a keystroke into its terminal (TIOCSTI, also with high bits; TIOCLINUX)",
                 "EPERM", "seccomp: ioctl TIOCSTI and TIOCLINUX refused on the low 32 bits (EPERM)",
                 Tiocsti});
}

}  // namespace bulkhead::escape
