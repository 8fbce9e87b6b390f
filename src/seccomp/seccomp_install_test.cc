// Installs compiled profiles in forked children on the real kernel.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>

#include "seccomp/compile.h"
#include "seccomp/default_profile.h"

namespace bulkhead::seccomp {
namespace {

// Child exit codes: 0 is success, anything else names the step that failed.
enum ChildExit : int { kOk = 0, kNnpFailed = 10, kInstallFailed = 11, kWrongResult = 12 };

// Forks, runs fn in the child under no_new_privs, and returns the child's wait status.
int RunInChild(const std::function<int()>& fn) {
  pid_t pid = fork();
  if (pid == 0) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(kNnpFailed);
    _exit(fn());
  }
  int status = 0;
  EXPECT_EQ(waitpid(pid, &status, 0), pid);
  return status;
}

Program MustCompile(const oci::Seccomp& p) {
  Result<Program> r = Compile(p);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message());
  return r.ok() ? std::move(r).value() : Program{};
}

oci::Seccomp AllowAllBut(const char* name, const char* action, std::optional<uint32_t> err) {
  oci::Seccomp p;
  p.default_action = "SCMP_ACT_ALLOW";
  oci::SeccompSyscall sc;
  sc.names = {name};
  sc.action = action;
  sc.errno_ret = err;
  p.syscalls.push_back(sc);
  return p;
}

TEST(SeccompInstall, ChildSeesTheErrno) {
  oci::Seccomp p = AllowAllBut("getppid", "SCMP_ACT_ERRNO", EACCES);
  p.flags = {"SECCOMP_FILTER_FLAG_TSYNC"};
  Program prog = MustCompile(p);
  int status = RunInChild([&] {
    Result<UniqueFd> fd = Install(prog);
    if (!fd.ok() || fd->valid()) return int{kInstallFailed};
    errno = 0;
    long rc = syscall(SYS_getppid);
    if (rc != -1 || errno != EACCES) return int{kWrongResult};
    return syscall(SYS_getpid) > 0 ? int{kOk} : int{kWrongResult};  // others still work
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), kOk);
}

TEST(SeccompInstall, KillProcessActionKills) {
  Program prog = MustCompile(AllowAllBut("getppid", "SCMP_ACT_KILL_PROCESS", std::nullopt));
  int status = RunInChild([&] {
    if (!Install(prog).ok()) return int{kInstallFailed};
    syscall(SYS_getppid);
    return int{kWrongResult};
  });
  ASSERT_TRUE(WIFSIGNALED(status)) << status;
  EXPECT_EQ(WTERMSIG(status), SIGSYS);
}

// The default profile refuses new namespaces, returns ENOSYS for clone3, keeps fork working,
// and lets an ordinary program start.
TEST(SeccompInstall, DefaultProfileRunsAProgram) {
  Program prog = MustCompile(DefaultProfile());
  int status = RunInChild([&] {
    if (!Install(prog).ok()) return int{kInstallFailed};
    if (unshare(CLONE_NEWUSER) != -1 || errno != EPERM) return 20;
    if (syscall(SYS_clone3, nullptr, 0) != -1 || errno != ENOSYS) return 21;
    if (syscall(SYS_ptrace, 0, 0, 0, 0) != -1 || errno != EPERM) return 22;
    pid_t child = fork();
    if (child == 0) _exit(7);
    int st = 0;
    if (child < 0 || waitpid(child, &st, 0) != child || !WIFEXITED(st) || WEXITSTATUS(st) != 7) {
      return 23;
    }
    char arg0[] = "true";
    char* argv[] = {arg0, nullptr};
    char* envp[] = {nullptr};
    execve("/bin/true", argv, envp);
    return 24;
  });
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), kOk);
}

TEST(SeccompInstall, RejectsAnEmptyProgram) {
  Result<UniqueFd> r = Install(Program{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().errno_value(), EINVAL);
}

// Passes an fd over a unix socket.
bool SendFd(int sock, int fd) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, 0) == 1;
}

UniqueFd RecvFd(int sock) {
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1) return UniqueFd();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (c == nullptr || c->cmsg_type != SCM_RIGHTS) return UniqueFd();
  int fd = -1;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return UniqueFd(fd);
}

// The child hands its listener to the parent, which answers the notified getppid with 4242.
TEST(SeccompInstall, NotifyListenerAnswersFromTheParent) {
  oci::Seccomp p = AllowAllBut("getppid", "SCMP_ACT_NOTIFY", std::nullopt);
  // Exercises TSYNC together with NEW_LISTENER (TSYNC_ESRCH), and WAIT_KILLABLE_RECV.
  p.flags = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"};
  Program prog = MustCompile(p);
  ASSERT_TRUE(prog.has_notify);
  int sv[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
  UniqueFd parent_end(sv[0]), child_end(sv[1]);

  pid_t pid = fork();
  if (pid == 0) {
    parent_end.reset();
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) _exit(kNnpFailed);
    Result<UniqueFd> listener = Install(prog);
    if (!listener.ok() || !listener->valid()) _exit(kInstallFailed);
    if ((fcntl(listener->get(), F_GETFD) & FD_CLOEXEC) == 0) _exit(30);
    if (!SendFd(child_end.get(), listener->get())) _exit(31);
    listener->reset();
    _exit(syscall(SYS_getppid) == 4242 ? kOk : kWrongResult);
  }
  child_end.reset();
  UniqueFd listener = RecvFd(parent_end.get());
  ASSERT_TRUE(listener.valid());

  pollfd pfd{listener.get(), POLLIN, 0};
  ASSERT_EQ(poll(&pfd, 1, 10000), 1) << "no notification within 10s";
  seccomp_notif req{};
  ASSERT_EQ(ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_RECV, &req), 0) << strerror(errno);
  EXPECT_EQ(req.data.nr, SYS_getppid);
  EXPECT_EQ(static_cast<pid_t>(req.pid), pid);
  seccomp_notif_resp resp{};
  resp.id = req.id;
  resp.val = 4242;
  ASSERT_EQ(ioctl(listener.get(), SECCOMP_IOCTL_NOTIF_SEND, &resp), 0) << strerror(errno);

  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), kOk);
}

}  // namespace
}  // namespace bulkhead::seccomp
