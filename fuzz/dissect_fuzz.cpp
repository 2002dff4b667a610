// libFuzzer: one frame of any link type the dissector reads (the first input byte picks
// it) through dissect() and the JSON writer of `pspdr dissect`, which decodes every TCP
// option. Sanitizers catch any read outside the frame.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "shared/json_writer.hpp"
#include "shared/packet.hpp"
#include "shared/packet_json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using pspdr::LinkType;
  static constexpr LinkType kLinks[] = {
      LinkType::ethernet, LinkType::raw,  LinkType::linux_sll, LinkType::linux_sll2,
      LinkType::null_bsd, LinkType::loop, LinkType::ipv4,      LinkType::ipv6};
  if (size == 0) return 0;
  // A copy of exactly the frame's size, so that any over-read is outside the heap block.
  std::vector<uint8_t> frame(data + 1, data + size);
  pspdr::Frame f{frame.data(), uint32_t(frame.size()), uint32_t(frame.size()), 1.0,
                 kLinks[data[0] % (sizeof kLinks / sizeof kLinks[0])]};
  pspdr::JsonWriter out;
  pspdr::write_packet_json(out, 1, f);
  return 0;
}
