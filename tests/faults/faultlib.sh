# faultlib.sh — what the fault scenarios (tests/faults/<scenario>.sh) share.
#
# A scenario: its own topics, group and numbers (tests/integration/lib.sh's nt_setup), a fleet of
# FAULT_NUMBERS numbers of which FAULT_TAG_NUMBERS get tag updates (side effects, one per
# registration) and the rest checks on three platforms: 7,200 checks and 1,800 tag updates, plus
# the ~850 appeals the workers' fast path files for the marks the checks find — about 9,900 jobs. The simulator answers slowly
# (FAULT_LATENCY_MS) so that faults land mid-run; retry tiers are short (1s,2s,4s) and platform
# timeouts 2 s. After the fault: committed lag back to 0 within FAULT_LAG_LIMIT_S (60 s), the
# workers stop cleanly (SIGTERM, exit 0), and check_invariants.py finds nothing lost, doubled,
# stuck or applied twice at the simulator.
#
# Each scenario ends with one tally line
#   fault NAME: jobs=… done=… dead=… failed=… lost=0 doubled=0 lag0_after_s=…
# (also appended to $NT_FAULT_TALLY when set, for tests/faults/run.sh) and PASS or FAIL.
# shellcheck shell=bash

FAULTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../integration/lib.sh
. "$FAULTS_DIR/../integration/lib.sh"

FAULT_NUMBERS=${FAULT_NUMBERS:-3000}
FAULT_TAG_NUMBERS=${FAULT_TAG_NUMBERS:-600}
FAULT_LATENCY_MS=${FAULT_LATENCY_MS:-800}
FAULT_JITTER_MS=${FAULT_JITTER_MS:-400}
FAULT_LAG_LIMIT_S=${FAULT_LAG_LIMIT_S:-60}
FAULT_FINISH_TIMEOUT_S=${FAULT_FINISH_TIMEOUT_S:-240}
FAULT_STOP_TIMEOUT_S=${FAULT_STOP_TIMEOUT_S:-40}
FAULT_INFLIGHT=${FAULT_INFLIGHT:-250}
FAULT_BUGS=()       # what went wrong besides the checker (worker exit codes, lag, ...)
FAULT_LAG0_S=na
FAULT_T_END=""

