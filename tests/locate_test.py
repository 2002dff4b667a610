#!/usr/bin/env python3
"""pspdr measure --locate and pspdr locate against a lab of four routers (scripts/lab up
--hops 4 --place 1,2,3): every behaviour that changes or drops a probe sits on hop 1, 2
and 3 in turn, over IPv4 and IPv6.

  locate_test.py SOURCE_DIR BUILD_DIR

1. Every such behaviour's jobs name the hop that holds it: the located interval runs
   from that hop to the next (a loss: that hop is the last to answer B, or anyone), and
   the located condition names that hop's address; the plugin's own conditions stay the
   lab's truth; transparent targets are not traced.
2. scamper (trace -t TOS, its udp-paris probes) on the same paths: for the ECN and DSCP
   behaviours, the hop where its quoted TOS (icmp_q_tos, IPv4) first differs from the
   TOS sent is the first hop pspdr saw the change at.
3. Hop 3 quoting only 8 bytes of the transport header (--short-quotes 3): a TCP option
   changed on hop 2 or 3 is located as partial, between hop 2 and hop 4, never at a wrong
   hop; an IP field (the ECN mark) is still located exactly.
4. pspdr locate on one target says the same in its table and in its JSON line.
"""
import json
import os
import subprocess
import sys
from pathlib import Path
from checks import check, finish, lab_runner

if os.geteuid() != 0:
    print("skipped: needs root for network namespaces")
    sys.exit(77)
source, build = Path(sys.argv[1]), Path(sys.argv[2])
lab_name = f"pspdr-ltest{os.getpid()}"
lab = lab_runner(source, lab_name)
pspdr = str(build / "cli/pspdr")

# (plugin, its arguments, the behaviours it locates: name -> (condition's part, a loss?))
CAMPAIGNS = [
    ("ecn", ["--connect", "http"], {"ect-bleach": "ipmark.ect0.changed_at",
                                   "ce-mark": "ipmark.ect0.changed_at",
                                   "ect-drop": "connectivity.broken_at",
                                   "ecn-syn-drop": "connectivity.broken_at",
                                   "offline": "connectivity.offline_after"}),
    ("dscp", ["--connect", "tcp"], {"dscp-bleach": "dscpmark.48.changed_at",
                                    "dscp-drop": "connectivity.broken_at"}),
    ("mss", ["--connect", "tcp"], {"mss-clamp": "option.mss.changed_at"}),
    ("tfo", ["--connect", "tcpsyn"], {"tfo-strip": "option.fastopen.changed_at"}),
    ("evilbit", ["--connect", "tcpsyn"], {"evil-drop": "connectivity.broken_at"}),
    ("udpzero", [], {"udp-zero-drop": "connectivity.broken_at"}),
    ("udpopts", [], {"udp-surplus-drop": "connectivity.broken_at"}),
]
TOS_SENT = {"ect-bleach": 2, "ce-mark": 2, "dscp-bleach": 48 << 2}


def up(*extra):
    lab("up", "--targets", "120", "--hops", "4", "--place", "1,2,3", *extra)
    status = dict(line.split("=", 1) for line in lab("status").splitlines())
    hops = {(k, f): status[f"hop_{k}_ipv{f}"] for k in range(1, 5) for f in (4, 6)}
    return status, hops


def measure(status, plugin, args):
    jobs = lab("jobs", "--plugin", plugin, *args)
    p = subprocess.run(["ip", "netns", "exec", status["client_netns"], pspdr, "measure", "-q",
                        "-i", status["client_iface"], "--locate", "--locate-wait", "0.5",
                        plugin, *args], input=jobs, capture_output=True, text=True, timeout=600)
    if p.returncode:
        print(p.stderr)
    results = [json.loads(line) for line in p.stdout.splitlines()]
    check(p.returncode == 0 and len(results) == len(jobs.splitlines()),
          f"{plugin} {' '.join(args)}: {len(results)} result lines for "
          f"{len(jobs.splitlines())} jobs")
    return results


def family(r):
    return 6 if ":" in r["dip"] else 4


def located(r, condition):
    """The located entry whose condition is `condition`."""
    return next((l for l in r.get("locate", {}).get("located", []) if l["condition"] == condition),
                None)


def check_campaign(plugin, results, behaviours, hops):
    wrong, traced_transparent, checked = [], [], set()
    for r in results:
        b = r["lab_behaviour"]
        if b == "transparent" and "locate" in r and not (plugin == "udpzero" and family(r) == 6):
            traced_transparent.append(r["dip"])
        # A plugin's own conditions come first and stay the lab's truth.
        if r["expected_conditions"] is not None and \
                r["conditions"][:len(r["expected_conditions"])] != r["expected_conditions"]:
            wrong.append(f"{r['dip']} {b}: conditions {r['conditions']}")
        if b not in behaviours or (b == "evil-drop" and family(r) == 6):
            continue
        h = r["lab_hop"]
        checked.add((b, h, family(r)))
        want = f"{plugin}.{behaviours[b]}:{hops[(h, family(r))]}"
        entry = located(r, want)
        if not entry or entry["after_ttl"] != h or (
                not want.split(":")[0].endswith("offline_after") and entry["before_ttl"] != h + 1):
            wrong.append(f"{r['dip']} {b} on hop {h}: {r['conditions']} "
                         f"{r.get('locate', {}).get('located')}")
    # Every behaviour on each of hops 1-3, in each family it applies to.
    missing = [(b, h, f) for b in behaviours for h in (1, 2, 3) for f in (4, 6)
               if (b, h, f) not in checked and not (b == "evil-drop" and f == 6)]
    check(not missing and not wrong,
          f"{plugin}: {', '.join(behaviours)} on hops 1, 2 and 3, IPv4 and IPv6: "
          f"{len(checked)} located at their hop" +
          (f" (not in the lab: {missing})" if missing else "") +
          (f" (wrong: {len(wrong)}; first: {wrong[0]})" if wrong else ""))
    check(not traced_transparent,
          f"{plugin}: no transparent target traced" +
          (f" (traced: {traced_transparent})" if traced_transparent else ""))


