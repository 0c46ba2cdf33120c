#!/usr/bin/env bash
# tests/bench/ceilings.sh — the standalone rate of each component the check pipeline goes
# through, on this machine, so that run.sh's end-to-end figure can be set against its slowest
# part. Not a test. Prints "bench context …" lines and one line per ceiling:
#
#   bench ceiling sim req_per_s=…            wrk, keep-alive, dialect-B check (sim-wrk.sh) on
#                                            a simulator of its own (latency 0)
#   bench ceiling kafka_consume msgs_per_s=… one consumer with the worker's consumer settings
#                                            (numtrust-bench-kafka) reading M real check
#                                            envelopes from a fresh 12-partition topic, first
#                                            message to last; kcat (-G, same topic, fresh group)
#                                            is measured too and the faster of the two is kept
#   bench ceiling pg_insert rows_per_s=…     the worker's own check statement (from
#                                            workers/writer_sql.h), batches of 500,
#                                            one connection, one statement at a time, for an
#                                            imported fleet (numtrust-bench-pg)
#   bench ceiling pg_claim_insert jobs_per_s=…  the same plus the worker's wsql_claim per batch:
#                                            all the PostgreSQL work of one check job
#
# Units differ: one check job of dialect A or B is one simulator request, a dialect C job is
# 1/100 of one (batched); one job is one Kafka message; one job is one claim row + one
# result row.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

usage() {
    cat <<'EOF'
usage: tests/bench/ceilings.sh [--msgs M] [--rows R] [--sim-secs S] [--only LIST] [--stack]

Measures the raw ceilings on this machine, one line each:
  bench ceiling sim req_per_s=…
  bench ceiling kafka_consume msgs_per_s=…
  bench ceiling pg_insert rows_per_s=…
  bench ceiling pg_claim_insert jobs_per_s=…

Options:
  --msgs M       Kafka messages to produce and consume (default 200000)
  --rows R       check results to write (default 100000), batches of 500
  --sim-secs S   wrk duration (default 10)
  --only LIST    some of sim,kafka,pg (default all three)
  --stack        private stack (as run.sh --stack), stopped afterwards
  --help         this text

Uses the stack in the environment (eval "$(deploy/local/stack.sh env)") for Kafka and
PostgreSQL; the simulator ceiling runs its own simulator (sim-wrk.sh). Needs wrk, kcat and
the helper programs of tests/bench/CMakeLists.txt (NT_BENCH_BIN, default $NT_BUILD_DIR/bin).
EOF
}

MSGS=200000
ROWS=100000
SIM_SECS=10
ONLY=sim,kafka,pg
OWN_STACK=false
while [ $# -gt 0 ]; do
    case $1 in
    --msgs) MSGS=${2:-}; shift ;;
    --rows) ROWS=${2:-}; shift ;;
    --sim-secs) SIM_SECS=${2:-}; shift ;;
    --only) ONLY=${2:-}; shift ;;
    --stack) OWN_STACK=true ;;
    --help | -h) usage; exit 0 ;;
    *) echo "ceilings.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[[ $MSGS =~ ^[1-9][0-9]*$ && $ROWS =~ ^[1-9][0-9]*$ && $SIM_SECS =~ ^[1-9][0-9]*$ ]] ||
    { echo "ceilings.sh: --msgs, --rows and --sim-secs take positive integers" >&2; exit 2; }
[[ $ONLY =~ ^(sim|kafka|pg)(,(sim|kafka|pg))*$ ]] || { echo "ceilings.sh: --only: sim,kafka,pg" >&2; exit 2; }
want() { [[ ,$ONLY, == *,$1,* ]]; }

say() { printf '[ceilings %s] %s\n' "$(date +%T)" "$*" >&2; }
now_ms() { date +%s%3N; }

# shellcheck source=tests/bench/bench-lib.sh
. "$here/bench-lib.sh"
if $OWN_STACK; then
    trap bench_stack_down EXIT
    bench_stack_up
fi
# shellcheck source=tests/integration/lib.sh
. "$repo/tests/integration/lib.sh"

