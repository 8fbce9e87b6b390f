// The JSON that `state` prints for one container, shared with `list`.
#pragma once

#include <nlohmann/json.hpp>

#include "runtime/state_store.h"

namespace bulkhead::runtime {

nlohmann::json StateJsonOf(const StateStore& store, const ContainerState& s);

}  // namespace bulkhead::runtime
