// `update`'s flags, with runc's names and value forms, turned into the linux.resources
// fields they change. Pure functions, so every form is unit tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "oci/config.h"

namespace bulkhead::runtime {

struct UpdateFlags {
  // --resources/-r: a runtime-spec linux.resources JSON file, or "-" for stdin. Not
  // combined with the flags below.
  std::string resources;
  // runc's individual flags, as given; unset when absent.
  std::optional<std::string> memory, memory_reservation, memory_swap, kernel_memory,
      kernel_memory_tcp;
  std::optional<std::string> cpu_shares, cpu_quota, cpu_period, cpu_rt_period, cpu_rt_runtime,
      cpu_idle;
  std::optional<std::string> cpuset_cpus, cpuset_mems;
  std::optional<std::string> pids_limit, blkio_weight;
  std::optional<std::string> l3_cache_schema, mem_bw_schema;

  // True when any flag other than --resources was given.
  bool AnyFlag() const;
};

// A byte size as runc's flags read it (go-units RAMInBytes): digits with an optional
// fraction, an optional space, an optional binary unit k/m/g/t/p and an optional "i"
// and "b", in any case: "4096", "512m", "1G", "1.5g", "64KiB", "100b".
Result<int64_t> ParseSize(std::string_view text);

// What the flags ask for, holding only the fields given. As in runc, a value of 0
// changes nothing, and the memory flags take "-1" for unlimited. Flags that are accepted
// but have no effect add a line to *warnings.
Result<oci::Resources> ResourcesFromFlags(const UpdateFlags& f, std::vector<std::string>* warnings);

}  // namespace bulkhead::runtime
