#include "runtime/vm_monitor.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include "base/fs.h"
#include "base/syscall.h"
#include "base/unique_fd.h"
#include "runtime/state_store.h"
#include "runtime/vm.h"
#include "vmtier/agent_client.h"

namespace bulkhead::runtime {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr size_t kConsoleTailLines = 15;

std::string ExitText(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by ") + strsignal(WTERMSIG(status));
  return "stopped";
}

// The last lines of the guest's console, for errors about a guest that did not come up.
std::string ConsoleTail(const std::string& dir) {
  Result<std::string> text = ReadFile(JoinPath(dir, kVmConsoleLog), 1 << 20);
  if (!text.ok() || text->empty()) return "; the guest console is empty";
  std::string t = *text;
  size_t pos = t.size();
  for (size_t n = 0; n <= kConsoleTailLines && pos > 0; ++n) {
    pos = t.rfind('\n', pos - 1);
    if (pos == std::string::npos) {
      pos = 0;
      break;
    }
  }
  std::string tail = t.substr(pos);
  for (char& c : tail) {
    if (c == '\r') c = ' ';
  }
  return "; the guest console ends with:\n" + tail;
}

void Reap(pid_t pid) {
  kill(pid, SIGKILL);
  RetryEintr([&] { return waitpid(pid, nullptr, 0); });
}

}  // namespace

Result<pid_t> SpawnMonitor(const std::vector<std::string>& argv, const std::string& dir,
                           const std::vector<int>& keep_fds, int tty,
                           const std::function<Status(pid_t)>& before_exec) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int go[2], report[2];
  if (pipe2(go, O_CLOEXEC) != 0) return Error::FromErrno("creating a pipe for the monitor");
  UniqueFd go_r(go[0]), go_w(go[1]);
  if (pipe2(report, O_CLOEXEC) != 0) return Error::FromErrno("creating a pipe for the monitor");
  UniqueFd report_r(report[0]), report_w(report[1]);

  pid_t pid = fork();
  if (pid < 0) return Error::FromErrno("forking the monitor");
  if (pid == 0) {
    // Plain steps only: wait for the parent, then exec; a failure goes back as errno.
    char b = 0;
    int err = 0;
    if (RetryEintr([&] { return read(go_r.get(), &b, 1); }) != 1) _exit(127);
    bool kept = true;
    for (int fd : keep_fds) kept = kept && fcntl(fd, F_SETFD, 0) == 0;
    if (chdir(dir.c_str()) != 0 || !kept) {
      err = errno;
    } else if (tty >= 0 && (setsid() < 0 || ioctl(tty, TIOCSCTTY, 0) != 0 ||
                            dup2(tty, 0) < 0 || dup2(tty, 1) < 0 || dup2(tty, 2) < 0)) {
      err = errno;
    } else {
      execv(args[0], args.data());
      err = errno;
    }
    (void)!write(report_w.get(), &err, sizeof err);
    _exit(127);
  }
  go_r.reset();
  report_w.reset();
  if (Status st = before_exec(pid); !st.ok()) {
    Reap(pid);
    return std::move(st).error();
  }
  if (RetryEintr([&] { return write(go_w.get(), "1", 1); }) != 1) {
    Status st = Error::FromErrno("releasing the monitor");
    Reap(pid);
    return std::move(st).error();
  }
  int err = 0;
  ssize_t n = RetryEintr([&] { return read(report_r.get(), &err, sizeof err); });
  if (n != 0) {
    Reap(pid);
    if (n == sizeof err) return Error::Errno(err, "executing the monitor " + argv[0]);
    return Error::FromErrno("starting the monitor " + argv[0]);
  }
  return pid;
}

Result<vmproto::Hello> AwaitGuest(pid_t monitor, const std::string& dir,
                                  std::chrono::seconds timeout) {
  auto deadline = Clock::now() + timeout;
  std::string socket = JoinPath(dir, kVmAgentSocket);
  std::optional<vmtier::AgentClient> client;
  for (;;) {
    int status = 0;
    pid_t r = RetryEintr([&] { return waitpid(monitor, &status, WNOHANG); });
    if (r == monitor) {
      return Error("the monitor " + ExitText(status) +
                       " before the guest was ready (its own message is on the container's "
                       "stderr)" +
                       ConsoleTail(dir),
                   ECHILD);
    }
    if (Clock::now() > deadline) {
      return Error("the guest did not come up within " + std::to_string(timeout.count()) +
                       " s (boot_timeout_s in the runtime configuration)" + ConsoleTail(dir),
                   ETIMEDOUT);
    }
    if (!client) {
      // The socket appears once the monitor has opened its files and checked KVM.
      if (Result<vmtier::AgentClient> c = vmtier::AgentClient::Connect(socket); c.ok()) {
        client.emplace(std::move(*c));
      } else {
        std::this_thread::sleep_for(10ms);
      }
      continue;
    }
    Result<vmproto::Hello> hello = client->AwaitHello(100ms);
    if (hello.ok()) return hello;
    if (hello.error().errno_value() != ETIMEDOUT) {
      // The monitor gave up on the guest (its own message is on stderr): what the guest
      // printed says why.
      const Error& e = hello.error();
      return Error(e.message() + ConsoleTail(dir), e.errno_value());
    }
  }
}

pid_t MonitorChild(pid_t monitor) {
  std::string p = "/proc/" + std::to_string(monitor) + "/task/" + std::to_string(monitor) + "/children";
  Result<std::string> text = ReadFile(p, 4096);
  if (!text.ok()) return 0;
  return static_cast<pid_t>(strtol(text->c_str(), nullptr, 10));
}

Status KillAndAwait(pid_t pid, uint64_t start_time, int timeout_ms) {
  if (pid <= 0) return Ok();
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) {
    if (errno == ESRCH) return Ok();
    return Error::FromErrno("pidfd_open " + std::to_string(pid));
  }
  UniqueFd pidfd(fd);
  // Checked once the pidfd holds the pid: a recycled pid is never signalled.
  bool zombie = false;
  if (ProcessStartTime(pid, &zombie) != start_time || zombie) return Ok();
  if (syscall(SYS_pidfd_send_signal, pidfd.get(), SIGKILL, nullptr, 0) != 0 && errno != ESRCH) {
    return Error::FromErrno("killing process " + std::to_string(pid));
  }
  pollfd p{pidfd.get(), POLLIN, 0};
  int rc = RetryEintr([&] { return poll(&p, 1, timeout_ms); });
  if (rc == 0) return Error("process " + std::to_string(pid) + " did not exit in time", ETIMEDOUT);
  if (rc < 0) return Error::FromErrno("waiting for process " + std::to_string(pid));
  return Ok();
}

}  // namespace bulkhead::runtime
