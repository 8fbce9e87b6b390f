// Sample messages of every type and a raw frame builder, shared by the unit tests.
#pragma once

#include <cstdint>
#include <vector>

#include "vmproto/message.h"
#include "vmproto/wire.h"

namespace bulkhead::vmproto::testing {

// Every host->guest type, with values at ordinary settings.
inline std::vector<Message> HostSamples() {
  return {
      Start{R"({"process":{"args":["/bin/sh"],"cwd":"/"}})"},
      Exec{2, R"({"process":{"args":["ls","-l"]}})"},
      Data{1, Stream::kStdin, {'h', 'i', '\n'}},
      CloseStdin{1},
      Signal{1, 15},
      Resize{1, 24, 80},
      StatsRequest{7},
      Credit{1, Stream::kStdout, 4096},
      Credit{2, Stream::kStderr, kMaxWindow},
  };
}

// Every guest->host type, hello first as the host requires.
inline std::vector<Message> GuestSamples() {
  return {
      Hello{kVersion, "6.1.0-bulkhead"},
      Started{1, 42},
      Data{1, Stream::kStdout, {'o', 'u', 't'}},
      Data{1, Stream::kStderr, {0x00, 0xff, 0x1b}},
      Exit{1, ExitKind::kExited, 3, false},
      Exit{2, ExitKind::kSignaled, 9, true},
      StatsReply{7, 123456789, 64ull << 20, 5},
      Credit{1, Stream::kStdin, 1},
      GuestError{0, 2, "mounting the image: No such file or directory"},
      VolumeEntry{0, EntryKind::kDirectory, 0755, 0, "logs"},
      VolumeEntry{7, EntryKind::kFile, 0644, 5, "logs/app.log"},
      VolumeData{{'h', 'e', 'l', 'l', 'o'}},
      VolumeEntry{1, EntryKind::kRemoved, 0, 0, "old"},
  };
}

// A frame as a hostile peer might write it: any header fields, any payload.
inline std::vector<uint8_t> RawFrame(uint8_t type, uint32_t channel,
                                     const std::vector<uint8_t>& payload,
                                     uint8_t version = kVersion) {
  std::vector<uint8_t> f(kHeaderSize);
  f[0] = kMagic0;
  f[1] = kMagic1;
  f[2] = version;
  f[3] = type;
  StoreLe32(f.data() + 4, channel);
  StoreLe32(f.data() + 8, static_cast<uint32_t>(payload.size()));
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

inline std::vector<uint8_t> Le32(uint32_t v) {
  std::vector<uint8_t> b(4);
  StoreLe32(b.data(), v);
  return b;
}

}  // namespace bulkhead::vmproto::testing
