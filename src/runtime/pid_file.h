// --pid-file, written atomically (as runc does) so a reader never sees a partial pid.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"

namespace bulkhead::runtime {

// Writes pid to path (relative to the current directory); an empty path does nothing.
Status WritePidFile(const std::string& path, pid_t pid);

}  // namespace bulkhead::runtime
