#!/usr/bin/env bash
# tests/bench/year.sh — what a year of weekly maintenance writes into the history (issue 14):
# a fleet checked, tagged and appealed by the reconciler and the workers for 52 simulated
# weeks (numtrust time and the simulator's clock moved a week before each reconciler pass),
# with the simulator's default change rates (marks appearing, trust decaying, reviews
# deciding). Not a test. Prints, with the commands' context lines,
#
#   bench year numbers=N registrations=R weeks=W checks=… changes=… checks_per_reg_year=…
#         history_rows_per_reg_year=… history_bytes_per_reg_year=… row_per_check_bytes_per_reg_year=…
#         ratio=… report_secs=…
#
#   checks        done check jobs of the fleet (every reconciler pass's check-due and the
#                 checks the workers raise themselves)
#   changes       checks that wrote a history row (ledger result 'changed')
#   history_bytes_per_reg_year  history rows per registration and year x the bytes of a
#                 history row (heap and index of check_results, averaged over the table), plus
#                 the trust quarters' rows x theirs: what the history costs a registration a
#                 year
#   row_per_check_bytes_per_reg_year  checks per registration and year x the same bytes of a
#                 row: what one row per check cost (the old table's rows were larger still: a
#                 second index on the job id and the worker's name)
#   ratio         the second over the first
#   report_secs   numtrust-producer report --since the year's start, every section
#
# Options: --numbers N (1000), --weeks W (52), --workers W (2), --platforms LIST
# (baidu,tencent,qihoo360), --stack (a private stack, recommended: the simulator's and numtrust's
# clocks move a year). Numbers +868…; an earlier year fleet there is deleted first.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

NUMBERS=1000
WEEKS=52
WORKERS=2
PLATFORMS=baidu,tencent,qihoo360
OWN_STACK=false
while [ $# -gt 0 ]; do
    case $1 in
    --numbers) NUMBERS=${2:-}; shift ;;
    --weeks) WEEKS=${2:-}; shift ;;
    --workers) WORKERS=${2:-}; shift ;;
    --platforms) PLATFORMS=${2:-}; shift ;;
    --stack) OWN_STACK=true ;;
    --help | -h) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "year.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
    esac
    shift
done
for v in "$NUMBERS" "$WEEKS" "$WORKERS"; do
    [[ $v =~ ^[1-9][0-9]*$ ]] || { echo "year.sh: '$v' is not a positive integer" >&2; exit 2; }
done

say() { printf '[year %s] %s\n' "$(date +%T)" "$*" >&2; }

# shellcheck source=tests/bench/bench-lib.sh
. "$here/bench-lib.sh"
if $OWN_STACK; then
    trap bench_stack_down EXIT
    bench_stack_up
fi
# shellcheck source=tests/integration/lib.sh
. "$repo/tests/integration/lib.sh"
require_stack
nt_setup year
trap 'stop_all_workers 2>/dev/null || true; nt_cleanup; bench_stack_down' EXIT
PFX=868
mine="number LIKE '+86$PFX%'"
IFS=, read -r -a PLATS <<<"$PLATFORMS"
REGS=$((NUMBERS * ${#PLATS[@]}))
echo "bench context year host_cpus=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /) numbers=$NUMBERS registrations=$REGS weeks=$WEEKS workers=$WORKERS trust_delta=$(psqlv "SELECT trust_delta FROM history_settings")"

sim_reset
"$PRODUCER" costs prices >/dev/null
fleet=$(gen_fleet "$NUMBERS" "$PFX" "$PLATFORMS")
"$PRODUCER" import --numbers "$fleet" >/dev/null
for ((i = 0; i < WORKERS; i++)); do
    start_worker
done
t_start=$(psqlv "SELECT nt_now()")

quiet() { # waits until no job of the fleet is queued, running or retrying
    local t0=$SECONDS n
    while :; do
        n=$(psqlv "SELECT count(*) FROM jobs WHERE $mine AND state IN ('queued', 'running', 'retrying')")
        [ "$n" = 0 ] && return 0
        [ $((SECONDS - t0)) -lt 300 ] || fail "week $1: $n jobs still open after 300 s"
        sleep 0.5
    done
}

for ((w = 1; w <= WEEKS; w++)); do
    if ((w > 1)); then
        "$PRODUCER" clock advance 7d >/dev/null
        sim POST /admin/clock '{"advance_s":604800}' >/dev/null
    fi
    "$PRODUCER" run --once >>"$NT_TMP/run.log" 2>&1 || say "week $w: the pass reported a failure"
    quiet "$w"
    if ((w % 4 == 0 || w == WEEKS)); then
        say "week $w: $(psqlv "SELECT count(*) || ' checks, ' || count(*) FILTER (WHERE result = 'changed') || ' changes' FROM jobs WHERE $mine AND type = 'check' AND state = 'done'")"
    fi
done
stop_all_workers

read -r checks changes <<<"$(psqlv "SELECT count(*) || ' ' || count(*) FILTER (WHERE result = 'changed') FROM jobs WHERE $mine AND type = 'check' AND state = 'done'" | tr '|' ' ')"
rows=$(psqlv "SELECT count(*) FROM check_results WHERE $mine")
tq=$(psqlv "SELECT count(*) FROM trust_quarters WHERE $mine")
# bytes of a history row and of a trust quarter: heap and indexes over rows, whole tables
row_bytes=$(psqlv "SELECT round(sum(pg_total_relation_size(i.inhrelid)) / greatest((SELECT count(*) FROM check_results), 1))
                   FROM pg_inherits i WHERE i.inhparent = 'check_results'::regclass")
tq_bytes=$(psqlv "SELECT round(pg_total_relation_size('trust_quarters') / greatest((SELECT count(*) FROM trust_quarters), 1))")
since=$(psqlv "SELECT to_char('$t_start'::timestamptz, 'YYYY-MM-DD')")
t0=$(date +%s.%N)
"$PRODUCER" report --since "$since" >"$NT_TMP/report.txt"
report_secs=$(echo "$(date +%s.%N) - $t0" | bc | awk '{printf "%.2f", $1}')
"$PRODUCER" clock set --offset 0 --force >/dev/null
awk -v regs="$REGS" -v weeks="$WEEKS" -v checks="$checks" -v changes="$changes" -v rows="$rows" \
    -v tq="$tq" -v rb="$row_bytes" -v tb="$tq_bytes" -v rs="$report_secs" -v n="$NUMBERS" 'BEGIN {
    y = 52 / weeks
    cpr = checks / regs * y; hpr = rows / regs * y
    hb = hpr * rb + tq / regs * y * tb; ob = cpr * rb
    printf "bench year numbers=%d registrations=%d weeks=%d checks=%d changes=%d history_rows=%d trust_quarters=%d row_bytes=%d quarter_bytes=%d checks_per_reg_year=%.1f history_rows_per_reg_year=%.2f history_bytes_per_reg_year=%.0f row_per_check_bytes_per_reg_year=%.0f ratio=%.1f report_secs=%s\n",
        n, regs, weeks, checks, changes, rows, tq, rb, tb, cpr, hpr, hb, ob, (hb > 0 ? ob / hb : 0), rs
}'
