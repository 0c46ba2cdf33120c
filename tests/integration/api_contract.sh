#!/usr/bin/env bash
# The control plane's API against docs/openapi.yaml (issue 11): every operation
# once, answers validated against the document; tenant B tries every resource
# of tenant A (policies, alerts, quarantine, costs, action items too) and changes nothing; bad bodies, oversized bodies and wrong tokens
# get errors naming the field and change nothing. The checks are in
# api_contract.py (Debian's python3-yaml and python3-jsonschema).
. "$(dirname "$0")/lib.sh"
nt_setup apicontract
pfx=231
fleet=$(gen_fleet 60 $pfx baidu,tencent,vivo)
psqlv "DELETE FROM feedback WHERE number LIKE '+86$pfx%'; DELETE FROM api_tokens WHERE name LIKE 'it-api-%';
       DELETE FROM alert_endpoints WHERE name LIKE 'it-api-%'"
# two tenants, A and B, 30 numbers each
awk -F, -v OFS=, 'NR == 1 { print; next } { $1 = (NR % 2 ? "it-api-a" : "it-api-b"); print }' "$fleet" >"$NT_TMP/two.csv"
"$PRODUCER" import --numbers "$NT_TMP/two.csv"
num_a=$(psqlv "SELECT min(number) FROM numbers WHERE tenant_id = 'it-api-a' AND number LIKE '+86$pfx%'")
num_b=$(psqlv "SELECT min(number) FROM numbers WHERE tenant_id = 'it-api-b' AND number LIKE '+86$pfx%'")

token() { "$PRODUCER" token create --name "it-api-$1" --kind "$2" ${3:+--tenant "$3"} 2>/dev/null; }
NT_TOKEN_ADMIN=$(token admin-$$ admin)
NT_TOKEN_A=$(token a-$$ tenant it-api-a)
NT_TOKEN_B=$(token b-$$ tenant it-api-b)
NT_TOKEN_FB_A=$(token fb-$$ feedback it-api-a)
NT_TOKEN_REVOKED=$(token old-$$ tenant it-api-a)
export NT_TOKEN_ADMIN NT_TOKEN_A NT_TOKEN_B NT_TOKEN_FB_A NT_TOKEN_REVOKED
"$PRODUCER" token revoke --name "it-api-old-$$" >/dev/null
"$PRODUCER" token list | grep -c "it-api-" | grep -qx 5 || fail "token list does not show the 5 tokens"

# a check of every number, so marks and reports have data
start_worker NUMTRUST_WORKER_APPEAL_FAST_PATH=false
"$PRODUCER" enqueue check --prefix "+86$pfx" --period "c-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86$pfx%'" 180 60
# tenant A's number: one whose vivo registration the check found certified (labels go to
# certified registrations only; the simulator's certifications lapse as its clock moves)
num_a=$(psqlv "SELECT min(n.number) FROM numbers n JOIN number_platforms np USING (number)
               WHERE n.tenant_id = 'it-api-a' AND n.number LIKE '+86$pfx%'
                 AND np.platform = 'vivo' AND np.cert_status = 'certified'")
[ -n "$num_a" ] || fail "no number of tenant A is certified on vivo"
# an action item of tenant A: a campaign label wanted now on vivo, a platform without a
# submission API; mark rates, clocks and trends for the service-level reads
psqlv "INSERT INTO label_schedules (number, platform, kind, label, event_start, event_end)
       VALUES ('$num_a', 'vivo', 'campaign', '周年庆-会员日', nt_now(), nt_now() + interval '30 days')"
"$PRODUCER" enqueue tag --number "$num_a" --platform vivo | grep -q "1 action items created" ||
    fail "no action item for tenant A"
"$PRODUCER" sla pass >/dev/null
num_q=$(psqlv "SELECT min(number) FROM numbers n WHERE tenant_id = 'it-api-a' AND number LIKE '+86$pfx%'
               AND NOT EXISTS (SELECT 1 FROM quarantine q WHERE q.number = n.number AND q.released_at IS NULL)")

# the server on a port the OS picks; read back from its log
start_serve NUMTRUST_API_RATE_PER_S=1000 NUMTRUST_API_RATE_BURST=1000 \
    NUMTRUST_API_CALLBACK_RATE_PER_S=1 NUMTRUST_API_CALLBACK_RATE_BURST=2
spid=${NT_WORKER_PIDS[-1]}
port=$API_PORT
log "serve on port $port"

NT_API_URL="http://127.0.0.1:$port" NT_NUM_A=$num_a NT_NUM_B=$num_b NT_NUM_Q=$num_q NT_OPENAPI="$NT_REPO/docs/openapi.yaml" \
    NT_PRODUCER="$PRODUCER" /usr/bin/python3 "$NT_REPO/tests/integration/api_contract.py" ||
    { tail -n 20 "$NT_TMP/serve.log"; fail "the API does not keep its contract"; }

# the counters saw it all
curl -fsS "127.0.0.1:$port/metrics" >"$NT_TMP/metrics"
grep -q '^numtrust_api_rejected_total{reason="unauthorized"} [1-9]' "$NT_TMP/metrics" || fail "no unauthorized in /metrics"
grep -q '^numtrust_build_info{program="numtrust-producer"' "$NT_TMP/metrics" || fail "no build_info"
promtool check metrics <"$NT_TMP/metrics" || fail "promtool check metrics: control plane /metrics"
grep -q "^process_open_fds [1-9]" "$NT_TMP/metrics" || fail "control plane process_open_fds"
kill -TERM "$spid"
rc=0
wait "$spid" || rc=$?
assert_eq "serve's exit status on SIGTERM" "$rc" 0
stop_all_workers
log "PASS"
