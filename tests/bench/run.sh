#!/usr/bin/env bash
# tests/bench/run.sh — end-to-end benchmark of the check pipeline through the real stack
# (Kafka -> numtrust-worker -> platform simulator -> PostgreSQL). Not a test: nothing here
# passes or fails CI. Each run ends with one line that scripts compare:
#
#   bench e2e workers=W latency_ms=L jobs=N jobs_per_s=… p50_ms=… p99_ms=… cpu_us_per_job=… rss_mib=…
#             wal_bytes_per_job=… rows_per_job=…
#
# preceded by "bench context …" lines (fleet, mix, lag, window, simulator calls, worker
# counters, the latency definition used). Progress goes to stderr.
#
# What a run does
#   1. a fresh topic prefix (bench.<run>) and consumer group (bench-<run>), as lib.sh nt_setup
#   2. a fleet of ceil(N / #platforms) numbers x --platforms, imported (numtrust-producer import)
#   3. the simulator's latency set to L ms (POST /admin/config), faults and limits off
#   4. the N check jobs enqueued FIRST, with no worker running (numtrust-producer enqueue)
#   5. W workers started together; the harness waits until N results are in check_results
#   6. (latency mode "open") a second, open-loop phase on the same workers: check jobs for the
#      same fleet produced at a steady rate (--latency-load x the measured jobs_per_s) for
#      --latency-secs, by numtrust-bench-loadgen; then SIGTERM and the report
#
# Definitions (what the figures mean)
#   window       from the first "partitions assigned" line of any worker (the moment
#                consumption can begin; process start-up and the group join are excluded and
#                reported as startup_ms) to max(jobs.finished_at) of the run's check jobs.
#                finished_at is now() of the worker's write transaction, i.e. the start of the
#                statement that committed the last result (its commit follows within that
#                statement's few ms). Both clocks are this machine's wall clock. Polling
#                (count(*) every 200 ms) only detects the end; it does not set it.
#   jobs_per_s   N / window.
#   p50/p99_ms   default (--latency-mode open): per-job latency under a fixed offered load
#                below saturation — jobs.finished_at minus the moment the job was produced
#                (recorded by the load generator), i.e. Kafka + queueing in the worker + claim +
#                platform call + result write; the context line latency_parts_ms splits it
#                at the claim (jobs.created_at: the load generator writes no ledger row, so
#                the claim creates it) and at the answer (check_results.checked_at). The jobs
#                go in enqueue order (number, platform), at --latency-load (0.5) x the
#                measured jobs_per_s, for --latency-secs (10). With everything pre-enqueued a
#                per-job latency is not defined (it would measure the backlog), so it is measured in this
#                separate phase. --latency-mode completion instead reports the
#                completion-time distribution of the throughput phase (finished_at - window
#                start; half the jobs were done after p50_ms) — cheaper, but not a latency.
#                --latency-mode none prints p50_ms=NA p99_ms=NA.
#   cpu_us_per_job  utime+stime of the worker processes (/proc/PID/stat, CLK_TCK ticks)
#                between the first partition assignment (sampled every 20 ms at start-up) and
#                the harness seeing N results, divided by N. Throughput phase only.
#   rss_mib      the largest VmHWM (peak RSS, /proc/PID/status) of the workers at the end of
#                the throughput phase, where each worker held up to worker.max_inflight
#                (default 1000) jobs.
#   wal_bytes_per_job, rows_per_job  what PostgreSQL wrote from the workers' start until
#                1.5 s after the phase's last result (an idle backend flushes its statistics
#                within a second), divided by N: the WAL position before and after
#                (pg_current_wal_lsn: the rows, index entries, full-page images after a
#                checkpoint, commits and autovacuum of those seconds), and the tuples
#                inserted, updated and deleted (pg_stat_database). The claim's and the
#                result's; not the enqueue's (context line: enqueue_wal_bytes_per_job).
#   --repeat     the same N checks again, with new workers and a new period, after the
#                throughput phase: on an unchanged simulator they observe what the first
#                checks did, so they write no history row (migration 009). Its figures, the
#                same definitions, are the line "bench repeat …" (history_rows_per_job: rows
#                added to check_results per job).
#
# The worker's follow-up appeal fast path is off by default (a check that finds a new mark
# would otherwise enqueue an appeal, which the same workers then run inside the window);
# --appeals turns it on as deployed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
    cat <<'EOF'
usage: tests/bench/run.sh [--jobs N] [--workers W] [--latency-ms L] [options]

End-to-end benchmark: N check jobs pre-enqueued, W workers consume them through the simulator
(latency L ms) into PostgreSQL. The last line of stdout is
  bench e2e workers=W latency_ms=L jobs=N jobs_per_s=… p50_ms=… p99_ms=… cpu_us_per_job=… rss_mib=…
