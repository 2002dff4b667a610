#!/usr/bin/env python3
"""pspdr measure against the lab (scripts/lab): real servers, real middlebox rules.

  measure_test.py SOURCE_DIR BUILD_DIR [conditions|scale|kill]

conditions: every plugin, in its connection modes, reports for every target exactly the
            conditions the lab's truth gives (flapping targets excepted), every line
            carries PATHspider 2.0.1's fields (--output-flows; by name, type and
            order), PATHspider's metadata logic reads the output and pspdr metadata
            agrees with it, and the sysctls it changed are back as they were.
scale:      10,000 jobs with -w 1000: 10,000 result lines, each job once, sysctls
            restored; prints jobs per second.
kill:       a generator killed with SIGKILL mid-run: the run finishes, every job has its
            line, the lost connections carry spdr_state 1 (FAILED), sysctls restored;
            then the spider itself killed: its generators restore the sysctls.
faults:     least privilege (the spider and its generators run as nobody with only
            CAP_NET_ADMIN and CAP_NET_RAW); a campaign stopped by SIGINT, SIGTERM and
            SIGKILL at random moments and continued with --resume until done: every job
            exactly once, with the lab's conditions, sysctls restored and no process
            left after each stop; a full disk stops the run with a clear message, and
            --resume finishes it once there is room; the capture interface going down
            pauses the campaign until it is up again, and every job still has its line.
plugins:    the out-of-tree example plugins (docs/examples: tcpopt, and hops with a chain
            of its own) built against the headers `meson install` puts in place, found
            with pkg-config, loaded with --plugin-dir and $PSPDR_PLUGIN_PATH: their
            conditions equal the lab's truth and tcpopt's sysctls are restored; a
            plugin built for another API version, and a shared object that is no
            plugin, are refused with one line naming the file.
"""
import bz2
import gzip
import json
import os
import shutil
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from support.processes import leftovers, process_status
from checks import check, finish, lab_runner

if os.geteuid() != 0:
    print("skipped: needs root for network namespaces")
    sys.exit(77)
source, build = Path(sys.argv[1]), Path(sys.argv[2])
what = sys.argv[3] if len(sys.argv) > 3 else "conditions"
lab_name = f"pspdr-mtest{os.getpid()}"
lab = lab_runner(source, lab_name)
pspdr = str(build / "cli/pspdr")


def sysctl(ns, name):
    path = "/proc/sys/" + name.replace(".", "/")
    return subprocess.run(["ip", "netns", "exec", ns, "cat", path], capture_output=True,
                          text=True, check=True).stdout.strip()


def measure(status, jobs, *args, input_text=None, popen=False):
    cmd = ["ip", "netns", "exec", status["client_netns"], pspdr, "measure", "-q",
           "-i", status["client_iface"], *args]
    if popen:
        return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    text = input_text if input_text is not None else "".join(json.dumps(j) + "\n" for j in jobs)
    p = subprocess.run(cmd, input=text, capture_output=True, text=True, timeout=900)
    if p.returncode != 0:
        print(p.stderr)
    return p, [json.loads(line) for line in p.stdout.splitlines()]


def check_truth(label, p, jobs, results):
    """Every job has its line, and its conditions are the lab's truth."""
    check(p.returncode == 0 and len(results) == len(jobs),
          f"{label}: {len(results)} results for {len(jobs)} jobs")
    wrong = Counter()
    for r in results:
        if r.get("expected_conditions") is None:
            continue  # a flapping path promises nothing
        if r["conditions"] != r["expected_conditions"]:
            wrong[r["lab_behaviour"]] += 1
            if wrong[r["lab_behaviour"]] == 1:
                print(f"      {r['lab_behaviour']} {r['dip']}: got {r['conditions']}, "
                      f"expected {r['expected_conditions']}")
    checked = sum(r.get("expected_conditions") is not None for r in results)
    check(not wrong, f"{label}: conditions of {checked} targets equal the lab's truth"
          + (f" (wrong: {dict(wrong)})" if wrong else ""))


