// config.json bytes as a caller or an image would hand them to `create`: parse, then
// validate. The standalone process and resources documents (`exec --process`,
// `update --resources`) go through the same reader, so each input is tried as those too.
// Any result is fine; a crash, a sanitizer report or a hang is the finding.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "oci/parse.h"
#include "oci/validate.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bulkhead::Result<bulkhead::oci::Config> config = bulkhead::oci::ParseConfig(text);
  if (config.ok()) (void)bulkhead::oci::Validate(*config);
  (void)bulkhead::oci::ParseProcessDocument(text);
  bulkhead::Result<bulkhead::oci::Resources> resources =
      bulkhead::oci::ParseResourcesDocument(text);
  if (resources.ok()) (void)bulkhead::oci::ValidateResources(*resources);
  return 0;
}
