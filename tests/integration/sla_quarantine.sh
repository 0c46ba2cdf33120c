#!/usr/bin/env bash
# Issue 10, acceptance: a burned number is quarantined and released. Fraud
# marks on two platforms (the policy's quarantine_fraud_platforms) put the
# number in quarantine with its reason and evidence, raise the alert and list
# it for dialers; one platform's fraud mark alone does not. When the platforms
# drop the marks and a check sees them gone, the cool-down (the policy's
# quarantine_cooldown, 14 days) starts; the number returns after it, with the
# release alert. By hand: `quarantine add` and `release`. And a mark that comes
# back after its appeal was approved (a manual platform's appeal, closed by hand)
# quarantines its number with the appeal in the evidence. Numtrust time is
# reset on exit.
. "$(dirname "$0")/lib.sh"
nt_setup slaquar
sim_reset
trap '"$PRODUCER" clock set --offset 0 --force >/dev/null || true; sim_reset; nt_cleanup' EXIT
"$PRODUCER" clock set --offset 0 --force >/dev/null
export NUMTRUST_WORKER_APPEAL_FAST_PATH=false

tenant=it-quar-$$
mapfile -t nums < <(sla_fleet "$tenant" 2063 4 baidu,tencent,vivo high_frequency)
burned=${nums[0]} once=${nums[1]} manual=${nums[2]} back=${nums[3]}
mine="number LIKE '+862063%'"
start_worker
"$PRODUCER" enqueue check --prefix +862063 --period "q1-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE $mine" 12 60

fraud() { # NUMBER PLATFORM
    sim POST /admin/marks "{\"platform\":\"$2\",\"number\":\"$1\",\"type\":\"fraud\",\"count\":9}" >/dev/null
}
fraud "$burned" baidu
fraud "$burned" tencent
fraud "$once" baidu
"$PRODUCER" enqueue check --prefix +862063 --period "q2-$$" | grep enqueue
wait_sql "SELECT count(*) FROM marks WHERE $mine AND type = 'fraud'" 3 60
"$PRODUCER" sla pass

assert_eq "in quarantine (number, reason, platforms in the evidence)" \
    "$(psqlv "SELECT number || ' ' || reason || ' ' || jsonb_array_length(evidence->'platforms')
              FROM quarantined_numbers WHERE tenant_id = '$tenant'")" \
    "$burned fraud_on_platforms 2"
assert_eq "quarantine alerts" \
    "$(psqlv "SELECT string_agg(number, ' ') FROM alerts
              WHERE event = 'number_quarantined' AND tenant_id = '$tenant'")" "$burned"
"$PRODUCER" quarantine list --tenant "$tenant" | tee "$NT_TMP/list.out"
grep -q "$burned  *$tenant  *fraud_on_platforms" "$NT_TMP/list.out" || fail "quarantine list"
"$PRODUCER" sla pass >/dev/null
assert_eq "quarantine alerts after another pass" \
    "$(psqlv "SELECT count(*) FROM alerts WHERE event = 'number_quarantined' AND number = '$burned'")" 1

# --- the platforms drop the marks (an appeal's approval would do the same)
for p in baidu tencent; do
    sim POST /admin/marks/clear "{\"platform\":\"$p\",\"number\":\"$burned\"}" >/dev/null
done
"$PRODUCER" clock advance 1d >/dev/null
"$PRODUCER" enqueue check --number "$burned" --period "q3-$$" | grep enqueue
wait_sql "SELECT count(*) FROM marks WHERE number = '$burned' AND state = 'cleared'" 2 60
"$PRODUCER" sla pass >/dev/null
assert_eq "cleared, cooling down for 14 days" \
    "$(psqlv "SELECT (release_after - clean_since)::text || ' ' || (released_at IS NULL)
              FROM quarantine WHERE number = '$burned'")" "14 days true"
"$PRODUCER" clock advance 13d >/dev/null
"$PRODUCER" sla pass >/dev/null
assert_eq "still in quarantine 13 days on" \
    "$(psqlv "SELECT count(*) FROM quarantined_numbers WHERE number = '$burned'")" 1
"$PRODUCER" clock advance 1d1h >/dev/null
"$PRODUCER" sla pass
assert_eq "released after the cool-down" \
    "$(psqlv "SELECT release_reason || ' ' || (released_at - clean_since >= interval '14 days')
              FROM quarantine WHERE number = '$burned'")" "cleared true"
