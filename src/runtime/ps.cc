// `ps`: the processes of a container. --format json prints their pids (what containerd's
// runc shim asks for); the table runs the host's ps with the given arguments (default
// -ef) and keeps its header and the rows of the container's processes, as runc does. In the
// vm tier those are the host's processes of the container: the monitor and the process
// running the VM (the guest's own are not host processes; `exec ... ps` shows them).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/syscall.h"
#include "jail/cgroup.h"
#include "runtime/container_cgroup.h"
#include "runtime/ps_table.h"
#include "runtime/verbs.h"

extern char** environ;

namespace bulkhead::runtime {

namespace {

constexpr size_t kMaxPsOutput = 64u << 20;

std::string Joined(const std::vector<std::string>& args) {
  std::string out;
  for (const std::string& a : args) out += (out.empty() ? "" : " ") + a;
  return out;
}

// Runs argv[0] from PATH with stdout and stderr into one pipe, as runc does; the output,
// or an error holding it when ps fails.
Result<std::string> RunCaptured(const std::vector<std::string>& args) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return Error::FromErrno("pipe");
  UniqueFd r(p[0]), w(p[1]);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, w.get(), 1);
  posix_spawn_file_actions_adddup2(&fa, w.get(), 2);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  int err = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (err != 0) return Error::Errno(err, "running " + args[0]);
  w.reset();
  Result<std::string> out = ReadFd(r.get(), kMaxPsOutput);
  int status = 0;
  if (RetryEintr([&] { return waitpid(pid, &status, 0); }) < 0) {
    return Error::FromErrno("waiting for " + args[0]);
  }
  if (!out.ok()) return std::move(out).error().Context("reading the output of " + args[0]);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error(Joined(args) + ": " +
                 (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                                    : "killed by signal " + std::to_string(WTERMSIG(status))) +
                 ": " + *out);
  }
  return out;
}

}  // namespace

Result<std::string> Ps(const GlobalOptions& g, const std::string& id, const std::string& format,
                       const std::vector<std::string>& ps_args) {
  if (format != "table" && format != "json") {
    return Error("--format: expected table or json, got \"" + format + "\"", EINVAL);
  }
  StateStore store(g.root);
  BH_ASSIGN(ContainerState state, store.Load(id));
  BH_ASSIGN(jail::Cgroup cg, ContainerCgroup(state, "ps"));
  BH_ASSIGN(std::vector<pid_t> pids, cg.Pids());
  // As runc, json ignores any ps arguments.
  if (format == "json") return nlohmann::json(pids).dump() + "\n";
  std::vector<std::string> args = {"ps"};
  if (ps_args.empty()) {
    args.push_back("-ef");
  } else {
    args.insert(args.end(), ps_args.begin(), ps_args.end());
  }
  BH_ASSIGN(std::string table, RunCaptured(args));
  return FilterPsTable(table, pids);
}

}  // namespace bulkhead::runtime