(definitions: the header of this script and tests/bench/README.md).

Options:
  --jobs N             check jobs in the throughput phase (default 100000)
  --workers W          worker processes (default 1)
  --latency-ms L       simulator latency base_ms (default 0)
  --platforms LIST     platform ids, comma-separated (default baidu,tencent,qihoo360 — dialects
                       A, B and C; C batches up to 100 numbers per call); e.g. --platforms baidu
                       for one dialect's figure. The fleet has ceil(N / #platforms) numbers.
  --partitions P       partitions of the run's topics (default 12)
  --latency-mode M     open (default) | completion | none — how p50/p99 are measured
  --latency-load F     open mode: offered load as a fraction of the measured jobs_per_s
                       (default 0.5)
  --latency-secs S     open mode: duration of the paced phase (default 10)
  --appeals            leave the worker's appeal fast path on (default off)
  --repeat             after the throughput phase, the same N checks again with new workers
                       (a new period): checks that observe nothing new, which write no
                       history row; one "bench repeat …" line with their figures
  --stack              start a private stack (own NT_STATE_DIR and ports, see below) and stop
                       it afterwards; otherwise use the stack in the environment
                       (eval "$(deploy/local/stack.sh env)")
  --keep               keep the run's rows, topics and temporary files
  --pg-top N           after each phase, PostgreSQL's N most expensive statements of the phase
                       (pg_stat_statements: total time, calls, rows, WAL bytes); the stack's
                       PostgreSQL must load it (NT_PG_STATEMENTS=1 deploy/local/stack.sh up)
  --help               this text

Environment: NT_BUILD_DIR (default <repo>/build: numtrust-worker, numtrust-producer),
NT_BENCH_BIN (default $NT_BUILD_DIR/bin: numtrust-bench-loadgen), any NUMTRUST_* worker setting
(e.g. NUMTRUST_WORKER_MAX_INFLIGHT), NT_BENCH_LOG_DIR (copy the worker logs there, named by run
id, also when the run's files are removed). --stack uses NT_BENCH_STATE_DIR (<repo>/.state/bench-run)
and ports NT_BENCH_PG_PORT 17432, NT_BENCH_KAFKA_PORT 17092, NT_BENCH_KAFKA_CONTROLLER_PORT
17093, NT_BENCH_SIM_PORT 17080 (below Linux's ephemeral range).
Exit status: 0 with the bench line; 1 when the run failed (a worker died, no progress for
60 s, results missing); 2 for a usage error.
EOF
}

die_usage() {
    echo "run.sh: $*" >&2
    echo "try: tests/bench/run.sh --help" >&2
    exit 2
}

JOBS=100000
WORKERS=1
LAT_MS=0
PLATFORMS=baidu,tencent,qihoo360
PARTITIONS=12
LAT_MODE=open
LAT_LOAD=0.5
LAT_SECS=10
APPEALS=false
REPEAT=false
OWN_STACK=false
KEEP=false
PG_TOP=0
while [ $# -gt 0 ]; do
    case $1 in
    --jobs) JOBS=${2:-}; shift ;;
    --workers) WORKERS=${2:-}; shift ;;
    --latency-ms) LAT_MS=${2:-}; shift ;;
    --platforms) PLATFORMS=${2:-}; shift ;;
    --partitions) PARTITIONS=${2:-}; shift ;;
    --latency-mode) LAT_MODE=${2:-}; shift ;;
    --latency-load) LAT_LOAD=${2:-}; shift ;;
    --latency-secs) LAT_SECS=${2:-}; shift ;;
    --appeals) APPEALS=true ;;
    --repeat) REPEAT=true ;;
    --stack) OWN_STACK=true ;;
    --keep) KEEP=true ;;
    --pg-top) PG_TOP=${2:-}; shift ;;
    --help | -h) usage; exit 0 ;;
    *) die_usage "unknown argument '$1'" ;;
    esac
    shift
