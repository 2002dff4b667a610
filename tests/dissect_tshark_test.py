#!/usr/bin/env python3
"""pspdr dissect agrees with tshark on every field tshark decodes.

  dissect_tshark_test.py OPTION_TRACE_PROGRAM WORK_DIR

The program (tests/option_trace.cpp) writes, with the builder, TCP SYNs over IPv4 and
IPv6 carrying every option kind of the pcapkit seed, every MPTCP subtype and layout,
unknown and experimental kinds, and malformed option lists. Both tools dissect it;
frame, IP and TCP header fields and each option's fields are compared one by one
through the table below, which must cover every field tshark shows under the TCP
options except the analysis fields tshark derives (listed, with why). Where tshark
flags an option as malformed, pspdr must too, and the other way round.
"""
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from checks import check, finish

program, work = sys.argv[1], Path(sys.argv[2])
pspdr = os.environ["PSPDR_BIN"]


def hexbytes(text):  # tshark's "de:ad:be:ef" as pspdr's "deadbeef"
    return text.replace(":", "").lower()


def be_hex(number, size):
    return int(number).to_bytes(size, "big").hex()


# tshark option field -> the pspdr value it must equal, from the pspdr option object
# (and the index of this field among the option's fields of that name).
OPTION_FIELDS = {
    "tcp.option_kind": lambda o, i: str(o["kind"]),
    "tcp.option_len": lambda o, i: str(o["length"]),
    "tcp.options.mss_val": lambda o, i: str(o["mss"]),
    "tcp.options.wscale.shift": lambda o, i: str(o["shift"]),
    "tcp.options.sack_le": lambda o, i: str(o["sack"][i]["left"]),
    "tcp.options.sack_re": lambda o, i: str(o["sack"][i]["right"]),
    "tcp.options.sack.count": lambda o, i: str(len(o["sack"])),
    "tcp.options.echo_value": lambda o, i: str(int(o["data"], 16)),
    "tcp.options.timestamp.tsval": lambda o, i: str(o["timestamp"]),
    "tcp.options.timestamp.tsecr": lambda o, i: str(o["echo"]),
    "tcp.options.cc_value": lambda o, i: str(o["cc"]),
    "tcp.options.md5.digest": lambda o, i: o["digest"],
    "tcp.options.qs.rate": lambda o, i: str(o["req_rate"]),
    "tcp.options.qs.ttl_diff": lambda o, i: str(o["ttl_diff"]),
    "tcp.options.user_to_granularity": lambda o, i: str(int(o["granularity"])),
    "tcp.options.user_to_val": lambda o, i: str(o["timeout"]),
    "tcp.options.ao.keyid": lambda o, i: str(o["key_id"]),
    "tcp.options.ao.rnextkeyid": lambda o, i: str(o["next_key_id"]),
    "tcp.options.ao.mac": lambda o, i: o["mac"],
    "tcp.options.tfo.cookie": lambda o, i: o["cookie"] if "cookie" in o else o["data"],
    "tcp.options.tfo.request": lambda o, i: "" if o["cookie"] == "" else "cookie",
    "tcp.options.experimental.exid": lambda o, i: f"0x{o['exid']:04x}",
    "tcp.options.experimental.data": lambda o, i: o["data"],
    # tshark decodes neither POC kind nor the alternate checksums: their value bytes.
    "tcp.options.unknown.payload": lambda o, i: unknown_payload(o),
    "tcp.options.mptcp.subtype": lambda o, i: str(o["subtype"]),
    "tcp.options.mptcp.version": lambda o, i: str(o["version"]),
    # MP_CAPABLE and DSS: the flags byte; MP_JOIN, MP_PRIO and unknown subtypes: tshark
    # shows the whole first byte (subtype and the backup bit).
    "tcp.options.mptcp.flags": lambda o, i: f"0x{mptcp_flags(o):02x}",
    "tcp.options.mptcp.sendkey": lambda o, i: str(o["skey"]),
    "tcp.options.mptcp.recvkey": lambda o, i: str(o["rkey"]),
    "tcp.options.mptcp.datalvllen": lambda o, i: str(o["dl_len"]),
    "tcp.options.mptcp.checksum": lambda o, i: f"0x{o['checksum']:04x}",
    "tcp.options.mptcp.addrid": lambda o, i: str(o["addr_id"][i] if isinstance(o["addr_id"], list)
                                                 else o["addr_id"]),
    "mptcp.rm_addr.count": lambda o, i: str(len(o["addr_id"])),
    "tcp.options.mptcp.recvtok": lambda o, i: str(o["token"]),
    "tcp.options.mptcp.sendrand": lambda o, i: str(o["nonce"]),
    "tcp.options.mptcp.sendtrunchmac": lambda o, i: be_hex(0, 0) + str(int(o["hmac"], 16)),
    "tcp.options.mptcp.sendhmac": lambda o, i: o["hmac"],
    "tcp.options.mptcp.rawdataack": lambda o, i: str(o["ack"]),
    "tcp.options.mptcp.rawdataseqno": lambda o, i: str(o["dsn"]),
    "mptcp.dss.dsn": lambda o, i: str(o["dsn"]),
    "tcp.options.mptcp.subflowseqno": lambda o, i: str(o["ssn"]),
    "tcp.options.mptcp.ipver": lambda o, i: str(o["version"]),
    "tcp.options.mptcp.ipv4": lambda o, i: o["addr"],
    "tcp.options.mptcp.ipv6": lambda o, i: o["addr"],
    "tcp.options.mptcp.port": lambda o, i: str(o["port"]),
    # Subtype 8 is RFC 8684's MP_TCPRST, after the seed's RFC 6824: pspdr shows it as an
    # unknown subtype's bytes, of which the reason is the second.
    "tcp.options.mptcp.rst_reason": lambda o, i: "0x" + o["data"][2:4],
}
# Fields tshark derives rather than reads from the option.
DERIVED = {
    "tcp.options.wscale.multiplier": "2 ** shift",
    "tcp.options.mptcp.reserved": "reserved bits, zero",
    "mptcp.expected_token": "a SHA hash of the key (MPTCP analysis)",
    "mptcp.expected_idsn": "a SHA hash of the key (MPTCP analysis)",
    "tcp.options.sack.dsack_le": "D-SACK analysis of a malformed SACK",
}
# tshark shows an option's problem through these expert fields.
MALFORMED = {"tcp.option.len.invalid", "tcp.suboption_malformed", "_ws.malformed.expert"}
# Options tshark reads whose length is wrong for their kind, knowingly: it checks
# neither MP_JOIN's length (RFC 8684: 12, 16 or 24) nor a Fast Open cookie's (RFC 7413:
# 4 to 16 bytes). pspdr shows them as malformed; tshark shows what it could read.
NOT_CHECKED_BY_TSHARK = {"MP_JOIN length is not 12, 16 or 24",
                         "Fast Open cookie is not 0 or 4 to 16 bytes"}


