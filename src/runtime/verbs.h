// One function per command-line verb. Each returns the process exit code or an error;
// main() reports the error once.
#pragma once

#include <string>

#include "base/result.h"
#include "runtime/options.h"

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

// "KILL", "SIGKILL", "9" -> 9.
Result<int> ParseSignal(const std::string& name);

}  // namespace bulkhead::runtime
