#include "oci/hooks.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <optional>

#include "base/syscall.h"
#include "base/unique_fd.h"

namespace bulkhead::oci {

namespace {

using Clock = std::chrono::steady_clock;

struct Pipe {
  UniqueFd read;
  UniqueFd write;
};

Result<Pipe> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Error::FromErrno("creating a pipe for a hook");
  return Pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// The child's report on its CLOEXEC pipe when it cannot exec; EOF means it did.
struct ChildFailure {
  int stage;
  int err;
};
constexpr int kStageSetup = 1;
constexpr int kStageChdir = 2;
constexpr int kStageExec = 3;

[[noreturn]] void ReportAndExit(int report, int stage) {
  ChildFailure f{stage, errno};
  (void)!write(report, &f, sizeof f);
  _exit(127);
}

// After fork: plain system calls only, ending in execve or _exit.
[[noreturn]] void ExecChild(const char* path, char* const* argv, char* const* envp,
                            const char* cwd, const int (&stdio)[3], int report) {
  // Its own process group, so a timeout kills whatever the hook started too.
  setpgid(0, 0);
  // Nothing of the runtime's signal state may reach the hook (an ignored SIGPIPE above all).
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  // The raw call: glibc's sigaction refuses the two real-time signals it reserves, yet an
  // ignored disposition of those, inherited from our caller, would survive the execve.
  struct {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
  } dfl{SIG_DFL, 0, nullptr, 0};
  for (int sig = 1; sig < NSIG; ++sig) {
    syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof dfl.mask);  // KILL, STOP: EINVAL
  }
  // Lift the pipes above stdio first, so no dup2 lands on its own fd and keeps CLOEXEC.
  int high[3];
  for (int i = 0; i < 3; ++i) {
    high[i] = fcntl(stdio[i], F_DUPFD_CLOEXEC, 3);
    if (high[i] < 0) ReportAndExit(report, kStageSetup);
  }
  for (int i = 0; i < 3; ++i) {
    if (dup2(high[i], i) < 0) ReportAndExit(report, kStageSetup);
  }
  // Only stdio crosses into the hook.
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    ReportAndExit(report, kStageSetup);
  }
  if (cwd[0] != '\0' && chdir(cwd) != 0) ReportAndExit(report, kStageChdir);
  execve(path, argv, envp);
  ReportAndExit(report, kStageExec);
}

// SIGPIPE is ignored while a hook runs: one that exits without reading its stdin must
// cost us an EPIPE, not our life.
class SigpipeIgnored {
 public:
  SigpipeIgnored() {
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ign, &old_);
  }
  ~SigpipeIgnored() { sigaction(SIGPIPE, &old_, nullptr); }
  SigpipeIgnored(const SigpipeIgnored&) = delete;
  SigpipeIgnored& operator=(const SigpipeIgnored&) = delete;

 private:
  struct sigaction old_ {};
};

// The forked hook: killed (with its group) and reaped on every path that has not reaped it.
class HookProcess {
 public:
  explicit HookProcess(pid_t pid) : pid_(pid) {}
  ~HookProcess() {
    if (pid_ > 0) {
      Kill();
      (void)Wait();
    }
  }
  HookProcess(const HookProcess&) = delete;
  HookProcess& operator=(const HookProcess&) = delete;

  pid_t pid() const { return pid_; }
  void Kill() const {
    killpg(pid_, SIGKILL);
    kill(pid_, SIGKILL);
  }
  // The wait status; the process is gone afterwards.
  int Wait() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = 0;
    return status;
  }

 private:
  pid_t pid_;
};

void KeepTail(std::string* buf, const char* data, size_t n) {
  buf->append(data, n);
  if (buf->size() > kHookOutputMax) buf->erase(0, buf->size() - kHookOutputMax);
}

// Reads what is there now; closes fd at EOF or on error.
void ReadAvailable(UniqueFd* fd, std::string* buf) {
  char chunk[16384];
  while (fd->valid()) {
    ssize_t n = read(fd->get(), chunk, sizeof chunk);
    if (n > 0) {
      KeepTail(buf, chunk, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return;
    fd->reset();
  }
}

std::string Quote(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  if (s.size() > kHookQuoteMax) s = "..." + s.substr(s.size() - kHookQuoteMax);
  return s;
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    return "was killed by signal " + std::to_string(sig) +
           (abbrev != nullptr ? " (SIG" + std::string(abbrev) + ")" : "");
  }
  return "ended with wait status " + std::to_string(status);
}

void SetNonblocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

}  // namespace

