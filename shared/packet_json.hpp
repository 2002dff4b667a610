// One packet as `pspdr dissect` prints it: frame, IP and transport headers with every
// field, TCP options decoded per kind (pcapkit's field names). `pspdr trace --format
// json` writes its per-stream files with the same function.
#pragma once

#include <cstdint>

#include "shared/json_writer.hpp"
#include "shared/packet.hpp"

namespace pspdr {

// Appends the JSON object (no newline) for frame `number` (1-based, as tshark counts).
void write_packet_json(JsonWriter& out, uint64_t number, const Frame& frame);

}  // namespace pspdr
