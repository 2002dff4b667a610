// The vantage point: where a campaign measures from, and what PATHspider 2.0.1 writes of
// it on every result line -- sip (the address connections leave from: the capture
// interface's own, as PATHspider binds them), sip_public, sip_asn and the path.
// PATHspider looks the public address and AS up online at start; here they come from
// options (--public-address, --asn), since a campaign machine may be offline.
#pragma once

#include <optional>
#include <string>

#include "generators/connection.hpp"
#include "measure/job_reader.hpp"
#include "shared/address.hpp"
#include "shared/json_writer.hpp"

namespace pspdr {

struct VantagePoint {
  std::string interface;                       // where the sources were found; "" for none
  std::optional<IpAddress> source[2];          // [0] IPv4, [1] IPv6
  std::optional<IpAddress> public_address[2];  // as seen from outside; unset: the source
  std::optional<int64_t> asn;                  // the vantage point's AS, when known
  int mtu = 1500;  // the interface's: a forged SYN offers the MSS it allows, as the kernel

  // The first IPv4 and the first IPv6 address (not link-local) of interface `name`, as
  // PATHspider picks them.
  static VantagePoint of_interface(const std::string& name);

  const IpAddress* source_for(uint8_t family) const {
    return source[family == 6] ? &*source[family == 6] : nullptr;
  }
  // Sets an address given as text (--public-address) in its family's place; false if
  // it is none.
  bool set_public(std::string_view text);

  // A connection request to `job`'s target at `dport`, leaving from this vantage point's
  // source of its family, a forged SYN offering the MSS the interface allows.
  ConnectionRequest request(const Job& job, uint16_t dport) const;

  // sip, path, sip_public and sip_asn for `job`, in 2.0.1's order; nothing when no source
  // of the job's family is known.
  void write(JsonWriter& w, const Job& job) const;
};

}  // namespace pspdr
