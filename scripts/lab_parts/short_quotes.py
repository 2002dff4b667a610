"""A router that quotes what RFC 792 asks and no more: the IP header and the first 8
bytes of the packet whose TTL (hop limit) expired. Linux quotes all that fits (RFC
1812); routers that quote 8 bytes still exist, and --locate must say what they cannot
show. Run by `scripts/lab up --short-quotes HOP` in that hop's namespace, whose nftables
table drops the kernel's own time-exceeded messages (those not carrying MARK).

  short_quotes.py IFACE READY_FILE TARGET_NET...
"""
import ipaddress
import socket
import struct
import sys

MARK = 0x2a  # scripts/lab's SHORT_QUOTES_MARK
ETH_P_ALL, ETH_P_IP, ETH_P_IPV6 = 0x0003, 0x0800, 0x86DD


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def raw(family, proto):
    s = socket.socket(family, socket.SOCK_RAW, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, MARK)
    return s


def main():
    iface, ready, nets = sys.argv[1], sys.argv[2], [ipaddress.ip_network(n) for n in sys.argv[3:]]
    capture = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    capture.bind((iface, 0))
    icmp4, icmp6 = raw(socket.AF_INET, socket.IPPROTO_ICMP), raw(socket.AF_INET6,
                                                                 socket.IPPROTO_ICMPV6)
    open(ready, "w").close()
    while True:
        packet, (_, proto, kind, _, _) = capture.recvfrom(65535)
        if kind == socket.PACKET_OUTGOING:
            continue
        if proto == ETH_P_IP and len(packet) >= 20 and packet[8] == 1:
            src, dst = ipaddress.IPv4Address(packet[12:16]), ipaddress.IPv4Address(packet[16:20])
            if any(dst in n for n in nets):
                body = packet[:(packet[0] & 15) * 4 + 8]
                header = struct.pack("!BBHI", 11, 0, 0, 0)
                message = header[:2] + struct.pack("!H", checksum(header + body)) + header[4:]
                icmp4.sendto(message + body, (str(src), 0))
        elif proto == ETH_P_IPV6 and len(packet) >= 40 and packet[7] == 1:
            src, dst = ipaddress.IPv6Address(packet[8:24]), ipaddress.IPv6Address(packet[24:40])
            if any(dst in n for n in nets):  # the kernel computes an ICMPv6 checksum
                icmp6.sendto(struct.pack("!BBHI", 3, 0, 0, 0) + packet[:48], (str(src), 0))


if __name__ == "__main__":
    main()