UTC = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$")
SPIDER_KEYS = ["sip", "path", "sip_public", "sip_asn", "flow_results", "time", "missed_flows",
               "conditions"]


def check_fields(label, status, jobs, results, mode, configs=None):
    """Every field PATHspider 2.0.1 adds (with --output-flows), by name and type, in its
    order, on every line; http and https connections carry their response; each flow's
    config is its configuration's number (`configs`; by default its place)."""
    problems = []
    for job, r in zip(sorted(jobs, key=lambda j: j["dip"]), sorted(results, key=lambda r: r["dip"])):
        def bad(what):
            problems.append(f"{r['dip']}: {what}")
        keys = [k for k in r if k not in job]
        if keys != [k for k in SPIDER_KEYS if k in r]:
            bad(f"keys {keys}")
        sip = status["client_ipv6" if ":" in r["dip"] else "client_ipv4"]
        if r.get("sip") != sip or r.get("sip_public") != sip:
            bad(f"sip {r.get('sip')}, sip_public {r.get('sip_public')} (want {sip})")
        if r.get("path") != [sip, r["dip"]]:
            bad(f"path {r.get('path')}")
        t = r.get("time", {})
        if not (UTC.match(t.get("from", "")) and UTC.match(t.get("to", ""))
                and t["from"] <= t["to"]):
            bad(f"time {t}")
        flows = r.get("flow_results", [])
        missed = sum(not f.get("observed") for f in flows)
        if not flows or r.get("missed_flows") != missed:
            bad(f"{len(flows)} flows, missed_flows {r.get('missed_flows')}")
        if missed and f"pathspider.missed_flows:{missed}" not in r["conditions"]:
            bad("no pathspider.missed_flows condition")
        if len({f.get("jobId") for f in flows}) != 1:
            bad("jobId differs between the job's flows")
        for i, f in enumerate(flows):
            types = {"observed": bool, "spdr_state": int, "sp": int, "spdr_start": str,
                     "spdr_stop": str, "config": int, "jobId": str, "dip": str}
            wrong = [k for k, ty in types.items() if type(f.get(k)) is not ty]
            want = configs[i] if configs else i
            if wrong or f["config"] != want or f["dip"] != r["dip"] or f["spdr_state"] not in range(4) \
                    or not UTC.match(f["spdr_start"]) or not UTC.match(f["spdr_stop"]) \
                    or not re.fullmatch("[0-9a-f]{32}", f["jobId"]):
                bad(f"flow {i}: {f} ({wrong})")
            if f["observed"] and f.get("sip") != sip:
                bad(f"flow {i} left from {f.get('sip')}, not the interface's {sip}")
            if mode in ("http", "https") and f["spdr_state"] == 0 and not (
                    type(f.get("http_response_code")) is int
                    and f.get("http_response_header", "").startswith("HTTP/")
                    and f.get("http_info") == {}):
                bad(f"flow {i}: no HTTP response fields")
    check(not problems, f"{label}: PATHspider 2.0.1's fields on all {len(results)} lines"
          + (f" (first: {problems[0]})" if problems else ""))


def pathspider_metadata(lines):
    """PATHspider's metadata_from_ps_ndjson (its master branch, pathspider/cmd/metadata.py),
    as it reads a results file."""
    import dateutil.parser
    y = z = None
    for line in lines:
        d = json.loads(line)
        a = dateutil.parser.parse(d['time']['from'])
        b = dateutil.parser.parse(d['time']['to'])
        if y is None or a < y:
            y = a
        if z is None or b > z:
            z = b
    return {'_time_start': y.strftime("%Y-%m-%dT%H:%M:%SZ"),
            '_time_end': z.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "_file_type": "pathspider-v2-ndjson-bz2"}