# fault_setup NAME DIGITS: topics, group, tmp dir; numbers +86<DIGITS><RUN><0|1><5 random digits>.
# RUN (2 digits) goes round with every run of the scenario: the simulator keeps what a run did
# to a number (a tag update in review, an appeal in review for 12 h), so a number met again in
# the next run — purged from PostgreSQL, not from the simulator — would have its mark appealed a
# second time under a new id, and the simulator would rightly count a doubled side effect.
fault_setup() {
    FAULT_NAME=$1
    require_stack
    local last
    last=$(psqlv "SELECT substr(number, 7, 2) FROM numbers WHERE number LIKE '+86$2%'
                  AND length(number) = 14 ORDER BY created_at DESC LIMIT 1" 2>/dev/null || true)
    [[ "$last" =~ ^[0-9][0-9]$ ]] || last=99
    FAULT_DIGITS=$2$(printf '%02d' $(((10#$last + 1) % 100)))
    FAULT_PREFIX=+86$FAULT_DIGITS
    FAULT_T0=$(date +%s.%N)
    export NUMTRUST_TOPICS_RETRY_TIERS=${NUMTRUST_TOPICS_RETRY_TIERS:-1s,2s,4s}
    export NUMTRUST_JOB_MAX_ATTEMPTS=${NUMTRUST_JOB_MAX_ATTEMPTS:-5}
    # a broker restarted after SIGKILL recovers its logs first: on a loaded machine that took
    # over the stack's default 60 s; the scenarios test recovery, not the broker's speed
    export NT_STACK_TIMEOUT=${NT_STACK_TIMEOUT:-180}
    nt_setup "$FAULT_NAME"
    trap fault_exit EXIT
    export NUMTRUST_PLATFORMS_FILE=$NT_TMP/platforms.json
    python3 - "$NT_REPO/deploy/local/platforms.json" "$NUMTRUST_PLATFORMS_FILE" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for p in doc["platforms"]:
    p["timeout_ms"] = 2000
json.dump(doc, open(sys.argv[2], "w"), ensure_ascii=False)
PY
    sim_reset
    sim POST /admin/config "{\"latency\":{\"base_ms\":$FAULT_LATENCY_MS,\"jitter_ms\":$FAULT_JITTER_MS}}" >/dev/null
    FAULT_MINE="number LIKE '$FAULT_PREFIX%'"
}

fault_exit() {
    local rc=$?
    # no errexit in here: a failing step (or `(exit $rc)` below) must not end the trap
    # before the workers are killed, or they outlive the scenario and disturb the next
    set +e
    # whatever happened: the stack is as the scenario found it
    if [ -n "${FAULT_RESTORE:-}" ]; then
        eval "$FAULT_RESTORE" || true
    fi
    sim_reset 2>/dev/null || true
    local pid
    for pid in "${NT_WORKER_PIDS[@]}"; do
        kill -CONT "$pid" 2>/dev/null || true
    done
    (exit "$rc")
    nt_cleanup
}

# fault_fleet: imports the fleet; the tag numbers (+86<DIGITS>1...) are marked as checked with a
# stale label, so that `enqueue tag` selects each of their registrations once.
fault_fleet() {
    local checks=$((FAULT_NUMBERS - FAULT_TAG_NUMBERS)) f1 f2
    f1=$(gen_fleet "$checks" "${FAULT_DIGITS}0")
    f2=$(gen_fleet "$FAULT_TAG_NUMBERS" "${FAULT_DIGITS}1")
    purge_numbers "$FAULT_DIGITS"
    "$PRODUCER" import --numbers "$f1" >/dev/null
    "$PRODUCER" import --numbers "$f2" >/dev/null
    psqlv "UPDATE number_platforms SET last_checked_at = now() - interval '1 day',
             label_android = '旧标签-fault', label_ios = '旧标签-fault', label_search = '旧标签-fault'
           WHERE number LIKE '${FAULT_PREFIX}1%'" >/dev/null
    export FAULT_CHECK_FLEET=$f1 FAULT_TAG_FLEET=$f2 # poison_mix.sh posts to them
    log "fleet: $checks numbers to check, $FAULT_TAG_NUMBERS to tag (prefix $FAULT_PREFIX)"
}

# fault_enqueue: checks for +86<D>0..., tag updates for +86<D>1...; sets FAULT_EXPECT.
fault_enqueue() {
    local out n
    out=$("$PRODUCER" enqueue check --prefix "${FAULT_PREFIX}0" --period "$FAULT_NAME-$$" 2>&1)
    echo "$out" | grep '^enqueue' || fail "enqueue check: $out"
    n=$(echo "$out" | sed -n 's/.* \([0-9]*\) delivered.*/\1/p')
    FAULT_EXPECT=(--expect "check=${n:-0}")
    FAULT_JOBS=${n:-0}
    out=$("$PRODUCER" enqueue tag --prefix "${FAULT_PREFIX}1" --period "$FAULT_NAME-$$" 2>&1)
    echo "$out" | grep '^enqueue' || fail "enqueue tag: $out"
    n=$(echo "$out" | sed -n 's/.* \([0-9]*\) delivered.*/\1/p')
    FAULT_EXPECT+=(--expect "tag_update=${n:-0}")
    FAULT_JOBS=$((FAULT_JOBS + ${n:-0}))
    [ "$FAULT_JOBS" -gt 0 ] || fail "nothing enqueued"
    log "enqueued $FAULT_JOBS jobs"
}

# fault_start_worker [ENV=VALUE...]: a worker with the run's window (FAULT_INFLIGHT jobs).
fault_start_worker() {
    start_worker NUMTRUST_WORKER_MAX_INFLIGHT="$FAULT_INFLIGHT" \
        NUMTRUST_WORKER_BATCH_MAX="$((FAULT_INFLIGHT < 200 ? FAULT_INFLIGHT : 200))" "$@"
}

# fault_final_count: jobs of the run in a final state (done, failed, dead)
fault_final_count() {
    psqlv "SELECT count(*) FROM jobs WHERE $FAULT_MINE AND state IN ('done', 'failed', 'dead')"
}

# fault_wait_progress FRACTION [TIMEOUT_S]: until that share of the enqueued jobs is final.
fault_wait_progress() {
    local frac=$1 timeout=${2:-120} want got t0=$SECONDS
    want=$(awk -v n="$FAULT_JOBS" -v f="$frac" 'BEGIN { printf "%d", n * f }')
    while :; do
        got=$(fault_final_count)
        [ "$got" -ge "$want" ] && break
        [ $((SECONDS - t0)) -lt "$timeout" ] ||
            fail "progress: $got of $FAULT_JOBS jobs final after ${timeout}s (waited for $want)"
        sleep 0.3
    done
    log "progress: $got of $FAULT_JOBS jobs final"
    [ "$got" -lt "$FAULT_JOBS" ] || fail "the run ended before the fault ($got of $FAULT_JOBS final)"
}

# fault_lag GROUP: committed lag summed over the group's partitions; "?" when the group's
# partitions cannot be listed (broker down, group unknown) — never a false 0.
fault_lag() {
    "$NT_STACK" kafka-groups --describe --group "${1:-$NUMTRUST_WORKER_GROUP_ID}" 2>/dev/null |
        awk 'NR > 1 && $2 ~ /^[a-z]/ && $5 ~ /^[0-9]+$/ {
                 rows++; if ($4 ~ /^[0-9]+$/) lag += $5 - $4; else lag += $5
             } END { if (rows) print lag + 0; else print "?" }'
}

# fault_ended: the fault is over from now on (the lag clock starts).
fault_ended() {
    FAULT_T_END=$(date +%s.%N)
    log "fault over; waiting for committed lag 0 (limit ${FAULT_LAG_LIMIT_S}s)"
}

secs_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# fault_wait_lag0: polls the committed lag until 0; FAULT_LAG0_S = seconds since fault_ended.
# Over FAULT_LAG_LIMIT_S it keeps waiting (up to FAULT_FINISH_TIMEOUT_S) so that the checker
# still runs, and records the miss.
fault_wait_lag0() {
    local lag s
    [ -n "$FAULT_T_END" ] || fault_ended
    while :; do
        lag=$(fault_lag "$NUMTRUST_WORKER_GROUP_ID")
        s=$(secs_since "$FAULT_T_END")
        if [ "$lag" = 0 ]; then
            FAULT_LAG0_S=$s
            log "committed lag 0 after ${s}s"
            break
        fi
        if awk -v s="$s" -v l="$FAULT_FINISH_TIMEOUT_S" 'BEGIN { exit !(s > l) }'; then
            FAULT_LAG0_S=">$s"
            FAULT_BUGS+=("committed lag still $lag ${s}s after the fault ended")
            log "committed lag still $lag after ${s}s: giving up"
            return 0
        fi
        log "lag $lag (${s}s; $(fault_final_count) of $FAULT_JOBS jobs final)"
        sleep 1
    done
    if awk -v s="$FAULT_LAG0_S" -v l="$FAULT_LAG_LIMIT_S" 'BEGIN { exit !(s > l) }'; then
        FAULT_BUGS+=("committed lag back to 0 only ${FAULT_LAG0_S}s after the fault ended (limit ${FAULT_LAG_LIMIT_S}s)")
    fi
}

# fault_stop_worker INDEX [SIGNAL]: signals a worker and waits at most FAULT_STOP_TIMEOUT_S;
# a worker that does not exit (or exits non-zero on SIGTERM) is recorded, then killed.
fault_stop_worker() {
    local i=$1 sig=${2:-TERM} pid=${NT_WORKER_PIDS[$1]} rc=0 t0=$SECONDS
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || rc=$?; log "worker $i (pid $pid) had already exited: $rc"; [ "$sig" != TERM ] || [ "$rc" = 0 ] || FAULT_BUGS+=("worker $i (pid $pid) exited by itself with status $rc"); return 0; }
    kill -"$sig" "$pid" 2>/dev/null || true
    if [ "$sig" = TERM ] || [ "$sig" = INT ]; then
        while kill -0 "$pid" 2>/dev/null && [ $((SECONDS - t0)) -lt "$FAULT_STOP_TIMEOUT_S" ]; do
            sleep 0.2
        done
        if kill -0 "$pid" 2>/dev/null; then
            FAULT_BUGS+=("worker $i (pid $pid) did not exit within ${FAULT_STOP_TIMEOUT_S}s of SIG$sig")
            log "worker $i (pid $pid) still running ${FAULT_STOP_TIMEOUT_S}s after SIG$sig: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || rc=$?
    log "worker $i (pid $pid) stopped by SIG$sig: exit $rc"
    if { [ "$sig" = TERM ] || [ "$sig" = INT ]; } && [ "$rc" != 0 ]; then
        FAULT_BUGS+=("worker $i (pid $pid) exited $rc on SIG$sig (want 0)")
    fi
    return 0
}

fault_stop_all() {
    local i
    for i in "${!NT_WORKER_PIDS[@]}"; do
        if kill -0 "${NT_WORKER_PIDS[$i]}" 2>/dev/null; then
            fault_stop_worker "$i" TERM
        fi
    done
}

# fault_check_alive: a worker that died by itself (crash) during the run is a bug.
fault_check_alive() {
    local i pid rc
    for i in "${!NT_WORKER_PIDS[@]}"; do
        pid=${NT_WORKER_PIDS[$i]}
        [ -n "${FAULT_GONE[$i]:-}" ] && continue
        if ! kill -0 "$pid" 2>/dev/null; then
            rc=0
            wait "$pid" 2>/dev/null || rc=$?
            FAULT_GONE[$i]=1
            FAULT_BUGS+=("worker $i (pid $pid) died during the run (exit $rc)")
            log "worker $i (pid $pid) died by itself: exit $rc"
        fi
    done
}
declare -A FAULT_GONE=()

# fault_mark_gone INDEX: the scenario killed that worker itself.
fault_mark_gone() { FAULT_GONE[$1]=1; }

# fault_worker_sum FIELD: sum over the workers' last progress lines (duplicate, ok, ...).
fault_worker_sum() {
    local f v sum=0
    for f in "$NT_TMP"/worker-*.log; do
        v=$(grep -o '"msg":"progress: [^"]*' "$f" | tail -n 1 | sed -n "s/.* $1=\([0-9]*\).*/\1/p")
        sum=$((sum + ${v:-0}))
    done
    echo "$sum"
}

# fault_finish [CHECKER ARGS...]: lag, stop, check, tally line; exits 0 (PASS) or 1.
fault_finish() {
    fault_check_alive
    fault_wait_lag0
    fault_check_alive
    fault_stop_all
    local rc=0 summary
    python3 "$FAULTS_DIR/check_invariants.py" --prefix "$FAULT_PREFIX" "${FAULT_EXPECT[@]}" \
        --json "$NT_TMP/invariants.json" "$@" | tee "$NT_TMP/invariants.out" || rc=$?
    summary=$(grep '^invariants ' "$NT_TMP/invariants.out" || true)
    [ -n "$summary" ] || FAULT_BUGS+=("the checker printed no summary (exit $rc)")
    [ "$rc" = 0 ] || FAULT_BUGS+=("invariants violated: $summary")
    local w f
    for f in "$NT_TMP"/worker-*.log; do
        w=$(grep -c '"level":"error"' "$f" || true)
        [ "$w" = 0 ] || log "$(basename "$f"): $w error lines, e.g. $(grep '"level":"error"' "$f" | head -n 2 | cut -c1-300)"
    done
    local j d dd fl lo db
    j=$(python3 -c "import json; print(json.load(open('$NT_TMP/invariants.json'))['jobs'])" 2>/dev/null || echo '?')
    d=$(python3 -c "import json; print(json.load(open('$NT_TMP/invariants.json'))['done'])" 2>/dev/null || echo '?')
    dd=$(python3 -c "import json; print(json.load(open('$NT_TMP/invariants.json'))['dead'])" 2>/dev/null || echo '?')
    fl=$(python3 -c "import json; print(json.load(open('$NT_TMP/invariants.json'))['failed'])" 2>/dev/null || echo '?')
    lo=$(python3 -c "import json; print(json.load(open('$NT_TMP/invariants.json'))['lost'])" 2>/dev/null || echo '?')
    db=$(python3 -c "import json; d=json.load(open('$NT_TMP/invariants.json')); print(d['doubled'] + d['side_effects_doubled'])" 2>/dev/null || echo '?')
    if [ -n "${FAULT_ALL_DONE:-}" ] && { [ "$dd" != 0 ] || [ "$fl" != 0 ]; }; then
        FAULT_BUGS+=("$dd jobs dead and $fl failed; this fault must not cost a job ($FAULT_ALL_DONE)")
    fi
    # scenario-specific checks
    if declare -F fault_extra_checks >/dev/null; then
        fault_extra_checks
    fi
    local verdict=PASS
    [ "${#FAULT_BUGS[@]}" = 0 ] || verdict=FAIL
    local line
    line="fault $FAULT_NAME: jobs=$j done=$d dead=$dd failed=$fl lost=$lo doubled=$db lag0_after_s=$FAULT_LAG0_S time_s=$(secs_since "$FAULT_T0") $verdict"
    for f in "${FAULT_BUGS[@]}"; do log "PROBLEM: $f"; done
    echo "$line"
    [ -z "${NT_FAULT_TALLY:-}" ] || echo "$line" >>"$NT_FAULT_TALLY"
    if [ "$verdict" = PASS ]; then
        log PASS
        return 0
    fi
    NT_KEEP_TMP=1
    log "FAIL (worker logs kept in $NT_TMP)"
    exit 1
}

# fault_ops_url INDEX: http://host:port of worker INDEX's /metrics, /healthz, /readyz (started
# with NUMTRUST_WORKER_METRICS_LISTEN=127.0.0.1:0: the port is read back from its log).
fault_ops_url() {
    local f=$NT_TMP/worker-$1.log hp t0=$SECONDS
    while :; do
        hp=$(grep -o 'serving /metrics, /healthz and /readyz on [0-9.]*:[0-9]*' "$f" 2>/dev/null |
            head -n 1 | awk '{print $NF}')
        [ -n "$hp" ] && break
        [ $((SECONDS - t0)) -lt 20 ] || fail "worker $1 never said where it serves /readyz"
        sleep 0.2
    done
    echo "http://$hp"
}

# fault_sample_readyz URL SECONDS FILE: /readyz's status every 0.5 s for SECONDS, one
# "<seconds since start> <status>" line each.
fault_sample_readyz() {
    local url=$1 secs=$2 out=$3 t0 code
    t0=$(date +%s.%N)
    : >"$out"
    while awk -v a="$t0" -v b="$(date +%s.%N)" -v s="$secs" 'BEGIN { exit !(b - a < s) }'; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url/readyz" || true)
        echo "$(secs_since "$t0") ${code:-000}" >>"$out"
        sleep 0.5
    done
}

# fault_check_readyz FILE WHAT: the samples must show 503 (not ready) while WHAT lasted.
fault_check_readyz() {
    local n503 n
    n=$(wc -l <"$1")
    n503=$(awk '$2 == 503' "$1" | wc -l)
    log "/readyz during $2: $n503 of $n samples 503 (first at $(awk '$2 == 503 { print $1 "s"; exit }' "$1"))"
    [ "$n503" -gt 0 ] || FAULT_BUGS+=("/readyz never said 503 while results were not committed ($2)")
}

# fault_wait_ready URL TIMEOUT_S: /readyz answers 200 again within TIMEOUT_S.
fault_wait_ready() {
    local t0=$SECONDS code
    while :; do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$1/readyz" || true)
        if [ "$code" = 200 ]; then
            log "/readyz 200 again after $((SECONDS - t0)) s"
            return 0
        fi
        if [ $((SECONDS - t0)) -ge "$2" ]; then
            FAULT_BUGS+=("/readyz still $code ${2}s after the fault ended")
            return 0
        fi
        sleep 0.5
    done
}
