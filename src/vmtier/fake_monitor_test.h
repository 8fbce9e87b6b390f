// For the vmtier tests: the monitor's end of an agent connection, played by the test. It
// writes the guest's frames to an AgentClient over a socketpair and decodes what the client
// sends.
#pragma once

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include "base/fs.h"
#include "vmproto/decoder.h"
#include "vmproto/encoder.h"
#include "vmtier/agent_client.h"

namespace bulkhead::vmtier {

struct FakeMonitor {
  FakeMonitor() {
    int sv[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    client = std::make_unique<AgentClient>(UniqueFd(sv[0]));
    fd = UniqueFd(sv[1]);
  }
  // The guest's hello, as the client sees first on every connection.
  void SayHello() {
    Send(vmproto::MakeHello("6.1.99-guest"));
    EXPECT_TRUE(client->AwaitHello(std::chrono::seconds(1)).ok());
  }
  // A frame from the guest.
  void Send(const vmproto::Message& m) {
    auto frame = vmproto::Encode(m);
    ASSERT_TRUE(frame.ok()) << frame.error().message();
    std::string_view bytes(reinterpret_cast<const char*>(frame->data()), frame->size());
    ASSERT_TRUE(WriteAll(fd.get(), bytes).ok());
  }
  // The client's next frame, waiting up to 5 s; nullopt when it closed or sent garbage.
  std::optional<vmproto::Message> Receive() {
    for (;;) {
      if (auto m = decoder.Next()) return m;
      pollfd p{fd.get(), POLLIN, 0};
      if (poll(&p, 1, 5000) != 1) return std::nullopt;
      uint8_t buf[65536];
      ssize_t n = read(fd.get(), buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      if (!decoder.Feed({buf, static_cast<size_t>(n)}).ok()) return std::nullopt;
    }
  }

  std::unique_ptr<AgentClient> client;
  UniqueFd fd;
  vmproto::Decoder decoder{vmproto::Direction::kHostToGuest};
};

}  // namespace bulkhead::vmtier