def check_metadata(label, text):
    """PATHspider's metadata logic reads the output, and pspdr metadata says the same of
    it, compressed with bzip2 as campaigns store it."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "results.ndjson.bz2"
        path.write_bytes(bz2.compress(text.encode()))
        try:
            theirs = pathspider_metadata(text.splitlines())
        except Exception as e:  # what PATHspider's command would die of
            check(False, f"{label}: PATHspider's metadata logic fails: {e!r}")
            return
        p = subprocess.run([pspdr, "metadata", str(path)], capture_output=True, text=True)
        meta = Path(str(path) + ".meta.json")
        ours = json.loads(meta.read_text()) if meta.exists() else None
        check(p.returncode == 0 and ours == theirs,
              f"{label}: pspdr metadata equals PATHspider's ({ours})")


def options_test(status):
    """PATHspider's option forms: --verbose before the command, the plugin's own --timeout
    and --opt=value; the vantage point's public address and AS in every path; a
    compressed output; an unknown plugin named as PATHspider's argparse names it."""
    jobs = [json.loads(line) for line in lab("jobs", "--plugin", "ecn", "--connect",
                                             "tcp").splitlines()][:6]
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "results.ndjson.gz"
        text = "".join(json.dumps(j) + "\n" for j in jobs)
        p = subprocess.run(["ip", "netns", "exec", status["client_netns"], pspdr, "--verbose",
                            "measure", "-i", status["client_iface"], "--output", str(out),
                            "--public-address", "203.0.113.5", "--public-address", "2001:db8:5::5",
                            "--asn", "64496", "ecn", "--connect=tcp", "--timeout=2"],
                           input=text, capture_output=True, text=True, timeout=300)
        results = ([json.loads(line) for line in gzip.decompress(out.read_bytes()).splitlines()]
                   if out.exists() else [])
    check(p.returncode == 0 and len(results) == len(jobs),
          f"options: --verbose, ecn --connect=tcp --timeout=2, a .gz output: {len(results)} lines")
    check(all(r["path"] == [r["sip"], "203.0.113.5" if ":" not in r["dip"] else "2001:db8:5::5",
                            "AS64496", r["dip"]] and r["sip_asn"] == 64496 for r in results),
          "options: the public address and the AS are in every path, as PATHspider's")
    debug = [line for line in p.stderr.splitlines() if line.startswith("DEBUG:")]
    check(len(debug) >= 2 * len(jobs), f"options: --verbose logs every connection ({len(debug)} "
          "debug lines)")
    p = subprocess.run([pspdr, "measure", "nosuch"], capture_output=True, text=True)
    check(p.returncode == 2 and "argument PLUGIN: invalid choice: 'nosuch' (choose from "
          in p.stderr and "'ecn'" in p.stderr, f"options: an unknown plugin: {p.stderr.strip()}")


