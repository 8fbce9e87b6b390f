#include "vmimage/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace bulkhead::vmimage {
namespace {

EVP_MD_CTX* Ctx(void* p) { return static_cast<EVP_MD_CTX*>(p); }

// EVP fails only when it cannot allocate; like operator new, that ends the process.
void Check(int ok) {
  if (ok != 1) std::abort();
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr) std::abort();
  Check(EVP_DigestInit_ex(Ctx(ctx_), EVP_sha256(), nullptr));
}

Sha256::~Sha256() { EVP_MD_CTX_free(Ctx(ctx_)); }

void Sha256::Update(std::span<const uint8_t> bytes) {
  Check(EVP_DigestUpdate(Ctx(ctx_), bytes.data(), bytes.size()));
}

void Sha256::Update(std::string_view bytes) {
  Check(EVP_DigestUpdate(Ctx(ctx_), bytes.data(), bytes.size()));
}

Digest Sha256::Finish() {
  Digest d{};
  unsigned int len = 0;
  Check(EVP_DigestFinal_ex(Ctx(ctx_), d.data(), &len));
  Check(EVP_DigestInit_ex(Ctx(ctx_), EVP_sha256(), nullptr));
  return d;
}

std::string Hex(const Digest& d) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(d.size() * 2);
  for (uint8_t b : d) {
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

}  // namespace bulkhead::vmimage
