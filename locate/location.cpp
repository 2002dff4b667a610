#include "locate/location.hpp"

#include <algorithm>
#include <cstring>

#include "locate/quote.hpp"

namespace pspdr {
namespace {

// A hop's quote compared with its probe as sent; none for a hop without both.
std::optional<QuoteReading> reading(const Hop& hop) {
  if (hop.quote.empty() || hop.sent.empty()) return std::nullopt;
  return read_quote({hop.sent.data(), uint32_t(hop.sent.size())},
                    {hop.quote.data(), uint32_t(hop.quote.size())});
}

uint8_t sent_tos(const Trace& t) {
  for (const Hop& h : t.hops)
    if (!h.sent.empty())
      return h.sent[0] >> 4 == 4 ? h.sent[1] : uint8_t(load_be16(h.sent.data()) >> 4);
  return t.probe.tos;
}

// The address of hop `ttl` in `t` (0: where the probes leave from).
std::optional<IpAddress> hop_address(const Trace& t, unsigned ttl) {
  if (ttl == 0) {
    if (t.probe.bind_source) return IpAddress(t.probe.family, t.probe.source);
    for (const Hop& h : t.hops)
      if (!h.sent.empty())
        return IpAddress(t.probe.family, h.sent.data() + (h.sent[0] >> 4 == 4 ? 12 : 8));
    return std::nullopt;
  }
  return ttl <= t.hops.size() ? t.hops[ttl - 1].from : std::nullopt;
}

// A field of the probe, as conditions name it: the quote's test for it.
struct FieldTest {
  std::string name;
  QuotedField field;
  uint8_t option = 0;  // tcp_options: the kind
};

std::vector<FieldTest> fields_of(const Trace& t) {
  uint8_t tos = sent_tos(t);
  static constexpr const char* kMarks[] = {"notect", "ect1", "ect0", "ce"};
  std::vector<FieldTest> f{{std::string("ipmark.") + kMarks[tos & 3], QuotedField::ecn},
                           {"dscpmark." + std::to_string(tos >> 2), QuotedField::dscp},
                           {"reservedbit", QuotedField::reserved_bit},
                           {"address", QuotedField::address},
                           {"port", QuotedField::port},
                           {"tcpflags", QuotedField::tcp_flags},
                           {"udplength", QuotedField::udp_length},
                           {"udpchecksum", QuotedField::udp_checksum}};
  std::vector<uint8_t> kinds;
  for (const Hop& h : t.hops)
    if (auto r = reading(h))
      kinds.insert(kinds.end(), r->options_changed.begin(), r->options_changed.end());
  std::ranges::sort(kinds);
  kinds.erase(std::unique(kinds.begin(), kinds.end()), kinds.end());
  for (uint8_t k : kinds) f.push_back({"option." + option_name(k), QuotedField::tcp_options, k});
  return f;
}

bool differs(const QuoteReading& r, const FieldTest& f) {
  if (f.field != QuotedField::tcp_options) return r.differs(f.field);
  return std::ranges::find(r.options_changed, f.option) != r.options_changed.end();
}

void add(std::vector<Located>& out, Located l, std::string_view plugin, std::string_view what,
         std::string_view exact, std::string_view partial) {
  l.condition = std::string(plugin) + "." + std::string(what) +
                std::string(l.partial ? partial : exact) + ":" + address_text(l.after);
  for (const Located& o : out)
    if (o.condition == l.condition) return;
  out.push_back(std::move(l));
}

// Where each field changed on the way of one trace.
void locate_changes(std::string_view plugin, const TracedConfiguration& tc,
                    std::vector<Located>& out) {
  const Trace& t = tc.trace;
  for (const FieldTest& f : fields_of(t)) {
    unsigned after = 0, before = 0;
    for (const Hop& h : t.hops) {
      auto r = reading(h);
      if (!r || !r->shows(f.field)) continue;
      if (differs(*r, f)) {
        before = h.ttl;
        break;
      }
      after = h.ttl;
    }
    if (!before) continue;
    add(out,
        {.config = tc.number,
         .after_ttl = after,
         .after = hop_address(t, after),
         .before_ttl = before,
         .before = hop_address(t, before),
         .partial = before - after > 1},
        plugin, f.name, ".changed_at", ".changed_after");
  }
}

unsigned last_answer(const Trace& t) {
  unsigned last = 0;
  for (const Hop& h : t.hops)
    if (h.from) last = h.ttl;
  return last;
}

// After which hop B's probes went unanswered while A's went on; or, when no probe got
// through, after which hop every one did.
void locate_losses(std::string_view plugin, std::span<const TracedConfiguration> traces,
                   std::vector<Located>& out) {
  const Trace& a = traces[0].trace;
  bool none_reached = std::ranges::none_of(traces, [](auto& t) { return t.trace.reached; });
  if (none_reached) {
    unsigned after = 0;
    const Trace* at = &a;
    for (const auto& t : traces)
      if (last_answer(t.trace) > after) at = &t.trace, after = last_answer(t.trace);
    add(out, {.config = 0, .after_ttl = after, .after = hop_address(*at, after), .partial = true},
        plugin, "connectivity", ".offline_after", ".offline_after");
    return;
  }
  for (const auto& b : traces.subspan(1)) {
    unsigned after = last_answer(b.trace);
    if (b.trace.reached || !(a.reached || last_answer(a) > after)) continue;
    unsigned before = 0;
    for (const Hop& h : a.hops)
      if (h.from && h.ttl > after) {
        before = h.ttl;
        break;
      }
    add(out,
        {.config = b.number,
         .after_ttl = after,
         .after = hop_address(b.trace, after),
         .before_ttl = before,
         .before = hop_address(a, before),
         .partial = before - after > 1},
        plugin, "connectivity", ".broken_at", ".broken_after");
  }
}

void write_hop(JsonWriter& w, const Trace& t, const Hop& h) {
  w.element();
  w.begin_object();
  w.field("ttl", h.ttl);
  w.key("from");
  h.from ? w.string_value(address_text(h.from)) : w.null();
  if (h.from) w.field("rtt", h.rtt);
  if (h.destination) w.field("destination", true);
  if (h.from && h.icmp_type) {
    w.field("icmp_type", h.icmp_type);
    w.field("icmp_code", h.icmp_code);
  }
  if (HopReading r = read_hop(t, h); r.quoted) {
    w.field("quote", r.whole ? "whole" : "partial");
    w.field("tos", r.tos);
    w.key("changed").begin_array();
    for (const std::string& f : r.changed) {
      w.element();
      w.string_value(f);
    }
    w.end_array();
  }
  w.end_object();
}

}  // namespace

std::string address_text(const std::optional<IpAddress>& a) {
  char buf[IpAddress::kMaxText];
  return a ? std::string(a->format(buf)) : std::string("?");
}

HopReading read_hop(const Trace& trace, const Hop& hop) {
  HopReading out;
  auto r = reading(hop);
  if (!r) return out;
  out.quoted = true;
  out.whole = r->whole;
  const uint8_t* q = hop.quote.data();
  out.tos = q[0] >> 4 == 4 ? q[1] : uint8_t(load_be16(q) >> 4);
  for (const FieldTest& f : fields_of(trace))
    if (r->shows(f.field) && differs(*r, f)) out.changed.push_back(f.name);
  return out;
}

std::vector<Located> locate(std::string_view plugin, std::span<const TracedConfiguration> traces) {
  std::vector<Located> out;
  if (traces.empty()) return out;
  for (const auto& t : traces) locate_changes(plugin, t, out);
  locate_losses(plugin, traces, out);
  if (out.empty()) out.push_back({.condition = std::string(plugin) + ".locate.unchanged"});
  return out;
}

void write_locate(JsonWriter& w, std::span<const TracedConfiguration> traces,
                  std::span<const Located> located) {
  w.begin_object();
  w.key("traces").begin_array();
  for (const auto& t : traces) {
    w.element();
    w.begin_object();
    w.field("config", t.number);
    w.field("sp", t.trace.probe.sport);
    w.field("reached", t.trace.reached);
    if (t.trace.error) w.field("error", std::string_view(std::strerror(t.trace.error)));
    w.key("hops").begin_array();
    for (const Hop& h : t.trace.hops) write_hop(w, t.trace, h);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  w.key("located").begin_array();
  for (const Located& l : located) {
    if (l.condition.ends_with(".locate.unchanged")) continue;
    w.element();
    w.begin_object();
    w.field("condition", l.condition);
    w.field("config", l.config);
    w.field("after_ttl", l.after_ttl);
    w.field("after", address_text(l.after));
    w.field("before_ttl", l.before_ttl);
    w.key("before");
    l.before_ttl ? w.string_value(address_text(l.before)) : w.null();
    w.field("partial", l.partial);
    w.end_object();
  }
  w.end_array();
  w.end_object();
}

}  // namespace pspdr
