#!/usr/bin/env bash
# tests/bench/matrix.sh — the issue's benchmark matrix: run.sh for simulator latency {0, 100}
# ms x {1, 2, 4} workers, three times each (rounds interleaved, so that a slow minute on a
# shared machine does not land on one configuration only), then the median of each figure per
# configuration:
#
#   bench median runs=3 workers=W latency_ms=L jobs=N jobs_per_s=… p50_ms=… p99_ms=… cpu_us_per_job=… rss_mib=…
#
# Every run's own lines go to the results file (--out) as they come; the medians are printed
# at the end (and can be recomputed from the file with --summarize FILE).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
    cat <<'EOF'
usage: tests/bench/matrix.sh [--jobs N] [--reps R] [--latencies L1,L2] [--workers W1,W2,..]
                             [--out FILE] [--ceilings] [--stack] [-- run.sh options...]
       tests/bench/matrix.sh --summarize FILE

Runs tests/bench/run.sh for every latency x workers combination, R times, and prints the
median of each figure per combination ("bench median …" lines).

Options:
  --jobs N          jobs per run (default 100000)
  --reps R          runs per combination (default 3)
  --latencies LIST  simulator latencies in ms (default 0,100)
  --workers LIST    worker counts (default 1,2,4)
  --out FILE        where every run's output goes (default /tmp/nt-bench-matrix-<time>.txt)
  --ceilings        run tests/bench/ceilings.sh once first (its lines go to FILE too)
  --stack           one private stack for the whole matrix (as run.sh --stack)
  --summarize FILE  only print the medians of the "bench e2e" lines in FILE
  -- ARGS           passed to every run.sh (e.g. -- --platforms baidu)
EOF
}

# summarize FILE: median per (workers, latency_ms, jobs) of every other numeric field
summarize() {
    awk '
    function median(list,   n, a, i, j, t) {
        n = split(list, a, " ")
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t }
        if (n == 0) return "NA"
        return (n % 2) ? a[(n + 1) / 2] : sprintf("%.1f", (a[n / 2] + a[n / 2 + 1]) / 2)
    }
    $1 == "bench" && ($2 == "e2e" || $2 == "repeat") {
        key = ""; delete kv
        for (i = 3; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
        key = ($2 == "repeat" ? "phase=repeat " : "") "workers=" kv["workers"] " latency_ms=" kv["latency_ms"] " jobs=" kv["jobs"]
        if (!(key in runs)) order[++nkeys] = key
        runs[key]++
        nf = split("jobs_per_s p50_ms p99_ms cpu_us_per_job rss_mib wal_bytes_per_job rows_per_job history_rows_per_job", fields, " ")
        for (f = 1; f <= nf; f++) if (kv[fields[f]] != "NA" && kv[fields[f]] != "") vals[key, fields[f]] = vals[key, fields[f]] " " kv[fields[f]]
    }
    END {
        for (k = 1; k <= nkeys; k++) {
            key = order[k]; line = "bench median runs=" runs[key] " " key
            for (f = 1; f <= nf; f++) if (f <= 5 || vals[key, fields[f]] != "") line = line " " fields[f] "=" median(vals[key, fields[f]])
            print line
        }
    }' "$1"
}

JOBS=100000
REPS=3
LATS=0,100
WORKERS=1,2,4
OUT=/tmp/nt-bench-matrix-$(date +%Y%m%d%H%M%S).txt
CEILINGS=false
OWN_STACK=false
declare -a RUN_ARGS=()
while [ $# -gt 0 ]; do
    case $1 in
    --jobs) JOBS=${2:-}; shift ;;
    --reps) REPS=${2:-}; shift ;;
    --latencies) LATS=${2:-}; shift ;;
    --workers) WORKERS=${2:-}; shift ;;
    --out) OUT=${2:-}; shift ;;
    --ceilings) CEILINGS=true ;;
    --stack) OWN_STACK=true ;;
    --summarize)
        [ -f "${2:-}" ] || { echo "matrix.sh: --summarize needs a results file" >&2; exit 2; }
        summarize "$2"
        exit 0
        ;;
    --) shift; RUN_ARGS=("$@"); break ;;
    --help | -h) usage; exit 0 ;;
    *) echo "matrix.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $REPS =~ ^[1-9][0-9]*$ ]] || { echo "matrix.sh: --reps '$REPS'" >&2; exit 2; }
[[ $LATS =~ ^[0-9]+(,[0-9]+)*$ ]] || { echo "matrix.sh: --latencies '$LATS'" >&2; exit 2; }
[[ $WORKERS =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || { echo "matrix.sh: --workers '$WORKERS'" >&2; exit 2; }
IFS=, read -r -a LAT_LIST <<<"$LATS"
IFS=, read -r -a W_LIST <<<"$WORKERS"

# shellcheck source=tests/bench/bench-lib.sh
. "$here/bench-lib.sh"
if $OWN_STACK; then
    trap bench_stack_down EXIT
    bench_stack_up
fi

: >"$OUT"
echo "[matrix] results in $OUT" >&2
if $CEILINGS; then
    "$here/ceilings.sh" | tee -a "$OUT"
fi
total=$((REPS * ${#LAT_LIST[@]} * ${#W_LIST[@]}))
n=0
failed=0
for ((r = 1; r <= REPS; r++)); do
    for lat in "${LAT_LIST[@]}"; do
        for w in "${W_LIST[@]}"; do
            n=$((n + 1))
            echo "[matrix] run $n/$total: round $r, latency ${lat} ms, $w worker(s)" >&2
            echo "# round=$r latency_ms=$lat workers=$w" >>"$OUT"
            rc=0
            "$here/run.sh" --jobs "$JOBS" --workers "$w" --latency-ms "$lat" \
                ${RUN_ARGS[@]+"${RUN_ARGS[@]}"} >>"$OUT" || rc=$?
            if ((rc == 0)); then
                tail -n1 "$OUT" >&2
            else
                failed=$((failed + 1))
                echo "# FAILED (exit $rc)" >>"$OUT"
                echo "[matrix] run $n failed (exit $rc); continuing" >&2
            fi
        done
    done
done
summarize "$OUT" | tee -a "$OUT"
((failed == 0)) || { echo "[matrix] $failed run(s) failed; see $OUT" >&2; exit 1; }