def conditions_test(status):
    runs = [("ecn", "http", None), ("ecn", "tcp", None), ("ecn", "dnstcp", None),
            ("dscp", "http", None), ("dscp", "tcp", None), ("dscp", "dnsudp", None),
            ("dscp", "tcp", "46 8"), ("dscp", "dnsudp", "46 8"),
            ("h2", "http", None), ("h2", "http", 8080), ("h2", "https", None),
            ("mss", "tcp", None), ("mss", "https", None),
            ("tfo", "dnstcp", None), ("tfo", "http", None),
            ("evilbit", "tcpsyn", None), ("evilbit", "dnsudp", None),
            # Stateless: forged SYNs, the answer is the SYN-ACK (docs/measure.md).
            ("ecn", "tcpsyn", None), ("dscp", "tcpsyn", "46 8"), ("mss", "tcpsyn", None),
            ("tfo", "tcpsyn", None),
            ("udpzero", "dnsudp", None), ("udpopts", "dnsudp", None)]
    ecn_before = sysctl(status["client_netns"], "net.ipv4.tcp_ecn")
    fallback_before = sysctl(status["client_netns"], "net.ipv4.tcp_ecn_fallback")
    check(fallback_before == "1", f"the lab's client keeps the kernel's tcp_ecn_fallback "
          f"({fallback_before}), as a user's vantage point")
    for plugin, mode, port in runs:
        # A third field: a port, or dscp's several codepoints (an A before each B).
        codepoints = port.split() if isinstance(port, str) else []
        port = None if codepoints else port
        extra = ["--codepoint", *codepoints] if codepoints else []
        args = ["--plugin", plugin, "--connect", mode] + (["--port", str(port)] if port else [])
        jobs = [json.loads(line) for line in lab("jobs", *args, *extra).splitlines()]
        p, results = measure(status, jobs, "-w", "50", "--timeout", "2", "--output-flows",
                             plugin, "--connect", mode, *extra)
        label = (f"{plugin} --connect {mode}" + (f" (dp {port})" if port else "")
                 + (f" --codepoint {' '.join(codepoints)}" if codepoints else ""))
        check_truth(label, p, jobs, results)
        configs = [n for b in range(1, len(codepoints) + 1) for n in (0, b)] or None
        check_fields(label, status, jobs, results, mode, configs)
        if plugin == "udpopts":  # B's query carries its options area, A's none
            sent = [[f.get("udp_surplus_fwd") for f in r["flow_results"]] for r in results]
            check(all(s[0] == 0 and s[1] and s[1] > 0 for s in sent),
                  f"udpopts: only B's datagrams carry bytes after their UDP length ({sent[0]})")
        if (plugin, mode) == ("ecn", "http"):
            check_metadata(label, p.stdout)
    check(sysctl(status["client_netns"], "net.ipv4.tcp_ecn") == ecn_before,
          f"net.ipv4.tcp_ecn restored ({ecn_before})")
    check(sysctl(status["client_netns"], "net.ipv4.tcp_ecn_fallback") == fallback_before,
          f"net.ipv4.tcp_ecn_fallback restored ({fallback_before})")
    options_test(status)
    # dnsresolv: the resolver's CSV (rank,domain) becomes jobs with the lab's addresses,
    # resolved through the lab's DNS (scripts/lab gives the client namespace its
    # resolv.conf); a name that does not exist is written once, with an error.
    jobs = [json.loads(line) for line in lab("jobs").splitlines()]
    csv = "".join(f"{i},{j['domain']}\n" for i, j in enumerate(jobs, 1)) + "0,no.pathspider.test\n"
    p, results = measure(status, [], "--csv-input", "dnsresolv", input_text=csv)
    resolved = {r["domain"]: r.get("dip") for r in results}
    check(p.returncode == 0 and len(results) == len(jobs) + 1, f"dnsresolv: {len(results)} jobs")
    check(all(resolved[j["domain"]] == j["dip"] for j in jobs),
          "dnsresolv: every name resolves to its target's address")
    check("error" in next(r for r in results if r["domain"] == "no.pathspider.test"),
          "dnsresolv: an unknown name yields its line, with an error")
    # A job that names a dip already gets the resolved one in its place, not a second
    # "dip" key; a name with a quote and a backslash is still written as valid JSON.
    hostile = 'no"such\\name.pathspider.test'
    text = (json.dumps({"dip": "192.0.2.1", "domain": jobs[0]["domain"], "rank": 1}) + "\n"
            + json.dumps({"domain": hostile}) + "\n")
    p, results = measure(status, [], "dnsresolv", input_text=text)
    lines = p.stdout.splitlines()
    by_domain = {r["domain"]: r for r in results}  # the resolver's threads finish in any order
    named = by_domain.get(jobs[0]["domain"], {})
    check(len(results) == 2 and all(line.count('"dip"') <= 1 for line in lines)
          and named.get("dip") == jobs[0]["dip"] and named.get("rank") == 1,
          f"dnsresolv: a job's own dip is replaced, not repeated ({lines})")
    check(hostile in by_domain.get(hostile, {}).get("error", ""),
          "dnsresolv: a name with a quote and a backslash is written as valid JSON")


