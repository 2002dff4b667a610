#!/usr/bin/env python3
"""The lab does what it says: brings a lab up, checks every middlebox behaviour with
tools no one here wrote (curl, dig, scapy, ping, nft counters, tcpdump; the project's
observer reads tcpdump's trace for the marks), then tears it down and checks that no
namespace, veth, process or state is left behind.
  lab_test.py SOURCE_DIR BUILD_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from checks import check, finish, lab_runner

if os.geteuid() != 0:
    print("skipped: needs root for network namespaces")
    sys.exit(77)
source, build = Path(sys.argv[1]), Path(sys.argv[2])
lab_name = f"pspdr-labtest{os.getpid()}"
lab = lab_runner(source, lab_name)


def sh(*cmd, check=False, timeout=30):
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=timeout)


def run_tests(work):
    print(lab("up", "--targets", "200", "--seed", "7"), end="")
    print(lab("up", "--targets", "200", "--seed", "7"), end="")  # again: replaces the first
    status = dict(line.split("=", 1) for line in lab("status").splitlines())
    client, iface = status["client_netns"], status["client_iface"]
    check(status["state"] == "up" and status["targets"] == "200", "status: up, 200 targets")
    check(all(status[f"server_{s}"] == "running" for s in ("nginx", "apache2", "dnsmasq")),
          "status: nginx, apache2 and dnsmasq running")
    jobs = [json.loads(line) for line in lab("jobs").splitlines()]
    check(len(jobs) == 200, "jobs: one per target")

    def target(behaviour, family=4):
        return next(j for j in jobs if j["lab_behaviour"] == behaviour
                    and (":" in j["dip"]) == (family == 6))

    def client_run(*cmd, timeout=30):
        return sh("ip", "netns", "exec", client, *cmd, timeout=timeout)

    def curl(job, *opts, scheme="http", port=None):
        """HTTP version and status of one request, or None when it fails."""
        host = f"[{job['dip']}]" if ":" in job["dip"] else job["dip"]
        port = port or {"http": 80, "https": 443}[scheme]
        p = client_run("curl", "-sk", "-m", "3", "-o", "/dev/null", "-w",
                       "%{http_version} %{http_code}", "--connect-to",
                       f"::{host}:{port}", *opts, f"{scheme}://{job['domain']}:{port}/")
        return p.stdout if p.returncode == 0 else None

    def ecn(value, fallback=1):
        client_run("sysctl", "-qw", f"net.ipv4.tcp_ecn={value}",
                   f"net.ipv4.tcp_ecn_fallback={fallback}")

    def counter(comment):
        rules = json.loads(sh("ip", "netns", "exec", status["middlebox_netns"], "nft", "-j",
                              "list", "ruleset", check=True).stdout)["nftables"]
        for r in rules:
            if r.get("rule", {}).get("comment") == comment:
                return next(e["counter"]["packets"] for e in r["rule"]["expr"] if "counter" in e)
        raise KeyError(comment)

    def tos_fetch(job, tos):
        """A GET with the given TOS byte from a kernel socket; True when it completes."""
        code = f"""
import socket
fam = socket.AF_INET6 if ":" in "{job['dip']}" else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM); s.settimeout(3)
s.setsockopt(socket.IPPROTO_IP if fam == socket.AF_INET else socket.IPPROTO_IPV6,
             socket.IP_TOS if fam == socket.AF_INET else socket.IPV6_TCLASS, {tos})