done
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die_usage "--jobs '$JOBS' is not a positive integer"
[[ $WORKERS =~ ^[1-9][0-9]*$ ]] || die_usage "--workers '$WORKERS' is not a positive integer"
[[ $LAT_MS =~ ^[0-9]+$ ]] || die_usage "--latency-ms '$LAT_MS' is not a number of ms"
[[ $PARTITIONS =~ ^[1-9][0-9]*$ ]] || die_usage "--partitions '$PARTITIONS' is not a positive integer"
[[ $LAT_MODE =~ ^(open|completion|none)$ ]] || die_usage "--latency-mode '$LAT_MODE': open, completion or none"
[[ $LAT_LOAD =~ ^(0?\.[0-9]+|1(\.0*)?)$ ]] || die_usage "--latency-load '$LAT_LOAD' is not a fraction in (0, 1]"
[[ $PG_TOP =~ ^[0-9]+$ ]] || die_usage "--pg-top '$PG_TOP' is not a number of statements"
[[ $LAT_SECS =~ ^[1-9][0-9]*$ ]] || die_usage "--latency-secs '$LAT_SECS' is not a number of seconds"
[[ $PLATFORMS =~ ^[a-z0-9][a-z0-9_-]*(,[a-z0-9][a-z0-9_-]*)*$ ]] || die_usage "--platforms '$PLATFORMS' is not a list of platform ids"
((WORKERS <= PARTITIONS)) || die_usage "--workers $WORKERS > --partitions $PARTITIONS: the extra workers would idle"

say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
now_ms() { date +%s%3N; }

# ---- the stack -------------------------------------------------------------------------

# shellcheck source=tests/bench/bench-lib.sh
. "$here/bench-lib.sh"
if $OWN_STACK; then
    trap bench_stack_down EXIT
    bench_stack_up
fi
# shellcheck source=tests/integration/lib.sh
. "$repo/tests/integration/lib.sh"
require_stack
for b in "$PRODUCER" "$WORKER"; do
    [ -x "$b" ] || { echo "run.sh: $b is not built (NT_BUILD_DIR=$NT_BUILD_DIR)" >&2; exit 1; }
done
LOADGEN=""
[ "$LAT_MODE" = open ] && LOADGEN=$(bench_bin numtrust-bench-loadgen)

# ---- run identity and clean-up ---------------------------------------------------------

RUN_ID="$(date +%Y%m%d%H%M%S)-$$"
DIGITS=5$((100 + RANDOM % 900)) # numbers +865xyz…; ceilings.sh uses 5050
LIKE="+86$DIGITS%"
PERIOD="bench-$RUN_ID"
export NUMTRUST_TOPICS_PREFIX="bench.$RUN_ID"
export NUMTRUST_WORKER_GROUP_ID="bench-$RUN_ID"
export NUMTRUST_TOPICS_PARTITIONS=$PARTITIONS
export NUMTRUST_WORKER_APPEAL_FAST_PATH=$APPEALS
NT_TMP=$(mktemp -d "/tmp/nt-bench.XXXXXX")
CHECK_TOPIC="$NUMTRUST_TOPICS_PREFIX.check"
declare -a WPIDS=()
DONE_OK=false

