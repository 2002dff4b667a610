// dissect() on one packet of each common shape. The frame stays in L1, so these time the
// dissector's own work, not memory.
#include <benchmark/benchmark.h>

#include "shared/builder.hpp"
#include "shared/icmp.hpp"
#include "shared/packet.hpp"

namespace pspdr {
namespace {

namespace opt = build::opt;

void run(benchmark::State& state, const build::Buffer& frame) {
  Frame f{frame.data(), uint32_t(frame.size()), uint32_t(frame.size()), 1.7e9, LinkType::ethernet};
  Packet p;
  for (auto _ : state) {
    dissect(f, p);
    benchmark::DoNotOptimize(p);
  }
  state.SetItemsProcessed(int64_t(state.iterations()));
}

build::Buffer ethernet(const build::Buffer& ip_packet) {
  return build::frame(LinkType::ethernet, ip_packet);
}

const build::Ip kClientToServer{.src = "10.1.2.3", .dst = "198.18.0.80"};

build::Buffer syn() {
  build::Tcp t{
      .sport = 40000,
      .dport = 443,
      .flags = tcpflag::syn | tcpflag::ece | tcpflag::cwr,
      .options = opt::cat({opt::mss(1460), opt::sack_permitted(), opt::timestamps(1, 0), opt::nop(),
                           opt::window_scale(7), opt::fast_open({1, 2, 3, 4, 5, 6, 7, 8})})};
  return build::tcp_packet(kClientToServer, t);
}

void BM_TcpSynWithOptions(benchmark::State& state) {
  run(state, ethernet(syn()));
}
BENCHMARK(BM_TcpSynWithOptions);

void BM_TcpDataSegment(benchmark::State& state) {
  build::Tcp t{.sport = 443,
               .dport = 40000,
               .flags = tcpflag::ack | tcpflag::psh,
               .options = opt::cat({opt::nop(), opt::nop(), opt::timestamps(5, 1)}),
               .payload = build::Buffer(1448, 0x17)};
  build::Ip ip{.src = "198.18.0.80", .dst = "10.1.2.3", .tos = 0x02};  // ECT(0)
  run(state, ethernet(build::tcp_packet(ip, t)));
}
BENCHMARK(BM_TcpDataSegment);

void BM_Ipv6UdpDatagram(benchmark::State& state) {
  // A DNS query for example.com, A, over IPv6.
  build::Udp u{.sport = 53000,
               .dport = 53,
               .payload = {0x12, 0x34, 1,   0,   0,   1, 0,   0,   0,   0, 0, 0, 7, 'e', 'x',
                           'a',  'm',  'p', 'l', 'e', 3, 'c', 'o', 'm', 0, 0, 1, 0, 1}};
  build::Ip ip{.src = "2001:db8:c::1", .dst = "2001:db8:53::1"};
  run(state, ethernet(build::udp_packet(ip, u)));
}
BENCHMARK(BM_Ipv6UdpDatagram);

void BM_IcmpErrorWithQuote(benchmark::State& state) {
  build::Ip router{.src = "100.64.0.1", .dst = "10.1.2.3"};
  run(state, ethernet(build::icmp_packet(router, icmptype::v4_unreachable, 1, syn())));
}
BENCHMARK(BM_IcmpErrorWithQuote);

}  // namespace
}  // namespace pspdr

BENCHMARK_MAIN();
