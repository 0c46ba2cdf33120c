#!/usr/bin/env bash
# tests/bench/scale.sh — the fleet at scale (issue 14): 10 million numbers on 3 platforms
# imported, the reconciler's check-due pass finding 1 million checks due among them and
# enqueuing them, a year of history and the report over it. Not a test: it prints one line
# per step,
#
#   bench scale step=NAME secs=… peak_rss_mib=… db_mib=… [what the step did]
#
# (peak_rss_mib: the largest resident set of the numtrust program the step ran, from
# /usr/bin/time; db_mib: pg_database_size after the step), plus "bench scale plan …" lines:
# the plan of every enqueue selection at this size (EXPLAIN, node types), so that a
# selection that would only be fast by luck shows here.
#
# Steps
#   fleet    the CSV (deploy/local/gen-fleet.py, random numbers in random order); not timed
#   import   numtrust-producer import --numbers FILE: tenants, numbers, registrations,
#            then ANALYZE (issue 15.3)
#   plans    EXPLAIN of each enqueue selection (check, check --due, tag, appeal,
#            appeal-status, check-feedback) as the producer declares its cursor
#   observe  setup, not a target: every registration observed in the last 6 days, --due of
#            them 8 days ago (one UPDATE; a weekly mark check makes exactly those due)
#   settle   setup, not a target: VACUUM (ANALYZE) of numbers, number_platforms and jobs,
#            what autovacuum has done by the time a weekly pass runs in production
#   due      numtrust-producer enqueue check --due --prefix +869: the reconciler's check-due
#            pass (the view checks_due, 006a) over the whole fleet, every due check put on
#            Kafka and in the ledger
#   year     a year of numtrust time of the fleet's daily rollups (check_daily, what
#            weekly checks write: the fleet's registrations / 7 checks a day) and the clock
#            moved a year on; history rows are not generated at this size (the report does
#            not read them; tests/bench/year.sh measures what a year of checks writes)
#   snapshot the fleet-state snapshot the reconciler keeps for a fleet this large (011), taken
#            as `report --refresh` takes it: background work, not the report's time
#   report   numtrust-producer report --since (a year ago), every section, text; then each
#            section alone ("bench scale report_section …" lines)
#
# Options: --numbers N (10000000), --due D (1000000), --platforms LIST (baidu,tencent,qihoo360),
# --days N (365), --stack (a private stack on NT_BENCH_*_PORT, stopped at the end), --keep
# (keep the fleet, topics and the CSV; otherwise the fleet's rows are deleted at the end).
# NT_BUILD_DIR picks the build (a Release one). The fleet's numbers start with +869 (no test
# or other benchmark uses them); an earlier scale fleet there is deleted first.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

NUMBERS=10000000
DUE=1000000
PLATFORMS=baidu,tencent,qihoo360
DAYS=365
OWN_STACK=false
KEEP=false
while [ $# -gt 0 ]; do
    case $1 in
    --numbers) NUMBERS=${2:-}; shift ;;
    --due) DUE=${2:-}; shift ;;
    --platforms) PLATFORMS=${2:-}; shift ;;
    --days) DAYS=${2:-}; shift ;;
    --stack) OWN_STACK=true ;;
    --keep) KEEP=true ;;
    --help | -h) usage; exit 0 ;;
    *) echo "scale.sh: unknown argument '$1' (--help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $NUMBERS =~ ^[1-9][0-9]*$ ]] || { echo "scale.sh: --numbers '$NUMBERS' is not a positive integer" >&2; exit 2; }
