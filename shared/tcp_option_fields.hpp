// The fields of one TCP option, for every kind pcapkit's TCP dissector reads, MPTCP
// subtypes included. TcpOptionWalker (tcp.hpp) splits the list; decode_tcp_option reads
// one entry. Byte fields are views into the packet, like everything the dissector returns.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>

#include "shared/address.hpp"
#include "shared/bytes.hpp"
#include "shared/tcp.hpp"

namespace pspdr {

namespace tcpopt {

struct Eol {};
struct Nop {};
struct Mss {
  uint16_t mss;
};
struct WindowScale {
  uint8_t shift_count;
};
struct SackPermitted {};
struct SackBlock {
  uint32_t left_edge, right_edge;
};
struct Sack {
  Bytes edges;  // 8 bytes per block, so a header-sized list needs no fixed cap here
  uint32_t count() const { return edges.size / 8; }
  SackBlock block(uint32_t i) const {  // i < count()
    return {load_be32(edges.data + 8 * i), load_be32(edges.data + 8 * i + 4)};
  }
};
struct Echo {
  uint32_t info;
};
struct EchoReply {
  uint32_t info;
};
struct Timestamps {
  uint32_t tsval, tsecr;
};
struct PocPermitted {};
struct PocServiceProfile {
  bool start_flag, end_flag;
};
struct Cc {
  uint32_t cc;
};
struct CcNew {
  uint32_t cc;
};
struct CcEcho {
  uint32_t cc;
};
struct AltChecksumRequest {
  uint8_t algorithm;  // RFC 1146: 0 TCP, 1 8-bit Fletcher, 2 16-bit Fletcher
};
struct AltChecksumData {
  Bytes data;
};
struct Md5Signature {
  Bytes digest;  // 16 bytes
};
struct QuickStart {
  uint8_t function;      // high nibble; RFC 4782 leaves it reserved in the TCP response
  uint8_t rate_request;  // 4 bits
  uint8_t ttl_diff;
  uint32_t nonce;  // 30 bits
};
struct UserTimeout {
  bool granularity;  // set: minutes, clear: seconds
  uint16_t timeout;  // 15 bits
};
struct TcpAo {
  uint8_t key_id, rnext_key_id;
  Bytes mac;
};
struct FastOpen {
  Bytes cookie;  // empty: a cookie request
};
// RFC 6994 shared experimental options (kinds 253 and 254). The ExID is read as 16 bits: the wire
// does not say whether a 32-bit one was meant, and 16-bit ExIDs are the ones in use.
struct Experimental {
  uint16_t exid;
  Bytes data;
};
// Unknown kinds, and any option whose length is wrong for its kind: the value bytes.
struct Raw {
  Bytes data;
};

// MPTCP subtypes (RFC 6824, and the RFC 8684 MP_CAPABLE lengths).
struct MpCapable {
  uint8_t version;
  uint8_t flags;  // A..H
  std::optional<uint64_t> sender_key, receiver_key;
  std::optional<uint16_t> data_level_length, checksum;
  bool checksum_required() const { return flags & 0x80; }  // A
  bool extensibility() const { return flags & 0x40; }      // B
  bool hmac_sha() const { return flags & 0x01; }           // H: SHA-1 in v0, SHA-256 in v1
};
struct MpJoinSyn {  // length 12
  bool backup;
  uint8_t addr_id;
  uint32_t receiver_token, sender_random;
};
struct MpJoinSynAck {  // length 16
  bool backup;
  uint8_t addr_id;
  uint64_t sender_truncated_hmac;
  uint32_t sender_random;
};
struct MpJoinAck {    // length 24
  Bytes sender_hmac;  // 20 bytes
};
struct MpDssMapping {
  uint64_t dsn;  // 4 or 8 octets on the wire (flag m)
  uint32_t ssn;
  uint16_t data_level_length;
  std::optional<uint16_t> checksum;  // only when checksums were negotiated
};
struct MpDss {
  uint8_t flags;  // F m M a A in the low five bits
  bool data_fin;
  std::optional<uint64_t> data_ack;     // flag A; 4 or 8 octets (flag a)
  std::optional<MpDssMapping> mapping;  // flag M
};
struct MpAddAddr {
  uint8_t addr_id;
  IpAddress address;  // its version is the IPVer nibble
  std::optional<uint16_t> port;
};
struct MpRemoveAddr {
  Bytes addr_ids;
};
struct MpPrio {
  bool backup;
  std::optional<uint8_t> addr_id;
};
struct MpFail {
  uint64_t dsn;
};
struct MpFastclose {
  uint64_t receiver_key;
};
struct MpUnknown {
  uint8_t subtype;
  Bytes data;  // the value from the subtype byte on
};

}  // namespace tcpopt

struct TcpOptionFields {
  uint8_t kind = 0;
  std::variant<tcpopt::Eol, tcpopt::Nop, tcpopt::Mss, tcpopt::WindowScale, tcpopt::SackPermitted,
               tcpopt::Sack, tcpopt::Echo, tcpopt::EchoReply, tcpopt::Timestamps,
               tcpopt::PocPermitted, tcpopt::PocServiceProfile, tcpopt::Cc, tcpopt::CcNew,
               tcpopt::CcEcho, tcpopt::AltChecksumRequest, tcpopt::AltChecksumData,
               tcpopt::Md5Signature, tcpopt::QuickStart, tcpopt::UserTimeout, tcpopt::TcpAo,
               tcpopt::FastOpen, tcpopt::Experimental, tcpopt::Raw, tcpopt::MpCapable,
               tcpopt::MpJoinSyn, tcpopt::MpJoinSynAck, tcpopt::MpJoinAck, tcpopt::MpDss,
               tcpopt::MpAddAddr, tcpopt::MpRemoveAddr, tcpopt::MpPrio, tcpopt::MpFail,
               tcpopt::MpFastclose, tcpopt::MpUnknown>
      fields;
  const char* malformed = nullptr;  // why the option cannot be read; `fields` is then Raw
};

// Reads `option`'s own fields. Never reads outside `option.data`; a length that does not
// fit the kind (or an option clipped by the end of the list) is reported in `malformed`.
TcpOptionFields decode_tcp_option(const TcpOption& option);

// The IANA name pcapkit gives the kind ("Maximum Segment Size", "Reserved", ...).
std::string_view tcp_option_name(uint8_t kind);

}  // namespace pspdr
