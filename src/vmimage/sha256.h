// SHA-256 over libcrypto's EVP interface, streaming.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace bulkhead::vmimage {

using Digest = std::array<uint8_t, 32>;

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(std::span<const uint8_t> bytes);
  void Update(std::string_view bytes);
  // Ends the hash; the object then starts over empty.
  Digest Finish();

 private:
  void* ctx_;  // EVP_MD_CTX, kept out of this header
};

std::string Hex(const Digest& d);

// The digest's raw bytes, to append to a hashed record.
inline std::string_view View(const Digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

}  // namespace bulkhead::vmimage
