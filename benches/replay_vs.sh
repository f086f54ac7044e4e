#!/usr/bin/env bash
# Replay throughput of two `fastiam` binaries on the clock, alternating them round by round
# so that both see the same machine (BENCHMARKS.md, "Replay after the seventh session").
#
#   benches/replay_vs.sh OLD_BIN NEW_BIN FILE ROUNDS [SCP]
#
# For 1 and 2 threads: each round runs OLD then NEW (`fastiam replay --quiet --threads T
# --scp SCP FILE`, timed with /usr/bin/time), and prints both times and OLD/NEW (the
# speed-up); then the median of the rounds' ratios, and `uptime` before and after.
# SCP defaults to the network-perimeter SCP of corpus/replay/policies/ (run from the repo).
set -euo pipefail
if [ $# -lt 4 ]; then
    echo "usage: $0 OLD_BIN NEW_BIN FILE ROUNDS [SCP]" >&2
    exit 2
fi
old=$1 new=$2 file=$3 rounds=$4
scp=${5:-corpus/replay/policies/network-perimeter-iam-users-scp.json}
for f in "$old" "$new"; do
    [ -x "$f" ] || { echo "$0: $f: not an executable" >&2; exit 2; }
done
[ -r "$file" ] || { echo "$0: $file: not readable" >&2; exit 2; }
[ -r "$scp" ] || { echo "$0: $scp: not readable (run from the repository, or give SCP)" >&2; exit 2; }
records=$(wc -l < "$file")

# Seconds of one replay (the report goes to /dev/null; a failed run stops the script).
seconds() {
    local out
    out=$( { /usr/bin/time -f %e "$1" replay --quiet --threads "$2" --scp "$scp" "$file" >/dev/null; } 2>&1 ) \
        || { echo "$0: $1 failed: $out" >&2; exit 1; }
    tail -n 1 <<<"$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "file: $file ($records lines); scp: $scp"
echo "old: $old"
echo "new: $new"
echo "load before: $(uptime)"
for threads in 1 2; do
    echo
    echo "threads $threads"
    printf '%5s %9s %9s %9s\n' round "old (s)" "new (s)" "old/new"
    ratios=() olds=() news=()
    for round in $(seq 1 "$rounds"); do
        t_old=$(seconds "$old" "$threads")
        t_new=$(seconds "$new" "$threads")
        ratio=$(awk -v a="$t_old" -v b="$t_new" 'BEGIN { printf "%.2f", a / b }')
        ratios+=("$ratio") olds+=("$t_old") news+=("$t_new")
        printf '%5s %9s %9s %9s\n' "$round" "$t_old" "$t_new" "$ratio"
    done
    m=$(printf '%s\n' "${ratios[@]}" | median)
    m_old=$(printf '%s\n' "${olds[@]}" | median)
    m_new=$(printf '%s\n' "${news[@]}" | median)
    awk -v t="$threads" -v m="$m" -v o="$m_old" -v n="$m_new" -v r="$records" 'BEGIN {
        printf "median of the ratios, %d thread(s): %.2fx (median times: old %.2f s, %.0f records/s; new %.2f s, %.0f records/s)\n", t, m, o, r / o, n, r / n }'
done
echo
echo "load after: $(uptime)"
