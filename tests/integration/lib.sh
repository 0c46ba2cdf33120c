# lib.sh — helpers shared by the integration, fault and benchmark scripts.
#
# Every script runs against the real stack that deploy/local/stack.sh started
# (tests/run.sh exports its settings). A test isolates itself with its own
# topic prefix and consumer group (nt_setup), and its own numbers (a number
# prefix), so tests can share one broker, one database and one simulator.
# shellcheck shell=bash

set -euo pipefail

NT_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
NT_BUILD_DIR=$(realpath -m -- "${NT_BUILD_DIR:-$NT_REPO/build}")
NT_BIN=$NT_BUILD_DIR/bin
PRODUCER=$NT_BIN/numtrust-producer
WORKER=$NT_BIN/numtrust-worker
export NUMTRUST_PLATFORMS_FILE=${NUMTRUST_PLATFORMS_FILE:-$NT_REPO/deploy/local/platforms.json}
export NUMTRUST_LOG_LEVEL=${NUMTRUST_LOG_LEVEL:-info}

NT_WORKER_PIDS=()
NT_TEST_T0=$(date +%s.%N)

log() { printf '[%6.1fs] %s\n' "$(echo "$(date +%s.%N) - $NT_TEST_T0" | bc)" "$*"; }

fail() {
    log "FAIL: $*"
    for f in "${NT_TMP:-/nonexistent}"/worker-*.log; do
        [ -f "$f" ] || continue
        echo "--- last lines of $f"
        tail -n 15 "$f"
    done
    exit 1
}

require_stack() {
    : "${NUMTRUST_PG_CONNINFO:?run under tests/run.sh (or eval \"\$(deploy/local/stack.sh env)\")}"
    : "${NUMTRUST_KAFKA_BOOTSTRAP_SERVERS:?}" "${NT_SIM_URL:?}" "${NT_STACK:?}"
}

# nt_setup NAME: own topics and group for this test, schema migrated.
nt_setup() {
    require_stack
    local name=$1
    export NT_TEST_NAME=$name # the tests' periods and names
    NT_TMP=$(mktemp -d "/tmp/nt-$name.XXXXXX")
    export NUMTRUST_TOPICS_PREFIX="it.$name.$$"
    export NUMTRUST_WORKER_GROUP_ID="it-$name-$$"
    export NUMTRUST_TOPICS_PARTITIONS=${NUMTRUST_TOPICS_PARTITIONS:-6}
    trap nt_cleanup EXIT
    "$PRODUCER" migrate >/dev/null
    "$PRODUCER" topics >/dev/null
    align_clocks
    log "setup: topics $NUMTRUST_TOPICS_PREFIX.*, group $NUMTRUST_WORKER_GROUP_ID, tmp $NT_TMP"
}

# align_clocks: numtrust time set to the shared simulator's time. Both start at real time, but
# tests move the simulator's clock (it never goes back) and reset numtrust time when they end;
# times one side stamps (a callback's decision, a certification's expiry) and the other compares
# only agree when the clocks do, as they do in production. Reset at cleanup.
align_clocks() {
    local sim_time
    sim_time=$(curl -fsS -m 5 -X POST -H 'Content-Type: application/json' -d '{"advance_s":0}' \
        "$NT_SIM_URL/admin/clock" 2>/dev/null |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["sim_time"])' 2>/dev/null) || return 0
    "$PRODUCER" clock set "$sim_time" --force >/dev/null
    NT_CLOCK_ALIGNED=true
}

nt_cleanup() {
    local rc=$?
    for pid in "${NT_WORKER_PIDS[@]}"; do
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ -n "${NT_CLOCK_ALIGNED:-}" ]; then
        "$PRODUCER" clock set --offset 0 --force >/dev/null 2>&1 || true
    fi
    if [ "$rc" -eq 0 ] && [ -z "${NT_KEEP_TMP:-}" ]; then
        rm -rf "$NT_TMP"
    else
        log "kept $NT_TMP for inspection"
    fi
}

# nt_free_port: a TCP port below Linux's ephemeral range (32768-60999) that nothing on
# this machine holds now (no listener, no client socket), for a server a test starts.
nt_free_port() {
    local port i
    for ((i = 0; i < 200; i++)); do
        port=$((10000 + RANDOM % 22000))
        if [ -z "$(ss -Htan "sport = :$port" 2>/dev/null)" ]; then
            echo "$port"
            return 0
        fi
    done
    fail "no free port below 32768 after 200 tries"
}

