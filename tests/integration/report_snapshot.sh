#!/usr/bin/env bash
# The fleet-state snapshot (issue 14, item 4; migration 011): the report's
# fleet-wide sections (fleet, scenarios, platforms, labels, certification)
# read from a snapshot give what the live queries give at the moment it is
# taken, for the whole fleet and for one tenant and platform; a change after
# it shows live (--live) and not in the snapshot until it is refreshed; the
# text report says a snapshot was used; the reconciler takes one for a fleet
# at or above report.snapshot_min_registrations and drops it below.
. "$(dirname "$0")/lib.sh"
nt_setup snapshot
drop_snapshot() { psqlv "DELETE FROM fleet_state; DELETE FROM fleet_state_numbers; DELETE FROM fleet_state_taken" >/dev/null 2>&1 || true; }
trap 'drop_snapshot; nt_cleanup' EXIT
drop_snapshot

pfx=+86241
fleet=$(gen_fleet 200 241 baidu,tencent)
"$PRODUCER" import --numbers "$fleet"
start_worker
"$PRODUCER" enqueue check --prefix $pfx --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) FROM jobs WHERE number LIKE '$pfx%' AND type = 'check' AND state = 'done'" 400 60
stop_all_workers
# a campaign label live now on one number, so that "showing" depends on a schedule
num=$(sed -n 2p "$fleet" | cut -d, -f2)
# (no lead given: the kind's default, as wanted_labels takes it), shown on baidu and not on tencent
psqlv "INSERT INTO label_schedules (number, label, kind, event_start, event_end)
       VALUES ('$num', '双十二活动', 'campaign', nt_now() - interval '1 day', nt_now() + interval '5 days');
       UPDATE number_platforms SET label_android = '双十二活动' WHERE number = '$num' AND platform = 'baidu';
       UPDATE number_platforms SET label_android = (SELECT base_label FROM numbers WHERE number = '$num')
        WHERE number = '$num' AND platform = 'tencent'" >/dev/null
assert_eq "the campaign label is the wanted one on both platforms" \
    "$(psqlv "SELECT string_agg(label, ',' ORDER BY platform) FROM wanted_labels WHERE number = '$num'")" "双十二活动,双十二活动"

sections="fleet scenarios platforms labels certification renewals costs"
tenant=$(sed -n 2p "$fleet" | cut -d, -f1)
compare() { # $1: what; the rest: report options
    local what=$1 s
    shift
    for s in $sections; do
        "$PRODUCER" report --section "$s" --format json "$@" --live >"$NT_TMP/live.json"
        "$PRODUCER" report --section "$s" --format json "$@" >"$NT_TMP/snap.json"
        cmp -s "$NT_TMP/live.json" "$NT_TMP/snap.json" ||
            fail "$what: section $s from the snapshot differs from live: $(diff "$NT_TMP/live.json" "$NT_TMP/snap.json" | head -5)"
    done
    log "ok: $what: the seven sections from the snapshot equal the live ones"
}

"$PRODUCER" report --refresh --section fleet >"$NT_TMP/refresh.out" 2>&1
grep -q "fleet-state snapshot refreshed: [0-9]* registrations" "$NT_TMP/refresh.out" ||
    fail "report --refresh said: $(cat "$NT_TMP/refresh.out")"
grep -q "the fleet-state snapshot of" "$NT_TMP/refresh.out" || fail "the text report does not say it read a snapshot"
assert_eq "registrations in the snapshot = in the fleet" \
    "$(psqlv "SELECT registrations FROM fleet_state_taken")" "$(psqlv "SELECT count(*) FROM number_platforms")"
compare "whole fleet"
compare "tenant $tenant on baidu" --tenant "$tenant" --platform baidu

# the API says when the snapshot its rows come from was taken (headers: the answer stays rows)
psqlv "DELETE FROM api_tokens WHERE name LIKE 'it-snap-%'" >/dev/null
tok=$("$PRODUCER" token create --name "it-snap-$$" --kind admin 2>/dev/null)
start_serve
port=$API_PORT
taken=$(psqlv "SELECT to_char(taken_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM fleet_state_taken")
curl -sS -D "$NT_TMP/h.txt" -o "$NT_TMP/b.json" -H "Authorization: Bearer $tok" \
    "http://127.0.0.1:$port/v1/reports/fleet"
assert_eq "API fleet report from the snapshot: X-Numtrust-Snapshot-Taken" \
    "$(tr -d '\r' <"$NT_TMP/h.txt" | sed -n 's/^X-Numtrust-Snapshot-Taken: //Ip')" "$taken"
grep -iq '^X-Numtrust-Snapshot-Age: [0-9]' "$NT_TMP/h.txt" || fail "no snapshot age header: $(cat "$NT_TMP/h.txt")"
curl -sS -D "$NT_TMP/h2.txt" -o /dev/null -H "Authorization: Bearer $tok" \
    "http://127.0.0.1:$port/v1/reports/marks"
assert_eq "API marks report (not from the snapshot): snapshot headers" \
    "$(grep -ic '^X-Numtrust-Snapshot' "$NT_TMP/h2.txt")" 0

# a change after the snapshot: live sees it, the snapshot does not until refreshed
before=$("$PRODUCER" report --section fleet --format json)
psqlv "UPDATE numbers SET status = 'disabled', status_changed_at = now() WHERE number = '$num'" >/dev/null
live=$("$PRODUCER" report --section fleet --format json --live)
snap=$("$PRODUCER" report --section fleet --format json)
[ "$snap" = "$before" ] || fail "the snapshot changed without a refresh: $before -> $snap"
[ "$live" != "$before" ] || fail "the live report did not see the disabled number"
"$PRODUCER" report --refresh --section fleet >/dev/null 2>&1
compare "after a refresh"

# the reconciler: a snapshot for a fleet at the threshold, none below it
drop_snapshot
regs=$(psqlv "SELECT reltuples::bigint FROM pg_class WHERE oid = 'number_platforms'::regclass")
NUMTRUST_REPORT_SNAPSHOT_MIN_REGISTRATIONS=1 "$PRODUCER" run --once --prefix "$pfx" >"$NT_TMP/run.log" 2>&1 ||
    { cat "$NT_TMP/run.log"; fail "run --once failed"; }
grep -q "fleet-state snapshot refreshed" "$NT_TMP/run.log" || fail "the reconciler took no snapshot of a fleet of ~$regs registrations with a threshold of 1"
assert_eq "snapshots after the reconciler's pass" "$(psqlv "SELECT count(*) FROM fleet_state_taken")" 1
NUMTRUST_REPORT_SNAPSHOT_MIN_REGISTRATIONS=2000000000 "$PRODUCER" run --once --prefix "$pfx" >"$NT_TMP/run2.log" 2>&1 ||
    { cat "$NT_TMP/run2.log"; fail "run --once failed"; }
grep -q "fleet-state snapshot dropped" "$NT_TMP/run2.log" || fail "the reconciler kept the snapshot of a fleet below the threshold"
assert_eq "snapshots after a pass below the threshold" "$(psqlv "SELECT count(*) FROM fleet_state_taken")" 0