def unknown_payload(o):
    if "data" in o:
        return o["data"]
    if o["kind"] == 10:
        return f"{(0x80 if o['start'] else 0) | (0x40 if o['end'] else 0):02x}"
    if o["kind"] == 14:
        return f"{o['chksum']:02x}"
    raise KeyError("no payload")


def mptcp_flags(o):
    if o["subtype_name"] in ("MP_JOIN", "MP_PRIO"):
        return o["subtype"] << 4 | int(o.get("backup", False))
    if o["subtype_name"] == "Unknown":  # the first byte, read as MP_CAPABLE's would be
        return int(o["data"][:2], 16)
    return o["flags"]


# Header fields: tshark name -> path into the pspdr object (or a function of it).
HEADER_FIELDS = {
    "frame.number": lambda p: str(p["frame"]["number"]),
    "frame.len": lambda p: str(p["frame"]["len"]),
    "frame.cap_len": lambda p: str(p["frame"]["cap_len"]),
    "ip.version": lambda p: str(p["ip"]["version"]),
    "ip.hdr_len": lambda p: str(p["ip"]["hdr_len"]),
    "ip.len": lambda p: str(p["ip"]["len"]),
    "ip.id": lambda p: f"0x{p['ip']['id']:04x}",
    "ip.flags.rb": lambda p: str(int(p["ip"]["flags"]["rb"])),
    "ip.flags.df": lambda p: str(int(p["ip"]["flags"]["df"])),
    "ip.flags.mf": lambda p: str(int(p["ip"]["flags"]["mf"])),
    "ip.frag_offset": lambda p: str(p["ip"]["frag_offset"]),
    "ip.ttl": lambda p: str(p["ip"]["ttl"]),
    "ip.proto": lambda p: str(p["ip"]["proto"]),
    "ip.checksum": lambda p: f"0x{p['ip']['checksum']:04x}",
    "ip.dsfield.dscp": lambda p: str(p["ip"]["dscp"]),
    "ip.dsfield.ecn": lambda p: str(p["ip"]["ecn"]),
    "ip.src": lambda p: p["ip"]["src"],
    "ip.dst": lambda p: p["ip"]["dst"],
    "ipv6.tclass.dscp": lambda p: str(p["ip"]["dscp"]),
    "ipv6.tclass.ecn": lambda p: str(p["ip"]["ecn"]),
    "ipv6.flow": lambda p: f"0x{p['ip']['flow_label']:06x}",
    "ipv6.plen": lambda p: str(p["ip"]["plen"]),
    "ipv6.nxt": lambda p: str(p["ip"]["nxt"]),
    "ipv6.hlim": lambda p: str(p["ip"]["hlim"]),
    "ipv6.src": lambda p: p["ip"]["src"],
    "ipv6.dst": lambda p: p["ip"]["dst"],
    "tcp.srcport": lambda p: str(p["tcp"]["srcport"]),
    "tcp.dstport": lambda p: str(p["tcp"]["dstport"]),
    "tcp.seq_raw": lambda p: str(p["tcp"]["seq"]),
    "tcp.ack_raw": lambda p: str(p["tcp"]["ack"]),
    "tcp.hdr_len": lambda p: str(p["tcp"]["hdr_len"]),
    "tcp.flags.ns": lambda p: str(int(p["tcp"]["flags"]["ns"])),
    "tcp.flags.cwr": lambda p: str(int(p["tcp"]["flags"]["cwr"])),
    "tcp.flags.ecn": lambda p: str(int(p["tcp"]["flags"]["ece"])),
    "tcp.flags.urg": lambda p: str(int(p["tcp"]["flags"]["urg"])),
    "tcp.flags.ack": lambda p: str(int(p["tcp"]["flags"]["ack"])),
    "tcp.flags.push": lambda p: str(int(p["tcp"]["flags"]["psh"])),
    "tcp.flags.reset": lambda p: str(int(p["tcp"]["flags"]["rst"])),
    "tcp.flags.syn": lambda p: str(int(p["tcp"]["flags"]["syn"])),
    "tcp.flags.fin": lambda p: str(int(p["tcp"]["flags"]["fin"])),
    "tcp.window_size_value": lambda p: str(p["tcp"]["window_size"]),
    "tcp.checksum": lambda p: f"0x{p['tcp']['checksum']:04x}",
    "tcp.urgent_pointer": lambda p: str(p["tcp"]["urgent_pointer"]),
    "tcp.len": lambda p: str(p["tcp"]["payload_len"]),
}


