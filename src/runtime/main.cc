// The bulkhead command line: runc's verbs and flags, so containerd's runc shim, CRI-O
// and podman can call it as they call runc. Each verb is a thin call into the library.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string_view>
#include <vector>

#include "base/log.h"
#include "runtime/sealed_exe.h"
#include "runtime/verbs.h"

namespace bulkhead::runtime {
namespace {

constexpr const char* kVersion = "bulkhead version 0.1.0\nspec: 1.0.2\n";

void AddCreateFlags(CLI::App* cmd, CreateOptions* o) {
  cmd->add_option("id", o->id, "container id")->required();
  cmd->add_option("-b,--bundle", o->bundle, "path to the bundle (default: current directory)");
  cmd->add_option("--pid-file", o->pid_file, "file to write the init's pid to");
  cmd->add_option("--console-socket", o->console_socket,
                  "Unix socket that receives the pty master when process.terminal is set");
  cmd->add_flag("--no-pivot", o->no_pivot, "use MS_MOVE and chroot instead of pivot_root");
  cmd->add_flag("--no-new-keyring", o->no_new_keyring, "keep the caller's session keyring");
  cmd->add_option("--preserve-fds", o->preserve_fds, "pass this many fds after stdio to the workload")
      ->check(CLI::Range(0, 1 << 20));
}

void AddExecFlags(CLI::App* cmd, ExecOptions* o) {
  cmd->add_option("id", o->id, "container id")->required();
  cmd->add_option("command", o->args, "command and arguments (unless --process is given)");
  cmd->add_option("-p,--process", o->process_file, "runtime-spec process JSON file (- for stdin)");
  cmd->add_flag("-t,--tty", o->tty, "allocate a pseudo-terminal");
  cmd->add_option("--console-socket", o->console_socket,
                  "Unix socket that receives the pty master with --tty");
  cmd->add_flag("-d,--detach", o->detach, "do not wait for the process");
  cmd->add_option("--pid-file", o->pid_file, "file to write the process's pid to");
  cmd->add_option("--cwd", o->cwd, "working directory inside the container");
  // Repeatable options take one value per occurrence (as runc's do), so
  // `exec -e K=V ID CMD` leaves the id and the command alone.
  cmd->add_option("-e,--env", o->env, "KEY=VALUE to add to the environment")
      ->allow_extra_args(false);
  cmd->add_option("-u,--user", o->user, "UID[:GID] to run as");
  cmd->add_option("-g,--additional-gids", o->additional_gids, "additional group ids")
      ->allow_extra_args(false);
  cmd->add_option("-c,--cap", o->caps, "capability to add (CAP_X)")
      ->allow_extra_args(false);
  cmd->add_flag("--no-new-privs", o->no_new_privs, "set no_new_privs for the process");
  cmd->add_option("--preserve-fds", o->preserve_fds, "pass this many fds after stdio to the process")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_option("--apparmor", o->apparmor, "AppArmor profile (not enforced on this host)");
  cmd->add_option("--process-label", o->process_label, "SELinux label (not enforced on this host)");
  cmd->add_flag("--ignore-paused", o->ignore_paused, "exec even if the container is paused");
  // runc's cgroup sub-path option: accepted, the process joins the container's cgroup.
  cmd->add_option("--cgroup", o->cgroup, "accepted for runc compatibility");
  // Everything after the id belongs to the command, options included.
  cmd->positionals_at_end();
  cmd->prefix_command();
}

int Report(const Status& st) {
  if (st.ok()) return 0;
  LogError(st.error().message());
  return 1;
}

template <class T>
int ReportPrint(const Result<T>& r) {
  if (!r.ok()) return Report(r.error());
  std::fwrite(r->data(), 1, r->size(), stdout);
  return 0;
}

// --- The cgroup verbs: pause, resume, update, events, ps ---------------------------

struct CgroupVerbs {
  CLI::App* pause = nullptr;
  CLI::App* resume = nullptr;
  CLI::App* update = nullptr;
  CLI::App* events = nullptr;
  CLI::App* ps = nullptr;
  std::string id;
  UpdateFlags update_flags;
  EventsOptions events_options;
  std::string ps_format = "table";
  std::vector<std::string> ps_passthrough;  // the words after `ps ... --`
};

void AddUpdateFlags(CLI::App* cmd, UpdateFlags* f) {
  cmd->add_option("-r,--resources", f->resources,
                  "linux.resources JSON file, or - for stdin (then no other limit flag)");
  cmd->add_option("--memory", f->memory, "memory limit in bytes (512m, 1G; -1 for none)");
  cmd->add_option("--memory-reservation", f->memory_reservation, "memory soft limit in bytes");
  cmd->add_option("--memory-swap", f->memory_swap, "memory+swap limit in bytes (-1 for none)");
  cmd->add_option("--kernel-memory", f->kernel_memory, "accepted for runc compatibility; ignored");
  cmd->add_option("--kernel-memory-tcp", f->kernel_memory_tcp,
                  "accepted for runc compatibility; ignored");
  cmd->add_option("--cpu-share,--cpu-shares", f->cpu_shares, "CPU shares (relative weight)");
  cmd->add_option("--cpu-quota", f->cpu_quota, "CFS quota in microseconds per period (-1: none)");
  cmd->add_option("--cpu-period", f->cpu_period, "CFS period in microseconds");
  cmd->add_option("--cpu-rt-period", f->cpu_rt_period, "realtime period in microseconds");
  cmd->add_option("--cpu-rt-runtime", f->cpu_rt_runtime, "realtime runtime in microseconds");
  cmd->add_option("--cpu-idle", f->cpu_idle, "1: SCHED_IDLE for the cgroup, 0: normal");
  cmd->add_option("--cpuset-cpus", f->cpuset_cpus, "CPUs to run on (0-3,5)");
  cmd->add_option("--cpuset-mems", f->cpuset_mems, "memory nodes to use");
  cmd->add_option("--pids-limit", f->pids_limit, "maximum number of processes (-1: none)");
  cmd->add_option("--blkio-weight", f->blkio_weight, "block I/O weight, 10 to 1000");
  cmd->add_option("--l3-cache-schema", f->l3_cache_schema, "Intel RDT: not supported");
  cmd->add_option("--mem-bw-schema", f->mem_bw_schema, "Intel RDT: not supported");
}

void AddCgroupVerbs(CLI::App& app, CgroupVerbs* v) {
  v->pause = app.add_subcommand("pause", "freeze every process of a container");
  v->pause->add_option("id", v->id)->required();
  v->resume = app.add_subcommand("resume", "thaw a paused container");
  v->resume->add_option("id", v->id)->required();
  v->update = app.add_subcommand("update", "change a container's resource limits");
  v->update->add_option("id", v->id)->required();
  AddUpdateFlags(v->update, &v->update_flags);
  v->events = app.add_subcommand("events", "print a container's statistics and OOM events");
  v->events->add_option("id", v->id)->required();
  v->events->add_flag("--stats", v->events_options.stats, "print the statistics once and exit");
  v->events->add_option("--interval", v->events_options.interval,
                        "statistics period, a Go duration such as 1s or 500ms (default 5s)");
  v->ps = app.add_subcommand("ps", "list the processes of a container");
  v->ps->add_option("-f,--format", v->ps_format, "table or json");
  v->ps->add_option("id", v->id)->required();
  // Everything after the id goes to the host's ps, options included.
  v->ps->prefix_command();
}

// `ps ID -- ARGS`: CLI11 has nowhere to put words after "--" that no positional takes,
// so when the verb is ps the words after its first "--" are cut off before parsing.
std::vector<std::string> CutPsPassthrough(CLI::App& app, std::vector<char*>* words) {
  size_t i = 1;
  // Skip the global options, and the values of those that take one, to reach the verb.
  while (i < words->size()) {
    std::string_view w = (*words)[i];
    if (w == "--" || w.size() < 2 || w[0] != '-') break;
    const CLI::Option* opt =
        w.find('=') == std::string_view::npos ? app.get_option_no_throw(std::string(w)) : nullptr;
    i += opt != nullptr && opt->get_type_size() > 0 ? size_t{2} : size_t{1};
  }
  if (i >= words->size() || std::string_view((*words)[i]) != "ps") return {};
  auto dashes = std::find_if(words->begin() + static_cast<std::ptrdiff_t>(i) + 1, words->end(),
                             [](const char* w) { return std::string_view(w) == "--"; });
  if (dashes == words->end()) return {};
  std::vector<std::string> passthrough(dashes + 1, words->end());
  words->erase(dashes, words->end());
  return passthrough;
}

Status PrintLine(const std::string& line) {
  if (std::fwrite(line.data(), 1, line.size(), stdout) != line.size() ||
      std::fputc('\n', stdout) == EOF || std::fflush(stdout) != 0) {
    return Error::FromErrno("writing to stdout");
  }
  return Ok();
}

// The exit code when one of the cgroup verbs was chosen.
std::optional<int> RunCgroupVerbs(const GlobalOptions& g, const CgroupVerbs& v) {
  if (*v.pause) return Report(Pause(g, v.id));
  if (*v.resume) return Report(Resume(g, v.id));
  if (*v.update) return Report(Update(g, v.id, v.update_flags));
  if (*v.events) return Report(Events(g, v.id, v.events_options, PrintLine));
  if (*v.ps) {
    std::vector<std::string> args = v.ps->remaining();
    args.insert(args.end(), v.ps_passthrough.begin(), v.ps_passthrough.end());
    return ReportPrint(Ps(g, v.id, v.ps_format, args));
  }
  return std::nullopt;
}

int Main(int argc, char** argv) {
  CLI::App app{"bulkhead: an OCI runtime that gives each workload a boundary of its own"};
  app.require_subcommand(0, 1);
  GlobalOptions g;
  LogConfig log;
  std::string log_format = "text";
  bool debug = false, version = false, systemd_cgroup = false;
  std::string cgroup_manager = "cgroupfs", rootless, criu;
  app.add_option("--root", g.root, "directory for container state");
  app.add_option("--log", log.path, "log file (default: stderr)");
  app.add_option("--log-format", log_format, "text or json")->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", debug, "log debug messages");
  app.add_flag("--systemd-cgroup", systemd_cgroup, "use the systemd cgroup driver (unsupported)");
  app.add_option("--cgroup-manager", cgroup_manager, "cgroupfs or disabled")
      ->check(CLI::IsMember({"cgroupfs", "disabled"}));
  app.add_option("--rootless", rootless, "accepted for runc compatibility; ignored");
  app.add_option("--criu", criu, "accepted for runc compatibility; ignored");
  app.add_flag("-v,--version", version, "print the version");
  app.add_option("--runtime-config", g.runtime_config,
                 "runtime configuration file (default $BULKHEAD_RUNTIME_CONFIG, else "
                 "/etc/bulkhead/runtime.json; docs/vm-tier.md)");
  g.invoked_as = argv[0];

  CreateOptions co;
  CLI::App* create = app.add_subcommand("create", "create a container");
  AddCreateFlags(create, &co);
  bool detach = false;
  CLI::App* run = app.add_subcommand("run", "create and start a container");
  AddCreateFlags(run, &co);
  run->add_flag("-d,--detach", detach, "do not wait for the container");
  std::string id, signal, format = "table", bundle;
  bool all = false, force = false, quiet = false;
  CLI::App* start = app.add_subcommand("start", "start a created container");
  start->add_option("id", id)->required();
  CLI::App* state = app.add_subcommand("state", "print a container's state as JSON");
  state->add_option("id", id)->required();
  CLI::App* kill = app.add_subcommand("kill", "signal a container (default SIGTERM)");
  kill->add_option("id", id)->required();
  kill->add_option("signal", signal);
  kill->add_flag("-a,--all", all, "signal every process in the container");
  CLI::App* del = app.add_subcommand("delete", "delete a container");
  del->add_option("id", id)->required();
  del->add_flag("-f,--force", force, "kill the container first if it is running");
  CLI::App* list = app.add_subcommand("list", "list containers");
  list->add_option("-f,--format", format, "table or json");
  list->add_flag("-q,--quiet", quiet, "print only ids");
  CLI::App* spec = app.add_subcommand("spec", "write a hardened default config.json");
  spec->add_option("-b,--bundle", bundle, "directory to write config.json into");
  CLI::App* features = app.add_subcommand("features", "print the runtime features as JSON");
  ExecOptions eo;
  CLI::App* exec = app.add_subcommand("exec", "run a new process in a running container");
  AddExecFlags(exec, &eo);
  CgroupVerbs cgroup_verbs;
  AddCgroupVerbs(app, &cgroup_verbs);

  std::vector<char*> words(argv, argv + argc);
  cgroup_verbs.ps_passthrough = CutPsPassthrough(app, &words);
  try {
    app.parse(static_cast<int>(words.size()), words.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    InitLogging(log);
    LogError(e.what());
    return 1;
  }
  // CVE-2019-5736: whatever starts a container process runs from a binary the container
  // cannot write through. Before logging opens anything the re-exec would carry along.
  if (*create || *run || *exec) {
    if (Status s = ReexecSealed(argv); !s.ok()) {
      InitLogging(log);
      LogError(s.error().message());
      return 1;
    }
  }
  log.format = log_format == "json" ? LogFormat::kJson : LogFormat::kText;
  log.min_level = debug ? LogLevel::kDebug : LogLevel::kWarning;
  InitLogging(log);
  g.cgroups = cgroup_manager != "disabled";

  if (version) {
    std::fputs(kVersion, stdout);
    return 0;
  }
  if (app.get_subcommands().empty()) {
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  if (*features) {
    std::string f = Features();
    std::fwrite(f.data(), 1, f.size(), stdout);
    return 0;
  }
  if (*spec) return Report(Spec(bundle));
  if (systemd_cgroup) {
    return Report(Error("--systemd-cgroup: the systemd cgroup driver is not supported; "
                        "use the cgroupfs driver"));
  }
  if (*create) {
    Result<CreatedContainer> r = Create(g, co);
    return r.ok() ? 0 : Report(r.error());
  }
  if (*run) {
    Result<int> r = Run(g, co, detach);
    return r.ok() ? *r : Report(r.error());
  }
  if (*exec) {
    Result<int> r = Exec(g, eo);
    return r.ok() ? *r : Report(r.error());
  }
  if (std::optional<int> rc = RunCgroupVerbs(g, cgroup_verbs)) return *rc;
  if (*start) return Report(Start(g, id));
  if (*state) return ReportPrint(StateOf(g, id));
  if (*kill) return Report(Kill(g, id, signal, all));
  if (*del) return Report(Delete(g, id, force));
  if (*list) return ReportPrint(List(g, format, quiet));
  return 1;
}

}  // namespace
}  // namespace bulkhead::runtime

int main(int argc, char** argv) { return bulkhead::runtime::Main(argc, argv); }
