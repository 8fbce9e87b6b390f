// A parsed process back as OCI JSON (the runtime-spec's "process" object), for the places
// that hand a process on as text: the VM tier sends an exec's process to the guest.
// ParseProcessDocument of the text gives back an equal Process.
#pragma once

#include <string>

#include "oci/config.h"

namespace bulkhead::oci {

std::string ProcessToJson(const Process& p);

}  // namespace bulkhead::oci
