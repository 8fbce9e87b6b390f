// The byte encoding of tree entries for hashing: every variable field carries its length, so
// no two different trees encode to the same bytes.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

namespace bulkhead::vmimage {

class Record {
 public:
  Record& Tag(char t) {
    bytes_ += t;
    return *this;
  }
  Record& U64(uint64_t v) {
    for (int i = 0; i < 8; ++i) bytes_ += static_cast<char>((v >> (8 * i)) & 0xff);
    return *this;
  }
  Record& Bytes(std::string_view s) {
    U64(s.size());
    bytes_.append(s);
    return *this;
  }
  Record& Time(const struct timespec& t) {
    return U64(static_cast<uint64_t>(t.tv_sec)).U64(static_cast<uint64_t>(t.tv_nsec));
  }
  // Appends without a length: for fixed-size fields and whole tails.
  Record& Raw(std::string_view s) {
    bytes_.append(s);
    return *this;
  }
  const std::string& bytes() const { return bytes_; }

 private:
  std::string bytes_;
};

// One record as it goes into a hash: its length, then its bytes.
inline std::string Framed(const Record& r) {
  Record f;
  f.Bytes(r.bytes());
  return f.bytes();
}

// A path of the tree for messages: "/" for the root, odd bytes as \xNN so that a hostile name
// cannot put control characters into logs.
inline std::string Shown(std::string_view path) {
  if (path.empty()) return "/";
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : path) {
    auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7f && b != '\\') {
      out += c;
    } else {
      out += "\\x";
      out += kDigits[b >> 4];
      out += kDigits[b & 0xf];
    }
  }
  return out;
}

}  // namespace bulkhead::vmimage
