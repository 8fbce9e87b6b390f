#include "jail/launch.h"

#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "jail/container_hooks.h"
#include "jail/init_child.h"
#include "jail/sync.h"

namespace bulkhead::jail {

namespace {

Result<Launched> Clone(uint64_t flags) {
  int pidfd = -1;
  struct clone_args args {};
  args.flags = flags | CLONE_PIDFD;
  args.pidfd = reinterpret_cast<uint64_t>(&pidfd);
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof args);
  if (pid < 0) return Error::FromErrno("clone3 of the container init");
  Launched l;
  l.pid = static_cast<pid_t>(pid);
  if (pid > 0) l.pidfd.reset(pidfd);
  return l;
}

void KillAndReap(pid_t pid) {
  kill(pid, SIGKILL);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

Status Supervise(pid_t pid, int sync, const oci::Config& config, bool new_user,
                 const LaunchHooks& hooks) {
  if (new_user) BH_TRY(WriteIdMappings(pid, config.linux));
  if (config.process.oom_score_adj) {
    BH_TRY(WriteExisting("/proc/" + std::to_string(pid) + "/oom_score_adj",
                         std::to_string(*config.process.oom_score_adj))
               .Context("process.oomScoreAdj"));
  }
  if (hooks.on_child) BH_TRY(hooks.on_child(pid));
  BH_TRY(SendSync(sync, SyncKind::kGo).Context("releasing the container init"));
  for (;;) {
    BH_ASSIGN(SyncMsg msg, RecvSync(sync));
    switch (msg.kind) {
      case SyncKind::kReady:
        return Ok();
      case SyncKind::kError:
        return Error(msg.text, msg.err);
      case SyncKind::kSeccompFd:
        if (hooks.on_seccomp_fd) BH_TRY(hooks.on_seccomp_fd(std::move(msg.fd)));
        break;
      case SyncKind::kHooks: {
        if (!hooks.on_create_runtime) return Error("the container init asked for hooks", EPROTO);
        BH_ASSIGN(std::string state, hooks.on_create_runtime(pid));
        BH_TRY(SendHookState(sync, state));
        break;
      }
      case SyncKind::kEof:
        return Error("the container init exited during setup", ECHILD);
      case SyncKind::kGo:
        return Error("unexpected message from the container init", EPROTO);
    }
  }
}

}  // namespace

Status PrepareTimeNamespace(const oci::Linux& linux) {
  if (unshare(CLONE_NEWTIME) != 0) return Error::FromErrno("creating the time namespace");
  std::string offsets;
  for (const char* clock : {"monotonic", "boottime"}) {
    auto s = linux.time_offsets_secs.find(clock);
    auto ns = linux.time_offsets_nanosecs.find(clock);
    if (s == linux.time_offsets_secs.end() && ns == linux.time_offsets_nanosecs.end()) continue;
    offsets += std::string(clock) + " " +
               std::to_string(s == linux.time_offsets_secs.end() ? 0 : s->second) + " " +
               std::to_string(ns == linux.time_offsets_nanosecs.end() ? 0 : ns->second) + "\n";
  }
  if (!offsets.empty()) {
    BH_TRY(WriteExisting("/proc/self/timens_offsets", offsets).Context("linux.timeOffsets"));
  }
  return Ok();
}

Result<Launched> LaunchInit(InitSpec& spec, const LaunchHooks& hooks) {
  BH_ASSIGN(auto pair, SyncPair());
  BH_TRY(JoinPidNamespaceForChildren(spec.ns));
  if (spec.ns.clone_flags & CLONE_NEWTIME) BH_TRY(PrepareTimeNamespace(spec.config->linux));
  // The user and pid namespaces must exist from the first instruction; the rest are
  // unshared by the child once its ids are mapped and it sits in its cgroup.
  uint64_t flags = spec.ns.clone_flags & (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWTIME);
  flags &= ~static_cast<uint64_t>(CLONE_NEWTIME);  // applied through PrepareTimeNamespace
  BH_ASSIGN(Launched child, Clone(flags));
  if (child.pid == 0) {
    pair.first.reset();
    InitChildMain(spec, pair.second.get());
  }
  pair.second.reset();
  Status st = Supervise(child.pid, pair.first.get(), *spec.config, spec.ns.new_user, hooks);
  if (!st.ok()) {
    KillAndReap(child.pid);
    return std::move(st).error();
  }
  return child;
}

}  // namespace bulkhead::jail
