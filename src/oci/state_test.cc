#include "oci/state.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace bulkhead::oci {
namespace {

TEST(StateJson, RunningContainerHasSpecFields) {
  State s;
  s.id = "c1";
  s.status = "running";
  s.pid = 4242;
  s.bundle = "/run/bundles/c1";
  s.annotations = {{"org.example", "v"}};
  std::string text = StateJson(s);
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << text;
  EXPECT_EQ(j.size(), 6u);
  EXPECT_EQ(j["ociVersion"], "1.0.2");
  EXPECT_EQ(j["id"], "c1");
  EXPECT_EQ(j["status"], "running");
  EXPECT_EQ(j["pid"], 4242);
  EXPECT_EQ(j["bundle"], "/run/bundles/c1");
  EXPECT_EQ(j["annotations"]["org.example"], "v");
  // Spec order, two-space indent.
  EXPECT_EQ(text.rfind("{\n  \"ociVersion\": \"1.0.2\",\n  \"id\": \"c1\",", 0), 0u) << text;
}

TEST(StateJson, StoppedKeepsPidZeroAndOmitsEmptyAnnotations) {
  State s;
  s.id = "c2";
  s.status = "stopped";
  s.bundle = "/b";
  nlohmann::json j = nlohmann::json::parse(StateJson(s), nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  ASSERT_TRUE(j.contains("pid"));
  EXPECT_EQ(j["pid"], 0);
  EXPECT_FALSE(j.contains("annotations"));
}

TEST(StateJson, InvalidUtf8DoesNotThrow) {
  State s;
  s.id = "bad\xff";
  s.status = "created";
  std::string text = StateJson(s);
  EXPECT_FALSE(nlohmann::json::parse(text, nullptr, false).is_discarded());
}

}  // namespace
}  // namespace bulkhead::oci