def tshark_packets(pcap):
    out = subprocess.run(["tshark", "-n", "-r", str(pcap), "-T", "pdml"], capture_output=True,
                         check=True).stdout
    return ET.fromstring(out).findall("packet")


def fields_of(packet):
    """name -> show, for every field of the packet (the first of each name)."""
    found = {}
    for f in packet.iter("field"):
        found.setdefault(f.get("name"), f.get("show"))
    return found


def tshark_options(packet):
    """The options tshark shows, in order (trailing EOL padding after the first EOL
    dropped: pspdr, like PATHspider and pcapkit, stops at the first), and whether an
    option was flagged malformed."""
    options, malformed = [], False
    for f in packet.iter("field"):
        if f.get("name") in MALFORMED:
            malformed = True
    for top in packet.iter("field"):
        if top.get("name") != "tcp.options":
            continue
        for opt in top:
            if opt.get("name") in ("", "_ws.expert", None):
                continue
            options.append([(c.get("name"), c.get("show")) for c in opt])
            if opt.get("name") == "tcp.options.eol":
                break
    return options, malformed


def compare_option(frame, n, theirs, ours, unmapped):
    seen = {}
    for name, show in theirs:
        if name in DERIVED:
            continue
        if name not in OPTION_FIELDS:
            unmapped.add(name)
            continue
        i = seen.get(name, 0)
        seen[name] = i + 1
        try:
            want = OPTION_FIELDS[name](ours, i)
        except (KeyError, IndexError, TypeError) as e:
            want = f"<pspdr has no {e}>"
        if name == "tcp.options.mptcp.sendtrunchmac":
            show, want = be_hex(int(show), 8), ours["hmac"]
        if name in ("tcp.options.md5.digest", "tcp.options.ao.mac", "tcp.options.tfo.cookie",
                    "tcp.options.experimental.data", "tcp.options.unknown.payload",
                    "tcp.options.mptcp.sendhmac"):
            show = hexbytes(show)
        if show != want:
            check(False, f"frame {frame} option {n} ({ours.get('name')}): {name} is {show} "
                  f"in tshark, {want} in pspdr")
            return False
    return True


