"""Middlebox behaviours: what the lab's middlebox does to a target's traffic.

Each behaviour is one entry below: the nftables statements that make it (applied in
the middlebox namespace to packets to or from the targets that have it) and its
effect on a connection, which is how the lab predicts the conditions a plugin should
report. To add a behaviour, add an entry: the rules, the effect, a summary; `scripts/lab
up` gives it its share of targets and `scripts/lab jobs` its expectations.
"""
from dataclasses import dataclass
from typing import Callable, Optional

# Maximum segment size the clamp writes into SYN-ACKs from a target.
CLAMPED_MSS = 1200


@dataclass
class Connection:
    """What one connection (one configuration of a plugin) sends."""
    transport: str = "tcp"       # tcp or udp
    ecn: bool = False            # SYN asks for ECN (ECE|CWR)
    dscp: int = 0                # codepoint on every packet sent
    tfo: bool = False            # TCP Fast Open requested
    evil: bool = False           # IPv4 evil bit set (forged)
    udp_zero_checksum: bool = False
    udp_options: bool = False    # a UDP options area after the datagram (RFC 9868)
    # SYN options the client's kernel adds (net.ipv4.tcp_timestamps, tcp_window_scaling,
    # tcp_sack; all on by default)
    options: frozenset = frozenset({"ts", "ws", "sack"})


@dataclass
class Path:
    """What the path does to a connection; the defaults are a transparent path."""
    reaches: Optional[bool] = True   # None: not predictable (a flapping path)
    reply_ecn: str = "kept"          # kept, cleared or ce: the ECN field of replies
    dscp_at_target: Optional[int] = None  # None: as sent
    mss_rewritten: Optional[int] = None   # MSS of SYN-ACKs as they reach the client
    tfo_option_passes: bool = True
    options_removed: frozenset = frozenset()  # SYN options the target never sees


@dataclass(frozen=True)
class Behaviour:
    name: str
    summary: str
    # (direction, statement): direction is "to" (client -> target) or "from"
    # (target -> client); {ip} stands for the family's nft keyword, ip or ip6.
    rules: tuple
    effect: Callable[[Connection, int, Path], None]
    families: tuple = (4, 6)  # families the rules exist for
    sets: tuple = ()  # (name, nft set definition) the rules use


def _none(conn, family, path):
    pass


def _offline(conn, family, path):
    path.reaches = False


def _flap(conn, family, path):
    path.reaches = None


def _ecn_syn_drop(conn, family, path):
    if conn.ecn:
        path.reaches = False


def _ect_bleach(conn, family, path):
    path.reply_ecn = "cleared"


def _ce_mark(conn, family, path):
    path.reply_ecn = "ce"


def _dscp_bleach(conn, family, path):
    path.dscp_at_target = 0


def _dscp_drop(conn, family, path):
    if conn.dscp:
        path.reaches = False


def _mss_clamp(conn, family, path):
    path.mss_rewritten = CLAMPED_MSS


def _tfo_strip(conn, family, path):
    path.tfo_option_passes = False


def _tcpopt_strip(conn, family, path):
    path.options_removed = frozenset({"ts", "sack"})


def _evil_drop(conn, family, path):
    if conn.evil and family == 4:
        path.reaches = False


def _udp_zero_drop(conn, family, path):
    if conn.udp_zero_checksum:
        path.reaches = False


def _udp_surplus_drop(conn, family, path):
    if conn.udp_options:
        path.reaches = False


# nftables compares no two fields, but a concatenation can be looked up: the pairs
# (UDP length, IP length) of datagrams with nothing after their UDP length (IPv4 without
# options: 20 more; IPv6: the payload length is the UDP length).
UDP_WHOLE = (
    ("udp_whole_ip", "typeof udp length . ip length; elements = { " +
     ", ".join(f"{n} . {n + 20}" for n in range(8, 1481)) + " }"),
    ("udp_whole_ip6", "typeof udp length . ip6 length; elements = { " +
     ", ".join(f"{n} . {n}" for n in range(8, 1501)) + " }"))