cleanup() {
    local rc=$?
    local pid
    for pid in "${WPIDS[@]}"; do
        kill -KILL "$pid" 2>/dev/null || true
    done
    if [ -n "${PSQL_PID:-}" ]; then
        kill "$PSQL_PID" 2>/dev/null || true
    fi
    if ! $KEEP; then
        purge_numbers "$DIGITS" 2>/dev/null || true
        # vacuumed now, so that the next run does not pay for this one's deletions (an
        # autovacuum of them inside its window made a run half as fast)
        psql "$NUMTRUST_PG_CONNINFO" -X -q -c "VACUUM jobs, numbers, number_platforms, marks, check_results, check_daily, alerts" >/dev/null 2>&1 || true
        "$NT_STACK" kafka-topics --delete --topic "bench\\.$RUN_ID\\..*" >/dev/null 2>&1 || true
        "$NT_STACK" kafka-groups --delete --group "$NUMTRUST_WORKER_GROUP_ID" >/dev/null 2>&1 || true
    fi
    if [ -n "${NT_BENCH_LOG_DIR:-}" ] && mkdir -p "$NT_BENCH_LOG_DIR"; then
        for f in "$NT_TMP"/worker-*.log; do
            [ -f "$f" ] && cp "$f" "$NT_BENCH_LOG_DIR/$RUN_ID-$(basename "$f")"
        done
    fi
    if $DONE_OK && ! $KEEP; then
        rm -rf "$NT_TMP"
    else
        say "kept $NT_TMP (worker logs) for inspection"
    fi
    bench_stack_down
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

bench_fail() {
    say "FAILED: $*"
    local f
    for f in "$NT_TMP"/worker-*.log; do
        [ -f "$f" ] || continue
        echo "--- last lines of $f" >&2
        tail -n 10 "$f" >&2
    done
    exit 1
}

# One psql session for the polls (a process per poll would cost more CPU than it measures).
coproc PSQL { exec psql "$NUMTRUST_PG_CONNINFO" -X -A -t -q 2>&1; }
pq() { # SQL (one statement, no trailing ;) -> its output lines
    local line
    printf '%s;\n\\echo @@end@@\n' "$1" >&"${PSQL[1]}"
    while IFS= read -r -t 60 line <&"${PSQL[0]}"; do
        [ "$line" = "@@end@@" ] && return 0
        printf '%s\n' "$line"
    done
    bench_fail "psql did not answer: $1"
}

ticks_per_s=$(getconf CLK_TCK)
cpu_ticks() { # PIDS... -> summed utime+stime in ticks
    local sum=0 pid stat rest
    for pid in "$@"; do
        stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        rest=${stat##*) }
        # fields after ")": state=1 … utime=12 stime=13
        read -r -a f <<<"$rest"
        sum=$((sum + f[11] + f[12]))
    done
    echo "$sum"
}
# Where the machine's CPU went during a phase, to explain a slow run: ticks of the stack's
# processes (PostgreSQL: the postmaster with its reaped children and its live backends;
# Kafka's JVM; the simulator) and of the whole machine (/proc/stat, busy = all but idle and
# iowait), as "postgres kafka sim busy".
stack_ticks() {
    local run=${NT_STATE_DIR:-$repo/.state/local}/run pm kp sp pg=0 stat rest c
    # stack.sh's pid files: "PID START_TIME"
    read -r pm _ <"$run/postgres.pid" 2>/dev/null || pm=""
    read -r kp _ <"$run/kafka.pid" 2>/dev/null || kp=""
    read -r sp _ <"$run/sim.pid" 2>/dev/null || sp=""
    if [ -n "$pm" ] && stat=$(cat "/proc/$pm/stat" 2>/dev/null); then
        rest=${stat##*) }
        read -r -a f <<<"$rest"
        pg=$((f[11] + f[12] + f[13] + f[14]))
        for c in $(pgrep -P "$pm" || true); do
            pg=$((pg + $(cpu_ticks "$c")))
        done
    fi
    read -r _ u n s _ _ irq sirq st _ </proc/stat
    echo "$pg $(cpu_ticks ${kp:+"$kp"}) $(cpu_ticks ${sp:+"$sp"}) $((u + n + s + irq + sirq + st))"
}
hwm_kib() { # PIDS... -> largest VmHWM in KiB
    local max=0 pid v
    for pid in "$@"; do
        v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo 0)
        ((${v:-0} > max)) && max=$v
    done
    echo "$max"
}
assign_lines() { grep -h '"msg":"rebalance: [0-9]* partitions assigned' "$NT_TMP"/worker-"$PHASE"-*.log 2>/dev/null || true; }
ts_ms() { date -d "$1" +%s%3N; } # RFC 3339 -> epoch ms
workers_alive() {
    local pid
    for pid in "${WPIDS[@]}"; do
        kill -0 "$pid" 2>/dev/null || return 1
    done
}

# wait_results WANT: polls the ledger's done check jobs of the run every second until WANT
# (a check that observes nothing new writes no history row, so check_results cannot tell);
# fails after 60 s without progress or when a worker dies. The count reads the run's ledger
# rows, ~20 ms of PostgreSQL CPU at 100,000 jobs: every 200 ms that was ~10% of PostgreSQL's
# CPU in a 0 ms run, taken from the system measured. The window does not depend on the poll
# (it ends at max(finished_at)).
wait_results() {
    local want=$1 got=0 last=-1 last_change
    last_change=$(now_ms)
    while :; do
        got=$(pq "SELECT count(*) FROM jobs WHERE number LIKE '$LIKE' AND type = 'check' AND state = 'done'")
        ((got >= want)) && return 0
        if ((got != last)); then
            last=$got
            last_change=$(now_ms)
        elif (($(now_ms) - last_change > 60000)); then
            bench_fail "no new results for 60 s ($got of $want)"
        fi
        workers_alive || bench_fail "a worker exited ($got of $want results)"
        sleep 1
    done
}

# What PostgreSQL wrote: "LSN tuples checkpoints history_rows" (tuples inserted, updated and
# deleted in this database; checkpoints timed and requested; the run's history rows).
pg_marks() {
    pq "SELECT pg_current_wal_lsn() || ' ' || (SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()) || ' ' || (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter) || ' ' || (SELECT count(*) FROM check_results WHERE number LIKE '$LIKE')"
}
# pg_written BEFORE AFTER JOBS -> "wal_bytes_per_job rows_per_job checkpoints history_rows_per_job"
pg_written() {
    local l0 t0 c0 h0 l1 t1 c1 h1 wal
    read -r l0 t0 c0 h0 <<<"$1"
    read -r l1 t1 c1 h1 <<<"$2"
    wal=$(pq "SELECT pg_wal_lsn_diff('$l1', '$l0')::bigint")
    echo "$((wal / $3)) $(echo "scale=2; ($t1 - $t0) / $3" | bc) $((c1 - c0)) $(echo "scale=3; ($h1 - $h0) / $3" | bc)"
}

# ---- 1-3: topics, fleet, simulator ----------------------------------------------------

IFS=, read -r -a PLATS <<<"$PLATFORMS"
NPLAT=${#PLATS[@]}
NUMBERS=$(((JOBS + NPLAT - 1) / NPLAT))
say "run $RUN_ID: $JOBS check jobs, $WORKERS worker(s), latency ${LAT_MS} ms, platforms $PLATFORMS"
"$PRODUCER" migrate >/dev/null
"$PRODUCER" topics >/dev/null
for p in "${PLATS[@]}"; do
    jq -e --arg p "$p" '.platforms[] | select(.id == $p)' "$NUMTRUST_PLATFORMS_FILE" >/dev/null ||
        bench_fail "platform '$p' is not in $NUMTRUST_PLATFORMS_FILE"
done

t0=$(now_ms)
fleet=$(gen_fleet "$NUMBERS" "$DIGITS" "$PLATFORMS")
"$PRODUCER" import --numbers "$fleet" >"$NT_TMP/import.log" 2>&1 || {
    cat "$NT_TMP/import.log" >&2
    bench_fail "import"
}
import_s=$(echo "scale=1; ($(now_ms) - $t0) / 1000" | bc)
say "fleet: $NUMBERS numbers x $NPLAT platforms imported in ${import_s}s"

sim_reset
sim POST /admin/config "{\"latency\":{\"base_ms\":$LAT_MS,\"jitter_ms\":0,\"tail_rate\":0,\"tail_ms\":0}}" >/dev/null

# ---- 4: enqueue, no worker running ------------------------------------------------------

t0=$(now_ms)
enqueued_ms=$t0
lsn0=$(pq "SELECT pg_current_wal_lsn()")
"$PRODUCER" enqueue check --prefix "+86$DIGITS" --period "$PERIOD" --limit "$JOBS" \
    >"$NT_TMP/enqueue.log" 2>&1 || { cat "$NT_TMP/enqueue.log" >&2; bench_fail "enqueue"; }
enqueue_s=$(echo "scale=1; ($(now_ms) - $t0) / 1000" | bc)
enqueue_wal=$(pq "SELECT (pg_wal_lsn_diff(pg_current_wal_lsn(), '$lsn0') / $JOBS)::bigint")
grep -q "$JOBS produced, $JOBS delivered" "$NT_TMP/enqueue.log" ||
    { cat "$NT_TMP/enqueue.log" >&2; bench_fail "enqueue did not deliver $JOBS jobs"; }
lag=0
for ((p = 0; p < PARTITIONS; p++)); do
    off=$(kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -Q -t "$CHECK_TOPIC:$p:-1" 2>/dev/null |
        awk '/offset/ {print $NF}')
    lag=$((lag + ${off:-0}))
done
say "enqueued $JOBS jobs in ${enqueue_s}s; $lag messages waiting on $CHECK_TOPIC"
mix=$(pq "SELECT string_agg(platform || '=' || n, ' ' ORDER BY platform) FROM (SELECT platform, count(*) n FROM jobs WHERE number LIKE '$LIKE' AND type = 'check' GROUP BY platform) s")

# ---- 5: workers, throughput window ------------------------------------------------------

# phase NAME SINCE_MS: W workers started (logs worker-NAME-I.log), the N jobs enqueued since
# SINCE_MS consumed; sets the phase's figures (start_ms, window_ms, jobs_per_s, cpu, hwm, what
# PostgreSQL wrote). The workers keep running.
phase() {
    local name=$1 since_ms=$2 i m0 m1
    PHASE=$name
    pg_top_reset
    m0=$(pg_marks)
    launch_ms=$(now_ms)
    for ((i = 0; i < WORKERS; i++)); do
        env NUMTRUST_WORKER_ID="bench-$RUN_ID-$name-w$i" "$WORKER" >"$NT_TMP/worker-$name-$i.log" 2>&1 &
        WPIDS+=("$!")
    done
    say "$name: started $WORKERS worker(s): ${WPIDS[*]}"
    # CPU from the first assignment: sampled as soon as it is logged (20 ms polls)
    for ((i = 0; i < 1500; i++)); do
        [ -n "$(assign_lines)" ] && break
        workers_alive || bench_fail "a worker exited during start-up"
        sleep 0.02
    done
    cpu0=$(cpu_ticks "${WPIDS[@]}")
    read -r spg0 skf0 ssim0 sbusy0 <<<"$(stack_ticks)"
    [ -n "$(assign_lines)" ] || bench_fail "no partition assignment within 30 s"

    wait_results "$((JOBS * $3))"
    seen_ms=$(now_ms)
    cpu1=$(cpu_ticks "${WPIDS[@]}")
    read -r spg1 skf1 ssim1 sbusy1 <<<"$(stack_ticks)"
    stack_cpu="worker=$(echo "scale=2; ($cpu1 - $cpu0) / $ticks_per_s" | bc) postgres=$(echo "scale=2; ($spg1 - $spg0) / $ticks_per_s" | bc) kafka=$(echo "scale=2; ($skf1 - $skf0) / $ticks_per_s" | bc) sim=$(echo "scale=2; ($ssim1 - $ssim0) / $ticks_per_s" | bc) machine_busy=$(echo "scale=2; ($sbusy1 - $sbusy0) / $ticks_per_s" | bc)"
    hwm=$(hwm_kib "${WPIDS[@]}")
    first_assign=$(assign_lines | sed -n 's/^{"ts":"\([^"]*\)".*/\1/p' | sort | head -n1)
    start_ms=$(ts_ms "$first_assign")
    end_ms=$(pq "SELECT (extract(epoch FROM max(finished_at)) * 1000)::bigint FROM jobs WHERE number LIKE '$LIKE' AND type = 'check' AND state = 'done' AND created_at >= to_timestamp($since_ms / 1000.0)")
    not_done=$(pq "SELECT count(*) FROM jobs WHERE number LIKE '$LIKE' AND type = 'check' AND state <> 'done'")
    window_ms=$((end_ms - start_ms))
    ((window_ms > 0)) || bench_fail "window of ${window_ms} ms (first assignment $first_assign)"
    jobs_per_s=$(echo "scale=0; $JOBS * 1000 / $window_ms" | bc)
    cpu_us_per_job=$(echo "scale=1; ($cpu1 - $cpu0) * 1000000 / $ticks_per_s / $JOBS" | bc)
    rss_mib=$(echo "scale=1; $hwm / 1024" | bc)
    assigns=$(assign_lines | wc -l)
    # an idle backend flushes its statistics within a second: then count what was written
    sleep 1.5
    m1=$(pg_marks)
    read -r wal_per_job rows_per_job checkpoints history_per_job <<<"$(pg_written "$m0" "$m1" "$JOBS")"
    wal_range="${m0%% *}..${m1%% *}" # for pg_waldump --stats -s … -e …
    pg_top_print "$name"
    say "$name phase: $JOBS results in $((window_ms)) ms = $jobs_per_s jobs/s; $wal_per_job WAL bytes, $rows_per_job rows, $history_per_job history rows per job; $checkpoints checkpoints"
}

# --pg-top: pg_stat_statements, as the superuser (trust on loopback, as stack.sh sets it up)
pg_admin() { psql "$NUMTRUST_PG_CONNINFO user=postgres" -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }
pg_top_reset() {
    ((PG_TOP > 0)) || return 0
    if ! pg_admin "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1 ||
        ! pg_admin "SELECT pg_stat_statements_reset()" >/dev/null; then
        bench_fail "--pg-top: pg_stat_statements is not loaded (NT_PG_STATEMENTS=1 deploy/local/stack.sh up)"
    fi
}
pg_top_print() {
    ((PG_TOP > 0)) || return 0
    pg_admin "SELECT format('bench pg_top phase=$1 rank=%s exec_ms=%s plan_ms=%s calls=%s rows=%s ms_per_call=%s wal_bytes=%s toplevel=%s query=%s',
                  row_number() OVER (ORDER BY total_exec_time + total_plan_time DESC),
                  round(total_exec_time), round(total_plan_time),
                  calls, rows, round(((total_exec_time + total_plan_time) / calls)::numeric, 2), wal_bytes, toplevel,
                  left(regexp_replace(query, '\s+', ' ', 'g'), 160))
              FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
              ORDER BY total_exec_time + total_plan_time DESC LIMIT $PG_TOP"
}

stop_workers() {
    local pid
    for pid in "${WPIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${WPIDS[@]}"; do
        wait "$pid" || say "worker $pid exited with $?"
    done
    WPIDS=()
}

phase first "$enqueued_ms" 1
counters=$(sim GET /admin/counters)
first_ctx="bench context window_ms=$window_ms from=first-partition-assignment($first_assign) to=max(jobs.finished_at) startup_ms=$((start_ms - launch_ms)) detected_after_ms=$((seen_ms - end_ms)) assignments=$assigns not_done=$not_done checkpoints=$checkpoints history_rows_per_job=$history_per_job wal=$wal_range"
first_cpu_ctx="bench context cpu_s $stack_cpu (from the first assignment to the last result; machine_busy: all CPUs, $(nproc) of them)"
first_cpu_s=$(echo "scale=2; ($cpu1 - $cpu0) / $ticks_per_s" | bc)
e2e=(jobs_per_s="$jobs_per_s" cpu_us_per_job="$cpu_us_per_job" rss_mib="$rss_mib" wal_bytes_per_job="$wal_per_job" rows_per_job="$rows_per_job")

# ---- 5b: the same checks again: nothing changed (--repeat) ----------------------------

repeat_line=""
if $REPEAT; then
    stop_workers
    t0=$(now_ms)
    "$PRODUCER" enqueue check --prefix "+86$DIGITS" --period "$PERIOD-again" --limit "$JOBS" \
        >"$NT_TMP/enqueue-again.log" 2>&1 || { cat "$NT_TMP/enqueue-again.log" >&2; bench_fail "enqueue again"; }
    grep -q "$JOBS produced, $JOBS delivered" "$NT_TMP/enqueue-again.log" ||
        { cat "$NT_TMP/enqueue-again.log" >&2; bench_fail "enqueue again did not deliver $JOBS jobs"; }
    phase again "$t0" 2
    same=$(pq "SELECT count(*) FROM jobs WHERE number LIKE '$LIKE' AND type = 'check' AND result = 'same' AND created_at >= to_timestamp($t0 / 1000.0)")
    again_ctx="bench context again: window_ms=$window_ms startup_ms=$((start_ms - launch_ms)) checkpoints=$checkpoints wal=$wal_range unchanged=$same of $JOBS cpu_s=$(echo "scale=2; ($cpu1 - $cpu0) / $ticks_per_s" | bc)"
    repeat_line="bench repeat workers=$WORKERS latency_ms=$LAT_MS jobs=$JOBS jobs_per_s=$jobs_per_s cpu_us_per_job=$cpu_us_per_job rss_mib=$rss_mib wal_bytes_per_job=$wal_per_job rows_per_job=$rows_per_job history_rows_per_job=$history_per_job"
fi

# ---- 6: latency -------------------------------------------------------------------------

p50=NA
p99=NA
lat_ctx=""
case $LAT_MODE in
completion)
    out=$(pq "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY d)::numeric, 1) FROM (SELECT extract(epoch FROM finished_at) * 1000 - $start_ms AS d FROM jobs WHERE number LIKE '$LIKE' AND type = 'check' AND finished_at >= to_timestamp($start_ms / 1000.0)) s")
    read -r p50 p99 <<<"${out//|/ }"
    lat_ctx="latency_def=completion: p50/p99 of (jobs.finished_at - window start) over the pre-enqueued jobs; a completion-time distribution, not a per-job latency"
    ;;
open)
    rate=$(echo "scale=0; $jobs_per_s * $LAT_LOAD / 1" | bc)
    ((rate >= 1)) || rate=1
    m=$((rate * LAT_SECS))
    # the fleet's registrations in enqueue order, repeated with a new period per round
    pq "SELECT np.number || ',' || np.platform || ',' || coalesce(n.tenant_id, '') FROM number_platforms np JOIN numbers n ON n.number = np.number WHERE np.number LIKE '$LIKE' ORDER BY np.number, np.platform" >"$NT_TMP/pairs.csv"
    awk -v m="$m" -v per="$PERIOD-lat" '{ a[NR] = $0 } END {
        for (i = 0; i < m; i++) printf "%s,%s%d\n", a[i % NR + 1], per, int(i / NR) }' \
        "$NT_TMP/pairs.csv" >"$NT_TMP/lat-input.csv"
    say "latency phase: $m jobs at $rate/s (${LAT_LOAD} x $jobs_per_s) for ${LAT_SECS}s"
    "$LOADGEN" --rate "$rate" --ids "$NT_TMP/lat-ids.csv" <"$NT_TMP/lat-input.csv" \
        2>"$NT_TMP/loadgen.log" || { cat "$NT_TMP/loadgen.log" >&2; bench_fail "loadgen"; }
    achieved=$(sed -n 's/.*produced in [0-9.]* s (\([0-9]*\)\/s.*/\1/p' "$NT_TMP/loadgen.log")
    rounds=1
    ! $REPEAT || rounds=2
    wait_results $((JOBS * rounds + m))
    out=$(pq "CREATE TEMP TABLE IF NOT EXISTS lat (id uuid, produced_ms bigint); TRUNCATE lat; \\copy lat FROM '$NT_TMP/lat-ids.csv' CSV
SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY d)::numeric, 1), round(percentile_cont(0.99) WITHIN GROUP (ORDER BY d)::numeric, 1), count(*) FROM (SELECT extract(epoch FROM j.finished_at) * 1000 - l.produced_ms AS d FROM lat l JOIN jobs j ON j.id = l.id WHERE j.state = 'done') s")
    read -r p50 p99 n_lat <<<"${out//|/ }"
    ((n_lat == m)) || bench_fail "latency phase: $n_lat of $m jobs done"
    # where the time goes: the claim created each ledger row (the load generator writes none),
    # so jobs.created_at is the claim statement's start (these checks repeat the fleet's: most
    # observe no change and leave no history row with the platform's answer time, so the
    # split is at the claim)
    segs=$(pq "SELECT string_agg(format('%s=%s/%s', k, p50, p99), ' ' ORDER BY o) FROM (SELECT o, k, round(percentile_cont(0.5) WITHIN GROUP (ORDER BY v)::numeric, 1) p50, round(percentile_cont(0.99) WITHIN GROUP (ORDER BY v)::numeric, 1) p99 FROM lat l JOIN jobs j ON j.id = l.id CROSS JOIN LATERAL (VALUES (1, 'produced_to_claim', extract(epoch FROM j.created_at) * 1000 - l.produced_ms), (2, 'claim_to_written', extract(epoch FROM j.finished_at - j.created_at) * 1000)) x(o, k, v) GROUP BY o, k) s")
    lat_ctx="latency_def=open-loop: p50/p99 of (jobs.finished_at - time produced) for $m jobs offered at $rate/s (${LAT_LOAD} x jobs_per_s, achieved ${achieved:-?}/s) for ${LAT_SECS}s"
    ;;
