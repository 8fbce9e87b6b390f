// The per-container state.json that every verb after `create` reads back from --root.
// The root is ours, but a corrupt or planted file must give "corrupt state file", never a
// crash; and a state that parses must survive being written and read again unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "runtime/state_store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using bulkhead::runtime::ParseStateFile;
  using bulkhead::runtime::StateFileJson;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // The id a verb would ask for: the one the file names when there is one to find.
  static const std::string kId = "c1";
  bulkhead::Result<bulkhead::runtime::ContainerState> state = ParseStateFile(text, kId);
  if (!state.ok()) return 0;
  std::string first = StateFileJson(*state);
  bulkhead::Result<bulkhead::runtime::ContainerState> again = ParseStateFile(first, kId);
  if (!again.ok() || StateFileJson(*again) != first) {
    std::fprintf(stderr, "state_json: write/read round trip changed the state\n%s\n", first.c_str());
    std::abort();
  }
  return 0;
}
