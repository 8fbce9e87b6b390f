#include <signal.h>
#include <string.h>

#include <cstdlib>

#include "runtime/verbs.h"

namespace bulkhead::runtime {

Result<int> ParseSignal(const std::string& name) {
  if (name.empty()) return SIGTERM;
  if (name.find_first_not_of("0123456789") == std::string::npos) {
    if (name.size() > 3) return Error("invalid signal \"" + name + "\"", EINVAL);
    int n = std::atoi(name.c_str());
    if (n <= 0 || n > SIGRTMAX) return Error("invalid signal \"" + name + "\"", EINVAL);
    return n;
  }
  std::string bare = name;
  for (char& c : bare) c = static_cast<char>(toupper(static_cast<unsigned char>(c)));
  if (bare.rfind("SIG", 0) == 0) bare = bare.substr(3);
  for (int sig = 1; sig < NSIG; ++sig) {
    const char* abbrev = sigabbrev_np(sig);
    if (abbrev != nullptr && bare == abbrev) return sig;
  }
  if (bare.rfind("RTMIN", 0) == 0 || bare.rfind("RTMAX", 0) == 0) {
    bool min = bare[3] == 'I';
    int base = min ? SIGRTMIN : SIGRTMAX;
    std::string rest = bare.substr(5);
    int off = rest.empty() ? 0 : std::atoi(rest.c_str());
    int sig = base + off;
    if (sig >= SIGRTMIN && sig <= SIGRTMAX) return sig;
  }
  return Error("unknown signal \"" + name + "\"", EINVAL);
}

}  // namespace bulkhead::runtime
