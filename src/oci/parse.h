// config.json -> typed Config. Parsing checks JSON types and integer ranges only; the
// meaning of the values is checked by Validate (validate.h).
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::oci {

// Parses a runtime-spec config document. Errors name the JSON path
// ("process.args[2]: expected a string"). Fields this runtime does not know are
// ignored, as the spec allows extensions. Documents over 16 MiB or nested deeper than
// 64 levels are refused.
Result<Config> ParseConfig(std::string_view json);

// Reads and parses <bundle_dir>/config.json; *text, when given, receives the bytes parsed.
Result<Config> LoadConfig(const std::string& bundle_dir, std::string* text = nullptr);

// Parses a standalone runtime-spec process object (`exec --process process.json`).
Result<Process> ParseProcessDocument(std::string_view json);

// Parses a standalone linux.resources object (`update --resources FILE`). Errors name the
// field as in a config ("linux.resources.memory.limit: expected an integer").
Result<Resources> ParseResourcesDocument(std::string_view json);

}  // namespace bulkhead::oci
