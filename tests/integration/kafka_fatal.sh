#!/usr/bin/env bash
# librdkafka's fatal errors end the worker (issue 15 item 1). The worker runs against
# librdkafka's mock cluster (tests/integration/kafka_mock): once it is ready, the cluster fails
# the next ProduceRequest with OUT_OF_ORDER_SEQUENCE_NUMBER — a sequence desynchronisation, fatal
# for an idempotent producer — and a poison message makes the worker produce a dead letter.
# The worker must log the fatal error once with its reason and exit non-zero (so that its
# orchestrator restarts it) instead of retrying forever while /healthz and /readyz stay green.
# (Between the error and the exit /readyz answers 503; the exit follows within a fraction of a
# second, so the samples taken meanwhile are printed, not required.)
. "$(dirname "$0")/lib.sh"
export NUMTRUST_TOPICS_PARTITIONS=2
nt_setup kafkafatal
p=$NUMTRUST_TOPICS_PREFIX
coproc MOCK { "$NT_BIN/numtrust-test-kafka-mock" --partitions 2 "$p.check" "$p.tag" "$p.appeal" \
    "$p.retry.30s" "$p.retry.5m" "$p.retry.1h" "$p.dead" 2>"$NT_TMP/mock.err"; }
mock_pid=$MOCK_PID
trap 'rc=$?; set +e; kill $mock_pid 2>/dev/null || true; (exit $rc); nt_cleanup' EXIT
read -r -t 10 word boot <&"${MOCK[0]}" || fail "the mock cluster did not start: $(cat "$NT_TMP/mock.err")"
[ "$word" = bootstrap ] || fail "the mock cluster said: $word $boot"
log "mock cluster at $boot"
start_worker NUMTRUST_KAFKA_BOOTSTRAP_SERVERS="$boot" NUMTRUST_WORKER_METRICS_LISTEN=127.0.0.1:0
wpid=${NT_WORKER_PIDS[0]}
ops=""
for _ in $(seq 1 100); do
    hp=$(grep -o 'serving /metrics, /healthz and /readyz on [0-9.]*:[0-9]*' "$NT_TMP/worker-0.log" |
        awk '{print $NF}' | head -n 1 || true)
    [ -n "$hp" ] && ops=http://$hp && break
    sleep 0.1
done
[ -n "$ops" ] || fail "the worker does not say where /readyz is"
for _ in $(seq 1 150); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$ops/readyz")" = 200 ] && break
    sleep 0.2
done
assert_eq "/readyz before the fault" "$(curl -s "$ops/readyz")" ready
mock() { # COMMAND: sends it to the mock cluster, returns its answer
    local ack=""
    echo "$1" >&"${MOCK[1]}"
    read -r -t 15 ack <&"${MOCK[0]}" || true
    echo "$ack"
}
# the poison first (delivered), then the fault: the worker's dead letter is the next
# ProduceRequest the cluster sees
assert_eq "poison message produced" "$(mock "produce $p.check +8613800138000 not-a-job")" ok
assert_eq "the mock cluster armed the fault" "$(mock fatal-produce)" ok
log "a poison message produced: its dead letter meets the fault"
: >"$NT_TMP/readyz"
t0=$SECONDS
while kill -0 "$wpid" 2>/dev/null && [ $((SECONDS - t0)) -lt 30 ]; do
    { curl -s -w ' %{http_code}' --max-time 1 "$ops/readyz" 2>/dev/null | tr -d '\n' || true; echo; } \
        >>"$NT_TMP/readyz"
    sleep 0.02
done
if kill -0 "$wpid" 2>/dev/null; then
    log "/readyz: $(curl -s --max-time 1 "$ops/readyz" | tr -d '\n'); /healthz: $(curl -s --max-time 1 "$ops/healthz" | tr -d '\n')"
    fail "the worker still runs 30 s after a fatal error"
fi
rc=0
wait "$wpid" || rc=$?
log "worker exited with status $rc after $((SECONDS - t0)) s"
[ "$rc" != 0 ] || fail "the worker exited 0 after a fatal error"
log "/readyz samples until the exit: $(sort "$NT_TMP/readyz" | uniq -c | tr -s ' \n' ' ')"
assert_eq "fatal error lines in the worker's log" \
    "$(grep -c '"msg":"kafka: fatal error' "$NT_TMP/worker-0.log" || true)" 1
grep '"msg":"kafka: fatal error' "$NT_TMP/worker-0.log" | grep -q 'OUT_OF_ORDER_SEQUENCE_NUMBER\|sequence' ||
    fail "the fatal error line does not give the reason: $(grep 'fatal error' "$NT_TMP/worker-0.log")"
log "PASS"