assert_eq "numbers listed for dialers" \
    "$(psqlv "SELECT count(*) FROM quarantined_numbers WHERE tenant_id = '$tenant'")" 0
assert_eq "release alerts" \
    "$(psqlv "SELECT count(*) FROM alerts WHERE event = 'number_released' AND number = '$burned'")" 1

# --- by hand
"$PRODUCER" quarantine add --number "$manual" --note "spoofed in a scam campaign" | grep quarantined
"$PRODUCER" sla pass >/dev/null
assert_eq "a quarantine by hand stays (no marks to clear)" \
    "$(psqlv "SELECT reason FROM quarantined_numbers WHERE number = '$manual'")" manual
"$PRODUCER" quarantine release --number "$manual" | grep released
rc=0
"$PRODUCER" quarantine release --number "$manual" 2>"$NT_TMP/err" || rc=$?
assert_eq "releasing it twice: exit status" "$rc" 1
grep -q "not in quarantine" "$NT_TMP/err" || fail "second release: $(cat "$NT_TMP/err")"
assert_eq "alerts of the manual quarantine (in, out)" \
    "$(psqlv "SELECT string_agg(event, ' ' ORDER BY id) FROM alerts WHERE number = '$manual'")" \
    "number_quarantined number_released"
# --- a mark back after its appeal was approved: vivo has no submission API, so its appeal is an
# action item a person closes (deterministic, unlike a platform's review); the platform then
# drops the mark, and it comes back
sim POST /admin/marks "{\"platform\":\"vivo\",\"number\":\"$back\",\"type\":\"harassment\",\"count\":5}" >/dev/null
"$PRODUCER" enqueue check --number "$back" --platform vivo --period "q4-$$" | grep enqueue
wait_sql "SELECT count(*) FROM marks WHERE number = '$back' AND platform = 'vivo' AND state = 'open'" 1 60
"$PRODUCER" enqueue appeal --number "$back" | grep enqueue
item=$(psqlv "SELECT id FROM action_items WHERE number = '$back' AND kind = 'appeal'")
[ -n "$item" ] || fail "no appeal item for the vivo mark"
"$PRODUCER" actions "done" "$item" --outcome approved --reference "VIVO-Q-$$" | grep -q "approved at"
sim POST /admin/marks/clear "{\"platform\":\"vivo\",\"number\":\"$back\"}" >/dev/null
"$PRODUCER" clock advance 1h >/dev/null
"$PRODUCER" enqueue check --number "$back" --platform vivo --period "q5-$$" | grep enqueue
# its checks: q1, q2 (the whole prefix), q4, q5
wait_sql "SELECT count(*) FROM jobs WHERE type = 'check' AND state = 'done' AND number = '$back' AND platform = 'vivo'" 4 60
"$PRODUCER" sla pass >/dev/null
assert_eq "approved, and the platform dropped the mark: not quarantined" \
    "$(psqlv "SELECT count(*) FROM quarantine WHERE number = '$back'")" 0
sim POST /admin/marks "{\"platform\":\"vivo\",\"number\":\"$back\",\"type\":\"harassment\",\"count\":3}" >/dev/null
"$PRODUCER" clock advance 1h >/dev/null
"$PRODUCER" enqueue check --number "$back" --platform vivo --period "q6-$$" | grep enqueue
wait_sql "SELECT count(*) FROM marks WHERE number = '$back' AND platform = 'vivo' AND state = 'open'" 1 60
"$PRODUCER" sla pass
assert_eq "the mark back after the approved appeal: quarantined, the appeal in the evidence" \
    "$(psqlv "SELECT reason || ' ' || (evidence->>'platform') || ' ' || (evidence->>'count') || ' '
                     || (evidence->'appeal'->>'job' = '$item') || ' ' || (evidence->'appeal'->>'ticket')
              FROM quarantined_numbers WHERE number = '$back'")" \
    "mark_back_after_appeal vivo 3 true VIVO-Q-$$"
assert_eq "its alert" \
    "$(psqlv "SELECT count(*) FROM alerts WHERE event = 'number_quarantined' AND number = '$back'
              AND data->>'reason' = 'mark_back_after_appeal'")" 1
stop_all_workers
log "PASS"
