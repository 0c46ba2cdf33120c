#!/usr/bin/env bash
# An iCalendar campaign import (issue 11): the calendar's events become label
# schedules of the numbers they name; a campaign goes live 7 days before its
# start (the article's rule), so one starting in 6 days 23 hours is wanted
# now and one starting in 7 days 1 hour is not; the tag pass then pushes the
# live campaign's label. A yearly RRULE becomes one schedule per occurrence.
# The same import through the CLI (`schedules import --file`).
# (The virtual clock of issue 9 is not on main yet: the two events straddle
# the 7-day line instead of moving time.)
. "$(dirname "$0")/lib.sh"
nt_setup apicalendar
sim_reset
pfx=232
fleet=$(gen_fleet 6 $pfx baidu,tencent)
sed -i '2,$ s/^tenant[0-9]*,/it-cal,/' "$fleet"
"$PRODUCER" import --numbers "$fleet"
mapfile -t nums < <(psqlv "SELECT number FROM numbers WHERE number LIKE '+86$pfx%' ORDER BY number")
x=${nums[0]} y=${nums[1]} z=${nums[2]}
start_worker NUMTRUST_WORKER_APPEAL_FAST_PATH=false
"$PRODUCER" enqueue check --prefix "+86$pfx" --period "c-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE number LIKE '+86$pfx%'" 12 60

psqlv "DELETE FROM api_tokens WHERE name LIKE 'it-cal-%'"
tok=$("$PRODUCER" token create --name "it-cal-$$" --kind tenant --tenant it-cal 2>/dev/null)
NUMTRUST_API_LISTEN=127.0.0.1:0 "$PRODUCER" serve >"$NT_TMP/serve.log" 2>&1 &
NT_WORKER_PIDS+=("$!")
for _ in $(seq 1 50); do
    port=$(sed -n 's/.*serving the API.* on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$NT_TMP/serve.log")
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "${port:-}" ] || fail "serve did not start"

utc() { date -u -d "$1" +%Y%m%dT%H%M%SZ; }
# a campaign calendar as calendars write it: CRLF, folded lines, DATE and DATE-TIME values
printf '%s\r\n' "BEGIN:VCALENDAR" "VERSION:2.0" "PRODID:-//numtrust test//campaigns//ZH" \
    "BEGIN:VEVENT" "UID:valentine-$$" "SUMMARY:情人节-玫瑰预订" "DTSTART:$(utc '+6 days 23 hours')" \
    "DTEND:$(utc '+8 days')" "CATEGORIES:CAMPAIGN,PROMOTION" "X-NUMTRUST-NUMBERS:$x" "END:VEVENT" \
    "BEGIN:VEVENT" "UID:spring-$$" "SUMMARY:春季新品-3月" " 特惠" "DTSTART:$(utc '+7 days 1 hour')" \
    "DTEND:$(utc '+9 days')" "X-NUMTRUST-NUMBERS:$y" "END:VEVENT" \
    "BEGIN:VEVENT" "UID:double11-$$" "SUMMARY:双11-折扣专线" "DTSTART;VALUE=DATE:$(date -u -d '+20 days' +%Y%m%d)" \
    "RRULE:FREQ=YEARLY;COUNT=3" "X-NUMTRUST-NUMBERS:$z" "END:VEVENT" "END:VCALENDAR" >"$NT_TMP/campaigns.ics"
curl -sS -X POST -H "Authorization: Bearer $tok" -H 'Content-Type: text/calendar' \
    --data-binary @"$NT_TMP/campaigns.ics" "http://127.0.0.1:$port/v1/schedules/import?horizon_days=800" |
    tee "$NT_TMP/import.json"
echo
assert_eq "schedules imported (1 + 1 + 3 yearly occurrences)" "$(jq .imported "$NT_TMP/import.json")" 5
assert_eq "the folded SUMMARY unfolded" \
    "$(psqlv "SELECT label FROM label_schedules WHERE number = '$y'")" "春季新品-3月特惠"
assert_eq "campaigns go live 7 days before their start" \
    "$(psqlv "SELECT DISTINCT lead FROM label_schedules WHERE number IN ('$x', '$y')")" "7 days"
assert_eq "the yearly campaign, one schedule a year" \
    "$(psqlv "SELECT string_agg(to_char(event_start, 'MM-DD'), ',' ORDER BY event_start) FROM label_schedules WHERE number = '$z'" |
        tr ',' '\n' | sort -u | wc -l) $(psqlv "SELECT count(*) FROM label_schedules WHERE number = '$z'")" "1 3"
assert_eq "wanted now: the campaign starting in 6 d 23 h" \
    "$(psqlv "SELECT DISTINCT label FROM wanted_labels WHERE number = '$x'")" "情人节-玫瑰预订"
assert_eq "wanted now: not yet the one starting in 7 d 1 h" \
    "$(psqlv "SELECT DISTINCT w.label = n.base_label FROM wanted_labels w JOIN numbers n USING (number) WHERE number = '$y'")" t
curl -fsS -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/v1/schedules?active=true" >"$NT_TMP/active.json"
assert_eq "the API lists the live campaign as active" "$(jq -r '[.[] | .label] | join(",")' "$NT_TMP/active.json")" "情人节-玫瑰预订"

# the tag pass pushes the live campaign's label, and nothing of the spring one
"$PRODUCER" enqueue tag --prefix "+86$pfx" --period "t-$$" | grep enqueue
wait_sql "SELECT count(*) FROM tag_updates WHERE number = '$x' AND label = '情人节-玫瑰预订'" 2 60
assert_eq "no push of the campaign that is not live yet" \
    "$(psqlv "SELECT count(*) FROM tag_updates WHERE label LIKE '春季新品%'")" 0

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
