"""The truth of the lab as PATHspider jobs: for a target (address, behaviour) and a
plugin with its connection mode, the conditions the plugin should report.

Each configuration's connection is run through the target's behaviour
(behaviours.py) to predict the flow record the observer will make; the plugin's
combiner, as PATHspider 2.0.1 writes it, turns the records into conditions.
What the lab's targets do (set up by `scripts/lab up`): answer ECN (tcp_ecn=2),
reflect the DSCP of a SYN in their replies (tcp_reflect_tos=1), accept TCP Fast Open
on every listener, serve HTTP on 80 (nginx), HTTPS with HTTP/2 on 443 (nginx),
HTTP with the h2c upgrade on 8080 (apache2) and DNS on 53 over UDP and TCP (dnsmasq).
"""
from dataclasses import dataclass, replace

from .behaviours import Connection, path_for

CONN_OK, CONN_TIMEOUT = 0, 2  # PATHspider 2.0.1's codes
TCP_SYN, TCP_ACK, TCP_ECE, TCP_CWR = 0x02, 0x10, 0x40, 0x80
# MSS of a kernel on a 1500-byte link: what the client sends and an unmodified target
# answers.
LOCAL_MSS = {4: 1460, 6: 1440}
H2C_PORT = 8080


@dataclass(frozen=True)
class Mode:
    port: int
    transport: str
    client_data: bool  # the client sends payload after the handshake
    server_data: bool  # the target answers with payload
    dns: bool = False


MODES = {
    "http": Mode(80, "tcp", True, True),
    "https": Mode(443, "tcp", True, True),
    "tcp": Mode(80, "tcp", False, False),
    "tcpsyn": Mode(80, "tcp", False, False),
    "dnstcp": Mode(53, "tcp", True, True, dns=True),
    "dnsudp": Mode(53, "udp", True, True, dns=True),
}


class Unpredictable(Exception):
    """The target's path is transient: no condition can be promised."""


def predict(conn: Connection, mode: Mode, family: int, behaviour: str) -> dict:
    """The flow record fields the observer should see for one connection."""
    path = path_for(behaviour, conn, family)
    if path.reaches is None:
        raise Unpredictable
    reaches = path.reaches
    if conn.udp_zero_checksum and family == 6:
        reaches = False  # RFC 8200: the target's kernel discards it
    tcp = conn.transport == "tcp"
    answered = tcp and reaches
    data_back = reaches and mode.server_data
    negotiated = answered and conn.ecn
    at_target = conn.dscp if path.dscp_at_target is None else path.dscp_at_target
    reply_dscp = at_target if tcp else 0  # TCP reflects the SYN's DSCP; dnsmasq does not
    return {
        "observed": True,
        "spdr_state": CONN_OK if reaches else CONN_TIMEOUT,
        "tcp_connected": answered,
        "tcp_synflags_rev": (TCP_SYN | TCP_ACK | (TCP_ECE if conn.ecn else 0)) if answered else None,
        "ecn_ect0_rev": negotiated and data_back and path.reply_ecn == "kept",
        "ecn_ect1_rev": False,
        "ecn_ce_rev": negotiated and data_back and path.reply_ecn == "ce",
        "dscp_mark_syn_fwd": conn.dscp if tcp else None,
        "dscp_mark_data_fwd": conn.dscp if mode.client_data else None,
        "dscp_mark_syn_rev": reply_dscp if answered else None,
        "dscp_mark_data_rev": reply_dscp if data_back else None,
        "mss_value_fwd": LOCAL_MSS[family] if tcp else None,
        "mss_value_rev": (path.mss_rewritten or LOCAL_MSS[family]) if answered else None,
        "tfo_cookie": conn.tfo and answered and path.tfo_option_passes,
        "evilbit_rev": False,  # no kernel sets it
        "dns_response_valid": reaches and mode.dns,
        # the target's SYN-ACK carries an option when the SYN that reached it offered it
        **{"tcpopt_" + o: answered and o in conn.options - path.options_removed
           for o in ("ts", "ws", "sack")},
    }


