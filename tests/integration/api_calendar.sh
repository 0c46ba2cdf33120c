#!/usr/bin/env bash
# An iCalendar campaign import (issue 11): the calendar's events become label
# schedules of the numbers they name; a campaign goes live 7 days before its
# start (the article's rule) and reverts after its end, on numtrust time
# (`numtrust-producer clock`, moved with the simulator's clock and reset on
# exit): not wanted 7 days 1 hour ahead, wanted and pushed 6 days 23 hours
# ahead, the base label again after the end. A yearly RRULE becomes one
# schedule per occurrence. The same import through the CLI
# (`schedules import --file`).
. "$(dirname "$0")/lib.sh"
nt_setup apicalendar
sim_reset
pfx=232
fleet=$(gen_fleet 6 $pfx baidu,tencent)
sed -i '2,$ s/^tenant[0-9]*,/it-cal,/' "$fleet"
"$PRODUCER" import --numbers "$fleet"
start_worker NUMTRUST_WORKER_APPEAL_FAST_PATH=false
"$PRODUCER" enqueue check --prefix "+86$pfx" --period "c-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86$pfx%'" 12 60
# numbers certified on both platforms for the test's weeks first: an uncertified registration
# gets no label push (loop.push_uncertified, docs/maintenance.md)
mapfile -t nums < <(psqlv "SELECT number FROM number_platforms WHERE number LIKE '+86$pfx%' GROUP BY number
                           ORDER BY bool_and(cert_status = 'certified' AND (cert_expires_at IS NULL
                                             OR cert_expires_at > nt_now() + interval '30 days')) DESC,
                                    number")
x=${nums[0]} y=${nums[1]} z=${nums[2]}

psqlv "DELETE FROM api_tokens WHERE name LIKE 'it-cal-%'"
tok=$("$PRODUCER" token create --name "it-cal-$$" --kind tenant --tenant it-cal 2>/dev/null)
start_serve
port=$API_PORT

trap '"$PRODUCER" clock set --offset 0 --force >/dev/null; nt_cleanup' EXIT
# dates relative to numtrust time, not the machine's: numtrust time follows the shared
# simulator's clock, which earlier tests may have moved days ahead
now_s=$(psqlv "SELECT floor(extract(epoch FROM nt_now()))::bigint")
at() { printf '1970-01-01 UTC %s seconds %s' "$now_s" "$1"; }
utc() { date -u -d "$(at "$1")" +%Y%m%dT%H%M%SZ; }
advance() { # DURATION SECONDS: numtrust time and the simulator's clock together
    "$PRODUCER" clock advance "$1" >/dev/null
    sim POST /admin/clock "{\"advance_s\":$2}" >/dev/null
}
wanted() { psqlv "SELECT string_agg(DISTINCT label, ',') FROM wanted_labels WHERE number = '$1'"; }
base_x=$(psqlv "SELECT base_label FROM numbers WHERE number = '$x'")
# a campaign calendar as calendars write it: CRLF, folded lines, DATE and DATE-TIME values
printf '%s\r\n' "BEGIN:VCALENDAR" "VERSION:2.0" "PRODID:-//numtrust test//campaigns//ZH" \
    "BEGIN:VEVENT" "UID:valentine-$$" "SUMMARY:情人节-玫瑰" " 预订" "DTSTART:$(utc '+10 days')" \
    "DTEND:$(utc '+12 days')" "CATEGORIES:PROMOTION,CAMPAIGN" "X-NUMTRUST-NUMBERS:$x" "END:VEVENT" \
    "BEGIN:VEVENT" "UID:expo-$$" "SUMMARY:展会接待-4月15日" "DTSTART;TZID=Asia/Shanghai:$(TZ=Asia/Shanghai date -d "$(at '+40 days')" +%Y%m%dT090000)" \
    "DTEND;TZID=Asia/Shanghai:$(TZ=Asia/Shanghai date -d "$(at '+40 days')" +%Y%m%dT180000)" "X-NUMTRUST-NUMBERS:$y" "END:VEVENT" \
    "BEGIN:VEVENT" "UID:double11-$$" "SUMMARY:双11-折扣专线" "DTSTART;VALUE=DATE:$(date -u -d "$(at '+20 days')" +%Y%m%d)" \
    "RRULE:FREQ=YEARLY;COUNT=3" "X-NUMTRUST-NUMBERS:$z" "END:VEVENT" "END:VCALENDAR" >"$NT_TMP/campaigns.ics"
curl -sS -X POST -H "Authorization: Bearer $tok" -H 'Content-Type: text/calendar' \
    --data-binary @"$NT_TMP/campaigns.ics" "http://127.0.0.1:$port/v1/schedules/import?horizon_days=800" |
    tee "$NT_TMP/import.json"
echo
assert_eq "schedules imported (1 + 1 + 3 yearly occurrences)" "$(jq .imported "$NT_TMP/import.json")" 5
assert_eq "the folded SUMMARY unfolded" "$(psqlv "SELECT label FROM label_schedules WHERE number = '$x'")" "情人节-玫瑰预订"
assert_eq "a campaign goes live 7 days before its start" \
    "$(psqlv "SELECT lead FROM label_schedules WHERE number = '$x'")" "7 days"
assert_eq "the Shanghai 09:00 start in UTC" \
    "$(psqlv "SELECT to_char(event_start AT TIME ZONE 'UTC', 'HH24:MI') FROM label_schedules WHERE number = '$y'")" "01:00"
assert_eq "the yearly campaign: one schedule a year, same day" \
    "$(psqlv "SELECT count(DISTINCT to_char(event_start, 'MM-DD')) || ' ' || count(*) FROM label_schedules WHERE number = '$z'")" "1 3"
active() { curl -fsS -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/v1/schedules?active=true&number=%2B${x#+}" | jq length; }

assert_eq "10 days ahead: the base label is wanted" "$(wanted "$x")" "$base_x"
advance 2d23h $((71 * 3600))
assert_eq "7 days 1 hour ahead: still the base label" "$(wanted "$x")" "$base_x"
assert_eq "7 days 1 hour ahead: the API lists it as not active" "$(active)" 0
"$PRODUCER" enqueue tag --number "$x" --period "t0-$$" | grep enqueue
wait_sql "SELECT count(*) FROM tag_updates WHERE number = '$x'" 2 60
assert_eq "no push of the campaign before its lead" \
    "$(psqlv "SELECT count(*) FROM tag_updates WHERE number = '$x' AND label = '情人节-玫瑰预订'")" 0
advance 2h 7200
assert_eq "6 days 23 hours ahead: the campaign is wanted" "$(wanted "$x")" "情人节-玫瑰预订"
assert_eq "6 days 23 hours ahead: the API lists it as active" "$(active)" 1
"$PRODUCER" enqueue tag --number "$x" --period "t1-$$" | grep enqueue
wait_sql "SELECT count(*) FROM tag_updates WHERE number = '$x' AND label = '情人节-玫瑰预订'" 2 60
log "ok: the campaign label was pushed on both platforms"
advance 9d $((9 * 86400))
assert_eq "after the event: the base label again" "$(wanted "$x")" "$base_x"
"$PRODUCER" clock set --offset 0 --force >/dev/null

# CLI parity: the same import and listing through numtrust-producer
printf '%s\r\n' "BEGIN:VCALENDAR" "BEGIN:VEVENT" "SUMMARY:展会接待-4月15日" "DTSTART:$(utc '+30 days')" \
    "DTEND:$(utc '+31 days')" "X-NUMTRUST-NUMBERS:$y" "END:VEVENT" "END:VCALENDAR" >"$NT_TMP/expo.ics"
"$PRODUCER" schedules import --file "$NT_TMP/expo.ics" --tenant it-cal | tee "$NT_TMP/cli.json"
assert_eq "CLI import" "$(jq .imported "$NT_TMP/cli.json")" 1
assert_eq "CLI listing of the number's schedules" \
    "$("$PRODUCER" schedules list --number "$y" --tenant it-cal | jq length)" 2
rc=0
"$PRODUCER" schedules import --file "$NT_TMP/expo.ics" --tenant someone-else >/dev/null 2>"$NT_TMP/err" || rc=$?
assert_eq "CLI import for another tenant's numbers: exit 3" "$rc" 3
grep -q 'field number' "$NT_TMP/err" || fail "the CLI error does not name the field: $(cat "$NT_TMP/err")"
stop_all_workers
log "PASS"