def plugins_test(status):
    work = Path(tempfile.mkdtemp(prefix="pspdr-plugins-"))
    try:
        dest = work / "dest"
        subprocess.run(["meson", "install", "-C", str(build), "--destdir", str(dest),
                        "--no-rebuild", "--quiet"], check=True, capture_output=True)
        pc = next(dest.rglob("pspdr-plugin.pc")).parent
        env = dict(os.environ, PKG_CONFIG_PATH=str(pc), PKG_CONFIG_SYSROOT_DIR=str(dest))
        cflags = subprocess.run(["pkg-config", "--cflags", "pspdr-plugin"], env=env, check=True,
                                capture_output=True, text=True).stdout.split()
        built = {}
        for name in ("tcpopt", "hops"):
            built[name] = work / name
            for cmd in (["meson", "setup", str(built[name]), str(source / "docs/examples" / name)],
                        ["ninja", "-C", str(built[name])]):
                p = subprocess.run(cmd, env=env, capture_output=True, text=True)
                check(p.returncode == 0, f"example plugin {name}: " + " ".join(cmd[:2]) + (
                    "" if p.returncode == 0 else ": " + p.stdout[-2000:] + p.stderr[-2000:]))
            check((built[name] / f"{name}.so").exists(), f"example plugin: {name}.so built")
        before = {n: sysctl(status["client_netns"], n) for n in (
            "net.ipv4.tcp_timestamps", "net.ipv4.tcp_window_scaling", "net.ipv4.tcp_sack")}
        for mode, how in (("http", ["--plugin-dir", str(built["tcpopt"])]), ("tcp", [])):
            jobs = [json.loads(line) for line in
                    lab("jobs", "--plugin", "tcpopt", "--connect", mode).splitlines()]
            if not how:  # the environment variable instead (a missing entry is skipped)
                os.environ["PSPDR_PLUGIN_PATH"] = f"/nonexistent:{built['tcpopt']}"
            p, results = measure(status, jobs, *how, "-w", "50", "--timeout", "2", "tcpopt",
                                 "--connect", mode)
            os.environ.pop("PSPDR_PLUGIN_PATH", None)
            check_truth(f"tcpopt --connect {mode} ({'--plugin-dir' if how else 'PSPDR_PLUGIN_PATH'})",
                        p, jobs, results)
        after = {n: sysctl(status["client_netns"], n) for n in before}
        check(after == before, f"tcpopt's sysctls restored ({after})")

        # hops brings its own chain: the SYN-ACK's TTL, 64 at the lab's targets, one
        # less past the middlebox.
        jobs = [json.loads(line) for line in lab("jobs", "--plugin", "mss").splitlines()]
        for j in jobs:
            if j["expected_conditions"] is not None:
                j["expected_conditions"] = (["hops.connectivity.offline"]
                                            if j["lab_behaviour"] == "offline" else
                                            ["hops.connectivity.online", "hops.synack.ttl:63",
                                             "hops.synack.distance:1"])
        p, results = measure(status, jobs, "--plugin-dir", str(built["hops"]), "-w", "50",
                             "--timeout", "2", "--output-flows", "hops", "--connect", "tcp")
        check_truth("hops (its own chain)", p, jobs, results)
        check(all(f.get("synack_ttl") == 63 for r in results for f in r.get("flow_results", [])
                  if f.get("tcp_connected")),
              "hops: its chain's field is in each flow record (synack_ttl 63)")

        # Refused: another API version, and a shared object with no plugin in it.
        for name, body, expect in (
                ("old", '#include "measure/plugin.hpp"\nextern "C" const pspdr::PluginEntry '
                        'pspdr_plugin_entry = {pspdr::kPluginApiVersion + 1, '
                        'sizeof(pspdr::Outcome), sizeof(pspdr::ConnectionRequest), nullptr};\n',
                 "built for plugin API version"),
                ("none", "int nothing_here;\n", "not a pspdr plugin")):
            d = work / name
            d.mkdir()
            (d / "p.cpp").write_text(body)
            subprocess.run(["c++", "-shared", "-fPIC", *cflags, str(d / "p.cpp"), "-o",
                            str(d / f"{name}.so")], check=True)
            p = subprocess.run([pspdr, "measure", "--plugin-dir", str(d), "--help"],
                               capture_output=True, text=True)
            lines = p.stderr.strip().splitlines()
            check(p.returncode == 1 and len(lines) == 1 and expect in lines[0]
                  and f"{name}.so" in lines[0], f"plugin {name}.so refused: {lines}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def scale_test(status):
    jobs = [json.loads(line) for line in lab("jobs", "--plugin", "ecn").splitlines()]
    ecn_before = sysctl(status["client_netns"], "net.ipv4.tcp_ecn")
    start = time.time()
    p, results = measure(status, jobs, "-w", "1000", "--rate", "0", "ecn")
    seconds = time.time() - start
    check(p.returncode == 0, "measure exits 0")
    check(len(results) == len(jobs) == 10000, f"{len(results)} result lines for {len(jobs)} jobs")
    check(sorted(r["dip"] for r in results) == sorted(j["dip"] for j in jobs),
          "every job exactly once")
    known = [r for r in results if r["expected_conditions"] is not None]
    wrong = [r for r in known if r["conditions"] != r["expected_conditions"]]
    for r in wrong[:5]:
        print(f"      {r['lab_behaviour']} {r['dip']}: got {r['conditions']}")
    # A thousand connections at once on two cores: an odd one may miss its timeout.
    check(len(wrong) <= len(known) // 100,
          f"{len(known) - len(wrong)} of {len(known)} jobs with the lab's conditions (99% needed)")
    check(sysctl(status["client_netns"], "net.ipv4.tcp_ecn") == ecn_before, "tcp_ecn restored")
    print(f"scale: {len(jobs)} ecn jobs (A/B) in {seconds:.1f} s: "
          f"{len(jobs) / seconds:.0f} jobs/s with -w 1000")


def kill_test(status):
    jobs = [json.loads(line) for line in lab("jobs", "--plugin", "ecn").splitlines()]
    ecn_before = sysctl(status["client_netns"], "net.ipv4.tcp_ecn")
    # Connections to the offline targets hang for the whole timeout. Sent first, they
    # keep every generator busy when the kill comes (otherwise it could fall where the
    # generator happened to have nothing in flight, and nothing would be lost).
    jobs.sort(key=lambda j: j["lab_behaviour"] != "offline")
    proc = measure(status, jobs, "-w", "50", "--timeout", "5", "--rate", "50",
                   "--output-flows", "ecn", popen=True)
    proc.stdin.write("".join(json.dumps(j) + "\n" for j in jobs))
    proc.stdin.close()
    time.sleep(3)
    # `ip netns exec` runs pspdr as our child; its generators are its children.
    spider = int(subprocess.run(["pgrep", "-f", "-n", f"{pspdr} measure"],
                                capture_output=True, text=True).stdout.split()[0])
    generators = subprocess.run(["pgrep", "-P", str(spider)], capture_output=True,
                                text=True).stdout.split()
    check(len(generators) >= 1, f"generators running: {generators}")
    os.kill(int(generators[0]), signal.SIGKILL)
    out = proc.stdout.read()
    err = proc.stderr.read()
    proc.wait(timeout=300)
    results = [json.loads(line) for line in out.splitlines()]
    check(proc.returncode == 0, "the run finishes (exit 0)")
    check(len(results) == len(jobs), f"{len(results)} result lines for {len(jobs)} jobs")
    failed = sum(f["spdr_state"] == 1 for r in results for f in r.get("flow_results", []))
    check(failed > 0, f"{failed} connections of the killed generator carry spdr_state 1 (FAILED)")
    check("generator 0 died" in err or "died" in err, "the death is reported on stderr")
    check(sysctl(status["client_netns"], "net.ipv4.tcp_ecn") == ecn_before, "tcp_ecn restored")

    # The spider itself killed: its generators put the sysctl back and exit.
    subprocess.run(["ip", "netns", "exec", status["client_netns"], "sysctl", "-qw",
                    "net.ipv4.tcp_ecn=0"], check=True)
    proc = measure(status, jobs, "-w", "5", "--rate", "2", "ecn", popen=True)
    proc.stdin.write("".join(json.dumps(j) + "\n" for j in jobs))
    proc.stdin.close()
    time.sleep(3)
    during = sysctl(status["client_netns"], "net.ipv4.tcp_ecn")
    spider = spider_pid(proc)
    generators = subprocess.run(["pgrep", "-P", str(spider)], capture_output=True,
                                text=True).stdout.split()
    os.kill(spider, signal.SIGKILL)
    proc.wait(timeout=30)
    time.sleep(1)
    check(during != "0" and sysctl(status["client_netns"], "net.ipv4.tcp_ecn") == "0",
          f"spider killed: tcp_ecn back to 0 (was {during} during the run)")
    # Exited generators whose parent is gone wait as zombies until init reaps them.
    alive = [g for g in generators if process_status(g).get("State", "Z").split()[0] != "Z"]
    check(generators and not alive, f"spider killed: none of its generators {generators} left")


def spider_pid(proc):
    """The spider of a measure() started with popen (`ip netns exec` execs it), once it
    has started its generators."""
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            return None
        kids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                              text=True).stdout.split()
        if kids:
            return proc.pid
        time.sleep(0.05)
    return proc.pid


