// One function per command-line verb. Each returns the process exit code or an error;
// main() reports the error once.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/result.h"
#include "runtime/options.h"
#include "runtime/update_flags.h"

namespace bulkhead::runtime {

struct CreatedContainer {
  pid_t pid = 0;
};

Result<CreatedContainer> Create(const GlobalOptions& g, const CreateOptions& o);
Status Start(const GlobalOptions& g, const std::string& id);
// Foreground run waits for the workload and returns its exit status (128+signal when killed).
Result<int> Run(const GlobalOptions& g, const CreateOptions& o, bool detach);
// Foreground exec waits and returns the process's exit status (128+signal when killed);
// with detach it returns 0 once the process runs.
Result<int> Exec(const GlobalOptions& g, const ExecOptions& o);
Result<std::string> StateOf(const GlobalOptions& g, const std::string& id);
Status Kill(const GlobalOptions& g, const std::string& id, const std::string& signal, bool all);
Status Delete(const GlobalOptions& g, const std::string& id, bool force);
Result<std::string> List(const GlobalOptions& g, const std::string& format, bool quiet);
Status Spec(const std::string& bundle);
std::string Features();

// The cgroup verbs. Each needs the container's cgroup, so a container created with
// --cgroup-manager=disabled gets an error naming the verb.
// pause: freeze a running (or created) container; resume: thaw a paused one.
Status Pause(const GlobalOptions& g, const std::string& id);
Status Resume(const GlobalOptions& g, const std::string& id);
// New limits for a container that is not stopped; device rules stay as they are.
Status Update(const GlobalOptions& g, const std::string& id, const UpdateFlags& flags);

struct EventsOptions {
  bool stats = false;            // one stats line, then return
  std::string interval = "5s";   // a Go duration: the stats period of the stream
};
// Receives one JSON document per event, without a newline.
using EventSink = std::function<Status(const std::string& line)>;
// Returns once the container stops (or with --stats after one line).
Status Events(const GlobalOptions& g, const std::string& id, const EventsOptions& o,
              const EventSink& emit);
// format "json": the pid array; "table": the host's `ps ps_args` (default -ef) filtered
// to the container's processes.
Result<std::string> Ps(const GlobalOptions& g, const std::string& id, const std::string& format,
                       const std::vector<std::string>& ps_args);

// "KILL", "SIGKILL", "9" -> 9.
Result<int> ParseSignal(const std::string& name);

}  // namespace bulkhead::runtime
