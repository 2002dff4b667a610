#!/usr/bin/env python3
"""pspdr-observe under faults, on a veth pair between two network namespaces of its own.

  observe_fault_test.py BUILD_DIR

- SIGINT or SIGTERM at random moments (from the first millisecond on), AF_PACKET and
  AF_XDP: the run ends cleanly (exit 0; or by the signal if it came before anything was
  set up), every record written is whole JSON, the XDP program is detached and no
  process is left; two signals in a row end it by the
  signal, still detached.
- Least privilege: while capturing, AF_PACKET runs as nobody with no capability and
  AF_XDP as nobody with CAP_NET_ADMIN only (to detach its program).
- SIGKILL (nothing can be undone then): the next start names the stale program and
  the fix, and starts once the fix is applied.
- The interface going down and up: said on stderr both times, and capture goes on.
- A ring that fills (the observer stopped by SIGSTOP while 100,000 packets arrive): the
  losses are counted and reported, observed plus dropped (plus what the kernel dropped
  before the interface, read off its counters) covers what was sent, and
  capture goes on.
- No privileges, a missing interface, an unwritable output: one-line errors, exit 1,
  nothing left attached.
"""
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from support.processes import leftovers, process_status
from checks import check, finish

if os.geteuid() != 0:
    print("skipped: needs root for network namespaces and XDP")
    sys.exit(77)
build = Path(sys.argv[1])
observe = str(build / "cli/pspdr-observe")
tag = f"pf{os.getpid() % 100000}"
ns_a, ns_b, if_a, if_b = f"{tag}a", f"{tag}b", f"{tag}x", f"{tag}y"


def sh(*args, ns=None, check_rc=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, check=check_rc)


def xdp_attached():
    return "xdp" in sh("ip", "-n", ns_b, "link", "show", if_b).stdout


def kernel_drops():
    """Packets the kernel dropped before any observer could see them: the sender's veth
    counts those its peer's ring had no room for (native XDP), softnet_stat those the
    backlog had none for. On a loaded machine the burst outruns the receiving softirq."""
    link = json.loads(sh("ip", "-j", "-s", "link", "show", if_a, ns=ns_a).stdout)[0]
    softnet = sum(int(line.split()[1], 16) for line in open("/proc/net/softnet_stat"))
    return link["stats64"]["tx"]["dropped"] + softnet


