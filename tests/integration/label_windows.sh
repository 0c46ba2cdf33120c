#!/usr/bin/env bash
# Label windows, table-driven (docs/maintenance.md, "Schedule kinds and their windows"): the
# SQL rules every selection uses, nt_label_live() and the schedule kinds' defaults, against the
# real PostgreSQL (its time zone database decides local times). Each row is a schedule, a moment
# and whether the label is live then: campaign leads, qualifications that are never early,
# open-ended schedules, daily windows in the tenant's time zone (crossing midnight, across a
# daylight-saving change, in UTC), and the kinds' leads and review cycles.
. "$(dirname "$0")/lib.sh"
require_stack
"$PRODUCER" migrate >/dev/null
q() { psql "$NUMTRUST_PG_CONNINFO" -X -A -t -q -v ON_ERROR_STOP=1 -F '|' -c "$1"; }

# name | kind | start | end | lead (NULL: the kind's) | daily_from | daily_to | zone | at | live
cases=$(cat <<'EOF'
campaign: a second before its 7-day lead|campaign|2027-02-14 00:00+08|2027-02-15 00:00+08|NULL|||Asia/Shanghai|2027-02-06 23:59:59+08|f
campaign: at its 7-day lead|campaign|2027-02-14 00:00+08|2027-02-15 00:00+08|NULL|||Asia/Shanghai|2027-02-07 00:00+08|t
campaign: during the event|campaign|2027-02-14 00:00+08|2027-02-15 00:00+08|NULL|||Asia/Shanghai|2027-02-14 12:00+08|t
campaign: the last second|campaign|2027-02-14 00:00+08|2027-02-15 00:00+08|NULL|||Asia/Shanghai|2027-02-14 23:59:59+08|t
campaign: reverted when it ends|campaign|2027-02-14 00:00+08|2027-02-15 00:00+08|NULL|||Asia/Shanghai|2027-02-15 00:00+08|f
campaign: its own 2-day lead|campaign|2027-11-11 00:00+08|2027-11-12 00:00+08|2 days|||Asia/Shanghai|2027-11-08 23:00+08|f
campaign: its own 2-day lead, live|campaign|2027-11-11 00:00+08|2027-11-12 00:00+08|2 days|||Asia/Shanghai|2027-11-09 00:00+08|t
qualification: never before its start|qualification|2027-03-01 09:00+08||NULL|||Asia/Shanghai|2027-03-01 08:59:59+08|f
qualification: from its start|qualification|2027-03-01 09:00+08||NULL|||Asia/Shanghai|2027-03-01 09:00+08|t
qualification: open-ended|qualification|2027-03-01 09:00+08||NULL|||Asia/Shanghai|2030-01-01 00:00Z|t
region: from its start|region|2027-01-01 00:00+08||NULL|||Asia/Shanghai|2027-01-01 00:00+08|t
timeslot: before the night|timeslot|2027-01-01 00:00+08|2027-02-01 00:00+08|NULL|22:00|03:00|Asia/Shanghai|2027-01-10 21:59+08|f
timeslot: the night starts|timeslot|2027-01-01 00:00+08|2027-02-01 00:00+08|NULL|22:00|03:00|Asia/Shanghai|2027-01-10 22:00+08|t
timeslot: after midnight|timeslot|2027-01-01 00:00+08|2027-02-01 00:00+08|NULL|22:00|03:00|Asia/Shanghai|2027-01-11 02:59+08|t
timeslot: the night ends|timeslot|2027-01-01 00:00+08|2027-02-01 00:00+08|NULL|22:00|03:00|Asia/Shanghai|2027-01-11 03:00+08|f
timeslot: noon|timeslot|2027-01-01 00:00+08|2027-02-01 00:00+08|NULL|22:00|03:00|Asia/Shanghai|2027-01-11 12:00+08|f
timeslot: 23:00 UTC is 07:00 in Shanghai|timeslot|2027-01-01 00:00+08|2027-02-01 00:00+08|NULL|22:00|03:00|Asia/Shanghai|2027-01-11 23:00Z|f
timeslot: 15:00 UTC is 23:00 in Shanghai|timeslot|2027-01-01 00:00+08|2027-02-01 00:00+08|NULL|22:00|03:00|Asia/Shanghai|2027-01-11 15:00Z|t
timeslot: not after the period|timeslot|2027-01-01 00:00+08|2027-02-01 00:00+08|NULL|22:00|03:00|Asia/Shanghai|2027-02-01 23:00+08|f
timeslot: New York before daylight saving (09:30 EST)|timeslot|2027-03-01 00:00Z||NULL|09:00|17:00|America/New_York|2027-03-12 14:30Z|t
timeslot: New York before daylight saving (08:30 EST)|timeslot|2027-03-01 00:00Z||NULL|09:00|17:00|America/New_York|2027-03-12 13:30Z|f
timeslot: New York after daylight saving (09:30 EDT)|timeslot|2027-03-01 00:00Z||NULL|09:00|17:00|America/New_York|2027-03-15 13:30Z|t
timeslot: New York after daylight saving (08:30 EDT)|timeslot|2027-03-01 00:00Z||NULL|09:00|17:00|America/New_York|2027-03-15 12:30Z|f
timeslot: a UTC office day|timeslot|2027-03-01 00:00Z||NULL|09:00|17:00|UTC|2027-03-15 16:59Z|t
timeslot: a UTC office day ends|timeslot|2027-03-01 00:00Z||NULL|09:00|17:00|UTC|2027-03-15 17:00Z|f
EOF
)
n=0 bad=0
while IFS='|' read -r name kind start end lead from to zone at want; do
    [ -n "$name" ] || continue
    n=$((n + 1))
    endv=NULL fromv=NULL tov=NULL leadv=NULL
    [ -z "$end" ] || endv="'$end'::timestamptz"
    [ -z "$from" ] || fromv="'$from'::time"
    [ -z "$to" ] || tov="'$to'::time"
    [ "$lead" = NULL ] || leadv="'$lead'::interval"
    got=$(q "SELECT nt_label_live('$at'::timestamptz, '$start'::timestamptz, $endv,
                                  COALESCE($leadv, (SELECT default_lead FROM schedule_kinds WHERE kind = '$kind')),
                                  $fromv, $tov, '$zone')")
    if [ "$got" != "$want" ]; then
        log "FAIL: $name: live = $got, want $want"
        bad=$((bad + 1))
    fi