psqlv() { psql "$NUMTRUST_PG_CONNINFO" -X -A -t -q -v ON_ERROR_STOP=1 -c "$1"; }

# purge_numbers DIGITS: forget every row of numbers +86DIGITS..., so that a
# test can run again on the same database.
purge_numbers() {
    local like="+86$1%"
    psql "$NUMTRUST_PG_CONNINFO" -X -q -v ON_ERROR_STOP=1 -v like="$like" <<'SQL' >/dev/null
DELETE FROM check_results WHERE number LIKE :'like';
DELETE FROM tag_updates WHERE number LIKE :'like';
DELETE FROM appeals WHERE number LIKE :'like';
DELETE FROM marks WHERE number LIKE :'like';
DELETE FROM jobs WHERE number LIKE :'like';
DELETE FROM label_schedules WHERE number LIKE :'like';
DELETE FROM action_items WHERE number LIKE :'like';
DELETE FROM number_platforms WHERE number LIKE :'like';
DELETE FROM trust_trends WHERE number LIKE :'like';
DELETE FROM number_risk WHERE number LIKE :'like';
DELETE FROM sla_clocks WHERE number LIKE :'like';
DELETE FROM cost_ledger WHERE number LIKE :'like';
DELETE FROM numbers WHERE number LIKE :'like';
SQL
}

# all_platforms [FILE]: the ids of every platform in the platforms file, comma-separated.
all_platforms() {
    python3 -c 'import json, sys; print(",".join(p["id"] for p in json.load(open(sys.argv[1]))["platforms"]))' \
        "${1:-$NUMTRUST_PLATFORMS_FILE}"
}

# gen_fleet N PREFIX [PLATFORMS] -> CSV path; numbers are +86<PREFIX>...
gen_fleet() {
    local n=$1 prefix=$2 platforms=${3:-baidu,tencent,qihoo360}
    local f=$NT_TMP/fleet-$prefix.csv
    purge_numbers "$prefix"
    python3 "$NT_REPO/deploy/local/gen-fleet.py" --numbers "$n" --prefix "$prefix" \
        --platforms "$platforms" --seed "$prefix$$" -o "$f"
    echo "$f"
}

# start_worker [extra env assignments...]: one worker in the background.
start_worker() {
    local i=${#NT_WORKER_PIDS[@]}
    env "$@" "$WORKER" >"$NT_TMP/worker-$i.log" 2>&1 &
    NT_WORKER_PIDS+=("$!")
    log "worker $i started (pid $!)"
}

# start_serve [extra env assignments...]: `numtrust-producer serve` in the background on a
# free port (stopped with the workers: it is in NT_WORKER_PIDS); sets API_PORT.
start_serve() {
    env NUMTRUST_API_LISTEN=127.0.0.1:0 "$@" "$PRODUCER" serve >"$NT_TMP/serve.log" 2>&1 &
    NT_WORKER_PIDS+=("$!")
    API_PORT=
    local _
    for _ in $(seq 1 50); do
        API_PORT=$(sed -n 's/.*serving the API.* on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$NT_TMP/serve.log")
        [ -n "$API_PORT" ] && break
        sleep 0.1
    done
    [ -n "$API_PORT" ] || fail "serve did not start: $(tail -n 3 "$NT_TMP/serve.log")"
}

# stop_worker INDEX [SIGNAL]: signal it and wait; returns its exit status.
stop_worker() {
    local i=$1 sig=${2:-TERM} pid=${NT_WORKER_PIDS[$1]} rc=0
    kill -"$sig" "$pid" 2>/dev/null || true
    wait "$pid" || rc=$?
    log "worker $i (pid $pid) stopped by SIG$sig: exit $rc"
    return "$rc"
}

stop_all_workers() {
    local i
    for i in "${!NT_WORKER_PIDS[@]}"; do
        if kill -0 "${NT_WORKER_PIDS[$i]}" 2>/dev/null; then
            stop_worker "$i" TERM || fail "worker $i did not exit 0 on SIGTERM"
        fi
    done
}

# wait_sql SQL EXPECTED TIMEOUT_S: poll until the query prints EXPECTED.
wait_sql() {
    local sql=$1 want=$2 timeout=${3:-60} got="" t=0
    while [ "$t" -lt $((timeout * 5)) ]; do
        got=$(psqlv "$sql")
        [ "$got" = "$want" ] && return 0
        sleep 0.2
        t=$((t + 1))
    done
    fail "waited ${timeout}s for [$sql] = $want; last value: $got"
}

# group_lag GROUP: committed lag summed over partitions (- counts as 0 only
# for partitions with no committed offset and no messages).
group_lag() {
    local group=${1:-$NUMTRUST_WORKER_GROUP_ID}
    "$NT_STACK" kafka-groups --describe --group "$group" 2>/dev/null |
        awk 'NR > 1 && $2 ~ /^[a-z]/ && $5 ~ /^[0-9]+$/ {
                 if ($4 ~ /^[0-9]+$/) lag += $5 - $4; else lag += $5
             } END { print lag + 0 }'
}

# sim GET|POST PATH [JSON]: the simulator's admin API.
sim() {
    local method=$1 path=$2 body=${3:-}
    if [ "$method" = GET ]; then
        curl -fsS "$NT_SIM_URL$path"
    else
        curl -fsS -X POST -H 'Content-Type: application/json' -d "${body:-{\}}" "$NT_SIM_URL$path"
    fi
}

sim_reset() {
    sim POST /admin/config '{"latency":{"base_ms":0,"jitter_ms":0,"tail_rate":0,"tail_ms":0},
        "faults":{"rate_5xx":0,"rate_timeout":0,"rate_malformed":0},
        "rate_limit":{"qps":0,"burst":0},"clock":{"speed":1}}' >/dev/null
    sim POST /admin/counters/reset >/dev/null
}