RUN_ID="$(date +%Y%m%d%H%M%S)-$$"
DIGITS=5050 # run.sh uses 5100-5999
NT_TMP=$(mktemp -d "/tmp/nt-ceilings.XXXXXX")
TOPIC_PREFIX="bench.ceil.$RUN_ID"
cleanup() {
    local rc=$?
    if want pg; then purge_numbers "$DIGITS" 2>/dev/null || true; fi
    if want kafka; then
        "$NT_STACK" kafka-topics --delete --topic "bench\\.ceil\\.$RUN_ID\\..*" >/dev/null 2>&1 || true
    fi
    rm -rf "$NT_TMP"
    bench_stack_down
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "bench context run=$RUN_ID host_cpus=$(nproc) load1=$(cut -d' ' -f1 /proc/loadavg)"
declare -a LINES=()

# ---- simulator -------------------------------------------------------------------------

if want sim; then
    say "sim: wrk for ${SIM_SECS}s against a dialect-B check"
    line=$(SIM_BIN=${SIM_BIN:-$NT_BUILD_DIR/bin/numtrust-platform-sim} \
        "$here/sim-wrk.sh" b "$SIM_SECS" 64 2>"$NT_TMP/wrk.log" | tail -n1) ||
        { cat "$NT_TMP/wrk.log" >&2; exit 1; }
    lat=$(awk '$1 == "Latency" {print $2 "/" $4; exit}' "$NT_TMP/wrk.log")
    echo "bench context sim wrk -t1 -c64 -d${SIM_SECS}s dialect=b latency_avg/max=$lat"
    LINES+=("$line")
fi

# ---- Kafka -----------------------------------------------------------------------------

if want kafka; then
    require_stack
    KAFKA=$(bench_bin numtrust-bench-kafka)
    LOADGEN=$(bench_bin numtrust-bench-loadgen)
    export NUMTRUST_TOPICS_PREFIX=$TOPIC_PREFIX NUMTRUST_TOPICS_PARTITIONS=12
    topic=$TOPIC_PREFIX.check
    "$PRODUCER" topics >/dev/null
    say "kafka: producing $MSGS check envelopes to $topic"
    "$LOADGEN" --synthetic "$MSGS" --rate 0 2>"$NT_TMP/loadgen.log" ||
        { cat "$NT_TMP/loadgen.log" >&2; exit 1; }
    grep '^loadgen:' "$NT_TMP/loadgen.log" | sed 's/^/bench context kafka_produce /'

    say "kafka: numtrust-bench-kafka consuming $MSGS"
    out=$("$KAFKA" --topic "$topic" --count "$MSGS" --group "bench-ceil-$RUN_ID-c" 2>"$NT_TMP/kc.log" |
        grep '^kafka_consume') || { cat "$NT_TMP/kc.log" >&2; exit 1; }
    c_rate=$(sed -n 's/.* msgs_per_s=\([0-9]*\).*/\1/p' <<<"$out")
    echo "bench context $out (numtrust-bench-kafka: worker consumer settings, offsets stored)"

    # kcat cannot report when its first message arrived: time N messages and 1 message, each
    # in a fresh group, and take the difference (process start and group join cancel out)
    kcat_secs() { # COUNT GROUP -> seconds
        local t0
        t0=$(now_ms)
        kcat -C -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -G "$2" -X auto.offset.reset=earliest \
            -c "$1" -q -f '%o\n' "$topic" >/dev/null
        echo "scale=3; ($(now_ms) - $t0) / 1000" | bc
    }
    say "kafka: kcat consuming $MSGS"
    k_all=$(kcat_secs "$MSGS" "bench-ceil-$RUN_ID-k1")
    k_one=$(kcat_secs 1 "bench-ceil-$RUN_ID-k2")
    k_rate=$(echo "scale=0; ($MSGS - 1) / ($k_all - $k_one)" | bc 2>/dev/null || echo 0)
    echo "bench context kafka_consume kcat msgs=$MSGS secs=$k_all one_msg_secs=$k_one msgs_per_s=$k_rate (librdkafka defaults, no offset store)"
    if ((k_rate > c_rate)); then
        LINES+=("bench ceiling kafka_consume msgs_per_s=$k_rate")
        echo "bench context kafka_consume kept=kcat"
    else
        LINES+=("bench ceiling kafka_consume msgs_per_s=$c_rate")
        echo "bench context kafka_consume kept=numtrust-bench-kafka"
    fi
fi

# ---- PostgreSQL ------------------------------------------------------------------------

if want pg; then
    require_stack
    PG=$(bench_bin numtrust-bench-pg)
    "$PRODUCER" migrate >/dev/null
    numbers=20000
    say "pg: importing $numbers numbers x 3 platforms (+86$DIGITS…)"
    fleet=$(gen_fleet "$numbers" "$DIGITS" baidu,tencent,qihoo360)
    "$PRODUCER" import --numbers "$fleet" >"$NT_TMP/import.log" 2>&1 ||
        { cat "$NT_TMP/import.log" >&2; exit 1; }
    say "pg: $ROWS check results through wsql_check"
    out=$("$PG" --prefix "+86$DIGITS" --rows "$ROWS" --batch 500) || exit 1
    echo "bench context $out"
    LINES+=("bench ceiling pg_insert rows_per_s=$(sed -n 's/.* rows_per_s=\([0-9]*\).*/\1/p' <<<"$out")")
    say "pg: $ROWS jobs through wsql_claim + wsql_check"
    out=$("$PG" --prefix "+86$DIGITS" --rows "$ROWS" --batch 500 --claim) || exit 1
    echo "bench context $out"
    LINES+=("bench ceiling pg_claim_insert jobs_per_s=$(sed -n 's/.* rows_per_s=\([0-9]*\).*/\1/p' <<<"$out")")
fi

printf '%s\n' "${LINES[@]}"
