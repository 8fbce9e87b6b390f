// The host's end of a vm-tier terminal: a pty whose master goes to the console socket, as
// runc hands one over (the pty's name, the fd as SCM_RIGHTS), and whose slave stays with us
// to be relayed to the guest's own pty. The slave is raw: the terminal that edits and echoes
// is the guest's.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"
#include "oci/config.h"

namespace bulkhead::runtime {

// Opens the pty, sets the slave raw and to `size` (when given), sends the master to
// `console_socket` and returns the slave. `who` starts the error messages ("exec").
Result<UniqueFd> HandOverRawPty(const std::string& console_socket,
                                const std::optional<oci::ConsoleSize>& size,
                                std::string_view who);

}  // namespace bulkhead::runtime
