#!/usr/bin/env bash
# pspdr filter, PATHspider's list pre-processor: usable jobs out (domain-only ones too),
# each rejected line reported with its number, --dp set on every job.
#   filter_test.sh BUILD_DIR
set -euo pipefail
pspdr=$1/cli/pspdr
in='{"dip": "192.0.2.1", "dp": 80, "domain": "a.test"}
{"domain": "b.test", "rank": 2}
not json
{"dip": "192.0.2.1"}
{"dip": "224.0.0.1"}

{"dip": "2001:db8::1", "info": [1, 2]}'
out=$(printf '%s\n' "$in" | "$pspdr" filter --dp 443 2>/tmp/filter_test.$$)
err=$(cat /tmp/filter_test.$$)
rm -f /tmp/filter_test.$$
expected='{"dip": "192.0.2.1", "domain": "a.test", "dp": 443}
{"domain": "b.test", "rank": 2, "dp": 443}
{"dip": "2001:db8::1", "info": [1,2], "dp": 443}'
fail=0
[[ $out == "$expected" ]] || { echo "FAIL output:"; echo "$out"; fail=1; }
for line in "line 3: not JSON" "line 4: duplicate target 192.0.2.1 (first on line 1)" \
            "line 5: 224.0.0.1 is a multicast address" "3 jobs, 3 rejected, 1 blank lines"; do
  [[ $err == *"$line"* ]] || { echo "FAIL: stderr lacks '$line':"; echo "$err"; fail=1; }
done

# Shards 0..3 of 4 (ZMap's --shards/--shard/--seed): together exactly the unsharded
# output, each job once, and each shard's jobs no longer in the input's order.
list=$(for i in $(seq 1 400); do echo "{\"dip\": \"10.1.$((i / 100)).$((i % 100))\", \"n\": $i}"; done)
whole=$(printf '%s\n' "$list" | "$pspdr" filter 2>/dev/null | sort)
shards=""
for i in 0 1 2 3; do
  part=$(printf '%s\n' "$list" | "$pspdr" filter --shards 4 --shard $i --seed 9 2>/dev/null)
  [[ -n $part && $part != "$(sort -t: -k3 -n <<<"$part")" ]] ||
    { echo "FAIL: shard $i empty or in input order"; fail=1; }
  shards+="$part"$'\n'
done
[[ $(sort <<<"${shards%$'\n'}") == "$whole" ]] || { echo "FAIL: shards 0..3 are not the list"; fail=1; }

((fail == 0)) && echo "filter test passed"
exit $fail
