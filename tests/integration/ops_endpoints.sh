#!/usr/bin/env bash
# The worker-core issue: /metrics (Prometheus text), /healthz and /readyz on
# the worker and on the producer daemon. The worker's counters must agree
# with PostgreSQL after a run.
. "$(dirname "$0")/lib.sh"
nt_setup ops
sim_reset
port=$(nt_free_port)
fleet=$(gen_fleet 100 211 baidu,qihoo360)
"$PRODUCER" import --numbers "$fleet"
start_worker NUMTRUST_WORKER_METRICS_LISTEN="127.0.0.1:$port" NUMTRUST_WORKER_APPEAL_FAST_PATH=false \
    NUMTRUST_KAFKA_STATISTICS_INTERVAL_MS=1000
for _ in $(seq 1 50); do curl -fsS "127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
assert_eq "worker /healthz" "$(curl -fsS "127.0.0.1:$port/healthz")" ok
assert_eq "worker /readyz" "$(curl -fsS "127.0.0.1:$port/readyz")" ready
"$PRODUCER" enqueue check --prefix +86211 --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86211%'" 200 60
sleep 2
curl -fsS "127.0.0.1:$port/metrics" >"$NT_TMP/metrics"
grep -E '^numtrust_(jobs_total\{type="check",outcome="ok"\}|platform_calls_total\{platform="qihoo360",outcome="ok"\}|consumer_lag|breaker_open\{platform="baidu"\}|pg_connected)' "$NT_TMP/metrics"
assert_eq "check jobs ok in /metrics" \
    "$(awk '/^numtrust_jobs_total\{type="check",outcome="ok"\}/ {print $2}' "$NT_TMP/metrics")" 200
assert_eq "baidu calls in /metrics (one per job)" \
    "$(awk '/^numtrust_platform_calls_total\{platform="baidu",outcome="ok"\}/ {print $2}' "$NT_TMP/metrics")" 100
batched=$(awk '/^numtrust_platform_calls_total\{platform="qihoo360",outcome="ok"\}/ {print $2}' "$NT_TMP/metrics")
[ "$batched" -ge 1 ] && [ "$batched" -le 10 ] || fail "qihoo360 batched calls: $batched (want 1-10 for 100 numbers)"
log "ok: qihoo360 checks went out in $batched batched calls"
grep -q '^numtrust_job_seconds_bucket{type="check",le="+Inf"} 200$' "$NT_TMP/metrics" || fail "latency histogram"
lag=$(awk '/^numtrust_consumer_lag / {print $2}' "$NT_TMP/metrics")
assert_eq "consumer lag in /metrics" "$lag" 0
# end-to-end age (created -> result) of every finished check; the writer's
# statements and rows; the process_* metrics; and promtool's lint (HELP on
# every metric, counters end in _total, units in names)
assert_eq "job age histogram count for checks" \
    "$(awk '/^numtrust_job_age_seconds_count\{type="check"\}/ {print $2}' "$NT_TMP/metrics")" 200
rows=$(awk '/^numtrust_writer_rows_total / {print $2}' "$NT_TMP/metrics")
stmts=$(awk '/^numtrust_writer_statements_total / {print $2}' "$NT_TMP/metrics")
[ "${rows:-0}" -ge 200 ] && [ "${stmts:-0}" -ge 1 ] && [ "$stmts" -lt "$rows" ] ||
    fail "writer metrics: $stmts statements, $rows rows (want >= 1 statement, >= 200 rows, batched)"
log "ok: writer wrote $rows rows in $stmts statements"
fds=$(awk '/^process_open_fds / {print $2}' "$NT_TMP/metrics")
[ "${fds:-0}" -gt 0 ] || fail "process_open_fds missing"
grep -q '^process_resident_memory_bytes [1-9]' "$NT_TMP/metrics" || fail "process_resident_memory_bytes"
promtool check metrics <"$NT_TMP/metrics" || fail "promtool check metrics: worker /metrics"
log "ok: worker /metrics passes promtool check metrics ($fds open fds)"
stop_all_workers

pport=$(nt_free_port)
NUMTRUST_PRODUCER_METRICS_LISTEN="127.0.0.1:$pport" NUMTRUST_PRODUCER_INTERVAL_S=1 \
    "$PRODUCER" run >"$NT_TMP/run.log" 2>&1 &
rpid=$!
trap 'rc=$?; set +e; kill "$rpid" 2>/dev/null || true; (exit $rc); nt_cleanup' EXIT # never left behind
for _ in $(seq 1 50); do curl -fsS "127.0.0.1:$pport/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
assert_eq "producer /healthz" "$(curl -fsS "127.0.0.1:$pport/healthz")" ok
for _ in $(seq 1 50); do
    curl -fsS "127.0.0.1:$pport/metrics" | grep -q 'passes_total{result="ok"} [1-9]' && break
    sleep 0.2
done
curl -fsS "127.0.0.1:$pport/metrics" | grep -E 'passes_total|enqueued_total' | tee "$NT_TMP/pm"
grep -q 'passes_total{result="ok"} [1-9]' "$NT_TMP/pm" || fail "no successful reconciler pass in /metrics"
curl -fsS "127.0.0.1:$pport/metrics" >"$NT_TMP/pm-all"
promtool check metrics <"$NT_TMP/pm-all" || fail "promtool check metrics: reconciler /metrics"
grep -q '^process_open_fds [1-9]' "$NT_TMP/pm-all" || fail "reconciler process_open_fds"
log "ok: reconciler /metrics passes promtool check metrics"
assert_eq "producer /readyz" "$(curl -fsS "127.0.0.1:$pport/readyz")" ready
kill -TERM "$rpid"
rc=0; wait "$rpid" || rc=$?
assert_eq "reconciler exit status on SIGTERM" "$rc" 0
log "PASS"
