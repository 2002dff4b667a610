#!/usr/bin/env python3
"""pspdr trace puts in each stream exactly the frames tshark's tcp.stream puts there.

  trace_test.py SOURCE_DIR BUILD_DIR

- every PATHspider conformance trace (skipped where ../shared/conformance is absent);
- a capture of real kernel traffic in the lab (scripts/lab, root only): curl over IPv4
  and IPv6 to nginx (HTTP and HTTPS), one client port reused for three connections
  after each other, connections refused with a RST, SYNs to a target that drops them;
- the stream files: each pcap holds exactly its stream's frames, byte for byte, and
  tshark reads it; --max-open-files 2 writes the same files as the default; --format
  json writes each stream's frames as pspdr dissect lines.
"""
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from checks import check, finish, lab_runner

source, build = Path(sys.argv[1]), Path(sys.argv[2])
pspdr = str(build / "cli/pspdr")


def trace(pcap, *args):
    p = subprocess.run([pspdr, "trace", "-q", "-i", str(pcap), *args], capture_output=True,
                       text=True, timeout=300)
    if p.returncode != 0:
        raise RuntimeError(f"pspdr trace {pcap} {args}: exit {p.returncode}: {p.stderr}")
    return [json.loads(line) for line in p.stdout.splitlines()]


def tshark_streams(pcap):
    """frame number -> tcp.stream, for every frame tshark gives one."""
    out = subprocess.run(["tshark", "-n", "-r", str(pcap), "-T", "fields", "-e", "frame.number",
                          "-e", "tcp.stream"], capture_output=True, text=True, check=True).stdout
    streams = {}
    for line in out.splitlines():
        number, stream = (line.split("\t") + [""])[:2]
        if stream:
            # An ICMP error quoting a TCP header shows one stream (its quotation's).
            streams[int(number)] = int(stream.split(",")[0])
    return streams


def same_streams(pcap, index, name):
    ours = {frame: r["stream"] for r in index for frame in r["index"]}
    theirs = tshark_streams(pcap)
    diff = sorted(f for f in set(ours) | set(theirs) if ours.get(f) != theirs.get(f))
    for f in diff[:5]:
        print(f"      frame {f}: pspdr stream {ours.get(f)}, tshark {theirs.get(f)}")
    check(not diff and len({r["stream"] for r in index}) == len(index),
          f"{name}: {len(index)} streams, {len(ours)} frames as tshark's tcp.stream")
    return ours


def pcap_records(path):
    """(header, [(caplen, wirelen, bytes)]) of a classic pcap file."""
    data = Path(path).read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    records, at = [], 24
    while at + 16 <= len(data):
        _, _, caplen, wirelen = struct.unpack(order + "IIII", data[at:at + 16])
        records.append((caplen, wirelen, data[at + 16:at + 16 + caplen]))
        at += 16 + caplen
    return data[:24], records


def check_files(pcap, name):
    """The stream files of `pcap` hold exactly their frames; the file cap changes nothing."""
    with tempfile.TemporaryDirectory() as work:
        index = trace(pcap, "--output-dir", f"{work}/a")
        _, frames = pcap_records(pcap)
        exact = all(pcap_records(r["fpout"])[1] == [frames[f - 1] for f in r["index"]]
                    for r in index)
        check(exact, f"{name}: each of {len(index)} pcap files holds exactly its stream's frames")
        read = all(int(subprocess.run(["tshark", "-r", r["fpout"], "-T", "fields", "-e",
                                       "frame.number"], capture_output=True, text=True,
                                      check=True).stdout.split()[-1]) == len(r["index"])
                   for r in index[:20])
        check(read, f"{name}: tshark reads the stream files")

        def digests(d):
            return {p.name: hashlib.md5(p.read_bytes()).hexdigest() for p in Path(d).iterdir()}
        capped = trace(pcap, "--output-dir", f"{work}/b", "--max-open-files", "2")
        check(digests(f"{work}/a") == digests(f"{work}/b") and
              [r["index"] for r in capped] == [r["index"] for r in index],
              f"{name}: --max-open-files 2 writes the same {len(index)} files")
        as_json = trace(pcap, "--output-dir", f"{work}/c", "--format", "json")
        numbers = all([json.loads(line)["frame"]["number"] for line in open(r["fpout"])] ==
                      r["index"] for r in as_json)
        check(numbers, f"{name}: --format json writes each stream's frames as dissect lines")