BEHAVIOURS = [
    Behaviour("transparent", "forwards everything unchanged", (), _none),
    Behaviour("offline", "drops everything (an unreachable target)",
              (("to", "drop"), ("from", "drop")), _offline),
    Behaviour("flap", "drops half the packets at random, both ways (transient failures)",
              (("to", "numgen random mod 2 == 0 drop"),
               ("from", "numgen random mod 2 == 0 drop")), _flap),
    Behaviour("ecn-syn-drop", "drops SYNs that ask for ECN (ECE or CWR set)",
              (("to", "tcp flags & (syn|ack) == syn tcp flags & (ecn|cwr) != 0 drop"),),
              _ecn_syn_drop),
    Behaviour("ect-bleach", "clears the ECN field of every packet, both ways",
              (("to", "{ip} ecn set not-ect"), ("from", "{ip} ecn set not-ect")), _ect_bleach),
    # The kernel retransmits lost segments without ECT, so connections still work;
    # only the marks are lost.
    Behaviour("ect-drop", "drops ECT(0)/ECT(1)-marked packets, both ways",
              (("to", "{ip} ecn { ect0, ect1 } drop"),
               ("from", "{ip} ecn { ect0, ect1 } drop")), _ect_bleach),
    # Both ways, as a congested queue would in either direction: what reaches the client
    # is what the plugins see, what reaches the target is what --locate's quotes show.
    Behaviour("ce-mark", "marks ECT packets Congestion Experienced, both ways",
              (("to", "{ip} ecn { ect0, ect1 } {ip} ecn set ce"),
               ("from", "{ip} ecn { ect0, ect1 } {ip} ecn set ce")), _ce_mark),
    Behaviour("dscp-bleach", "resets the DSCP of packets to the target to 0",
              (("to", "{ip} dscp set cs0"),), _dscp_bleach),
    Behaviour("dscp-drop", "drops packets to the target with a non-zero DSCP",
              (("to", "{ip} dscp != cs0 drop"),), _dscp_drop),
    # Both ways, as an MSS clamp on a tunnel's router does (the target's SYN-ACK still
    # carries its own MSS: Linux advertises what its route allows, whatever it got).
    Behaviour("mss-clamp", f"rewrites the MSS of SYNs and SYN-ACKs to {CLAMPED_MSS}",
              (("to", f"tcp flags & (syn|ack) == syn tcp option maxseg size set "
                      f"{CLAMPED_MSS}"),
               ("from", f"tcp flags & (syn|ack) == syn|ack tcp option maxseg size set "
                        f"{CLAMPED_MSS}")), _mss_clamp),
    # Linux retries with the experimental kind (254, RFC 6994) when no cookie comes back
    # on 34: both are overwritten.
    Behaviour("tfo-strip", "overwrites TCP Fast Open options (kinds 34 and 254) with NOPs",
              (("to", "reset tcp option fastopen reset tcp option 254"),
               ("from", "reset tcp option fastopen reset tcp option 254")), _tfo_strip),
    # A target only answers the options the client's SYN offered, so its SYN-ACK has none
    # of those removed on the way there.
    Behaviour("tcpopt-strip",
              "overwrites the timestamp and SACK-permitted options of SYNs to the target "
              "with NOPs",
              (("to", "tcp flags & (syn|ack) == syn reset tcp option timestamp "
                      "reset tcp option sack-perm"),), _tcpopt_strip),
    Behaviour("evil-drop", "drops IPv4 packets with the evil bit (RFC 3514) set",
              (("to", "ip frag-off & 0x8000 != 0 drop"),), _evil_drop, families=(4,)),
    Behaviour("udp-zero-drop", "drops UDP packets whose checksum is zero",
              (("to", "udp checksum 0 drop"),), _udp_zero_drop),
    Behaviour("udp-surplus-drop",
              "drops UDP datagrams whose IP length exceeds their UDP length (options)",
              (("to", "udp length . {ip} length != @udp_whole_{ip} drop"),), _udp_surplus_drop,
              sets=UDP_WHOLE),
]

BY_NAME = {b.name: b for b in BEHAVIOURS}


def path_for(behaviour: str, conn: Connection, family: int) -> Path:
    path = Path()
    BY_NAME[behaviour].effect(conn, family, path)
    return path