[[ $DUE =~ ^[0-9]+$ ]] || { echo "scale.sh: --due '$DUE' is not a number" >&2; exit 2; }
[[ $DAYS =~ ^[1-9][0-9]*$ ]] || { echo "scale.sh: --days '$DAYS' is not a positive integer" >&2; exit 2; }
[[ $PLATFORMS =~ ^[a-z0-9][a-z0-9_-]*(,[a-z0-9][a-z0-9_-]*)*$ ]] || { echo "scale.sh: --platforms '$PLATFORMS' is not a list of platform ids" >&2; exit 2; }
IFS=, read -r -a PLATS <<<"$PLATFORMS"
REGS=$((NUMBERS * ${#PLATS[@]}))
((DUE <= REGS)) || { echo "scale.sh: --due $DUE is more than the $REGS registrations" >&2; exit 2; }

say() { printf '[scale %s] %s\n' "$(date +%T)" "$*" >&2; }

# shellcheck source=tests/bench/bench-lib.sh
. "$here/bench-lib.sh"
if $OWN_STACK; then
    trap bench_stack_down EXIT
    bench_stack_up
fi
# shellcheck source=tests/integration/lib.sh
. "$repo/tests/integration/lib.sh"
require_stack
[ -x "$PRODUCER" ] || { echo "scale.sh: $PRODUCER is not built (NT_BUILD_DIR=$NT_BUILD_DIR)" >&2; exit 1; }

RUN_ID="$(date +%Y%m%d%H%M%S)-$$"
export NUMTRUST_TOPICS_PREFIX="scale.$RUN_ID"
NT_TMP=$(mktemp -d "/tmp/nt-scale.XXXXXX")
PREFIX=9 # numbers +869…
LIKE="+86$PREFIX%"
CLOCK0=""

cleanup() {
    local rc=$?
    [ -z "$CLOCK0" ] || "$PRODUCER" clock set --offset "$CLOCK0" --force >/dev/null 2>&1 || true
    if ! $KEEP; then
        say "deleting the scale fleet"
        purge_scale 2>/dev/null || true
        "$NT_STACK" kafka-topics --delete --topic "scale\\.$RUN_ID\\..*" >/dev/null 2>&1 || true
        rm -rf "$NT_TMP"
    else
        say "kept the fleet (+86$PREFIX…), topics $NUMTRUST_TOPICS_PREFIX.* and $NT_TMP"
    fi
    bench_stack_down
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# purge_scale: the scale fleet's rows (a year of rollups of its tenants too)
purge_scale() {
    psql "$NUMTRUST_PG_CONNINFO" -X -q -v ON_ERROR_STOP=1 -v like="$LIKE" <<'SQL'
DELETE FROM jobs WHERE number LIKE :'like';
DELETE FROM check_results WHERE number LIKE :'like';
DELETE FROM marks WHERE number LIKE :'like';
DELETE FROM trust_trends WHERE number LIKE :'like';
DELETE FROM number_platforms WHERE number LIKE :'like';
DELETE FROM numbers WHERE number LIKE :'like';
DELETE FROM check_daily WHERE tenant_id LIKE 'scale%';
DELETE FROM tenants t WHERE t.id LIKE 'scale%'
  AND NOT EXISTS (SELECT 1 FROM numbers n WHERE n.tenant_id = t.id);
SQL
}

db_mib() { psqlv "SELECT pg_database_size(current_database()) / 1048576"; }

# timed STEP CMD...: runs CMD under /usr/bin/time; sets SECS and RSS_MIB
timed() {
    local step=$1 t0
    shift
    t0=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$NT_TMP/$step.rss" "$@"
    SECS=$(echo "$(date +%s.%N) - $t0" | bc | awk '{printf "%.1f", $1}')
    RSS_MIB=$(awk '{printf "%.1f", $1 / 1024}' "$NT_TMP/$step.rss")
}

line() { # STEP extra...
    local step=$1
    shift
    echo "bench scale step=$step secs=$SECS peak_rss_mib=${RSS_MIB:-NA} db_mib=$(db_mib) $*"
}

echo "bench scale context run=$RUN_ID host_cpus=$(nproc) load=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' /) numbers=$NUMBERS platforms=$PLATFORMS registrations=$REGS due=$DUE days=$DAYS pg=$(psqlv "SELECT current_setting('server_version') || ' shared_buffers=' || current_setting('shared_buffers') || ' work_mem=' || current_setting('work_mem')")"

# ---- fleet --------------------------------------------------------------------------

"$PRODUCER" migrate >/dev/null
"$PRODUCER" topics >/dev/null
say "deleting an earlier scale fleet, if any"
purge_scale
fleet=$NT_TMP/fleet.csv
t0=$(date +%s.%N)
# tenants scale01..: rename gen-fleet's so that the rollups of this fleet are its own
python3 "$repo/deploy/local/gen-fleet.py" --numbers "$NUMBERS" --prefix "$PREFIX" \
    --platforms "$PLATFORMS" --seed 14 -o - | sed '2,$ s/^tenant/scale/' >"$fleet"
SECS=$(echo "$(date +%s.%N) - $t0" | bc | awk '{printf "%.1f", $1}')
RSS_MIB=NA
line fleet "numbers=$NUMBERS file_mib=$(($(stat -c %s "$fleet") / 1048576)) (gen-fleet.py; not a target)"

# ---- import -------------------------------------------------------------------------

say "import: $NUMBERS numbers x ${#PLATS[@]} platforms"
t_import=$(psqlv "SELECT now()")
timed import "$PRODUCER" import --numbers "$fleet" >"$NT_TMP/import.out" 2>"$NT_TMP/import.err" ||
    { tail -5 "$NT_TMP/import.err" >&2; exit 1; }
got=$(psqlv "SELECT count(*) FROM number_platforms WHERE number LIKE '$LIKE'")
((got == REGS)) || { echo "scale.sh: $got registrations imported, want $REGS" >&2; exit 1; }
line import "numbers=$NUMBERS registrations=$got analyzed=$(psqlv "SELECT count(*) FROM pg_stat_user_tables WHERE relname IN ('numbers', 'number_platforms') AND last_analyze >= '$t_import'")/2 ($(tail -n1 "$NT_TMP/import.out"))"

# ---- plans --------------------------------------------------------------------------

# the selections' SQL as enqueue declares them: the kinds' SELECTs, read from the
# producer's own table (enqueue.c) would need a build hook; EXPLAIN them through the
# producer instead: `enqueue KIND --explain` prints the plan of its cursor
for kind in check check-due tag appeal appeal-status check-feedback; do
    args=(--prefix "+86$PREFIX")
    [ "$kind" = check-due ] && args=(--due --prefix "+86$PREFIX")
    k=${kind%-due}
    [ "$kind" = check-due ] && k=check
    if "$PRODUCER" enqueue "$k" "${args[@]}" --explain >"$NT_TMP/plan-$kind.txt" 2>&1; then
        nodes=$(grep -oE '(Seq Scan|Index Only Scan|Index Scan|Bitmap Heap Scan|Nested Loop|Hash Join|Merge Join|Sort|Incremental Sort|Hash|Aggregate|HashAggregate|GroupAggregate|WindowAgg|Limit|Function Scan|Subquery Scan|CTE Scan|Materialize|Memoize|Gather)( on [a-z_]+)?' \
            "$NT_TMP/plan-$kind.txt" | sed 's/ on /:/; s/ /_/g' | sort | uniq -c | awk '{printf "%s%s*%s", (NR > 1 ? "," : ""), $2, $1}')
        cost=$(sed -n 's/.*cost=[0-9.]*\.\.\([0-9.]*\) rows=\([0-9]*\).*/total_cost=\1 est_rows=\2/p' "$NT_TMP/plan-$kind.txt" | head -n1)
        echo "bench scale plan kind=$kind $cost nodes=$nodes"
    else
        echo "bench scale plan kind=$kind failed: $(tail -n1 "$NT_TMP/plan-$kind.txt")"
    fi
done

# ---- observe: every registration checked in the last 6 days, DUE of them 8 days ago ------

t0=$(date +%s.%N)
psqlv "UPDATE number_platforms SET last_checked_at = nt_now() - CASE
         WHEN (hashtext(number || platform) & 2147483647) % $REGS < $DUE
           THEN interval '8 days' ELSE interval '1 day' * (1 + (hashtext(number) & 3)) END,
         cert_status = 'certified', trust_score = 70, label_android = 'x', open_marks = 0
       WHERE number LIKE '$LIKE'" >/dev/null
psqlv "ANALYZE number_platforms" >/dev/null
SECS=$(echo "$(date +%s.%N) - $t0" | bc | awk '{printf "%.1f", $1}')
RSS_MIB=NA
want=$(psqlv "SELECT count(*) FROM number_platforms WHERE number LIKE '$LIKE'
              AND last_checked_at < nt_now() - interval '7 days'")
line observe "registrations=$REGS observed_8_days_ago=$want (setup; not a target)"

# ---- settle: the tables as autovacuum leaves them between passes ----------------------

# The import and the observe step write four rows per number in three minutes; production
# writes the observe step's updates over a week, with autovacuum keeping up, and the jobs
# ledger's deleted rows of an earlier run are long vacuumed. Without this step autovacuum was
# still working through the import while the due pass ran (pg_stat_user_tables: numbers
# vacuumed 12 s into the pass), and its first read of the rows the import wrote would set
# their hint bits. The vacuum is printed, not hidden.
t0=$(date +%s.%N)
psqlv "VACUUM (ANALYZE) numbers, number_platforms, jobs" >/dev/null
SECS=$(echo "$(date +%s.%N) - $t0" | bc | awk '{printf "%.1f", $1}')
RSS_MIB=NA
line settle "vacuumed=numbers,number_platforms,jobs (setup; not a target)"

# ---- due ------------------------------------------------------------------------------

say "check-due pass over $REGS registrations ($want due)"
timed due "$PRODUCER" enqueue check --due --prefix "+86$PREFIX" --limit 100000000 >"$NT_TMP/due.out" 2>"$NT_TMP/due.err" ||
    { tail -5 "$NT_TMP/due.err" "$NT_TMP/due.out" >&2; exit 1; }
summary=$(grep '^enqueue' "$NT_TMP/due.out" | tail -n1)
selected=$(sed -n 's/.*: \([0-9]*\) selected.*/\1/p' <<<"$summary")
delivered=$(sed -n 's/.* \([0-9]*\) delivered.*/\1/p' <<<"$summary")
line due "due=$want selected=${selected:-?} delivered=${delivered:-?} jobs_per_s=$(awk -v n="${delivered:-0}" -v s="$SECS" 'BEGIN {printf "%.0f", (s > 0 ? n / s : 0)}')"

# ---- year: the fleet's rollups for DAYS days, numtrust time a year on ------------------

t0=$(date +%s.%N)
CLOCK0="$(($("$PRODUCER" clock show | sed -n 's/^offset_ms=//p') / 1000))s"
psqlv "INSERT INTO check_daily (day, tenant_id, scenario_id, platform, shard, checks, marked,
                                scored, score_sum, changes)
       SELECT (nt_now() AT TIME ZONE 'UTC')::date + d, g.tenant_id, g.scenario_id, g.platform, s,
              g.n / 28, g.n / 28 * 3 / 100, g.n / 28, g.n / 28 * (80 - d / 30), g.n / 28 / 12
       FROM (SELECT n.tenant_id, n.scenario_id, np.platform, count(*) AS n
             FROM number_platforms np JOIN numbers n ON n.number = np.number
             WHERE np.number LIKE '$LIKE' GROUP BY 1, 2, 3) g
       CROSS JOIN generate_series(1, $DAYS) d CROSS JOIN generate_series(0, 3) s
       ON CONFLICT DO NOTHING" >/dev/null
"$PRODUCER" clock advance "${DAYS}d" >/dev/null
"$PRODUCER" history maintain >/dev/null
SECS=$(echo "$(date +%s.%N) - $t0" | bc | awk '{printf "%.1f", $1}')
RSS_MIB=NA
line year "days=$DAYS rollup_rows=$(psqlv "SELECT count(*) FROM check_daily WHERE tenant_id LIKE 'scale%'") checks_in_rollups=$(psqlv "SELECT sum(checks) FROM check_daily WHERE tenant_id LIKE 'scale%'") (generated; not a target)"

# ---- report -----------------------------------------------------------------------------

since=$(psqlv "SELECT to_char(nt_now() - interval '$DAYS days', 'YYYY-MM-DD')")
# the reconciler's fleet-state snapshot (migration 011; every report.snapshot_interval_s for a
# fleet this size): its cost, then the report as an operator gets it, reading it
timed snapshot "$PRODUCER" report --refresh --section fleet >/dev/null 2>"$NT_TMP/snapshot.err" ||
    { tail -5 "$NT_TMP/snapshot.err" >&2; exit 1; }
line snapshot "$(cat "$NT_TMP/snapshot.err") (the reconciler's, in the background; not the report's)"
timed report "$PRODUCER" report --since "$since" >"$NT_TMP/report.txt" 2>"$NT_TMP/report.err" ||
    { tail -5 "$NT_TMP/report.err" >&2; exit 1; }
line report "since=$since lines=$(wc -l <"$NT_TMP/report.txt")"
for sec in $(sed -n 's/^  \([a-z_]*\) .*/\1/p' <("$PRODUCER" report --help) | sort -u); do
    timed "report-$sec" "$PRODUCER" report --since "$since" --section "$sec" >/dev/null 2>&1 || true
    echo "bench scale report_section name=$sec secs=$SECS"
done