none)
    lat_ctx="latency_def=none"
    ;;
esac

# ---- stop, report -----------------------------------------------------------------------

stop_workers
# the workers' final progress lines, summed
totals=$(for f in "$NT_TMP"/worker-*.log; do grep -o '"msg":"progress: [^"]*' "$f" | tail -n1; done |
    awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); s[kv[1]] += kv[2]; if (!(kv[1] in o)) { o[kv[1]] = ++n; k[n] = kv[1] } } }
         END { for (i = 1; i <= n; i++) if (k[i] !~ /in_flight|pending/) printf "%s=%s ", k[i], s[k[i]] }')

by_ep=$(echo "$counters" | jq -r '[.by_endpoint | to_entries[] | select(.value > 0 and .key != "admin") | "\(.key)=\(.value)"] | join(" ")')
batch_numbers=$(echo "$counters" | jq -r '.batch_numbers')
c_batches=$(echo "$counters" | jq -r '.by_endpoint["c.batch"] // 0')
avg_batch=NA
((c_batches > 0)) && avg_batch=$(echo "scale=1; $batch_numbers / $c_batches" | bc)
non200=$(echo "$counters" | jq -r '[.by_status | to_entries[] | select(.key != "200") | .value] | add // 0')
dialects=$(for p in "${PLATS[@]}"; do jq -r --arg p "$p" '.platforms[] | select(.id == $p) | "\(.id):\(.dialect)"' "$NUMTRUST_PLATFORMS_FILE"; done | paste -sd' ')

