#!/usr/bin/env bash
# Issue 10, acceptance: webhooks survive a receiver outage and a producer
# restart with no delivery lost. 20 alerts are raised while the receiver is
# down; the reconciler daemon (`numtrust-producer run`) tries them, backs off,
# and is killed (SIGKILL) mid-way; the receiver comes up answering its first 5
# deliveries with 503; a new daemon delivers everything. The receiver checks
# every signature and counts each delivery id: all 20 arrive (duplicates
# would be allowed — delivery is at least once — and are reported), none is
# refused, and PostgreSQL's outbox says delivered for each, with the ids the
# receiver saw.
. "$(dirname "$0")/lib.sh"
nt_setup slaalert
secret=whsec-$$-0123456789abcdef
port=$(nt_free_port)
name=it-alert-$$
export NUMTRUST_PRODUCER_INTERVAL_S=3600 NUMTRUST_ALERTS_POLL_MS=200
export NUMTRUST_ALERTS_BACKOFF_BASE_MS=300 NUMTRUST_ALERTS_BACKOFF_MAX_MS=1500
export NUMTRUST_ALERTS_TIMEOUT_MS=2000 NUMTRUST_ALERTS_BATCH=8

"$PRODUCER" alerts endpoint add --name "$name" --url "http://127.0.0.1:$port/hook" \
    --secret "$secret" --events test >/dev/null
trap '"$PRODUCER" alerts endpoint remove --name "$name" >/dev/null 2>&1 || true; nt_cleanup' EXIT
for _ in $(seq 1 20); do "$PRODUCER" alerts test >/dev/null; done
ep="endpoint_id = (SELECT id FROM alert_endpoints WHERE name = '$name')"
assert_eq "deliveries in the outbox" "$(psqlv "SELECT count(*) FROM alert_deliveries WHERE $ep")" 20

# --- the receiver is down: the daemon tries, fails, backs off; then it is killed
start_daemon() {
    "$PRODUCER" run >>"$NT_TMP/run.log" 2>&1 &
    DAEMON_PID=$!
    NT_WORKER_PIDS+=("$DAEMON_PID")
    log "reconciler daemon started (pid $DAEMON_PID)"
}
start_daemon
wait_sql "SELECT count(*) FROM alert_deliveries WHERE $ep AND attempts >= 2" 20 60
kill -KILL "$DAEMON_PID"
wait "$DAEMON_PID" 2>/dev/null || true
log "daemon killed: $(psqlv "SELECT sum(attempts) FROM alert_deliveries WHERE $ep") attempts so far"
assert_eq "delivered while the receiver was down" \
    "$(psqlv "SELECT count(*) FROM alert_deliveries WHERE $ep AND state = 'delivered'")" 0
assert_eq "deliveries that failed to connect (no HTTP status, an error)" \
    "$(psqlv "SELECT count(*) FROM alert_deliveries WHERE $ep AND last_status IS NULL
              AND last_error IS NOT NULL")" 20
log "last error: $(psqlv "SELECT last_error FROM alert_deliveries WHERE $ep LIMIT 1")"

# --- the receiver comes up, failing its first 5 deliveries; a new daemon
start_receiver "$secret" "$port"
curl -fsS -X POST "http://127.0.0.1:$port/admin/fail" -d '{"next": 5, "status": 503}' >/dev/null
mport=$(nt_free_port)
NUMTRUST_PRODUCER_METRICS_LISTEN="127.0.0.1:$mport" start_daemon
wait_sql "SELECT count(*) FROM alert_deliveries WHERE $ep AND state = 'delivered'" 20 90
# the daemon's business metrics: its delivery attempts, and the families of the pass
curl -fsS "http://127.0.0.1:$mport/metrics" >"$NT_TMP/metrics"
assert_eq "delivery attempts of this daemon in /metrics (delivered)" \
    "$(awk '/^numtrust_alert_delivery_attempts_total\{result="delivered"\}/ {print $2}' "$NT_TMP/metrics")" 20
failed=$(awk '/^numtrust_alert_delivery_attempts_total\{result="failed"\}/ {print $2}' "$NT_TMP/metrics")
[ "$failed" -ge 5 ] || fail "failed delivery attempts in /metrics: $failed (the receiver refused 5)"
for family in numtrust_tenant_mark_rate numtrust_sla_clocks numtrust_alerts_total \
    numtrust_alert_deliveries numtrust_quarantined_numbers numtrust_cost_month; do
    grep -q "^# TYPE $family " "$NT_TMP/metrics" || fail "/metrics lacks $family"
done
log "ok: /metrics has the business metric families"
promtool check metrics <"$NT_TMP/metrics" || fail "promtool check metrics: the reconciler's business metrics"
kill -TERM "$DAEMON_PID"
rc=0
wait "$DAEMON_PID" || rc=$?
assert_eq "daemon exit status on SIGTERM" "$rc" 0

assert_eq "deliveries the receiver verified (unique ids)" "$(receiver_stat unique)" 20
assert_eq "deliveries refused (signature, timestamp, id)" "$(receiver_stat invalid)" 0
assert_eq "deliveries answered 503 on purpose" "$(receiver_stat failed_on_purpose)" 5
log "duplicates (allowed, at least once): $(receiver_stat duplicates)"
got=$(curl -fsS "http://127.0.0.1:$port/stats" | python3 -c 'import json, sys; print(" ".join(json.load(sys.stdin)["ids"]))')
want=$(psqlv "SELECT string_agg(delivery_id::text, ' ' ORDER BY delivery_id::text) FROM alert_deliveries WHERE $ep")
assert_eq "the receiver's ids are the outbox's" "$got" "$want"
"$PRODUCER" alerts deliveries --state delivered --limit 3
log "PASS"
