#!/usr/bin/env bash
# Live capture equals offline analysis: traffic between two network namespaces (real
# kernel TCP connections and crafted packets) is captured at once by tcpdump and by the
# live observer; the observer's records must equal those of the tcpdump trace observed
# offline. Both start before any measured traffic, so no packet predates a capture.
#   live_equality_test.sh BUILD_DIR [af_packet|xdp|dpdk]
# af_packet captures on the veth itself. AF_XDP would take the packets away from the
# kernel's TCP, so it watches a mirror port instead (tc mirred copies every packet of the
# veth to it), as on a tap; it stamps packets on receipt, not in the kernel, so its
# timestamps are compared to tcpdump's within 50 ms, every other field exactly.
set -euo pipefail
[[ $EUID -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
build=$(realpath "$1")
mode=${2:-af_packet}
observe=$build/cli/pspdr-observe
compare=$build/tests/compare-records
chains=(basic tcp ecn dscp evil icmp mss tfo udp dns tcpopt)

tag=pl$$
a=$tag-a b=$tag-b work=$(mktemp -d)
cleanup() {
  local rc=$?
  ((rc == 0)) || tail -n 20 "$work"/*.log 2>/dev/null || true  # say why it failed
  for p in ${pids:-}; do kill "$p" 2>/dev/null || true; done
  ip netns del "$a" 2>/dev/null || true
  ip netns del "$b" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$a"
ip netns add "$b"
ip link add veth-a netns "$a" type veth peer name veth-b netns "$b"
ip -n "$a" addr add 10.78.0.1/24 dev veth-a
ip -n "$b" addr add 10.78.0.2/24 dev veth-b
ip -n "$a" addr add fd78::1/64 dev veth-a nodad
ip -n "$b" addr add fd78::2/64 dev veth-b nodad
ip -n "$a" link set veth-a up
ip -n "$b" link set veth-b up
ip -n "$a" link set lo up
ip -n "$b" link set lo up
ip netns exec "$b" sysctl -qw net.ipv4.tcp_ecn=1
source_args=(-i veth-a)
tolerance=1e-5
if [[ $mode != af_packet ]]; then
  ip -n "$a" link add mir-a type veth peer name obs-a
  ip -n "$a" link set mir-a up
  ip -n "$a" link set obs-a up
  ip netns exec "$a" tc qdisc add dev veth-a clsact
  ip netns exec "$a" tc filter add dev veth-a ingress protocol all u32 match u32 0 0 action mirred egress mirror dev mir-a
  ip netns exec "$a" tc filter add dev veth-a egress protocol all u32 match u32 0 0 action mirred egress mirror dev mir-a
  ip netns exec "$a" sysctl -qw net.ipv6.conf.obs-a.disable_ipv6=1 net.ipv6.conf.mir-a.disable_ipv6=1
  tolerance=0.05
  # Segmentation offloads would show tcpdump on the veth 64 KB super-packets that reach
  # the mirror port cut into wire-sized segments: make both see wire-sized packets.
  for side in "$a veth-a" "$b veth-b"; do
    read -r ns dev <<<"$side"
    ip netns exec "$ns" ethtool -K "$dev" tso off gso off gro off >/dev/null
  done
  case $mode in
    xdp) source_args=(--xdp obs-a) ;;
    dpdk)
      pmds=/usr/lib/x86_64-linux-gnu/dpdk/pmds-23.0
      source_args=(--dpdk "--no-huge -m 512 --no-pci --file-prefix=$tag -d $pmds/librte_net_af_packet.so
                           --vdev=net_af_packet0,iface=obs-a")
      ;;
    *) echo "unknown mode $mode"; exit 2 ;;
  esac
fi
# IPv6 link-local chatter (router solicitations, MLD reports) would straddle the moment
# the captures start: switch off what can be, and let the rest finish first.
ip netns exec "$a" sysctl -qw net.ipv6.conf.veth-a.router_solicitations=0
ip netns exec "$b" sysctl -qw net.ipv6.conf.veth-b.router_solicitations=0
sleep 3

ip netns exec "$b" python3 -c '
import socket, threading
def serve(fam, addr):
    s = socket.socket(fam, socket.SOCK_STREAM); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 9000)); s.listen(64)
    while True:
        c, _ = s.accept(); c.recv(100); c.sendall(b"x" * 3000); c.close()
threading.Thread(target=serve, args=(socket.AF_INET6, "fd78::2"), daemon=True).start()
serve(socket.AF_INET, "10.78.0.2")' &
pids="$!"

ip netns exec "$a" tcpdump -i veth-a -w "$work/ref.pcap" -U 2>"$work/tcpdump.log" &
pids="$pids $!"
ip netns exec "$a" "$observe" "${source_args[@]}" --output "$work/live.ndjson" "${chains[@]}" 2>"$work/observe.log" &
observer=$!
pids="$pids $observer"
for _ in $(seq 100); do
  grep -q "listening on" "$work/tcpdump.log" && grep -q "capturing on" "$work/observe.log" && break
  sleep 0.1
done
sleep 0.3
ready=$(date +%s.%N)  # both captures run from here on: the experiment starts after it

# Real kernel TCP: plain, ECN, DSCP-marked, IPv6, and a refused connection (RST).
ip netns exec "$a" python3 -c '
import socket
for addr, fam, tos, ecn in [("10.78.0.2", socket.AF_INET, 0, 0), ("10.78.0.2", socket.AF_INET, 0, 1),
                            ("10.78.0.2", socket.AF_INET, 0xb8, 0), ("fd78::2", socket.AF_INET6, 0x28, 0)]:
    open("/proc/sys/net/ipv4/tcp_ecn", "w").write(str(ecn))
    s = socket.socket(fam, socket.SOCK_STREAM)
    if tos: s.setsockopt(socket.IPPROTO_IP if fam == socket.AF_INET else socket.IPPROTO_IPV6,
                         socket.IP_TOS if fam == socket.AF_INET else socket.IPV6_TCLASS, tos)
    s.connect((addr, 9000)); s.sendall(b"hello"); 
    while s.recv(4096): pass
    s.close()
try: socket.create_connection(("10.78.0.2", 9001), 1)
except OSError: pass
'
# Crafted packets from the other namespace: evil bit, zero UDP checksum, DNS response,
# TCP Fast Open options, and an ICMP unreachable quoting a TCP SYN.
ip netns exec "$b" python3 -c '
import socket, struct
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b)//2), b)); s = (s >> 16) + (s & 0xffff); s += s >> 16
    return ~s & 0xffff
def ip4(src, dst, proto, payload, tos=0, flags=0x4000):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), 7, flags, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
def tcp(sp, dp, flags, opts=b"", data=b""):
    opts += b"\0" * (-len(opts) % 4)
    return struct.pack("!HHIIBBHHH", sp, dp, 1000, 0, (5 + len(opts)//4) << 4, flags, 65535, 0, 0) + opts + data
def udp(sp, dp, data, zero=False):
    return struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data
dns = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + b"\x07example\x03com\x00" + struct.pack("!HH", 1, 1) \
      + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.1")
syn = ip4("10.78.0.1", "10.78.0.2", 6, tcp(41000, 80, 0x02))
packets = [
    ip4("10.78.0.2", "10.78.0.1", 6, tcp(80, 41001, 0x02), flags=0x8000),          # evil SYN
    ip4("10.78.0.2", "10.78.0.1", 17, udp(5353, 41002, b"zero checksum")),         # UDP, checksum 0
    ip4("10.78.0.2", "10.78.0.1", 17, udp(53, 41003, dns)),                        # valid DNS response
    ip4("10.78.0.2", "10.78.0.1", 6, tcp(80, 41004, 0x02, b"\x22\x0a" + b"C" * 8 + b"\x02\x04\x05\xb4", b"data on syn")),
    ip4("10.78.0.2", "10.78.0.1", 6, tcp(80, 41005, 0x02, b"\xfe\x0c\xf9\x89" + b"D" * 8)),
    ip4("10.78.0.2", "10.78.0.1", 1, struct.pack("!BBHI", 3, 1, 0, 0) + syn[:28], tos=0x01),  # ICMP unreachable
]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("veth-b", 0))
with open("/sys/class/net/veth-b/address") as f: src = bytes.fromhex(f.read().strip().replace(":", ""))
dst = b"\x02\x00\x00\x00\x00\x01"
for p in packets: s.send(dst + src + b"\x08\x00" + p)
'
sleep 1
kill -INT "$observer"
wait "$observer"
kill -INT $(jobs -p) 2>/dev/null || true
sleep 0.5
cat "$work/observe.log"

"$observe" -q -i "$work/ref.pcap" --output "$work/offline.ndjson" "${chains[@]}"
# The experiment is what follows the moment both captures were ready. Left out on both
# sides: flows begun before it (one capture may have started earlier and seen more of
# them), and link-local multicast chatter (MLD, neighbour discovery), which the kernel
# sends on its own schedule, not the test's.
in_experiment() {  # NDJSON_IN NDJSON_OUT
  python3 - "$1" "$2" "$ready" <<'PY'
import ipaddress, json, sys
src, dst, ready = sys.argv[1], sys.argv[2], float(sys.argv[3])
with open(src) as f, open(dst, "w") as out:
    for line in f:
        r = json.loads(line)
        if r["pkt_first"] >= ready and not ipaddress.ip_address(r["dip"]).is_multicast:
            out.write(line)
PY
}
in_experiment "$work/offline.ndjson" "$work/offline-experiment.ndjson"
in_experiment "$work/live.ndjson" "$work/live-experiment.ndjson"
echo "offline: $(wc -l <"$work/offline-experiment.ndjson") flows of the experiment" \
  "(of $(wc -l <"$work/offline.ndjson")), live: $(wc -l <"$work/live-experiment.ndjson")" \
  "(of $(wc -l <"$work/live.ndjson"))"
[[ $(wc -l <"$work/offline-experiment.ndjson") -ge 11 ]] || { echo "too few flows captured"; exit 1; }
"$compare" "$work/offline-experiment.ndjson" "$work/live-experiment.ndjson" "$tolerance"
echo "live records ($mode) equal the offline records"
