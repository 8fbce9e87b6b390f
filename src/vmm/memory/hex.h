// "0x..." for addresses and sizes in error messages.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

namespace bulkhead::vmm {

inline std::string Hex(uint64_t value) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(value));
  return buf;
}

}  // namespace bulkhead::vmm