def main():
    pcap = work / "option_trace.pcap"
    subprocess.run([program, str(pcap)], check=True)
    ours = [json.loads(line) for line in subprocess.run(
        [pspdr, "dissect", "-q", "-i", str(pcap)], capture_output=True, text=True,
        check=True).stdout.splitlines()]
    theirs = tshark_packets(pcap)
    check(len(ours) == len(theirs), f"{len(ours)} packets from pspdr, {len(theirs)} from tshark")

    header_checked = options_checked = 0
    unmapped = set()
    kinds = set()
    for p, t in zip(ours, theirs):
        frame = p["frame"]["number"]
        tf = fields_of(t)
        for name, ours_of in HEADER_FIELDS.items():
            if name not in tf:
                continue
            want = ours_of(p)
            if tf[name] != want:
                check(False, f"frame {frame}: {name} is {tf[name]} in tshark, {want} in pspdr")
            header_checked += 1
        if abs(float(tf["frame.time_epoch"]) - p["frame"]["time_epoch"]) > 1e-6:
            check(False, f"frame {frame}: frame.time_epoch {tf['frame.time_epoch']} vs "
                  f"{p['frame']['time_epoch']}")

        t_opts, t_malformed = tshark_options(t)
        p_opts = p["tcp"]["options"]
        p_malformed = [o["malformed"] for o in p_opts if "malformed" in o]
        kinds.update(o["kind"] for o in p_opts if "malformed" not in o)
        expected = bool(set(p_malformed) - NOT_CHECKED_BY_TSHARK)
        if t_malformed != expected:
            check(False, f"frame {frame}: tshark {'flags' if t_malformed else 'does not flag'} "
                  f"a malformed option; pspdr: {p_malformed or 'none'}")
        # Option by option, up to the first pspdr reads as malformed.
        for n, (to, po) in enumerate(zip(t_opts, p_opts)):
            if "malformed" in po:
                break
            if compare_option(frame, n, to, po, unmapped):
                options_checked += 1
        if not p_malformed and len(t_opts) != len(p_opts):
            check(False, f"frame {frame}: {len(t_opts)} options in tshark, {len(p_opts)} in pspdr")

    check(not unmapped, f"every tshark option field is compared (not mapped: {sorted(unmapped)})")
    check(header_checked > 30 * len(ours) and options_checked > 100,
          f"{header_checked} header fields and {options_checked} options compared")
    every_kind = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 19, 27, 28, 29, 30, 34,
                  253, 254}
    check(every_kind <= kinds, f"every option kind appears well-formed (missing: "
          f"{sorted(every_kind - kinds)})")
    subtypes = {o["subtype_name"] for p in ours for o in p["tcp"]["options"] if "subtype_name" in o}
    check(len(subtypes) == 9, f"every MPTCP subtype appears: {sorted(subtypes)}")
    sys.exit(finish())


if subprocess.run(["which", "tshark"], capture_output=True).returncode != 0:
    print("skipped: tshark is not installed (scripts/setup installs it)")
    sys.exit(77)
main()
