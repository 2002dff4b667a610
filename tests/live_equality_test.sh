#!/usr/bin/env bash
# Live capture equals offline analysis: traffic in the lab (scripts/lab: real kernel TCP
# to its nginx through its middlebox, and crafted packets) is captured on the lab
# client's interface at once by tcpdump and by the live observer; the observer's records
# must equal those of the tcpdump trace observed offline. Both start before any measured
# traffic, so no packet predates a capture.
#   live_equality_test.sh SOURCE_DIR BUILD_DIR [af_packet|xdp|dpdk]
# af_packet captures on the client's veth itself. AF_XDP would take the packets away from the
# kernel's TCP, so it watches a mirror port instead (tc mirred copies every packet of the
# veth to it), as on a tap; it stamps packets on receipt, not in the kernel, so its
# timestamps are compared to tcpdump's within 50 ms, every other field exactly.
# On the veth itself the kernel stamps a packet once for every packet socket, except one
# that arrives carrying its sender's departure time (TCP from the lab's targets): then each
# socket reads the clock as the packet is handed to it, one after the other in the same
# softirq. Two tcpdumps on the lab client, 5,651 packets with every core busy (stress-ng
# --cpu 2 --switch 1): 0 us apart at the median, 1.2 us at p99, 52 us at most; 73 us
# was seen once in the sanitizer suite under load. So AF_PACKET's timestamps are compared
# within 1 ms, 20 times the worst seen; every other field is still compared exactly.
set -euo pipefail
[[ $EUID -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
src=$(realpath "$1")
build=$(realpath "$2")
mode=${3:-af_packet}
observe=$build/cli/pspdr-observe
compare=$build/tests/compare-records
chains=(basic tcp ecn dscp evil icmp mss tfo udp dns tcpopt)

tag=pl$$
lab=("$src/scripts/lab" --name "$tag")
work=$(mktemp -d)
cleanup() {
  local rc=$?
  ((rc == 0)) || tail -n 20 "$work"/*.log 2>/dev/null || true  # say why it failed
  for p in ${pids:-}; do kill "$p" 2>/dev/null || true; done
  "${lab[@]}" down >/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
"${lab[@]}" up --targets 40 --seed 3  # 2 targets per behaviour: IPv4 and IPv6
eval "$("${lab[@]}" status | grep -E '^(client|middlebox)_(netns|iface|ipv4)=')"
a=$client_netns
"${lab[@]}" jobs >"$work/jobs.ndjson"
target() {  # target BEHAVIOUR 4|6: the address of a lab target with that behaviour
  python3 -c 'import json, sys
print(next(j["dip"] for j in map(json.loads, open(sys.argv[1]))
           if j["lab_behaviour"] == sys.argv[2] and (":" in j["dip"]) == (sys.argv[3] == "6")))' \
    "$work/jobs.ndjson" "$1" "$2"
}
plain4=$(target transparent 4)
plain6=$(target transparent 6)
ce4=$(target ce-mark 4)
bleach4=$(target dscp-bleach 4)
clamp6=$(target mss-clamp 6)
strip4=$(target tfo-strip 4)
offline4=$(target offline 4)
source_args=(-i "$client_iface")
tolerance=1e-3
if [[ $mode != af_packet ]]; then
  ip -n "$a" link add mir-a type veth peer name obs-a
  ip -n "$a" link set mir-a up
  ip -n "$a" link set obs-a up
  ip netns exec "$a" tc qdisc add dev "$client_iface" clsact
  for dir in ingress egress; do
    ip netns exec "$a" tc filter add dev "$client_iface" $dir protocol all u32 match u32 0 0 \
      action mirred egress mirror dev mir-a
  done
  ip netns exec "$a" sysctl -qw net.ipv6.conf.obs-a.disable_ipv6=1 net.ipv6.conf.mir-a.disable_ipv6=1
  tolerance=0.05
  # Segmentation offloads would show tcpdump on the client's veth 64 KB super-packets
  # that reach the mirror port cut into wire-sized segments: make every hop send
  # wire-sized packets.
  for hop in "$a $client_iface" "$middlebox_netns mbox-c" "$middlebox_netns mbox-t" \
             "$tag-target lab-t"; do
    read -r ns dev <<<"$hop"
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
# Link-local chatter from bringing the lab up (MLD reports) must finish before the
# captures start, or it would straddle that moment.
sleep 2

ip netns exec "$a" tcpdump -i "$client_iface" -w "$work/ref.pcap" -U 2>"$work/tcpdump.log" &
pids="$!"
# --stats: the statistics thread reads the source's counters every second while the
# worker counts (ThreadSanitizer watches that in build-tsan).
ip netns exec "$a" "$observe" "${source_args[@]}" --stats --output "$work/live.ndjson" "${chains[@]}" 2>"$work/observe.log" &
observer=$!
pids="$pids $observer"
for _ in $(seq 100); do
  grep -q "listening on" "$work/tcpdump.log" && grep -q "capturing on" "$work/observe.log" && break
  sleep 0.1
done
sleep 0.3
ready=$(date +%s.%N)  # both captures run from here on: the experiment starts after it

# Real kernel TCP to the lab's nginx: plain, with ECN through a CE-marking middlebox,
# DSCP-marked through a bleaching one, IPv6 through an MSS clamp, TFO, to an offline
# target (unanswered SYNs), and a refused connection (RST).
ip netns exec "$a" python3 - "$plain4" "$ce4" "$bleach4" "$plain6" "$clamp6" "$strip4" "$offline4" <<'PY'
import socket, sys
plain4, ce, bleach, plain6, clamp6, tfo, offline = sys.argv[1:]
def fetch(addr, tos=0, ecn=0, fastopen=False, port=80):
    open("/proc/sys/net/ipv4/tcp_ecn", "w").write(str(ecn))
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(1)
    if tos:
        s.setsockopt(socket.IPPROTO_IP if fam == socket.AF_INET else socket.IPPROTO_IPV6,
                     socket.IP_TOS if fam == socket.AF_INET else socket.IPV6_TCLASS, tos)
    request = b"GET / HTTP/1.0\r\n\r\n"
    try:
        if fastopen:
            s.sendto(request, socket.MSG_FASTOPEN, (addr, port))
        else:
            s.connect((addr, port)); s.sendall(request)
        while s.recv(4096): pass
    except OSError:
        pass
    s.close()
fetch(plain4); fetch(ce, ecn=1); fetch(bleach, tos=0xb8); fetch(plain6, tos=0x28); fetch(clamp6)
fetch(tfo, fastopen=True); fetch(plain4, fastopen=True); fetch(plain4, fastopen=True)
fetch(offline); fetch(plain4, port=9001)
PY
# Crafted packets from the middlebox, as if from a target: evil bit, zero UDP checksum,
# DNS response, TCP Fast Open options, and an ICMP unreachable quoting a TCP SYN.
client_mac=$(ip netns exec "$a" cat /sys/class/net/"$client_iface"/address)
ip netns exec "$middlebox_netns" python3 - "$plain4" "$client_ipv4" "$client_mac" <<'PY'
import socket, struct, sys
far, near, near_mac = sys.argv[1:]
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
def udp(sp, dp, data):
    return struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data  # checksum 0
dns = struct.pack("!HHHHHH", 0x1234, 0x8180, 1, 1, 0, 0) + b"\x07example\x03com\x00" + struct.pack("!HH", 1, 1) \
      + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("192.0.2.1")
syn = ip4(near, far, 6, tcp(41000, 80, 0x02))
packets = [
    ip4(far, near, 6, tcp(80, 41001, 0x02), flags=0x8000),          # evil SYN
    ip4(far, near, 17, udp(5353, 41002, b"zero checksum")),         # UDP, checksum 0
    ip4(far, near, 17, udp(53, 41003, dns)),                        # valid DNS response
    ip4(far, near, 6, tcp(80, 41004, 0x02, b"\x22\x0a" + b"C" * 8 + b"\x02\x04\x05\xb4", b"data on syn")),
    ip4(far, near, 6, tcp(80, 41005, 0x02, b"\xfe\x0c\xf9\x89" + b"D" * 8)),
    ip4(far, near, 1, struct.pack("!BBHI", 3, 1, 0, 0) + syn[:28], tos=0x01),  # ICMP unreachable
]
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("mbox-c", 0))
with open("/sys/class/net/mbox-c/address") as f: src = bytes.fromhex(f.read().strip().replace(":", ""))
dst = bytes.fromhex(near_mac.replace(":", ""))
for p in packets: s.send(dst + src + b"\x08\x00" + p)
PY
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
[[ $(wc -l <"$work/offline-experiment.ndjson") -ge 16 ]] || { echo "too few flows captured"; exit 1; }
"$compare" "$work/offline-experiment.ndjson" "$work/live-experiment.ndjson" "$tolerance"
echo "live records ($mode) equal the offline records"
