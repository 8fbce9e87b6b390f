// A linux.seccomp object as a config carries it: parse, validate, compile to BPF with
// libseccomp (nothing is installed). Beyond "no crash", two properties must hold:
//  - the typed profile written back as JSON (SeccompToJson) parses to the same profile;
//  - whatever Compile accepts is a program the kernel would load (our ValidateProgram),
//    and it kills the process for a syscall made under an architecture it does not list.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "oci/json_reader.h"
#include "oci/parse_internal.h"
#include "oci/seccomp_json.h"
#include "oci/validate_internal.h"
#include "seccomp/bpf_emulator.h"
#include "seccomp/compile.h"

namespace {

using bulkhead::Result;
using bulkhead::Status;
using bulkhead::oci::Seccomp;
namespace internal = bulkhead::oci::internal;

// No architecture libseccomp knows has this AUDIT_ARCH value.
constexpr uint32_t kForeignArch = 0x7fff1234;

[[noreturn]] void Fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "seccomp_profile: %s\n%s\n", what, detail.c_str());
  std::abort();
}

Result<Seccomp> Parse(std::string_view text) {
  BH_ASSIGN(nlohmann::json doc, internal::ParseDocument(text));
  Seccomp profile;
  BH_TRY(internal::ParseSeccomp(internal::Node(doc, "linux.seccomp"), &profile));
  return profile;
}

void CheckRoundTrip(const Seccomp& profile) {
  std::string first = bulkhead::oci::SeccompToJson(profile).dump();
  Result<Seccomp> again = Parse(first);
  if (!again.ok()) Fail("SeccompToJson output does not parse", first + "\n" + again.error().message());
  std::string second = bulkhead::oci::SeccompToJson(*again).dump();
  if (first != second) Fail("SeccompToJson round trip changed the profile", first + "\n" + second);
}

void CheckProgram(const bulkhead::seccomp::Program& program) {
  Status valid = bulkhead::seccomp::ValidateProgram(program.filter);
  if (!valid.ok()) Fail("compiled program would not load", valid.error().message());
  struct seccomp_data data {};
  data.nr = 0;
  data.arch = kForeignArch;
  uint32_t ret = bulkhead::seccomp::Emulate(program.filter, data);
  if (ret != bulkhead::seccomp::kBadArchAction) {
    Fail("a foreign architecture is not killed", "returned " + std::to_string(ret));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<Seccomp> profile = Parse(text);
  if (!profile.ok()) return 0;
  CheckRoundTrip(*profile);
  (void)internal::ValidateSeccomp(*profile);
  // Compile must cope with profiles Validate would refuse: it reports, never trusts.
  Result<bulkhead::seccomp::Program> program = bulkhead::seccomp::Compile(*profile);
  if (program.ok()) CheckProgram(*program);
  return 0;
}
