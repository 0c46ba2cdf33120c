#!/usr/bin/env bash
# Numtrust time (migration 005a, `numtrust-producer clock`): the offset moves
# with advance and set, never backwards without --force, and bad input names
# the value; workers stamp checks with numtrust time (learned from their
# claims); the check-due selection and the wanted labels follow the moved
# clock (a weekly cycle comes round after 8 days, a campaign label is wanted
# from its 7-day lead until its end). The clock is reset on exit, whatever
# happens, because every test shares the database.
. "$(dirname "$0")/lib.sh"
nt_setup clock
clk() { "$PRODUCER" clock "$@"; }
field() { clk show | sed -n "s/^$1=//p"; }
trap 'clk set --offset 0 --force >/dev/null || true; nt_cleanup' EXIT

clk set --offset 0 --force >/dev/null
assert_eq "offset after a reset" "$(field offset_ms)" 0
assert_eq "005a is recorded as a lettered migration" \
    "$(psqlv "SELECT version || ' ' || name FROM schema_migrations WHERE name LIKE '005a_%'")" \
    "100130 005a_clock.sql"

# --- moving the clock
clk advance 1d12h >/dev/null
assert_eq "offset after advance 1d12h" "$(field offset_ms)" 129600000
assert_eq "nt_now() - now() in SQL" \
    "$(psqlv "SELECT extract(epoch FROM nt_now() - now())::bigint")" 129600
clk set 2031-06-01T00:00:00Z >/dev/null
case "$(field now)" in 2031-06-01T00:00:0*) log "ok: set TIME";; *) fail "set TIME: now=$(field now)";; esac
rc=0; clk set 2031-01-01T00:00:00Z 2>"$NT_TMP/err" >/dev/null || rc=$?
assert_eq "set backwards without --force: exit status" "$rc" 2
grep -q "add --force" "$NT_TMP/err" || fail "set backwards: $(cat "$NT_TMP/err")"
case "$(field now)" in 2031-06-01T*) log "ok: refused set left the clock alone";; *) fail "clock moved";; esac
rc=0; clk advance 3x 2>"$NT_TMP/err" >/dev/null || rc=$?
assert_eq "advance 3x: exit status" "$rc" 2
grep -q '"3x"' "$NT_TMP/err" || fail "bad duration not named: $(cat "$NT_TMP/err")"
clk set --offset 30d --force >/dev/null
assert_eq "offset after set --offset 30d" "$(field offset_ms)" 2592000000

# --- workers and selections on numtrust time
fleet=$(gen_fleet 30 221)
"$PRODUCER" import --numbers "$fleet" >/dev/null
mine="number LIKE '+86221%'"
pfx=+86221
start_worker
"$PRODUCER" enqueue check --prefix $pfx --period "k1-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE $mine" 90 60
assert_eq "checks stamped with numtrust time (within 10 minutes of nt_now())" \
    "$(psqlv "SELECT count(*) FROM check_results WHERE $mine
              AND abs(extract(epoch FROM checked_at - nt_now())) < 600")" 90

due() { "$PRODUCER" enqueue check --due --prefix $pfx --limit 1000000 | sed -n 's/.*: \([0-9]*\) selected.*/\1/p'; }
# every registration has a weekly cycle at most: the default policy's weekly
# mark check (issue 10), whatever its scenario's full-check cycle
weekly=$(psqlv "SELECT count(*) FROM number_platforms np WHERE np.$mine")
assert_eq "checks due right after checking" "$(due)" 0
clk advance 8d >/dev/null
assert_eq "checks due 8 days later (every registration: the weekly mark check)" "$(due)" "$weekly"
wait_sql "SELECT count(*) FROM jobs WHERE type = 'check' AND state = 'done' AND $mine" $((90 + weekly)) 60

# a campaign 10 days ahead: wanted from its 7-day lead until it ends
victim=$(sed -n 2p "$fleet" | cut -d, -f2)
psqlv "INSERT INTO label_schedules (number, kind, label, event_start, event_end)
       VALUES ('$victim', 'campaign', '双11-折扣专线', nt_now() + interval '10 days',
               nt_now() + interval '12 days')"
wanted() { psqlv "SELECT DISTINCT label FROM wanted_labels WHERE number = '$victim'"; }
base=$(psqlv "SELECT base_label FROM numbers WHERE number = '$victim'")
assert_eq "wanted label 10 days before the campaign" "$(wanted)" "$base"
clk advance 4d >/dev/null
assert_eq "wanted label 6 days before the campaign" "$(wanted)" "双11-折扣专线"
clk advance 9d >/dev/null
assert_eq "wanted label after the campaign" "$(wanted)" "$base"
stop_all_workers
log "PASS"