def conformance():
    pcaps = Path(os.environ.get("PSPDR_CONFORMANCE_DIR", source / "../shared/conformance/pathspider")) / "pcaps"
    if not pcaps.is_dir():
        print(f"skip  conformance traces: {pcaps} is absent")
        return
    files = sorted(pcaps.glob("*.pcap"))
    frames = streams = 0
    for pcap in files:
        ours = same_streams(pcap, trace(pcap, "--format", "none"), pcap.name)
        frames += len(ours)
        streams += len(set(ours.values()))
    print(f"      {len(files)} traces, {streams} streams, {frames} frames")
    check_files(pcaps / "tcp_http.pcap" if (pcaps / "tcp_http.pcap").exists() else files[0],
                "conformance")


def kernel_traffic(work):
    lab = lab_runner(source, f"pspdr-ttest{os.getpid()}")
    try:
        lab("up", "--targets", "40", "--seed", "3")
        status = dict(line.split("=", 1) for line in lab("status").splitlines())
        jobs = [json.loads(line) for line in lab("jobs").splitlines()]
        ns, iface = status["client_netns"], status["client_iface"]

        def target(behaviour, family):
            return next(j["dip"] for j in jobs if j["lab_behaviour"] == behaviour
                        and (":" in j["dip"]) == (family == 6))

        def url(dip, scheme="http", port=None):
            host = f"[{dip}]" if ":" in dip else dip
            return f"{scheme}://{host}" + (f":{port}" if port else "") + "/"

        def curl(*args):
            subprocess.run(["ip", "netns", "exec", ns, "curl", "-sk", "-o", "/dev/null",
                            "--max-time", "3", *args], capture_output=True)

        # No TIME_WAIT in the client's namespace (ours, removed after the test), so a
        # client port can be bound again at once.
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.tcp_max_tw_buckets=0"],
                       check=True)
        pcap = work / "kernel.pcap"
        dump = subprocess.Popen(["ip", "netns", "exec", ns, "tcpdump", "-i", iface, "-U", "-w",
                                 str(pcap), "tcp"], stderr=subprocess.PIPE)
        time.sleep(1.5)
        for family in (4, 6):
            t = target("transparent", family)
            curl(url(t))
            curl("--http2", url(t, "https"))
            # The same client port, again and again (port reuse; one port per family:
            # an IPv6 socket's bind also claims the IPv4 port).
            for _ in range(3):
                curl("--local-port", str(45000 + family), url(t))
                time.sleep(0.3)
            curl(url(t, port=81))  # nothing listens: refused with a RST
            curl("--max-time", "1.5", url(target("offline", family)))  # SYNs dropped
        time.sleep(1)
        dump.terminate()
        dump.wait(timeout=10)
        index = trace(pcap, "--format", "none")
        same_streams(pcap, index, "kernel traffic")
        for port in (45004, 45006):
            reused = [r for r in index if port in (r["srcport"], r["dstport"])]
            check(len(reused) == 3, f"kernel traffic: client port {port} used 3 times gives "
                  f"{len(reused)} streams (3)")
        check_files(pcap, "kernel traffic")
    finally:
        lab("down")


def main():
    if subprocess.run(["which", "tshark"], capture_output=True).returncode != 0:
        print("skipped: tshark is not installed (scripts/setup installs it)")
        sys.exit(77)
    conformance()
    if os.geteuid() == 0:
        with tempfile.TemporaryDirectory() as work:
            kernel_traffic(Path(work))
    else:
        print("skip  kernel traffic: needs root for network namespaces")
    sys.exit(finish())


main()
