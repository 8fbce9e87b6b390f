#include "oci/json_reader.h"

namespace bulkhead::oci::internal {

namespace {

using json = nlohmann::json;

// A SAX pass that builds nothing: it bounds nesting depth and keeps the parser's error
// text, so the DOM parse that follows only ever sees well-formed, shallow documents.
class Precheck : public nlohmann::json_sax<json> {
 public:
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(size_t) override { return Enter(); }
  bool key(string_t&) override { return true; }
  bool end_object() override { return Leave(); }
  bool start_array(size_t) override { return Enter(); }
  bool end_array() override { return Leave(); }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception& ex) override {
    error_ = StripPrefix(ex.what());
    return false;
  }

  const std::string& error() const { return error_; }

 private:
  bool Enter() {
    if (++depth_ > kMaxNestingDepth) {
      error_ = "nesting deeper than " + std::to_string(kMaxNestingDepth) + " levels";
      return false;
    }
    return true;
  }
  bool Leave() {
    --depth_;
    return true;
  }
  // "[json.exception.parse_error.101] parse error at line 1..." -> "parse error at line 1...".
  static std::string StripPrefix(std::string_view what) {
    if (!what.empty() && what.front() == '[') {
      size_t close = what.find("] ");
      if (close != std::string_view::npos) what.remove_prefix(close + 2);
    }
    return std::string(what);
  }

  int depth_ = 0;
  std::string error_;
};

const char* TypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    default:
      return "an unexpected value";
  }
}

}  // namespace

Result<json> ParseDocument(std::string_view text) {
  if (text.size() > kMaxDocumentBytes) {
    return Error("document of " + std::to_string(text.size()) + " bytes exceeds the limit of " +
                     std::to_string(kMaxDocumentBytes),
                 EFBIG);
  }
  Precheck check;
  if (!json::sax_parse(text, &check)) {
    return Error(check.error().empty() ? "invalid JSON" : check.error(), EINVAL);
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return Error("invalid JSON", EINVAL);
  return doc;
}

Error Node::Fail(std::string_view what) const {
  std::string msg = path_.empty() ? std::string("(document)") : path_;
  msg += ": ";
  msg += what;
  return Error(std::move(msg), EINVAL);
}

std::optional<Node> Node::Member(std::string_view key) const {
  if (!v_->is_object()) return std::nullopt;
  auto it = v_->find(key);
  if (it == v_->end() || it->is_null()) return std::nullopt;
  std::string path = path_;
  if (!path.empty()) path += '.';
  path += key;
  return Node(*it, std::move(path));
}

Node Node::Element(size_t index) const {
  return Node((*v_)[index], path_ + "[" + std::to_string(index) + "]");
}

Status Node::ExpectObject() const {
  if (v_->is_object()) return Ok();
  return Fail(std::string("expected an object, got ") + TypeName(*v_));
}

Status Node::ExpectArray() const {
  if (v_->is_array()) return Ok();
  return Fail(std::string("expected an array, got ") + TypeName(*v_));
}

Result<std::string> Node::String() const {
  if (v_->is_string()) return v_->get<std::string>();
  return Fail(std::string("expected a string, got ") + TypeName(*v_));
}

Result<bool> Node::Bool() const {
  if (v_->is_boolean()) return v_->get<bool>();
  return Fail(std::string("expected a boolean, got ") + TypeName(*v_));
}

Result<std::vector<std::string>> Node::Strings() const {
  BH_TRY(ExpectArray());
  std::vector<std::string> out;
  out.reserve(v_->size());
  for (size_t i = 0; i < v_->size(); ++i) {
    BH_ASSIGN(std::string s, Element(i).String());
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::map<std::string, std::string>> Node::StringMap() const {
  BH_TRY(ExpectObject());
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : v_->items()) {
    Node value(v, path_ + "[\"" + k + "\"]");
    BH_ASSIGN(std::string s, value.String());
    out.emplace(k, std::move(s));
  }
  return out;
}

Result<Node> Require(const Node& obj, std::string_view key) {
  std::optional<Node> m = obj.Member(key);
  if (!m) {
    std::string path = obj.path().empty() ? std::string(key) : obj.path() + "." + std::string(key);
    return Error(path + ": required", EINVAL);
  }
  return *m;
}

Status ReadString(const Node& obj, std::string_view key, std::string* out) {
  std::optional<Node> m = obj.Member(key);
  if (!m) return Ok();
  BH_ASSIGN(*out, m->String());
  return Ok();
}

Status ReadBool(const Node& obj, std::string_view key, bool* out) {
  std::optional<Node> m = obj.Member(key);
  if (!m) return Ok();
  BH_ASSIGN(*out, m->Bool());
  return Ok();
}

Status ReadBool(const Node& obj, std::string_view key, std::optional<bool>* out) {
  std::optional<Node> m = obj.Member(key);
  if (!m) return Ok();
  BH_ASSIGN(*out, m->Bool());
  return Ok();
}

Status ReadStrings(const Node& obj, std::string_view key, std::vector<std::string>* out) {
  std::optional<Node> m = obj.Member(key);
  if (!m) return Ok();
  BH_ASSIGN(*out, m->Strings());
  return Ok();
}

Status ReadStringMap(const Node& obj, std::string_view key,
                     std::map<std::string, std::string>* out) {
  std::optional<Node> m = obj.Member(key);
  if (!m) return Ok();
  BH_ASSIGN(*out, m->StringMap());
  return Ok();
}

}  // namespace bulkhead::oci::internal