def scamper_first_change(status, targets):
    """For each (address, TOS) the first probe TTL whose quoted TOS differs from TOS."""
    first = {}
    for tos in sorted({t for _, t in targets}):
        addrs = [a for a, t in targets if t == tos]
        cmd = ["ip", "netns", "exec", status["client_netns"], "scamper", "-O", "json", "-c",
               f"trace -q 1 -w 1 -t {tos}"]
        for a in addrs:
            cmd += ["-i", a]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
        for line in out.splitlines():
            t = json.loads(line)
            if t.get("type") != "trace":
                continue
            changed = [h["probe_ttl"] for h in t.get("hops", [])
                       if "icmp_q_tos" in h and h["icmp_q_tos"] != tos]
            first[(t["dst"], tos)] = min(changed) if changed else None
    return first


def check_scamper(status, by_plugin, hops):
    targets, ours = [], {}
    for plugin, behaviours in (("ecn", ("ect-bleach", "ce-mark")), ("dscp", ("dscp-bleach",))):
        for r in by_plugin[plugin]:
            b = r["lab_behaviour"]
            if b in behaviours and family(r) == 4:
                targets.append((r["dip"], TOS_SENT[b]))
                field = "ipmark.ect0" if plugin == "ecn" else "dscpmark.48"
                entry = located(r, f"{plugin}.{field}.changed_at:{hops[(r['lab_hop'], 4)]}")
                ours[(r["dip"], TOS_SENT[b])] = (entry or {}).get("before_ttl"), r["lab_hop"]
    theirs = scamper_first_change(status, targets)
    differ = {k: (ours[k], theirs.get(k)) for k in ours if theirs.get(k) != ours[k][0]
              or ours[k][0] != ours[k][1] + 1}
    check(len(ours) >= 9 and not differ,
          f"scamper: the hop where its quoted TOS first changes is pspdr's, for {len(ours)} "
          f"IPv4 targets of ect-bleach, ce-mark, dscp-bleach" +
          (f" (differ: {differ})" if differ else ""))


def check_short_quotes(status, hops):
    """Hop 3 quotes 8 bytes: options changed on hop 2 or 3 give a partial answer."""
    for plugin, args, behaviour, part in (("mss", ["--connect", "tcp"], "mss-clamp", "option.mss"),
                                          ("tfo", ["--connect", "tcpsyn"], "tfo-strip",
                                           "option.fastopen")):
        wrong, n = [], 0
        for r in measure(status, plugin, args):
            if r["lab_behaviour"] != behaviour:
                continue
            n += 1
            h, f = r["lab_hop"], family(r)
            exact = h == 1
            want = f"{plugin}.{part}." + (f"changed_at:{hops[(1, f)]}" if exact
                                          else f"changed_after:{hops[(2, f)]}")
            entry = located(r, want)
            ok = entry and entry["partial"] != exact and entry["after_ttl"] <= h < entry["before_ttl"] \
                and (entry["before_ttl"] == (2 if exact else 4))
            others = [l for l in r.get("locate", {}).get("located", []) if l is not entry]
            if not ok or others:
                wrong.append(f"{r['dip']} on hop {h}: {r.get('locate', {}).get('located')}")
        check(n >= 5 and not wrong,
              f"short quotes on hop 3: {n} {behaviour} jobs located exactly on hop 1, partially "
              f"(between hop 2 and 4) on hops 2 and 3" + (f" (wrong: {wrong[0]})" if wrong else ""))
    results = measure(status, "ecn", ["--connect", "http"])
    wrong = [r["dip"] for r in results if r["lab_behaviour"] == "ect-bleach" and not located(
        r, f"ecn.ipmark.ect0.changed_at:{hops[(r['lab_hop'], family(r))]}")]
    check(not wrong, f"short quotes on hop 3: the ECN mark (in the IP header) still located "
          f"exactly" + (f" (wrong: {wrong})" if wrong else ""))


def check_locate_command(status, results, hops):
    r = next(r for r in results if r["lab_behaviour"] == "ect-bleach" and r["lab_hop"] == 2)
    want = f"ecn.ipmark.ect0.changed_at:{hops[(2, family(r))]}"
    cmd = ["ip", "netns", "exec", status["client_netns"], pspdr, "locate", "-i",
           status["client_iface"], "--wait", "0.5", r["dip"], "ecn"]
    table = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    line = subprocess.run(cmd[:-2] + ["--json"] + cmd[-2:], capture_output=True, text=True,
                          timeout=60)
    parsed = json.loads(line.stdout) if line.returncode == 0 else {}
    check(table.returncode == 0 and f"located: {want}" in table.stdout
          and want in parsed.get("conditions", []) and located(parsed, want),
          f"pspdr locate {r['dip']} ecn: {want}, in the table and the JSON line")


def main():
    try:
        status, hops = up()
        by_plugin = {}
        for plugin, args, behaviours in CAMPAIGNS:
            by_plugin[plugin] = measure(status, plugin, args)
            check_campaign(plugin, by_plugin[plugin], behaviours, hops)
        check_scamper(status, by_plugin, hops)
        check_locate_command(status, by_plugin["ecn"], hops)
        status, hops = up("--short-quotes", "3")
        check_short_quotes(status, hops)
    finally:
        lab("down")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
