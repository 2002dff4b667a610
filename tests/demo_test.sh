#!/usr/bin/env bash
# End to end through real parts: scripts/demo brings the lab up (namespaces, nginx,
# apache2, dnsmasq, nftables middlebox behaviours), runs pspdr measure with every plugin
# against it and tears it down; every result must equal the lab's truth.
#   demo_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
[[ $EUID -eq 0 ]] || { echo "skipped: needs root for network namespaces"; exit 77; }
cd "$(mktemp -d)"
trap 'rm -rf "$PWD"' EXIT
out=$("$1/scripts/demo" "$2" --targets 30 2>&1) || { echo "$out"; exit 1; }
echo "$out"
summary=$(grep -E '^[0-9]+ of [0-9]+ results equal' <<<"$out")
read -r agree _ total _ <<<"$summary"
[[ $total -gt 0 && $agree -eq $total ]] || { echo "demo: results differ from the lab's truth"; exit 1; }
lines=$(wc -l <results.ndjson)
[[ $lines -eq $((30 * 7)) ]] || { echo "demo: $lines result lines, expected $((30 * 7))"; exit 1; }
if ip netns list | grep -q pspdr-demo; then echo "demo: lab left behind"; exit 1; fi
echo "demo: $agree of $total results equal the lab's truth; $lines lines in results.ndjson"
