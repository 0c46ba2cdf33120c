#!/usr/bin/env bash
# The feedback intake (issue 11): a callee report posted by a company's
# website is stored, answered 202 with no tenant data, and raises a check of
# the number at once; a report the API could not enqueue (stored while Kafka
# was unavailable, here inserted directly) is checked by the next reconciler
# pass; the report is cited as evidence by the appeal of the mark it reports,
# and it counts in number_feedback_risk.
. "$(dirname "$0")/lib.sh"
nt_setup apifeedback
sim_reset
pfx=233
fleet=$(gen_fleet 10 $pfx baidu,tencent)
sed -i '2,$ s/^tenant[0-9]*,/it-fb,/' "$fleet"
psqlv "DELETE FROM feedback WHERE number LIKE '+86$pfx%'; DELETE FROM api_tokens WHERE name LIKE 'it-fb-%'"
"$PRODUCER" import --numbers "$fleet"
mapfile -t nums < <(psqlv "SELECT number FROM numbers WHERE number LIKE '+86$pfx%' ORDER BY number")
x=${nums[0]} y=${nums[1]}
start_worker NUMTRUST_WORKER_APPEAL_FAST_PATH=false
"$PRODUCER" enqueue check --prefix "+86$pfx" --period "c-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86$pfx%'" 20 60

tok=$("$PRODUCER" token create --name "it-fb-$$" --kind feedback --tenant it-fb 2>/dev/null)
start_serve
port=$API_PORT

# the callee saw a harassment mark on x; the platform shows it too
sim POST /admin/marks "{\"platform\":\"tencent\",\"number\":\"$x\",\"type\":\"harassment\",\"count\":4}" >/dev/null
before=$(psqlv "SELECT count(*) FROM jobs WHERE type = 'check' AND state = 'done' AND number = '$x'")
# jobs.created_at is wall time; received_at numtrust time (they differ once a test moves it)
t_report=$(psqlv "SELECT now()")
ans=$(curl -sS -w ' %{http_code}' -X POST -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' \
    -d "{\"number\":\"$x\",\"seen_mark\":\"harassment\",\"platform\":\"tencent\",\"message\":\"我是他们的老客户，这不是骚扰电话\"}" \
    "http://127.0.0.1:$port/v1/feedback")
assert_eq "intake answer" "$ans" '{"accepted":true} 202'
assert_eq "report stored" "$(psqlv "SELECT count(*) FROM feedback WHERE number = '$x'")" 1
# at once: a check of x on the reported platform, without any reconciler
wait_sql "SELECT count(*) FROM jobs WHERE type = 'check' AND state = 'done' AND number = '$x'" "$((before + 1))" 30
assert_eq "the check's job came from the report" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE number = '$x' AND type = 'check' AND state = 'done'
              AND created_at > '$t_report'")" 1
assert_eq "the check found the reported mark" \
    "$(psqlv "SELECT state FROM marks WHERE number = '$x' AND platform = 'tencent' AND type = 'harassment'")" open

# a report stored while the API could not enqueue: the next reconciler pass checks it
psqlv "INSERT INTO feedback (tenant_id, number, seen_label) VALUES ('it-fb', '$y', '推销')"
before_y=$(psqlv "SELECT count(*) FROM jobs WHERE type = 'check' AND state = 'done' AND number = '$y'")
"$PRODUCER" run --once >"$NT_TMP/run.log" 2>&1 || { cat "$NT_TMP/run.log"; fail "run --once failed"; }
grep -o 'enqueue check-feedback[^;]*' "$NT_TMP/run.log" || true
wait_sql "SELECT count(*) FROM jobs WHERE type = 'check' AND state = 'done' AND number = '$y'" "$((before_y + 2))" 30
log "ok: one reconciler pass checked the reported number on both platforms"
"$PRODUCER" run --once >"$NT_TMP/run2.log" 2>&1
assert_eq "the next pass does not check it again" "$(psqlv "SELECT count(*) FROM jobs WHERE type = 'check' AND state = 'done' AND number = '$y'")" "$((before_y + 2))"

# the appeal of the reported mark cites the report
"$PRODUCER" enqueue appeal --number "$x" | grep enqueue
# (the reconciler's pass above may have filed it already, and re-filed it after a rejection)
# (the report names tencent: an appeal of a mark on another platform does not cite it)
wait_sql "SELECT count(*) > 0 FROM appeals WHERE number = '$x' AND platform = 'tencent' AND mark_type = 'harassment'" t 30
ev=$(psqlv "SELECT evidence FROM appeals WHERE number = '$x' AND platform = 'tencent'
            AND mark_type = 'harassment' ORDER BY filed_at LIMIT 1")
log "evidence: $ev"
case "$ev" in *"Callee reports: 1"*"这不是骚扰电话"*) ;; *) fail "the appeal does not cite the callee report";; esac
assert_eq "reports count toward the number's risk" \
    "$(psqlv "SELECT mark_reports_30d FROM number_feedback_risk WHERE number = '$x'")" 1
stop_all_workers
log "PASS"