def connectivity(prefix, baseline, experimental=None):
    """PATHspider's combine_connectivity."""
    if experimental is None:
        return prefix + (".connectivity.online" if baseline else ".connectivity.offline")
    return prefix + ".connectivity." + {
        (True, True): "works", (True, False): "broken",
        (False, True): "transient", (False, False): "offline"}[(bool(baseline), bool(experimental))]


def ok(flow):
    return flow["spdr_state"] == CONN_OK


def works(flow, job):
    """The connection worked: completed, or with --connect tcpsyn (stateless, forged
    SYNs) the SYN was answered with a SYN-ACK."""
    return flow["tcp_synflags_rev"] is not None if job["mode"] == "tcpsyn" else ok(flow)


def seen(flag):
    return "seen" if flag else "not_seen"


# Each plugin: its connection modes (the first is the default), the connections of its
# configurations, and its combiner, following PATHspider 2.0.1's plugins.
def ecn_combine(flows, job):
    b = flows[1]
    conditions = [connectivity("ecn", works(flows[0], job), works(b, job))]
    if b["tcp_connected"]:
        flags = b["tcp_synflags_rev"] & (TCP_SYN | TCP_ACK | TCP_ECE | TCP_CWR)
        conditions.append("ecn.negotiation." + (
            "succeeded" if flags == TCP_SYN | TCP_ACK | TCP_ECE else
            "reflected" if flags == TCP_SYN | TCP_ACK | TCP_ECE | TCP_CWR else "failed"))
        conditions += ["ecn.ipmark.ect0." + seen(b["ecn_ect0_rev"]),
                       "ecn.ipmark.ect1." + seen(b["ecn_ect1_rev"]),
                       "ecn.ipmark.ce." + seen(b["ecn_ce_rev"])]
    return conditions


def dscp_combine(flows, job, codepoints):
    """As PATHspider's manual has it: dscp.X names the codepoint the connection set; each
    B (after its own A: [A, B1, A, B2, ...]) is judged against that A; every connection
    the target answered has its reply mark, 0 included, once."""
    def name(i):
        return f"dscp.{codepoints[i // 2] if i % 2 else 0}"

    def replymark(f):
        if job["mode"] == "dnsudp":
            return f["dscp_mark_data_rev"] if f["dns_response_valid"] else None
        return f["dscp_mark_syn_rev"] if f["tcp_synflags_rev"] is not None else None

    conditions = [connectivity(name(i), works(flows[i - 1], job), works(flows[i], job))
                  for i in range(1, len(flows), 2)]
    for i, f in enumerate(flows):
        mark = f"{name(i)}.replymark:{replymark(f)}"
        if replymark(f) is not None and mark not in conditions:
            conditions.append(mark)
    return conditions


def evilbit_combine(flows, job):
    if job["mode"] == "dnsudp":
        conn = [f["dns_response_valid"] for f in flows]
    else:
        conn = [f["tcp_synflags_rev"] is not None and
                f["tcp_synflags_rev"] & (TCP_SYN | TCP_ACK) == TCP_SYN | TCP_ACK for f in flows]
    conditions = [connectivity("evilbit", conn[0], conn[1])]
    if conn[0] and conn[1]:
        conditions.append("evilbit.mark." + seen(flows[1]["evilbit_rev"]))
    return conditions


def h2_combine(flows, job):
    conditions = [connectivity("h2", ok(flows[0]), ok(flows[1]))]
    if ok(flows[0]) and ok(flows[1]):
        upgrades = job["mode"] == "https" or job["dp"] == H2C_PORT
        conditions.append("h2.upgrade." + ("success" if upgrades else "failed"))
    return conditions


def mss_combine(flows, job):
    f = flows[0]
    conditions = [connectivity("mss", f["tcp_connected"])]
    if f["tcp_connected"]:
        conditions.append(f"mss.option.local.value:{f['mss_value_fwd']}")
        conditions.append(f"mss.option.remote.value:{f['mss_value_rev']}")
        conditions.append("mss.option.received." + (
            "deflated" if f["mss_value_rev"] < f["mss_value_fwd"] else
            "unchanged" if f["mss_value_rev"] == f["mss_value_fwd"] else "inflated"))
    return conditions


