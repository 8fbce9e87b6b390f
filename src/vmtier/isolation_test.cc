#include "vmtier/isolation.h"

#include <gtest/gtest.h>

namespace bulkhead::vmtier {
namespace {

using Map = std::map<std::string, std::string>;

TEST(Isolation, AnnotationWinsOverNameAndDefault) {
  Map vm{{kIsolationAnnotation, "vm"}};
  Map container{{kIsolationAnnotation, "container"}};
  EXPECT_EQ(*SelectIsolation(vm, "/usr/bin/bulkhead", Isolation::kContainer), Isolation::kVm);
  EXPECT_EQ(*SelectIsolation(container, "/usr/bin/bulkhead-vm", Isolation::kVm),
            Isolation::kContainer);
}

TEST(Isolation, BinaryNameSelectsVmElseTheDefault) {
  EXPECT_EQ(*SelectIsolation({}, "/opt/b/bin/bulkhead-vm", Isolation::kContainer), Isolation::kVm);
  EXPECT_EQ(*SelectIsolation({}, "bulkhead-vm", Isolation::kContainer), Isolation::kVm);
  EXPECT_EQ(*SelectIsolation({}, "/usr/bin/bulkhead", Isolation::kContainer),
            Isolation::kContainer);
  EXPECT_EQ(*SelectIsolation({}, "/usr/bin/bulkhead", Isolation::kVm), Isolation::kVm);
  // Only the last component counts: a directory named bulkhead-vm is not the binary's name.
  EXPECT_EQ(*SelectIsolation({}, "/bulkhead-vm/bulkhead", Isolation::kContainer),
            Isolation::kContainer);
  EXPECT_EQ(*SelectIsolation({}, "/usr/bin/bulkhead-vmm", Isolation::kContainer),
            Isolation::kContainer);
  Map other{{"org.example", "vm"}};
  EXPECT_EQ(*SelectIsolation(other, "bulkhead", Isolation::kContainer), Isolation::kContainer);
}

TEST(Isolation, InvalidAnnotationIsAnErrorNamingIt) {
  for (const char* bad : {"", "VM", "kvm", "vm ", "containers"}) {
    Map m{{kIsolationAnnotation, bad}};
    auto r = SelectIsolation(m, "bulkhead-vm", Isolation::kVm);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message().find("run.bulkhead.isolation"), std::string::npos);
    EXPECT_NE(r.error().message().find("\"" + std::string(bad) + "\""), std::string::npos);
    EXPECT_EQ(r.error().errno_value(), EINVAL);
  }
}

TEST(Isolation, Names) {
  EXPECT_EQ(IsolationName(Isolation::kVm), "vm");
  EXPECT_EQ(IsolationName(Isolation::kContainer), "container");
  EXPECT_EQ(*ParseIsolation("vm", "x"), Isolation::kVm);
  EXPECT_FALSE(ParseIsolation("", "x").ok());
}

}  // namespace
}  // namespace bulkhead::vmtier