s.connect(("{job['dip']}", 80)); s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
while s.recv(4096): pass
"""
        return client_run("python3", "-c", code).returncode == 0

    # Everything the client sends or receives is captured for the observer checks.
    pcap = work / "lab.pcap"
    tcpdump = subprocess.Popen(["ip", "netns", "exec", client, "tcpdump", "-i", iface, "-U",
                                "-w", str(pcap)], stderr=subprocess.PIPE, text=True)
    while "listening on" not in tcpdump.stderr.readline():
        pass

    # Servers on a transparent path, both families.
    for family in (4, 6):
        t = target("transparent", family)
        check(curl(t) == "1.1 200", f"transparent IPv{family}: HTTP/1.1 from nginx")
        check(curl(t, "--http2", scheme="https") == "2 200",
              f"transparent IPv{family}: HTTPS negotiates HTTP/2 with nginx")
        check(curl(t, "--http2", port=8080) == "2 200",
              f"transparent IPv{family}: h2c upgrade on 8080 with apache2")
        rr = "A" if family == 4 else "AAAA"
        for transport in ("+notcp", "+tcp"):
            answer = client_run("dig", "+short", "+time=2", "+tries=1", transport,
                                f"@{t['dip']}", t["domain"], rr).stdout.strip()
            check(answer == t["dip"], f"transparent IPv{family}: dig {transport} {rr} answers")

    # offline: nothing gets through.
    for family in (4, 6):
        t = target("offline", family)
        check(curl(t) is None, f"offline IPv{family}: HTTP fails")
    check(counter("offline to v4") > 0 and counter("offline to v6") > 0,
          "offline: drop counters count")

    # flap: some packets pass, some do not.
    t = target("flap")
    out = client_run("ping", "-c", "60", "-i", "0.01", "-W", "1", t["dip"]).stdout
    received = int(out.split(" received")[0].rsplit(" ", 1)[1])
    check(0 < received < 60, f"flap: {received} of 60 pings answered")

    # ecn-syn-drop: fails only when the SYN asks for ECN -- unless the kernel falls back
    # (its default): it retries without ECN and the path looks transparent.
    for family in (4, 6):
        t = target("ecn-syn-drop", family)
        ecn(1, fallback=0)
        failed = curl(t) is None
        ecn(1)
        retried = curl(t) == "1.1 200"
        ecn(0)
        check(failed and retried and curl(t) == "1.1 200",
              f"ecn-syn-drop IPv{family}: fails with ECN, works without, and with the "
              "kernel's fallback")
    check(counter("ecn-syn-drop to v4") > 0, "ecn-syn-drop: counter counts")

    # Marks on the way back, read from the trace afterwards: ECN, DSCP, MSS, TFO.
    ecn(1)
    for b in ("transparent", "ect-bleach", "ect-drop", "ce-mark"):
        check(curl(target(b)) == "1.1 200", f"{b}: HTTP with ECN works")
    ecn(2)
    for b, family in (("transparent", 4), ("dscp-bleach", 4), ("dscp-bleach", 6)):
        check(tos_fetch(target(b, family), 0xC0), f"{b} IPv{family}: GET with DSCP 48 works")
    for family in (4, 6):
        t = target("dscp-drop", family)
        check(not tos_fetch(t, 0xC0) and tos_fetch(t, 0),
              f"dscp-drop IPv{family}: fails with DSCP 48, works with 0")
    for b, family in (("transparent", 6), ("mss-clamp", 4), ("mss-clamp", 6),
                      ("tcpopt-strip", 4), ("tcpopt-strip", 6)):
        check(curl(target(b, family)) == "1.1 200", f"{b} IPv{family}: HTTP works")
    for b in ("transparent", "tfo-strip"):
        for _ in range(2):  # the first earns a cookie, the second carries data on its SYN
            check(curl(target(b), "--tcp-fastopen") == "1.1 200", f"{b}: HTTP with TFO works")
    check(counter("ect-bleach from v4") > 0 and counter("ect-drop from v4") > 0
          and counter("ce-mark from v4") > 0, "ECN rules count packets")
    check(counter("mss-clamp from v4") > 0 and counter("tfo-strip to v4") > 0,
          "MSS and TFO rules count packets")

    # Forged packets (scapy): the evil bit and a zero UDP checksum.
    forge = f"""
import json
from scapy.all import IP, IPv6, TCP, UDP, DNS, DNSQR, sr1, conf
conf.verb = 0
def ip(dip): return IPv6(dst=dip) if ":" in dip else IP(dst=dip)
def syn(dip, evil):
    p = ip(dip) / TCP(sport=40000 + evil, dport=80, flags="S")
    if evil: p.flags = "evil"
    r = sr1(p, timeout=2)
    return r is not None and r.haslayer(TCP) and r[TCP].flags.S and r[TCP].flags.A
def dns(job, zero):
    u = UDP(sport=41000 + zero, dport=53) / DNS(qd=DNSQR(qname=job["domain"]))
    if zero: u.chksum = 0
    r = sr1(ip(job["dip"]) / u, timeout=2)
    return r is not None and r.haslayer(DNS)