def results_of(path):
    """Every line of an output file, parsed; a line that is not JSON fails the test."""
    lines = path.read_text().splitlines() if path.exists() else []
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            check(False, f"output line is not JSON: {line[:80]}")
    return parsed


def check_complete(results, jobs, label):
    check(sorted(r["dip"] for r in results) == sorted(j["dip"] for j in jobs),
          f"{label}: {len(results)} lines, every one of {len(jobs)} jobs exactly once")
    known = [r for r in results if r.get("expected_conditions") is not None]
    wrong = [r for r in known if r["conditions"] != r["expected_conditions"]]
    for r in wrong[:3]:
        print(f"      {r['lab_behaviour']} {r['dip']}: got {r['conditions']}")
    check(not wrong, f"{label}: {len(known) - len(wrong)} of {len(known)} jobs with the lab's "
          "conditions")


def faults_test(status):
    ns = status["client_netns"]
    jobs = [json.loads(line) for line in lab("jobs", "--plugin", "ecn").splitlines()]
    text = "".join(json.dumps(j) + "\n" for j in jobs)
    ecn_before = sysctl(ns, "net.ipv4.tcp_ecn")
    work = Path(tempfile.mkdtemp(prefix="pspdr-faults"))
    out = work / "results.ndjson"
    args = ["-w", "25", "--timeout", "2", "--rate", "200", "--output", str(out), "--resume", "ecn"]

    def start(*extra):
        proc = measure(status, [], *(extra or args), popen=True)
        proc.stdin.write(text)
        proc.stdin.close()
        return proc

    def after_stop(label, proc):
        proc.wait(timeout=120)
        time.sleep(0.5)  # a SIGKILLed spider's generators restore the sysctls as they exit
        check(sysctl(ns, "net.ipv4.tcp_ecn") == ecn_before, f"{label}: tcp_ecn restored")
        left = leftovers(pspdr)
        check(not left, f"{label}: no pspdr process left, no zombie" + (f": {left}" if left else ""))

    # Least privilege, read off the running processes.
    proc = start()
    spider = spider_pid(proc)
    generators = subprocess.run(["pgrep", "-P", str(spider)], capture_output=True,
                                text=True).stdout.split()
    wanted = f"{(1 << 12) | (1 << 13):016x}"  # CAP_NET_ADMIN, CAP_NET_RAW
    for who, pid in [("spider", spider)] + [("generator", g) for g in generators]:
        st = process_status(pid)
        check(st.get("Uid", "").split()[:1] == ["65534"] and st.get("CapEff") == wanted and
              st.get("CapBnd") == wanted and st.get("NoNewPrivs") == "1",
              f"{who} {pid} runs as nobody with CAP_NET_ADMIN and CAP_NET_RAW only "
              f"(Uid {st.get('Uid')}, CapEff {st.get('CapEff')}, CapBnd {st.get('CapBnd')})")
    check(len(generators) == 2, f"{len(generators)} generators checked")

    # Stopped at random moments, by each signal in turn, and resumed until done.
    rng = random.Random(int(os.environ.get("PSPDR_FAULT_SEED", "8")))
    stops = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL, signal.SIGINT, signal.SIGKILL,
             signal.SIGTERM]
    finished = False
    for attempt in range(len(stops) + 4):
        if attempt:
            proc = start()
            spider = spider_pid(proc)
        if attempt < len(stops):
            time.sleep(rng.uniform(0.3, 4.0))
            before = len(results_of(out))
            if spider and proc.poll() is None:
                os.kill(spider, stops[attempt])
            after_stop(f"stop {attempt + 1} ({stops[attempt].name} after {before} lines)", proc)
            continue
        proc.wait(timeout=300)
        check(proc.returncode == 0, f"resumed run exits 0 {proc.stderr.read().strip()}")
        finished = True
        break
    check(finished, "the campaign finishes")
    check_complete(results_of(out), jobs, "after 6 stops and --resume")

    # A full disk: a 12 KiB file system for the output, then room to finish.
    disk = work / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12k", "tmpfs", str(disk)], check=True)
    try:
        full = ["-w", "25", "--timeout", "2", "--rate", "200", "--output",
                str(disk / "results.ndjson")]
        proc = start(*full, "ecn")
        proc.wait(timeout=300)
        err = proc.stderr.read()
        written = len(results_of(disk / "results.ndjson"))
        check(proc.returncode == 1 and "No space left on device" in err and "--resume" in err,
              f"full disk: exit {proc.returncode} after {written} lines, saying: "
              + next((l for l in err.splitlines() if "failed" in l), err.strip()))
        check(0 < written < len(jobs), f"full disk: {written} complete lines kept")
        after_stop("full disk", proc)
        subprocess.run(["mount", "-o", "remount,size=4m", str(disk)], check=True)
        proc = start(*full, "--resume", "ecn")
        proc.wait(timeout=300)
        check(proc.returncode == 0, "full disk: --resume with room exits 0")
        check_complete(results_of(disk / "results.ndjson"), jobs, "full disk, resumed")
    finally:
        subprocess.run(["umount", str(disk)])

    # The capture interface goes down mid-run: no job starts until it is up again.
    iface = status["client_iface"]
    routes = [subprocess.run(["ip", "netns", "exec", ns, "ip", f"-{f}", "route", "show",
                              "default"], capture_output=True, text=True).stdout.split()
              for f in (4, 6)]
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                    f"net.ipv6.conf.{iface}.keep_addr_on_down=1"], check=True)
    down_out = work / "down.ndjson"
    proc = start("-w", "25", "--timeout", "2", "--output", str(down_out), "ecn")
    time.sleep(3)
    subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", iface, "down"], check=True)
    # Jobs already connecting fail, and are written once their flows' wait (12 s) is over.
    time.sleep(15)
    during = len(results_of(down_out))
    time.sleep(3)
    paused = len(results_of(down_out)) == during < len(jobs)
    subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", iface, "up"], check=True)
    for f, route in zip((4, 6), routes):  # a link going down takes its routes with it
        subprocess.run(["ip", "netns", "exec", ns, "ip", f"-{f}", "route", "replace", *route],
                       check=True)
    proc.wait(timeout=300)
    err = proc.stderr.read()
    results = results_of(down_out)
    check(paused, f"interface down: no job finished while it was down ({during} lines)")
    check("is down" in err and "up again" in err, "interface down: said when, and when up again")
    check(proc.returncode == 0 and sorted(r["dip"] for r in results) ==
          sorted(j["dip"] for j in jobs), f"interface down: {len(results)} lines, every job once")
    after_stop("interface down", proc)


targets = {"conditions": 60, "scale": 10000, "kill": 200, "faults": 200, "plugins": 60}[what]
try:
    print(lab("up", "--targets", str(targets), "--seed", "5"), end="")
    status = dict(line.split("=", 1) for line in lab("status").splitlines())
    {"conditions": conditions_test, "scale": scale_test, "kill": kill_test,
     "faults": faults_test, "plugins": plugins_test}[what](status)
finally:
    print(lab("down"), end="")
sys.exit(finish("measure test passed"))
