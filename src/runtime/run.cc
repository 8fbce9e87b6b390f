// `run`: create and start; in the foreground, also wait for the workload, forward
// signals to it, delete the container and exit with its status.
#include "base/log.h"
#include "runtime/process.h"
#include "runtime/verbs.h"

namespace bulkhead::runtime {

Result<int> Run(const GlobalOptions& g, const CreateOptions& o, bool detach) {
  BH_ASSIGN(CreatedContainer c, Create(g, o));
  Status st = Start(g, o.id);
  if (!st.ok()) {
    (void)Delete(g, o.id, true);
    return std::move(st).error();
  }
  if (detach) return 0;
  Result<int> code = WaitForwardingSignals(c.pid);
  if (code.ok()) LogDebug("run: the container exited with status " + std::to_string(*code));
  BH_TRY(Delete(g, o.id, true));
  LogDebug("run: deleted");
  return code;
}

}  // namespace bulkhead::runtime