def surplus(job, extra):
    # A UDP length short of the IP length: bytes after the datagram (checksum 0: IPv4).
    d = DNS(qd=DNSQR(qname=job["domain"]))
    u = UDP(sport=42000 + extra, dport=53, len=8 + len(bytes(d)), chksum=0) / d / bytes(extra)
    r = sr1(IP(dst=job["dip"]) / u, timeout=2)
    return r is not None and r.haslayer(DNS)
jobs = json.loads('''{json.dumps({b + str(f): target(b, f) for b in
                                  ("transparent", "evil-drop", "udp-zero-drop", "udp-surplus-drop")
                                  for f in (4, 6)})}''')
print(json.dumps({{
  "evil_transparent": syn(jobs["transparent4"]["dip"], 1),
  "evil_drop": syn(jobs["evil-drop4"]["dip"], 1),
  "plain_evil_drop": syn(jobs["evil-drop4"]["dip"], 0),
  "zero_transparent4": dns(jobs["transparent4"], 1),
  "zero_transparent6": dns(jobs["transparent6"], 1),
  "zero_drop": dns(jobs["udp-zero-drop4"], 1),
  "plain_drop": dns(jobs["udp-zero-drop4"], 0),
  "surplus_transparent": surplus(jobs["transparent4"], 6),
  "surplus_drop": surplus(jobs["udp-surplus-drop4"], 6),
  "plain_surplus_drop": surplus(jobs["udp-surplus-drop4"], 0),
}}))
"""
    p = client_run("/usr/bin/python3", "-c", forge, timeout=60)  # Debian's, with scapy
    r = json.loads(p.stdout) if p.returncode == 0 else {}
    check(p.returncode == 0, "scapy probes ran " + p.stderr.strip()[-200:])
    check(r.get("evil_transparent") and not r.get("evil_drop") and r.get("plain_evil_drop"),
          "evil-drop: evil SYN unanswered, plain SYN answered; transparent answers evil SYN")
    check(counter("evil-drop to v4") > 0, "evil-drop: counter counts")
    check(r.get("zero_transparent4") and not r.get("zero_drop") and r.get("plain_drop"),
          "udp-zero-drop: zero-checksum query unanswered, checksummed query answered")
    check(r.get("zero_transparent6") is False,
          "IPv6 target drops a zero-checksum UDP query itself (RFC 8200)")
    check(counter("udp-zero-drop to v4") > 0, "udp-zero-drop: counter counts")
    check(r.get("surplus_transparent") and not r.get("surplus_drop")
          and r.get("plain_surplus_drop"),
          "udp-surplus-drop: a datagram with bytes after its UDP length unanswered, a whole "
          "one answered; transparent answers both")
    check(counter("udp-surplus-drop to v4") > 0, "udp-surplus-drop: counter counts")

    time.sleep(0.5)
    tcpdump.terminate()
    tcpdump.wait()
    records = [json.loads(line) for line in sh(
        str(build / "cli/pspdr"), "observe", "-q", "-i", str(pcap), "basic", "tcp", "ecn",
        "dscp", "mss", "tfo", "tcpopt", check=True).stdout.splitlines()]

    def flows(job):
        return sorted((f for f in records if f["dip"] == job["dip"] and f["proto"] == 6
                       and f["tcp_connected"]), key=lambda f: f["pkt_first"])

    def ecn_flow(b):
        return next(f for f in flows(target(b)) if f["tcp_synflags_fwd"] & 0xC0)

    check(ecn_flow("transparent")["ecn_ect0_data_rev"], "transparent: ECT(0) comes back")
    for b in ("ect-bleach", "ect-drop"):
        f = ecn_flow(b)
        check(not f["ecn_ect0_data_rev"] and not f["ecn_ce_data_rev"],
              f"{b}: no ECT(0) comes back")
    f = ecn_flow("ce-mark")
    check(f["ecn_ce_data_rev"] and not f["ecn_ect0_data_rev"], "ce-mark: CE comes back")
    dscp = {(b, fam): next(f["dscp_mark_syn_rev"] for f in flows(target(b, fam))
                           if f["dscp_mark_syn_fwd"] == 48)
            for b, fam in (("transparent", 4), ("dscp-bleach", 4), ("dscp-bleach", 6))}
    check(dscp[("transparent", 4)] == 48, "transparent: the target reflects DSCP 48")
    check(dscp[("dscp-bleach", 4)] == 0 and dscp[("dscp-bleach", 6)] == 0,
          "dscp-bleach: the target saw DSCP 0")
    mss = {(b, fam): flows(target(b, fam))[0]["mss_value_rev"]
           for b, fam in (("transparent", 4), ("transparent", 6), ("mss-clamp", 4),
                          ("mss-clamp", 6))}
    check(mss == {("transparent", 4): 1460, ("transparent", 6): 1440, ("mss-clamp", 4): 1200,
                  ("mss-clamp", 6): 1200}, f"MSS of SYN-ACKs: {mss}")
    tfo = flows(target("transparent"))[-1]
    check(tfo["tfo_synclen"] == 8 and tfo["tfo_dlen"] > 0 and tfo["tfo_ack"] - tfo["tfo_seq"]
          == tfo["tfo_dlen"] + 1, "transparent: TFO cookie used, data on the SYN acked")
    # The client offers all three options; the target answers those its SYN still had.
    options = {(b, fam): tuple(flows(target(b, fam))[0][f"tcpopt_{o}"] for o in ("ts", "ws", "sack"))
               for b, fam in (("transparent", 4), ("tcpopt-strip", 4), ("tcpopt-strip", 6))}
    check(options == {("transparent", 4): (True, True, True), ("tcpopt-strip", 4):
                      (None, True, None), ("tcpopt-strip", 6): (None, True, None)},
          f"tcpopt-strip: no timestamps or SACK-permitted come back, window scale does: {options}")
    stripped = flows(target("tfo-strip"))[-1]
    check(stripped["tfo_synclen"] == 0 and stripped["tfo_dlen"] == 0,
          "tfo-strip: no cookie ever arrives")

    # The truth as jobs: every plugin and mode, flapping targets unpredictable.
    for plugin, modes in (("ecn", ("http", "https", "tcp", "dnstcp")),
                          ("dscp", ("http", "tcp", "dnstcp", "dnsudp")),
                          ("evilbit", ("tcpsyn", "dnsudp")), ("h2", ("http", "https")),
                          ("mss", ("tcp",)), ("tfo", ("dnstcp", "http")), ("udpzero", ("dnsudp",)),
                          ("udpopts", ("dnsudp",))):
        for mode in modes:
            js = [json.loads(line) for line in
                  lab("jobs", "--plugin", plugin, "--connect", mode).splitlines()]
            ok = all((j["expected_conditions"] is None) == (j["lab_behaviour"] == "flap")
                     for j in js) and all(c.startswith(plugin + ".") or c.startswith("dscp.")
                                          for j in js for c in j["expected_conditions"] or [])
            check(ok and len(js) == 200, f"jobs --plugin {plugin} --connect {mode}")
    by = {j["lab_behaviour"] + str(":" in j["dip"]): j["expected_conditions"] for j in
          map(json.loads, lab("jobs", "--plugin", "udpzero").splitlines())}
    check(by["transparentFalse"] == ["udpzero.connectivity.works"] and by["transparentTrue"]
          == ["udpzero.connectivity.broken"], "udpzero truth: IPv4 works, IPv6 broken")


with tempfile.TemporaryDirectory() as work:
    try:
        run_tests(Path(work))
    finally:
        print(lab("down"), end="")
left = [ns for ns in sh("ip", "netns", "list").stdout.split() if ns.startswith(lab_name)]
check(not left, f"down: no namespace left ({left})")
check(not Path(f"/run/{lab_name}").exists(), "down: state directory removed")
procs = sh("pgrep", "-af", f"/run/{lab_name}/").stdout.strip()
check(not procs, f"down: no server left running ({procs})")
links = sh("ip", "-o", "link", "show").stdout
check("lab-c" not in links and "mbox-" not in links, "down: no veth in the root namespace")
check("lab: removed nothing" in lab("down"), "down again: nothing to remove")
sys.exit(finish("lab test passed"))