# produce_raw TOPIC KEY FILE: one message with the file's bytes as value.
produce_raw() {
    kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -P -t "$1" -k "$2" "$3"
}

assert_eq() {
    local what=$1 got=$2 want=$3
    [ "$got" = "$want" ] || fail "$what: got '$got', want '$want'"
    log "ok: $what = $got"
}

# --- policies, service levels, alerts (issue 10; tests/integration/sla_*.sh)

# sla_fleet TENANT DIGITS N PLATFORMS SCENARIO [GROUP]: N numbers +86DIGITS0000001..
# of one tenant (purged first), imported; their marks on the simulator cleared,
# so a test starts from a known mark rate. Prints the numbers, one a line.
sla_fleet() {
    local tenant=$1 digits=$2 n=$3 platforms=$4 scenario=$5 i num p
    local f=$NT_TMP/fleet-$digits.csv
    purge_numbers "$digits"
    echo "tenant,number,scenario,base_label,platforms" >"$f"
    for ((i = 1; i <= n; i++)); do
        printf '%s,+86%s%07d,%s,%s-%d号,%s\n' "$tenant" "$digits" "$i" "$scenario" "$tenant" "$i" \
            "${platforms//,/;}" >>"$f"
    done
    "$PRODUCER" import --numbers "$f" >/dev/null
    for ((i = 1; i <= n; i++)); do
        num=$(printf '+86%s%07d' "$digits" "$i")
        for p in ${platforms//,/ }; do
            sim POST /admin/marks/clear "{\"platform\":\"$p\",\"number\":\"$num\"}" >/dev/null
        done
        echo "$num"
    done
}

# start_receiver SECRET [PORT]: the signature-checking webhook receiver
# (alert_receiver.py) in the background; sets RECEIVER_PORT and RECEIVER_PID.
start_receiver() {
    RECEIVER_PORT=${2:-$(nt_free_port)}
    python3 "$NT_REPO/tests/integration/alert_receiver.py" --port "$RECEIVER_PORT" --secret "$1" \
        --log "$NT_TMP/received.jsonl" >>"$NT_TMP/receiver.log" 2>&1 &
    RECEIVER_PID=$!
    NT_WORKER_PIDS+=("$RECEIVER_PID") # killed by nt_cleanup too
    local t
    for ((t = 0; t < 50; t++)); do
        curl -fsS "http://127.0.0.1:$RECEIVER_PORT/stats" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "the receiver did not start on port $RECEIVER_PORT"
}

# receiver_stat FIELD: one number from the receiver's /stats (valid, invalid,
# unique, duplicates, failed_on_purpose, or by_event.EVENT).
receiver_stat() {
    curl -fsS "http://127.0.0.1:$RECEIVER_PORT/stats" |
        python3 -c 'import json, sys
d = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    d = d.get(k, 0) if isinstance(d, dict) else 0
print(d)' "$1"
}
