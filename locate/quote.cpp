#include "locate/quote.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

namespace pspdr {
namespace {

struct Header {
  uint8_t version = 0, proto = 0, tos = 0;
  bool reserved = false;
  size_t length = 0;  // of the IP header
};

bool ip_header(Bytes p, Header& h) {
  if (p.size < 1) return false;
  h.version = p.data[0] >> 4;
  if (h.version == 4 && p.size >= 20) {
    h = {4, p.data[9], p.data[1], (p.data[6] & 0x80) != 0, size_t(p.data[0] & 15) * 4};
    return h.length >= 20 && p.size >= h.length;
  }
  if (h.version == 6 && p.size >= 40) {
    h = {6, p.data[6], uint8_t(load_be16(p.data) >> 4), false, 40};
    return true;
  }
  return false;
}

// A TCP header's options (kind, bytes), NOPs left out: a path that overwrites an option
// with NOPs removes it.
std::vector<std::pair<uint8_t, Bytes>> options(const uint8_t* tcp, size_t header_length) {
  std::vector<std::pair<uint8_t, Bytes>> out;
  for (size_t i = 20; i < header_length;) {
    uint8_t kind = tcp[i];
    if (kind == 0) break;
    if (kind == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= header_length || tcp[i + 1] < 2 || i + tcp[i + 1] > header_length) break;
    out.emplace_back(kind, Bytes{tcp + i, tcp[i + 1]});
    i += tcp[i + 1];
  }
  return out;
}

bool same(Bytes a, Bytes b) {
  return a.size == b.size && std::memcmp(a.data, b.data, a.size) == 0;
}

void compare_tcp_options(const uint8_t* sent, size_t sent_len, const uint8_t* quoted,
                         size_t quoted_len, QuoteReading& r) {
  auto s = options(sent, sent_len), q = options(quoted, quoted_len);
  auto find = [](const auto& list, uint8_t kind) {
    return std::ranges::find(list, kind, &std::pair<uint8_t, Bytes>::first);
  };
  for (const auto& [kind, bytes] : s)
    if (auto it = find(q, kind); it == q.end() || !same(it->second, bytes))
      r.options_changed.push_back(kind);
  for (const auto& [kind, bytes] : q)
    if (find(s, kind) == s.end()) r.options_changed.push_back(kind);
  std::ranges::sort(r.options_changed);
  r.options_changed.erase(std::unique(r.options_changed.begin(), r.options_changed.end()),
                          r.options_changed.end());
}

}  // namespace

QuoteReading read_quote(Bytes sent, Bytes quote) {
  QuoteReading r;
  Header s, q;
  if (!ip_header(sent, s) || !ip_header(quote, q) || s.version != q.version) return r;
  auto mark = [&](QuotedField f, bool differs) {
    r.visible |= QuoteReading::bit(f);
    if (differs) r.changed |= QuoteReading::bit(f);
  };
  size_t addr = s.version == 4 ? 12 : 8, addr_len = s.version == 4 ? 8 : 32;
  mark(QuotedField::ecn, (s.tos & 3) != (q.tos & 3));
  mark(QuotedField::dscp, (s.tos >> 2) != (q.tos >> 2));
  if (s.version == 4) mark(QuotedField::reserved_bit, s.reserved != q.reserved);
  mark(QuotedField::address, std::memcmp(sent.data + addr, quote.data + addr, addr_len) != 0);
  if (s.proto != q.proto) return r;
  const uint8_t* st = sent.data + s.length;
  const uint8_t* qt = quote.data + q.length;
  size_t sent_l4 = sent.size - s.length, quoted_l4 = quote.size - q.length;
  if (quoted_l4 >= 4 && sent_l4 >= 4) mark(QuotedField::port, std::memcmp(st, qt, 4) != 0);
  if (s.proto == 17 && sent_l4 >= 8) {
    r.whole = quoted_l4 >= 8;
    if (r.whole) {
      mark(QuotedField::udp_length, load_be16(st + 4) != load_be16(qt + 4));
      mark(QuotedField::udp_checksum, load_be16(st + 6) != load_be16(qt + 6));
    }
  } else if (s.proto == 6 && sent_l4 >= 20) {
    size_t sent_hl = size_t(st[12] >> 4) * 4;
    if (quoted_l4 >= 14) mark(QuotedField::tcp_flags, st[13] != qt[13]);
    size_t quoted_hl = quoted_l4 >= 13 ? size_t(qt[12] >> 4) * 4 : 0;
    r.whole =
        quoted_l4 >= sent_hl && quoted_hl >= 20 && quoted_l4 >= quoted_hl && sent_l4 >= sent_hl;
    if (r.whole) {
      compare_tcp_options(st, sent_hl, qt, quoted_hl, r);
      mark(QuotedField::tcp_options, !r.options_changed.empty());
    }
  }
  return r;
}

std::string option_name(uint8_t kind) {
  switch (kind) {
    case 2:
      return "mss";
    case 3:
      return "wscale";
    case 4:
      return "sackok";
    case 8:
      return "ts";
    case 34:
      return "fastopen";
    case 254:
      return "exp";
    default:
      return "kind" + std::to_string(kind);
  }
}

}  // namespace pspdr
