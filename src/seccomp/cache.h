// A cache of compiled seccomp programs. libseccomp needs several milliseconds to compile a
// profile the size of the default one, which is most of a container's start-up; the same
// profile compiles to the same program, so it is compiled once per runtime root.
//
// An entry holds the full canonical text of what it was compiled from (the profile, the
// libseccomp version, the kernel release) and is used only when that text matches exactly:
// a hash collision or a changed library can never hand out a wrong filter. The directory is
// the runtime's own (mode 0700 under --root); a damaged entry is recompiled, never trusted.
#pragma once

#include <string>

#include "base/result.h"
#include "oci/config.h"
#include "seccomp/compile.h"

namespace bulkhead::seccomp {

// Everything that decides the compiled program, as one canonical text.
std::string CacheKey(const oci::Seccomp& profile);

// Compile(profile), through the cache in `dir` (created when missing). Cache trouble of any
// kind falls back to compiling; only a profile that does not compile is an error.
Result<Program> CompileCached(const oci::Seccomp& profile, const std::string& dir);

// Serialisation, exposed for tests: Decode returns an error unless `bytes` is an entry for
// exactly `key`.
std::string EncodeEntry(const std::string& key, const Program& program);
Result<Program> DecodeEntry(const std::string& key, const std::string& bytes);

}  // namespace bulkhead::seccomp