done <<<"$cases"
log "window cases: $n, wrong: $bad"
[ "$bad" -eq 0 ] || fail "$bad window case(s) wrong"

# the kinds' defaults (domain.md): campaign 7 days ahead, qualification and region at their
# start, region reviewed quarterly, time-slot daily
assert_eq "schedule kinds (kind|lead|review|daily)" \
    "$(q "SELECT string_agg(kind || '|' || default_lead || '|' || coalesce(review_every::text, '-') || '|' || daily, ' ' ORDER BY kind) FROM schedule_kinds")" \
    "campaign|7 days|-|false qualification|00:00:00|-|false region|00:00:00|3 mons|false timeslot|00:00:00|-|true"
# a time-slot schedule needs its window; a window needs both ends; a bad time zone is refused
purge_numbers 223
q "INSERT INTO tenants (id) VALUES ('lw-tenant') ON CONFLICT DO NOTHING;
   INSERT INTO numbers (number, tenant_id, scenario_id, base_label)
   VALUES ('+8622300000001', 'lw-tenant', 'individual', 'x')" >/dev/null
for bad_sql in \
    "INSERT INTO label_schedules (number, kind, label, event_start) VALUES ('+8622300000001', 'timeslot', 'x', now())" \
    "INSERT INTO label_schedules (number, kind, label, event_start, daily_from) VALUES ('+8622300000001', 'campaign', 'x', now(), '22:00')" \
    "INSERT INTO label_schedules (number, kind, label, event_start) VALUES ('+8622300000001', 'anniversary', 'x', now())" \
    "UPDATE tenants SET time_zone = 'Mars/Olympus_Mons' WHERE id = 'lw-tenant'"; do
    if q "$bad_sql" >/dev/null 2>&1; then
        fail "accepted: $bad_sql"
    fi
done
q "INSERT INTO label_schedules (number, kind, label, event_start, daily_from, daily_to)
   VALUES ('+8622300000001', 'timeslot', '夜间急诊-22:00-3:00', now(), '22:00', '03:00');
   UPDATE tenants SET time_zone = 'America/New_York' WHERE id = 'lw-tenant'" >/dev/null ||
    fail "a valid time slot or time zone was refused"
purge_numbers 223
q "DELETE FROM tenants WHERE id = 'lw-tenant'" >/dev/null
log "ok: constraints refuse a time slot without its window, an unknown kind and an unknown time zone"
log "PASS"
