#include "shared/tcp.hpp"

namespace pspdr {

bool TcpOptionWalker::next(TcpOption& out) {
  if (done_ || pos_ >= opts_.size) return false;
  uint8_t kind = opts_[pos_];
  out = TcpOption{kind, 1, uint16_t(pos_), Bytes{opts_.data + pos_ + 1, 0}};
  if (kind == tcpopt::eol) {
    done_ = true;
    return true;
  }
  if (kind == tcpopt::nop) {
    ++pos_;
    return true;
  }
  if (pos_ + 1 >= opts_.size) {
    problem_ = Anomaly::bad_tcp_options;
    detail_ = "option kind without a length byte";
    done_ = true;
    return true;
  }
  uint8_t len = opts_[pos_ + 1];
  out.length = len;
  if (len == 0) {
    problem_ = Anomaly::bad_tcp_options;
    detail_ = "option length 0";
    done_ = true;
    out.data = Bytes{opts_.data + pos_ + 2, 0};
    return true;
  }
  out.data = opts_.sub(pos_ + 2, len > 2 ? len - 2u : 0u);
  if (len == 1) {
    problem_ = Anomaly::bad_tcp_options;
    detail_ = "option length 1";
  } else if (pos_ + len > opts_.size) {
    problem_ = Anomaly::bad_tcp_options;
    detail_ = "option runs past the header";
    done_ = true;
  }
  pos_ += len;
  return true;
}

void summarize_tcp_options(Bytes options, TcpOptionSummary& s) {
  s.clear();
  // Nearly every segment after the handshake carries NOP, NOP, timestamps (RFC 7323,
  // appendix A): the walk's result for that list, without the walk.
  if (options.size == 12 && load_be32(options.data) == 0x0101080a) {
    s.kinds[0] = uint64_t(1) << tcpopt::timestamps;
    return;
  }
  TcpOptionWalker w(options);
  TcpOption o;
  while (w.next(o)) {
    if (o.kind == tcpopt::eol || o.kind == tcpopt::nop) continue;
    s.kinds[o.kind >> 6] |= uint64_t(1) << (o.kind & 63);
    switch (o.kind) {
      case tcpopt::mss:
        s.mss = o.data;
        s.seen_mss = true;
        break;
      case tcpopt::fast_open:
        s.fast_open = o.data;
        s.seen_fast_open = true;
        break;
      case tcpopt::exp_a:
        s.exp_a = o.data;
        s.seen_exp_a = true;
        break;
      case tcpopt::exp_b:
        s.exp_b = o.data;
        s.seen_exp_b = true;
        break;
      default:
        break;
    }
  }
  s.problem = w.problem();
}

}  // namespace pspdr
