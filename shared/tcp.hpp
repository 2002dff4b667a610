// TCP header view and the option-list walker every consumer of options shares.
#pragma once

#include <array>
#include <cstdint>

#include "shared/anomaly.hpp"
#include "shared/bytes.hpp"

namespace pspdr {

namespace tcpflag {
constexpr uint8_t fin = 0x01, syn = 0x02, rst = 0x04, psh = 0x08, ack = 0x10, urg = 0x20,
                  ece = 0x40, cwr = 0x80;
constexpr uint8_t syn_ack = syn | ack;
}  // namespace tcpflag

// Option kinds named in PATHspider's TCP chain and the pcapkit seed.
namespace tcpopt {
constexpr uint8_t eol = 0, nop = 1, mss = 2, ws = 3, sack_permitted = 4, sack = 5, echo = 6,
                  echo_reply = 7, timestamps = 8, poc_permitted = 9, poc_service = 10, cc = 11,
                  cc_new = 12, cc_echo = 13, alt_checksum_request = 14, alt_checksum_data = 15,
                  md5 = 19, quick_start = 27, user_timeout = 28, tcp_ao = 29, mptcp = 30,
                  fast_open = 34, exp_a = 254, exp_b = 255;
constexpr uint16_t exid_fast_open = 0xf989;  // RFC 6994 ExID used by early TFO
}  // namespace tcpopt

struct TcpView {
  const uint8_t* hdr = nullptr;
  uint32_t caplen = 0;  // captured bytes from hdr to the end of the frame

  explicit operator bool() const { return hdr != nullptr; }
  uint16_t sport() const { return load_be16(hdr); }
  uint16_t dport() const { return load_be16(hdr + 2); }
  uint32_t seq() const { return load_be32(hdr + 4); }
  uint32_t ack_nbr() const { return load_be32(hdr + 8); }
  uint8_t doff() const { return hdr[12] >> 4; }
  uint32_t hdr_len() const { return uint32_t(doff()) * 4; }
  bool ns() const { return (hdr[12] & 0x01) != 0; }
  uint8_t reserved() const { return (hdr[12] >> 1) & 0x07; }
  uint8_t flags() const { return hdr[13]; }
  bool syn() const { return (hdr[13] & tcpflag::syn) != 0; }
  bool ack() const { return (hdr[13] & tcpflag::ack) != 0; }
  bool fin() const { return (hdr[13] & tcpflag::fin) != 0; }
  bool rst() const { return (hdr[13] & tcpflag::rst) != 0; }
  uint16_t window() const { return load_be16(hdr + 14); }
  uint16_t checksum() const { return load_be16(hdr + 16); }
  uint16_t urgent_pointer() const { return load_be16(hdr + 18); }
  // Option bytes from offset 20 to the data offset, clipped to the capture.
  Bytes options() const {
    uint32_t end = hdr_len() < caplen ? hdr_len() : caplen;
    return end > 20 ? Bytes{hdr + 20, end - 20} : Bytes{hdr + 20, 0};
  }
  // Captured bytes after the header; negative when the data offset points past the
  // capture (PATHspider's len(tcp.data) - doff*4).
  int32_t payload_caplen() const { return int32_t(caplen) - int32_t(hdr_len()); }
  // libtrace (hence PATHspider) reports a payload whenever captured bytes follow the
  // header, link padding included.
  bool has_payload() const { return payload_caplen() > 0; }
  Bytes payload() const {
    return has_payload() ? Bytes{hdr + hdr_len(), uint32_t(payload_caplen())} : Bytes{};
  }
};

// One entry of an option list. For EOL and NOP `length` is 1 and `data` empty.
struct TcpOption {
  uint8_t kind = 0;
  uint8_t length = 0;   // as declared on the wire
  uint16_t offset = 0;  // from the start of the option list
  Bytes data;           // value bytes (after kind and length), clipped to the list
};

// Walks an option list the way PATHspider's tcp_options() does (stop at EOL, skip NOP,
// advance by the declared length) without ever reading past the list. A length of 0
// (which would loop forever), a length of 1, or an option running past the header sets
// `problem`; a zero length stops the walk, a length of 1 advances one byte as PATHspider
// does, and an overrun yields the clipped option and stops.
class TcpOptionWalker {
 public:
  explicit TcpOptionWalker(Bytes options) : opts_(options) {}
  bool next(TcpOption& out);
  Anomaly problem() const { return problem_; }
  const char* problem_detail() const { return detail_; }

 private:
  Bytes opts_;
  uint32_t pos_ = 0;
  bool done_ = false;
  Anomaly problem_ = Anomaly::none;
  const char* detail_ = "";
};

// What the observer's chains need from a SYN's option list, computed in one walk:
// which kinds appeared and, for the kinds chains read, the value of the last occurrence
// (PATHspider keeps options in a dict, so a later option of the same kind wins).
struct TcpOptionSummary {
  std::array<uint64_t, 4> kinds{};  // bitmap of kinds seen (EOL and NOP excluded)
  Bytes mss, fast_open, exp_a, exp_b;
  bool seen_mss = false, seen_fast_open = false, seen_exp_a = false, seen_exp_b = false;
  Anomaly problem = Anomaly::none;

  bool has(uint8_t kind) const { return (kinds[kind >> 6] >> (kind & 63)) & 1; }
  // Back to "no options". The value views are left as they are: each means something
  // only while its seen_ flag is set. (Assigning a fresh summary instead zeroes 104
  // bytes with `rep stos`, a tenth of the dissector's time per packet.)
  void clear() {
    kinds = {};
    seen_mss = seen_fast_open = seen_exp_a = seen_exp_b = false;
    problem = Anomaly::none;
  }
};

// Clears `s` and fills it from an option list, in place (the dissector's packet holds it).
void summarize_tcp_options(Bytes options, TcpOptionSummary& s);

}  // namespace pspdr