Status RunHook(const Hook& hook, const std::string& state_json, const std::string& cwd) {
  // Everything execve needs is made before fork.
  std::vector<std::string> args = hook.args.empty() ? std::vector<std::string>{hook.path} : hook.args;
  std::vector<std::string> env = hook.env;
  std::vector<char*> argv, envp;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);

  BH_ASSIGN(Pipe in, MakePipe());
  BH_ASSIGN(Pipe out, MakePipe());
  BH_ASSIGN(Pipe err, MakePipe());
  BH_ASSIGN(Pipe report, MakePipe());
  SigpipeIgnored sigpipe;
  std::optional<Clock::time_point> deadline;
  if (hook.timeout) deadline = Clock::now() + std::chrono::seconds(*hook.timeout);

  pid_t pid = fork();
  if (pid < 0) return Error::FromErrno("forking");
  if (pid == 0) {
    const int stdio[3] = {in.read.get(), out.write.get(), err.write.get()};
    ExecChild(hook.path.c_str(), argv.data(), envp.data(), cwd.c_str(), stdio,
              report.write.get());
  }
  HookProcess child(pid);
  setpgid(pid, pid);  // as the child does: whichever runs first, the group exists for a kill
  in.read.reset();
  out.write.reset();
  err.write.reset();
  report.write.reset();

  ChildFailure failure{};
  ssize_t got = RetryEintr([&] { return read(report.read.get(), &failure, sizeof failure); });
  if (got == static_cast<ssize_t>(sizeof failure)) {
    (void)child.Wait();
    switch (failure.stage) {
      case kStageChdir: return Error::Errno(failure.err, "entering " + cwd);
      case kStageExec: return Error::Errno(failure.err, "cannot execute");
      default: return Error::Errno(failure.err, "preparing to execute");
    }
  }

  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) return Error::FromErrno("pidfd_open of the hook");
  UniqueFd exited_fd(pidfd);
  SetNonblocking(in.write.get());
  SetNonblocking(out.read.get());
  SetNonblocking(err.read.get());
  std::string out_buf, err_buf;
  size_t written = 0;
  if (state_json.empty()) in.write.reset();

  for (;;) {
    int wait_ms = -1;
    if (deadline) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
      if (left.count() <= 0) {
        child.Kill();
        (void)child.Wait();
        return Error("timed out after " + std::to_string(*hook.timeout) + "s", ETIMEDOUT);
      }
      wait_ms = static_cast<int>(left.count());
    }
    struct pollfd fds[4] = {{exited_fd.get(), POLLIN, 0},
                            {in.write.get(), POLLOUT, 0},
                            {out.read.get(), POLLIN, 0},
                            {err.read.get(), POLLIN, 0}};  // closed ones are -1: skipped
    int r = poll(fds, 4, wait_ms);
    if (r < 0) {
      if (errno == EINTR) continue;
      return Error::FromErrno("waiting for the hook");
    }
    if (fds[1].revents != 0) {
      ssize_t n = write(in.write.get(), state_json.data() + written, state_json.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      // A hook may ignore its stdin and close it (EPIPE): that is its right.
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == state_json.size()) {
        in.write.reset();
      }
    }
    if (fds[2].revents != 0) ReadAvailable(&out.read, &out_buf);
    if (fds[3].revents != 0) ReadAvailable(&err.read, &err_buf);
    if (fds[0].revents != 0) break;
  }
  // It has exited. What it wrote is in the pipes; whatever it left running may hold them
  // open, so take what is there and do not wait for EOF.
  ReadAvailable(&out.read, &out_buf);
  ReadAvailable(&err.read, &err_buf);
  int status = child.Wait();
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return Ok();
  std::string msg = DescribeStatus(status);
  if (std::string o = Quote(out_buf); !o.empty()) msg += ", stdout: " + o;
  if (std::string e = Quote(err_buf); !e.empty()) msg += ", stderr: " + e;
  return Error(msg);
}

std::string HookName(std::string_view kind, size_t index, const Hook& hook) {
  return "hooks." + std::string(kind) + "[" + std::to_string(index) + "] (" + hook.path + ")";
}

Status RunHooks(const std::vector<Hook>& hooks, std::string_view kind,
                const std::string& state_json, const std::string& cwd) {
  for (size_t i = 0; i < hooks.size(); ++i) {
    BH_TRY(RunHook(hooks[i], state_json, cwd).Context(HookName(kind, i, hooks[i])));
  }
  return Ok();
}

std::vector<Error> RunAllHooks(const std::vector<Hook>& hooks, std::string_view kind,
                               const std::string& state_json, const std::string& cwd) {
  std::vector<Error> failures;
  for (size_t i = 0; i < hooks.size(); ++i) {
    Status s = RunHook(hooks[i], state_json, cwd);
    if (!s.ok()) failures.push_back(std::move(s).error().Context(HookName(kind, i, hooks[i])));
  }
  return failures;
}

}  // namespace bulkhead::oci