def tfo_combine(flows, job):
    if job["mode"] == "tcpsyn":  # A, then one B asking for a cookie: no data to carry
        conditions = [connectivity("tfo", works(flows[0], job), works(flows[1], job))]
        if works(flows[1], job):
            conditions.append("tfo.cookie." + ("received" if flows[1]["tfo_cookie"]
                                               else "not_received"))
        return conditions
    # The third connection carries data on its SYN when the second earned a cookie.
    conditions = [connectivity("tfo", ok(flows[0]), ok(flows[2]))]
    if ok(flows[2]):
        if flows[1]["tfo_cookie"]:
            conditions += ["tfo.cookie.received", "tfo.syndata.acked"]
        else:
            conditions.append("tfo.cookie.not_received")
    return conditions


def tcpopt_combine(flows, job):
    # PATHspider's tcpopt (its master branch): A with no option, then ts, ws, sack alone.
    names = (("tsopt", "ts"), ("wsopt", "ws"), ("sack", "sack"))
    conditions = [connectivity(name, ok(flows[0]), ok(flows[i + 1]))
                  for i, (name, _) in enumerate(names)]
    for i, (name, option) in enumerate(names):
        if flows[i + 1]["tcp_connected"]:
            conditions.append(f"{name}.negotiation." + (
                "succeeded" if flows[i + 1]["tcpopt_" + option] else "failed"))
    if flows[0]["tcp_connected"]:
        conditions += [f"{name}.unsolicited." + seen(flows[0]["tcpopt_" + option])
                       for name, option in names]
    return conditions


def udpzero_combine(flows, job):
    return [connectivity("udpzero", flows[0]["dns_response_valid"],
                         flows[1]["dns_response_valid"])]


@dataclass(frozen=True)
class Plugin:
    modes: tuple
    connections: tuple  # one Connection per configuration (transport set per mode)
    combine: object
    syn_connections: tuple = None  # with --connect tcpsyn, where they differ


def udpopts_combine(flows, job):
    b = flows[1]["dns_response_valid"]
    conditions = [connectivity("udpopts", flows[0]["dns_response_valid"], b)]
    if b:
        conditions.append("udpopts.reply.options.not_seen")  # dnsmasq sends none
    return conditions


def plugins(codepoints=(48,)):
    return {
        "ecn": Plugin(("http", "https", "tcp", "dnstcp", "tcpsyn"),
                      (Connection(), Connection(ecn=True)), ecn_combine),
        "dscp": Plugin(("http", "tcp", "dnstcp", "dnsudp", "tcpsyn"),
                       tuple(c for cp in codepoints for c in (Connection(), Connection(dscp=cp))),
                       lambda flows, job: dscp_combine(flows, job, codepoints)),
        "evilbit": Plugin(("tcpsyn", "dnsudp"), (Connection(), Connection(evil=True)),
                          evilbit_combine),
        "h2": Plugin(("http", "https"), (Connection(), Connection()), h2_combine),
        "mss": Plugin(("tcp", "http", "https", "dnstcp", "tcpsyn"), (Connection(),),
                      mss_combine),
        "tfo": Plugin(("dnstcp", "http", "tcpsyn"), (Connection(), Connection(tfo=True),
                                                     Connection(tfo=True)), tfo_combine,
                      syn_connections=(Connection(), Connection(tfo=True))),
        "udpzero": Plugin(("dnsudp",), (Connection(), Connection(udp_zero_checksum=True)),
                          udpzero_combine),
        "udpopts": Plugin(("dnsudp",), (Connection(), Connection(udp_options=True)),
                          udpopts_combine),
        # Built out of tree (docs/examples/tcpopt), loaded with --plugin-dir.
        "tcpopt": Plugin(("http", "https", "tcp", "dnstcp"),
                         tuple(Connection(options=frozenset(o))
                               for o in ((), ("ts",), ("ws",), ("sack",))), tcpopt_combine),
    }


def expected_conditions(plugin: Plugin, mode: str, port: int, family: int, behaviour: str):
    """The condition list for one job, or None where the path is transient."""
    m = MODES[mode]
    chosen = plugin.syn_connections if mode == "tcpsyn" and plugin.syn_connections else None
    conns = [replace(c, transport=m.transport) for c in chosen or plugin.connections]
    try:
        flows = [predict(c, m, family, behaviour) for c in conns]
    except Unpredictable:
        return None
    return plugin.combine(flows, {"mode": mode, "dp": port})