echo "bench context run=$RUN_ID host_cpus=$(nproc) load1=$(cut -d' ' -f1 /proc/loadavg) stack=$($OWN_STACK && echo private || echo env) appeal_fast_path=$APPEALS max_inflight=${NUMTRUST_WORKER_MAX_INFLIGHT:-10000}"
echo "bench context fleet numbers=$NUMBERS platforms=$PLATFORMS dialects=[$dialects] import_s=$import_s enqueue_s=$enqueue_s enqueue_wal_bytes_per_job=$enqueue_wal"
echo "bench context mix $mix (dialect c: up to 100 numbers per call; a, b: one call per job)"
echo "bench context lag_at_start=$lag topic=$CHECK_TOPIC partitions=$PARTITIONS"
echo "$first_ctx"
echo "$first_cpu_ctx"
echo "bench context sim_calls $by_ep c.batch_numbers=$batch_numbers avg_batch=$avg_batch non_200=$non200"
echo "bench context workers ${totals}cpu_s=$first_cpu_s clk_tck=$ticks_per_s"
[ -n "${again_ctx:-}" ] && echo "$again_ctx"
echo "bench context $lat_ctx"
[ -n "${segs:-}" ] && echo "bench context latency_parts_ms(p50/p99) $segs"
[ -n "$repeat_line" ] && echo "$repeat_line"
echo "bench e2e workers=$WORKERS latency_ms=$LAT_MS jobs=$JOBS ${e2e[0]} p50_ms=$p50 p99_ms=$p99 ${e2e[*]:1}"
DONE_OK=true
