#!/usr/bin/env bash
# End to end through real parts: scripts/demo makes namespaces, a real HTTP server and
# real kernel TCP connections; the observer's records must show what the kernel did.
#   demo_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
[[ $EUID -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
out=$("$1/scripts/demo" "$2" 2>&1) || { echo "$out"; exit 1; }
echo "$out"
python3 - <<PY
import json, sys
recs = [json.loads(l) for l in """$out""".splitlines() if l.startswith("{")]
assert len(recs) == 3, f"expected 3 flows, got {len(recs)}"
plain, ecn, v6 = sorted(recs, key=lambda r: r["pkt_first"])
assert plain["tcp_connected"] and plain["tcp_synflags_fwd"] == 2 and plain["tcp_synflags_rev"] == 18, plain
# Linux with tcp_ecn=1 sends SYN|ECE|CWR (194); the server (tcp_ecn=2) answers SYN|ACK|ECE (82)
assert ecn["tcp_synflags_fwd"] == 194 and ecn["tcp_synflags_rev"] == 82, ecn
assert ecn["ecn_ect0_data_fwd"] and ecn["ecn_ect0_data_rev"], ecn
assert not plain["ecn_ect0_data_fwd"], plain
assert v6["sip"] == "fd77::1" and v6["dscp_mark_syn_fwd"] == 46 and v6["dscp_mark_data_fwd"] == 46, v6
assert v6["dscp_mark_syn_rev"] == 0, v6
print("demo records as expected")
PY
