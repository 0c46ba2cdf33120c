#!/usr/bin/env bash
# Issue 10, acceptance: an appeal filed late is recorded as a breach, and a
# qualification label shown after 24 hours is recorded as a breach — each with
# its evidence and an alert — while their on-time twins are met. The workers'
# fast path is off, so appeals are filed when the test says (`enqueue appeal`,
# the reconciler's safety net); numtrust time and the simulator's clock move
# together. The appeals' decisions then meet their target and raise their alerts. Numtrust
# time is reset on exit.
. "$(dirname "$0")/lib.sh"
nt_setup slabreach
sim_reset
trap '"$PRODUCER" clock set --offset 0 --force >/dev/null || true; sim_reset; nt_cleanup' EXIT
"$PRODUCER" clock set --offset 0 --force >/dev/null
export NUMTRUST_WORKER_APPEAL_FAST_PATH=false

tenant=it-breach-$$
mapfile -t nums < <(sla_fleet "$tenant" 2062 4 baidu high_qualification)
late=${nums[0]} ontime=${nums[1]} qual=${nums[2]} qual_ontime=${nums[3]}
mine="number LIKE '+862062%'"
advance() { # HOURS: numtrust time and the simulator's clock
    "$PRODUCER" clock advance "$1h" >/dev/null
    sim POST /admin/clock "{\"advance_s\":$(($1 * 3600))}" >/dev/null
}
clock_of() { # KIND NUMBER: status, hours from start to done, due after hours
    psqlv "SELECT status || ' ' || round(extract(epoch FROM done_at - started_at) / 3600)
                  || 'h of ' || round(extract(epoch FROM due_at - started_at) / 3600) || 'h'
           FROM sla_clocks WHERE kind = '$1' AND number = '$2'"
}
start_worker
"$PRODUCER" enqueue check --prefix +862062 --period "b1-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE $mine" 4 60

# --- appeals: two fraud marks detected now; one appealed at once, one 13 h later
for n in "$late" "$ontime"; do
    sim POST /admin/marks "{\"platform\":\"baidu\",\"number\":\"$n\",\"type\":\"fraud\",\"count\":7}" >/dev/null
    "$PRODUCER" enqueue check --number "$n" --period "b2-$$" >/dev/null
done
wait_sql "SELECT count(*) FROM marks WHERE $mine AND type = 'fraud' AND state = 'open'" 2 60
"$PRODUCER" sla pass >/dev/null
"$PRODUCER" enqueue appeal --number "$ontime" | grep enqueue
wait_sql "SELECT count(*) FROM appeals WHERE number = '$ontime'" 1 60
advance 13
"$PRODUCER" sla pass >/dev/null
"$PRODUCER" enqueue appeal --number "$late" | grep enqueue
wait_sql "SELECT count(*) FROM appeals WHERE number = '$late'" 1 60
"$PRODUCER" sla pass

assert_eq "appeal filed at once" "$(clock_of appeal_filing "$ontime")" "met 0h of 12h"
assert_eq "appeal filed 13 h after detection" "$(clock_of appeal_filing "$late")" "breached 13h of 12h"
assert_eq "its evidence: the detecting check, the appeal, how late" \
    "$(psqlv "SELECT (evidence->'mark'->>'detected_by' = (SELECT detected_by::text FROM marks
                                                        WHERE number = '$late' AND type = 'fraud'))
                     || ' ' || (evidence->'appeal'->>'job' = (SELECT job_id::text FROM appeals
                                                             WHERE number = '$late'))
                     || ' ' || round(extract(epoch FROM late_by) / 60)
              FROM sla_breaches WHERE kind = 'appeal_filing' AND number = '$late'")" "true true 60"
assert_eq "breach alerts of the late appeal" \
    "$(psqlv "SELECT count(*) FROM alerts WHERE event = 'sla_breach' AND number = '$late'
              AND data->>'kind' = 'appeal_filing'")" 1

# --- qualifications: live from now; one shows 2 h later, the other after 30 h
for n in "$qual" "$qual_ontime"; do
    psqlv "INSERT INTO label_schedules (number, platform, kind, label, event_start)
           VALUES ('$n', 'baidu', 'qualification', '执业医师-李主任', nt_now())" >/dev/null
done
"$PRODUCER" sla pass >/dev/null
assert_eq "qualification clocks opened" \
    "$(psqlv "SELECT count(*) FROM sla_clocks WHERE kind = 'qualification_label' AND $mine")" 2
"$PRODUCER" enqueue tag --prefix +862062 --period "b3-$$" | grep enqueue
wait_sql "SELECT count(*) FROM tag_updates WHERE $mine AND label = '执业医师-李主任'" 2 60
advance 2 # the platform's review: 1 h
"$PRODUCER" enqueue check --number "$qual_ontime" --period "b4-$$" >/dev/null
wait_sql "SELECT count(*) FROM check_results WHERE number = '$qual_ontime'" 2 60
"$PRODUCER" sla pass >/dev/null
advance 28
"$PRODUCER" enqueue check --number "$qual" --period "b5-$$" >/dev/null
wait_sql "SELECT count(*) FROM check_results WHERE number = '$qual'" 2 60
"$PRODUCER" sla pass

assert_eq "qualification shown 2 h after its start" \
    "$(clock_of qualification_label "$qual_ontime")" "met 2h of 24h"
assert_eq "qualification shown 30 h after its start" \
    "$(clock_of qualification_label "$qual")" "breached 30h of 24h"
assert_eq "its evidence: the schedule and the check that showed it" \
    "$(psqlv "SELECT (evidence->'schedule'->>'label') || ' '
                     || (evidence->'shown'->>'check_job' = (SELECT job_id::text FROM check_results
                         WHERE number = '$qual' ORDER BY checked_at DESC LIMIT 1))
              FROM sla_breaches WHERE kind = 'qualification_label' AND number = '$qual'")" \
    "执业医师-李主任 true"
assert_eq "breach alerts of the late label" \
    "$(psqlv "SELECT count(*) FROM alerts WHERE event = 'sla_breach' AND number = '$qual'")" 1
# --- the appeals' decisions: the platform decided 12 h after filing; polled now, both are
# within the 3-day decision target, and each decision raises its alert
"$PRODUCER" enqueue appeal-status --prefix +862062 --period "b6-$$" | grep enqueue
wait_sql "SELECT count(*) FROM appeals WHERE $mine AND state IN ('approved', 'rejected')" 2 60
"$PRODUCER" sla pass >/dev/null
assert_eq "appeal decision clocks" \
    "$(psqlv "SELECT string_agg(status, ' ') FROM sla_clocks WHERE kind = 'appeal_decision' AND $mine")" \
    "met met"
assert_eq "appeal_decided alerts (with the decision)" \
    "$(psqlv "SELECT count(*) FROM alerts a JOIN appeals p ON a.dedupe = 'decided:' || p.job_id
              WHERE p.$mine AND a.event = 'appeal_decided' AND a.data->>'state' = p.state")" 2
"$PRODUCER" sla breaches --tenant "$tenant"
"$PRODUCER" sla summary --tenant "$tenant"
stop_all_workers
log "PASS"
