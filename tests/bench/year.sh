#!/usr/bin/env bash
# tests/bench/year.sh — what a year of weekly maintenance writes into the history (issue 14):
# a fleet checked, tagged and appealed by the reconciler's passes and the workers for 52
# simulated weeks (numtrust time and the simulator's clock moved a week before each pass; the
# passes of `run --once`, for this fleet only),
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
#                 history row at scale (its tuple and line pointer in pages 97% full, its index
#                 entry in leaves 90% full: row_bytes; row_bytes_measured_small is the table's
#                 size over its rows here, mostly page and index overhead of small partitions),
#                 plus the year's closed quarters of trust sums (number_platforms.q_hist):
#                 what the history costs a registration a year
#   row_per_check_bytes_per_reg_year  checks per registration and year x the bytes of the
#                 one-row-per-check table's row: the same plus its primary-key entry on the
#                 job id (it also held the worker's name, not counted)
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
    # a reconciler pass (run --once) for this fleet only: others in the database keep theirs
    {
        "$PRODUCER" sla pass
        "$PRODUCER" history maintain
        for kind in "check --due" tag appeal appeal-status; do
            # shellcheck disable=SC2086 # the kind and its flag
            "$PRODUCER" enqueue $kind --prefix "+86$PFX"
        done
    } >>"$NT_TMP/run.log" 2>&1 || say "week $w: a pass step failed (see $NT_TMP/run.log)"
    quiet "$w"
    if ((w % 4 == 0 || w == WEEKS)); then
        say "week $w: $(psqlv "SELECT count(*) || ' checks, ' || count(*) FILTER (WHERE result = 'changed') || ' changes' FROM jobs WHERE $mine AND type = 'check' AND state = 'done'")"
    fi
done
stop_all_workers

read -r checks changes <<<"$(psqlv "SELECT count(*) || ' ' || count(*) FILTER (WHERE result = 'changed') FROM jobs WHERE $mine AND type = 'check' AND state = 'done'" | tr '|' ' ')"
rows=$(psqlv "SELECT count(*) FROM check_results WHERE $mine")
# What a history row costs at scale (a small fleet's partitions are mostly page and index
# overhead): the tuple as stored (pg_column_size of the row: data and its 24-byte header) and
# its line pointer, in pages about 97% full; its index entry (8-byte header, number,
# platform, checked_at, aligned, and its line pointer) in leaves about 90% full. One row per
# check cost the same plus its primary-key entry on the job id (16 + 8, aligned, + 4).
read -r heap_b index_b <<<"$(psqlv "SELECT round(avg(pg_column_size(cr.*) + 4) / 0.97),
           round(avg(8 * ceil((8 + pg_column_size(cr.number) + pg_column_size(cr.platform) + 8) / 8.0) + 4) / 0.9)
           FROM check_results cr WHERE cr.$mine" | tr '|' ' ')"
row_bytes=$((heap_b + index_b))
old_row_bytes=$((row_bytes + 31))
# the closed quarters' trust sums, in the registrations' rows
q_bytes=$(psqlv "SELECT round(COALESCE(avg(pg_column_size(q_hist)), 0)) FROM number_platforms WHERE $mine")
measured=$(psqlv "SELECT round((SELECT sum(pg_total_relation_size(i.inhrelid)) FROM pg_inherits i
                                WHERE i.inhparent = 'check_results'::regclass)
                               / greatest((SELECT count(*) FROM check_results), 1))")
since=$(psqlv "SELECT to_char('$t_start'::timestamptz, 'YYYY-MM-DD')")
t0=$(date +%s.%N)
"$PRODUCER" report --since "$since" >"$NT_TMP/report.txt"
report_secs=$(echo "$(date +%s.%N) - $t0" | bc | awk '{printf "%.2f", $1}')
"$PRODUCER" clock set --offset 0 --force >/dev/null
awk -v regs="$REGS" -v weeks="$WEEKS" -v checks="$checks" -v changes="$changes" -v rows="$rows" \
    -v rb="$row_bytes" -v ob="$old_row_bytes" -v qb="$q_bytes" -v mb="$measured" \
    -v rs="$report_secs" -v n="$NUMBERS" 'BEGIN {
    y = 52 / weeks
    cpr = checks / regs * y; hpr = rows / regs * y
    hb = hpr * rb + qb * y; ob2 = cpr * ob
    printf "bench year numbers=%d registrations=%d weeks=%d checks=%d changes=%d history_rows=%d row_bytes=%d row_bytes_measured_small=%d quarters_bytes_per_reg=%d checks_per_reg_year=%.1f history_rows_per_reg_year=%.2f history_bytes_per_reg_year=%.0f row_per_check_bytes_per_reg_year=%.0f ratio=%.1f report_secs=%s\n",
        n, regs, weeks, checks, changes, rows, rb, mb, qb, cpr, hpr, hb, ob2, (hb > 0 ? ob2 / hb : 0), rs
}'