def start(*args, output):
    return subprocess.Popen(["ip", "netns", "exec", ns_b, observe, *args, "--output", str(output),
                             "tcp", "basic"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def capturing(p):
    """Waits until the observer says it captures (its source is open: a loaded machine
    may take seconds to get there); returns what it wrote on stderr until then."""
    seen = ""
    while "capturing on" not in seen:
        line = p.stderr.readline()
        if not line:
            break
        seen += line
    return seen


def records(path):
    lines = path.read_text().splitlines() if path.exists() else []
    try:
        return [json.loads(line) for line in lines]
    except json.JSONDecodeError:
        return None


work = Path(f"/tmp/{tag}")
work.mkdir(exist_ok=True)
traffic = None
try:
    subprocess.run(["mount", "-t", "bpf", "bpf", "/sys/fs/bpf"], capture_output=True)
    for ns in (ns_a, ns_b):
        sh("ip", "netns", "add", ns)
    sh("ip", "link", "add", if_a, "netns", ns_a, "type", "veth", "peer", "name", if_b,
       "netns", ns_b)
    for ns, iface, addr in ((ns_a, if_a, "10.78.0.1/24"), (ns_b, if_b, "10.78.0.2/24")):
        sh("ip", "addr", "add", addr, "dev", iface, ns=ns)
        sh("ip", "link", "set", iface, "up", ns=ns)
    # AF_XDP takes every packet from the kernel, ARP included: the sender's neighbour entry
    # would expire unanswered (after a random 15-45 s) and a burst never leave it. Fixed
    # entries, as on a tap.
    for ns, iface, peer_ns, peer_if, peer_addr in ((ns_a, if_a, ns_b, if_b, "10.78.0.2"),
                                                  (ns_b, if_b, ns_a, if_a, "10.78.0.1")):
        mac = json.loads(sh("ip", "-j", "link", "show", peer_if, ns=peer_ns).stdout)[0]["address"]
        sh("ip", "neigh", "replace", peer_addr, "lladdr", mac, "dev", iface, "nud", "permanent",
           ns=ns)
    # Steady traffic across the pair: UDP datagrams to many ports, i.e. many flows.
    traffic = subprocess.Popen(
        ["ip", "netns", "exec", ns_a, sys.executable, "-c",
         "import socket, time\n"
         "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
         "i = 0\n"
         "while True:\n"
         "    s.sendto(b'x' * 64, ('10.78.0.2', 20000 + i % 500)); i += 1\n"
         "    time.sleep(0.0005)\n"])

    rng = random.Random(int(os.environ.get("PSPDR_FAULT_SEED", "3")))
    modes = {"AF_PACKET": ["-i", if_b], "AF_XDP": ["--xdp", if_b]}
    for name, args in modes.items():
        # Least privilege, read off the running process.
        out = work / "privileges.ndjson"
        p = start(*args, output=out)
        time.sleep(1.5)
        st = process_status(p.pid)
        want = "0000000000000000" if name == "AF_PACKET" else f"{1 << 12:016x}"
        check(st.get("Uid", "").split()[:1] == ["65534"] and st.get("CapEff") == want and
              st.get("CapBnd") == want,
              f"{name}: captures as nobody with CapEff {st.get('CapEff')} (want {want})")
        p.send_signal(signal.SIGINT)
        p.wait(timeout=30)

        for i in range(6):
            sig = (signal.SIGINT, signal.SIGTERM)[i % 2]
            delay = rng.choice([0.0, 0.001, 0.02, 0.1, 0.4, 1.0, 2.0])
            out = work / f"{name}-{i}.ndjson"
            p = start(*args, output=out)
            time.sleep(delay)
            p.send_signal(sig)
            rc = p.wait(timeout=30)
            recs = records(out)
            # A signal before the program reached its handlers (while it was still being
            # loaded) ends it, as it should: nothing was changed or measured yet.
            early = rc == -sig and not recs
            said = "" if rc in (0, -sig) else f" ({p.stderr.read().strip()})"
            check((rc == 0 or early) and recs is not None and not xdp_attached()
                  and not leftovers(observe),
                  f"{name}: {sig.name} after {delay} s: exit {rc}{said}, "
                  f"{len(recs) if recs is not None else 'broken'} whole records, "
                  f"XDP {'still attached' if xdp_attached() else 'detached'}")
        # Two signals in a row: the second ends it at once, by the signal.
        p = start(*args, output=work / "twice.ndjson")
        time.sleep(1)
        p.send_signal(signal.SIGINT)
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=30)
        check(rc in (0, -signal.SIGTERM, -signal.SIGINT) and not xdp_attached()
              and not leftovers(observe),
              f"{name}: SIGINT then SIGTERM: exit {rc}, nothing left attached")

        # The interface goes down, and up again.
        out = work / f"{name}-down.ndjson"
        p = start(*args, output=out)
        err = capturing(p)
        time.sleep(1.5)
        sh("ip", "link", "set", if_b, "down", ns=ns_b)
        time.sleep(2.5)
        sh("ip", "link", "set", if_b, "up", ns=ns_b)
        sh("ip", "addr", "replace", "10.78.0.2/24", "dev", if_b, ns=ns_b)
        time.sleep(2.5)
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=30)
        err += p.stderr.read()
        check(rc == 0 and "is down" in err and "receives again" in err and records(out),
              f"{name}: interface down and up: said both times, exit {rc}, "
              f"{len(records(out) or [])} records")

        # A ring that fills: the observer frozen while a burst of many times the ring's
        # size (-B 1024: 1 MiB, some 6,000 of these packets) arrives.
        out = work / f"{name}-ring.ndjson"
        p = start(*args, "-B", "1024", output=out)
        err = capturing(p)
        time.sleep(0.5)
        p.send_signal(signal.SIGSTOP)
        burst = 100000
        lost_before = kernel_drops()
        sh(sys.executable, "-c",
           "import socket\n"
           "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
           f"for i in range({burst}): s.sendto(b'y' * 64, ('10.78.0.2', 9))\n", ns=ns_a)
        kernel = kernel_drops() - lost_before
        p.send_signal(signal.SIGCONT)
        time.sleep(1.5)
        p.send_signal(signal.SIGINT)
        rc = p.wait(timeout=30)
        err += p.stderr.read()
        dropped = int(next((l.split()[1] for l in err.splitlines()
                            if "packets dropped before the observer" in l), "-1"))
        seen = int(next((l.split()[1] for l in err.splitlines() if " packets (" in l), "-1"))
        check(rc == 0 and dropped > 0 and seen + dropped + kernel >= burst and records(out),
              f"{name}: a full ring: {dropped} packets counted as dropped, {seen} observed "
              f"({kernel} dropped by the kernel before reaching the interface), of a "
              f"{burst}-packet burst and the steady traffic; exit {rc}")

    # SIGKILL leaves the program attached; the next start says so and how to fix it.
    p = start("--xdp", if_b, output=work / "kill.ndjson")
    time.sleep(1.5)
    p.kill()
    p.wait()
    p = start("--xdp", if_b, "--duration", "1", output=work / "after-kill.ndjson")
    rc = p.wait(timeout=30)
    err = p.stderr.read().strip()
    check(rc == 1 and f"ip link set {if_b} xdp off" in err,
          f"after SIGKILL: the next start exits {rc}: {err}")
    sh("ip", "link", "set", if_b, "xdp", "off", ns=ns_b)
    p = start("--xdp", if_b, "--duration", "1", output=work / "after-fix.ndjson")
    rc = p.wait(timeout=30)
    check(rc == 0 and not xdp_attached(), f"after the fix it runs (exit {rc}) and detaches")

    # Errors: one line each, exit 1, nothing attached.
    cases = [
        ("no privileges", ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           "--inh-caps=-all", "--bounding-set=-all", observe, "--xdp", if_b,
                           "--duration", "1", "tcp"], "needs"),
        ("no privileges, AF_PACKET", ["setpriv", "--reuid=65534", "--regid=65534",
                                      "--clear-groups", "--inh-caps=-all",
                                      "--bounding-set=-all", observe, "-i", if_b, "--duration",
                                      "1", "tcp"], "CAP_NET_RAW"),
        ("no interface", [observe, "--xdp", "nosuch0", "tcp"], "no interface nosuch0"),
        ("output on a full disk", [observe, "--xdp", if_b, "--duration", "2", "--output",
                                   "/dev/full", "tcp"], "No space left on device"),
    ]
    for label, cmd, words in cases:
        p = subprocess.run(["ip", "netns", "exec", ns_b, *cmd], capture_output=True, text=True,
                           timeout=60)
        lines = [l for l in p.stderr.splitlines() if "libxdp" not in l and "libbpf" not in l]
        said = next((l for l in lines if words in l), None)
        check(p.returncode == 1 and said is not None and not xdp_attached(),
              f"{label}: exit {p.returncode}: {said or p.stderr.strip()}")
finally:
    if traffic:
        traffic.kill()
        traffic.wait()
    for ns in (ns_a, ns_b):
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    subprocess.run(["rm", "-rf", str(work)])
sys.exit(finish("observe fault test passed"))
