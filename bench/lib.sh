# Shared by the trace benchmarks (source it after setting `name`, `build`, `runs`):
# option errors, a synthesised trace of about N packets, timed runs and table rows.

fail() {
  echo "$name: $*" >&2
  exit 1
}
usage_error() {
  echo "$name: $* (see --help)" >&2
  exit 2
}

# --packets, --snaplen, --runs, --build and --help (the script's `usage`), over the
# defaults the script set; then checks them and sets `pspdr`.
parse_options() {
  build=build
  while (($#)); do
    case $1 in
      --packets | --runs | --build | --snaplen)
        (($# >= 2)) || usage_error "$1 needs a value"
        case $1 in
          --packets) packets=$2 ;;
          --runs) runs=$2 ;;
          --build) build=$2 ;;
          --snaplen) snaplen=$2 ;;
        esac
        shift 2
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      *) usage_error "unknown option '$1'" ;;
    esac
  done
  [[ $packets =~ ^[1-9][0-9]*$ ]] || usage_error "bad --packets '$packets'"
  [[ $runs =~ ^[1-9][0-9]*$ ]] || usage_error "bad --runs '$runs'"
  [[ $snaplen =~ ^[1-9][0-9]*$ ]] || usage_error "bad --snaplen '$snaplen'"
  pspdr=$build/cli/pspdr
  [[ -x $pspdr ]] || fail "$pspdr is not built (meson setup $build && ninja -C $build)"
}

# Writes bench/out/synth-FLOWS-sSNAPLEN.pcap of about $1 packets (snap length $2) and
# sets `trace`, `total` (its packet count) and `synth_log` (synth's summary line).
synth_trace() {
  local packets=$1 snaplen=$2 sample_log sample flows
  stats() { sed -n 's/^pspdr synth: \([0-9]*\) packets.*/\1/p'; }
  # Size the trace from the packets per flow of a small one with the same mix.
  sample_log=$("$pspdr" synth --flows 2000 --output /dev/null 2>&1) || fail "$sample_log"
  sample=$(stats <<<"$sample_log")
  [[ -n $sample ]] || fail "cannot read the packet count from: $sample_log"
  flows=$(((packets * 2000 + sample - 1) / sample))
  mkdir -p bench/out
  trace=bench/out/synth-$flows-s$snaplen.pcap
  synth_log=$("$pspdr" synth --flows "$flows" --snaplen "$snaplen" --output "$trace" 2>&1) ||
    fail "$synth_log"
  total=$(stats <<<"$synth_log")
  [[ -n $total ]] || fail "cannot read the packet count from: $synth_log"
}

# Times `runs` runs of a command on CPU 0 (or the CPUs in `cpus`); prints "median min
# max" in seconds.
measure() {
  local times=() start end i
  for ((i = 0; i < runs; i++)); do
    # Some VMs reclaim the page cache proactively: every tool starts from a warm cache.
    cat "$trace" >/dev/null
    start=$(date +%s%N)
    taskset -c "${cpus:-0}" "$@" >/dev/null 2>&1 || fail "failed: $*"
    end=$(date +%s%N)
    times+=($((end - start)))
  done
  printf '%s\n' "${times[@]}" | sort -n |
    awk '{ t[NR] = $1 / 1e9 } END { printf "%.3f %.3f %.3f\n", t[int((NR + 1) / 2)], t[1], t[NR] }'
}

# A markdown row: name, command text, "median min max"; the last column is the ratio to
# `ref_pps` (packets/s of the row the table compares with; unset: this row is it).
row() {
  read -r med min max <<<"$3"
  awk -v name="$1" -v cmd="$2" -v med="$med" -v min="$min" -v max="$max" -v n="$total" \
    -v ref="${ref_pps:-0}" 'BEGIN {
      pps = n / med
      ratio = ref ? sprintf("%.1f", ref / pps) : "1.0"
      printf "| %s | `%s` | %.3f | %.3f | %.3f | %.0f | %s |\n", name, cmd, med, min, max, pps, ratio
    }'
}

# packets/s at the median of "median min max".
pps_of() { awk -v n="$total" -v t="${1%% *}" 'BEGIN { printf "%.0f", n / t }'; }

table_header() {
  echo "| tool | command | median s | min s | max s | packets/s | pspdr/tool |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
}
