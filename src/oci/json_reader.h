// Typed, path-aware reading of a parsed JSON document. Every accessor checks the JSON
// type (and integer range) before it reads, so hostile input yields an error naming the
// path ("process.args[2]: expected a string"), never an exception.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"

namespace bulkhead::oci::internal {

// Limits on documents we agree to parse.
inline constexpr size_t kMaxDocumentBytes = 16u << 20;
inline constexpr int kMaxNestingDepth = 64;

// Parses text into a DOM after checking size and nesting depth; parse errors name the
// line and column.
Result<nlohmann::json> ParseDocument(std::string_view text);

// One JSON value and the path that leads to it.
class Node {
 public:
  Node(const nlohmann::json& value, std::string path) : v_(&value), path_(std::move(path)) {}

  const nlohmann::json& json() const { return *v_; }
  const std::string& path() const { return path_; }
  bool is_null() const { return v_->is_null(); }

  // "path: what".
  Error Fail(std::string_view what) const;

  // Object member `key`; absent and null members read as absent (Go's zero value).
  std::optional<Node> Member(std::string_view key) const;
  Node Element(size_t index) const;

  Status ExpectObject() const;
  Status ExpectArray() const;

  Result<std::string> String() const;
  Result<bool> Bool() const;
  Result<std::vector<std::string>> Strings() const;
  Result<std::map<std::string, std::string>> StringMap() const;

  template <class T>
  Result<T> Int() const {
    static_assert(std::numeric_limits<T>::is_integer);
    if (v_->is_number_unsigned()) {
      auto u = v_->get<uint64_t>();
      if (std::in_range<T>(u)) return static_cast<T>(u);
      return RangeError(std::to_string(u), std::numeric_limits<T>::min(),
                        std::numeric_limits<T>::max());
    }
    if (v_->is_number_integer()) {
      auto s = v_->get<int64_t>();
      if (std::in_range<T>(s)) return static_cast<T>(s);
      return RangeError(std::to_string(s), std::numeric_limits<T>::min(),
                        std::numeric_limits<T>::max());
    }
    return Fail("expected an integer");
  }

 private:
  template <class T>
  Error RangeError(const std::string& got, T lo, T hi) const {
    return Fail("integer " + got + " out of range [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
  }

  const nlohmann::json* v_;
  std::string path_;
};

// Optional member readers: an absent (or null) member leaves *out untouched.
Status ReadString(const Node& obj, std::string_view key, std::string* out);
Status ReadBool(const Node& obj, std::string_view key, bool* out);
Status ReadBool(const Node& obj, std::string_view key, std::optional<bool>* out);
Status ReadStrings(const Node& obj, std::string_view key, std::vector<std::string>* out);
Status ReadStringMap(const Node& obj, std::string_view key,
                     std::map<std::string, std::string>* out);

template <class T>
Status ReadInt(const Node& obj, std::string_view key, T* out) {
  std::optional<Node> m = obj.Member(key);
  if (!m) return Ok();
  BH_ASSIGN(*out, m->Int<T>());
  return Ok();
}

template <class T>
Status ReadInt(const Node& obj, std::string_view key, std::optional<T>* out) {
  std::optional<Node> m = obj.Member(key);
  if (!m) return Ok();
  BH_ASSIGN(*out, m->Int<T>());
  return Ok();
}

// Required members: absent or null is an error naming the member.
Result<Node> Require(const Node& obj, std::string_view key);

// Calls fn(element) for each element of an array member; absent means no elements.
template <class Fn>
Status ForEach(const Node& obj, std::string_view key, Fn&& fn) {
  std::optional<Node> m = obj.Member(key);
  if (!m) return Ok();
  BH_TRY(m->ExpectArray());
  for (size_t i = 0; i < m->json().size(); ++i) BH_TRY(fn(m->Element(i)));
  return Ok();
}

// Parses each element of an array member with parse(element, &item) and appends it.
// (Named parse functions, not lambdas: BH_TRY inside a lambda inside BH_TRY would shadow.)
template <class T>
Status ReadList(const Node& obj, std::string_view key, std::vector<T>* out,
                Status (*parse)(const Node&, T*)) {
  return ForEach(obj, key, [&](const Node& e) -> Status {
    T item{};
    Status st = parse(e, &item);
    if (!st.ok()) return st;
    out->push_back(std::move(item));
    return Ok();
  });
}

}  // namespace bulkhead::oci::internal
