#!/usr/bin/env bash
# A year in the life (issue 9, docs/maintenance.md): a small fleet lives a simulated year in a
# few minutes. Both clocks move together (numtrust time with `numtrust-producer clock advance`,
# the simulator's with POST /admin/clock), in coarse steps: a week at a time, and an hour
# before and after every event. At each step one reconciler pass (`run --once`) and the
# workers do what is due. The year holds campaigns (one with a forbidden word, one over the
# length limit), qualifications (one recorded late, one the platform has no documents for),
# a region label, a time-slot label, rejected appeals and marks that come back, certifications
# that expire, and a credential failure fixed two weeks later. At the end every rule is
# checked against PostgreSQL and the simulator, the platform operations spent are printed
# per kind, and the test fails unless violations=0.
#
# The test runs its own simulator (port from the OS) so that moving its clock a year does not
# touch the shared one, and resets numtrust time on exit.
. "$(dirname "$0")/lib.sh"
nt_setup year
# failed work runs again after 1 real second, doubled each time: the year's two weeks of broken
# credentials last a few real seconds here
export NUMTRUST_LOOP_RETRY_BACKOFF_S=1 NUMTRUST_LOOP_RETRY_MAX=10
PFX=222
pfx=+86$PFX
mine="number LIKE '+86$PFX%'"
DAY=86400
SIM_PID=""
clk() { "$PRODUCER" clock "$@"; }
cleanup_year() {
    clk set --offset 0 --force >/dev/null 2>&1 || true
    if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
    nt_cleanup
}
trap cleanup_year EXIT

# ---- numtrust time and the simulator's clock start together -----------------------------
clk set --offset 0 --force >/dev/null
T0=$(psqlv "SELECT floor(extract(epoch FROM nt_now()))::bigint")
T0_TEXT=$(psqlv "SELECT to_char(to_timestamp($T0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
cat >"$NT_TMP/sim.json" <<'EOF'
{
  "platforms": [{"id": "baidu", "dialect": "a"}, {"id": "tencent", "dialect": "b"},
                {"id": "qihoo360", "dialect": "c"}],
  "marks": {"initial_share": 0.3, "weekly_rate_unmaintained": 0.05, "weekly_rate_maintained": 0.01},
  "review": {"tag_delay_s": 3600, "appeal_in_review_after_s": 600, "appeal_decided_after_s": 43200,
             "appeal_approve_rate": 0.5, "renewal_delay_s": 86400}
}
EOF
"$NT_BIN/numtrust-platform-sim" --listen 127.0.0.1:0 --config "$NT_TMP/sim.json" --seed 909 \
    --clock-start "$T0_TEXT" --clock-speed 1 >"$NT_TMP/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 50); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$NT_TMP/sim.log" | head -n 1)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "${port:-}" ] || fail "the simulator did not start: $(cat "$NT_TMP/sim.log")"
export NT_SIM_URL=http://127.0.0.1:$port
log "own simulator on $NT_SIM_URL, clocks start at $T0_TEXT"

# ---- the fleet and its year ---------------------------------------------------------------
fleet=$(gen_fleet 24 $PFX baidu,tencent,qihoo360)
"$PRODUCER" import --numbers "$fleet" >/dev/null
psqlv "DELETE FROM maintenance_items WHERE $mine OR tenant_id IN (SELECT tenant_id FROM numbers WHERE $mine)" >/dev/null
psqlv "UPDATE tenants SET next_review_at = to_timestamp($T0) + interval '365 days'
       WHERE id IN (SELECT tenant_id FROM numbers WHERE $mine)" >/dev/null
num() { sed -n "$(($1 + 1))p" "$fleet" | cut -d, -f2; }
N_CAMPAIGN=$(num 1) N_FORBIDDEN=$(num 2) N_QUAL=$(num 3) N_REGION=$(num 4)
N_LONG=$(num 6) N_QUAL_LATE=$(num 7)
at() { echo "to_timestamp($T0 + $1)"; } # numtrust time T0 + seconds, as SQL
sched() { # number kind label start_s end_s|NULL [daily_from daily_to]
    local end=NULL
    [ "$5" = NULL ] || end=$(at "$5")
    psqlv "INSERT INTO label_schedules (number, kind, label, event_start, event_end, daily_from, daily_to)
           VALUES ('$1', '$2', '$3', $(at "$4"), $end, ${6:-NULL}, ${7:-NULL}) RETURNING id"
}
CAMPAIGN=情人节-玫瑰预订 FORBIDDEN=双11-全网最低价 QUAL=微整医师-李主任 REGION=浦东区-服务专员
SLOT=夜间急诊-22:00-3:00 LONG=春季新品-三月特惠-全场商品满三百减五十-会员再享九折-限时专线-欢迎来电咨询 QUAL_LATE=执业医师-王主任
sched "$N_CAMPAIGN" campaign "$CAMPAIGN" $((30 * DAY)) $((45 * DAY)) >/dev/null
sched "$N_FORBIDDEN" campaign "$FORBIDDEN" $((60 * DAY)) $((70 * DAY)) >/dev/null
sched "$N_LONG" campaign "$LONG" $((90 * DAY)) $((100 * DAY)) >/dev/null
sched "$N_QUAL" qualification "$QUAL" $((120 * DAY)) NULL >/dev/null
sched "$N_REGION" region "$REGION" 0 NULL >/dev/null
# (the time slot goes on a number certified everywhere, chosen after the first checks)
# the late qualification: its documents exist on baidu and qihoo360, not on tencent
enc=$(python3 -c "import urllib.parse,sys; print(urllib.parse.quote(sys.argv[1]))" "$N_QUAL_LATE")
sim POST /admin/qualification "{\"platform\":\"tencent\",\"number\":\"$N_QUAL_LATE\",\"verified\":false}" >/dev/null
[ "$(sim GET "/admin/truth?platform=tencent&number=$enc" | python3 -c 'import json,sys; print(json.load(sys.stdin)["qualification_verified"])')" = False ] ||
    fail "the simulator did not take the unverified qualification"

# ---- the calendar: weekly steps and an hour around every event ----------------------------
python3 - "$T0" >"$NT_TMP/steps" <<'EOF'
import sys, datetime as dt
t0 = int(sys.argv[1]); D = 86400; H = 3600
steps = {w * 7 * D: 'week' for w in range(0, 54)}
def add(s, what): steps[s] = what
for d, what in [(23, 'campaign_lead'), (45, 'campaign_end'), (53, 'forbidden_lead'),
                (83, 'long_lead'), (120, 'qual_start'), (365, 'yearly')]:
    add(d * D - H, what + '-1h'); add(d * D + H, what + '+1h')
add(100 * D, 'remark'); add(150 * D, 'credentials_break'); add(164 * D, 'credentials_fixed')
add(200 * D, 'qual_late_recorded'); add(200 * D + 2 * H, 'qual_late+2h')
# the time-slot window, 22:00-03:00 in Asia/Shanghai (UTC+8), on two nights
for d in (12, 20):
    day = dt.datetime.fromtimestamp(t0 + d * D, dt.timezone.utc).date()
    night = int(dt.datetime(day.year, day.month, day.day, 23 - 8, 0, tzinfo=dt.timezone.utc).timestamp()) - t0
    add(night, 'slot_on'); add(night + 5 * H, 'slot_off')
for s in (372 * D, 379 * D):
    add(s, 'settle')
for s in sorted(steps):
    print(s, steps[s])
EOF
log "calendar: $(wc -l <"$NT_TMP/steps") steps over a year"

NOW_S=0 # numtrust time - T0, as far as this test moved it
move_to() { # both clocks to T0 + $1 (seconds; never backwards)
    local delta=$(($1 - NOW_S))
    [ "$delta" -gt 0 ] || return 0
    clk advance "${delta}s" >/dev/null
    sim POST /admin/clock "{\"advance_s\":$delta}" >/dev/null
    NOW_S=$1
}
settle() { # until the workers finished everything enqueued for the fleet
    wait_sql "SELECT count(*) FROM jobs WHERE $mine AND state IN ('queued', 'running', 'retrying')" 0 120
}
pass() {
    # each pass's own output, so a failure shows the step that failed (its
    # warning comes before the later steps' lines, not in the log's tail)
    if ! "$PRODUCER" run --once --prefix "$pfx" >"$NT_TMP/pass.log" 2>&1; then
        cat "$NT_TMP/pass.log" >>"$NT_TMP/run.log"
        fail "run --once failed on day $((NOW_S / 86400)): $(grep -E 'warn|error' "$NT_TMP/pass.log" | head -n 10) / last: $(tail -n 2 "$NT_TMP/pass.log")"
    fi
    cat "$NT_TMP/pass.log" >>"$NT_TMP/run.log"
    settle
}
count_pushes() { psqlv "SELECT count(*) FROM tag_updates WHERE number = '$1' AND label = '$2'"; }

start_worker
VIOLATIONS=0
violation() { log "VIOLATION: $*"; VIOLATIONS=$((VIOLATIONS + 1)); }
while read -r s what; do
    move_to "$s"
    case $what in
    credentials_break)
        stop_worker 0 || fail "worker did not stop"
        start_worker NT_SIM_HMAC_SECRET=not-the-secret
        log "day $((s / DAY)): baidu's credentials broken" ;;
    credentials_fixed)
        stop_worker 1 || fail "worker did not stop"
        start_worker
        sleep 2 # past the first retry's backoff (1 real second): the pass runs what failed again
        log "day $((s / DAY)): credentials fixed" ;;
    qual_late_recorded)
        sched "$N_QUAL_LATE" qualification "$QUAL_LATE" $((195 * DAY)) NULL >/dev/null ;;
    remark)
        # a mark an approved appeal cleared comes back on the platform
        row=$(psqlv "SELECT m.number || ' ' || m.platform || ' ' || m.type FROM marks m
                     JOIN appeals a ON a.job_id = m.appeal_job
                     WHERE m.$mine AND m.state = 'cleared' AND a.state = 'approved'
                       AND m.platform IN ('baidu', 'tencent') -- the aggregator shows only the top mark
                     ORDER BY m.number, m.platform LIMIT 1")
        [ -n "$row" ] || fail "day 100: no mark cleared by an approved appeal to bring back"
        read -r RN RP RT <<<"$row"
        sim POST /admin/marks "{\"platform\":\"$RP\",\"number\":\"$RN\",\"type\":\"$RT\",\"count\":40}" >/dev/null
        "$PRODUCER" enqueue check --number "$RN" --platform "$RP" --period remark >/dev/null
        settle
        log "day 100: $RT came back on $RP" ;;
    esac
    pass
    if [ "$s" -eq 0 ]; then # the first day: checks, then pushes, then polls
        pass
        pass
        N_SLOT=$(psqlv "SELECT number FROM number_platforms WHERE $mine
                          AND number NOT IN ('$N_CAMPAIGN', '$N_FORBIDDEN', '$N_QUAL', '$N_REGION', '$N_LONG', '$N_QUAL_LATE')
                        GROUP BY number HAVING bool_and(cert_status = 'certified' AND cert_expires_at > $(at $((45 * DAY))))
                        ORDER BY number LIMIT 1")
        [ -n "$N_SLOT" ] || fail "no number certified on every platform for the time slot"
        sched "$N_SLOT" timeslot "$SLOT" $((10 * DAY)) $((40 * DAY)) "'22:00'" "'03:00'" >/dev/null
    fi
    case $what in
    campaign_lead-1h) [ "$(count_pushes "$N_CAMPAIGN" "$CAMPAIGN")" -eq 0 ] || violation "campaign pushed before its 7-day lead" ;;
    qual_start-1h) [ "$(count_pushes "$N_QUAL" "$QUAL")" -eq 0 ] || violation "qualification pushed before its start" ;;
    slot_on | slot_off)
        want=$SLOT
        [ "$what" = slot_on ] || want=$(psqlv "SELECT base_label FROM numbers WHERE number = '$N_SLOT'")
        got=$(psqlv "SELECT DISTINCT label FROM wanted_labels WHERE number = '$N_SLOT'")
        [ "$got" = "$want" ] || violation "time slot at $what: wanted '$got', expected '$want'"
        for plat in baidu tencent qihoo360; do
            last=$(psqlv "SELECT label FROM tag_updates WHERE number = '$N_SLOT' AND platform = '$plat' ORDER BY pushed_at DESC LIMIT 1")
            [ "$last" = "$want" ] || violation "time slot at $what on $plat: last push '$last', expected '$want'"
        done ;;
    esac
done <"$NT_TMP/steps"
stop_all_workers
log "the year is over: $(grep -c 'pass done' "$NT_TMP/run.log") reconciler passes"

# ---- the rules ----------------------------------------------------------------------------
rule() { # name sql-returning-the-violating-rows
    local rows
    rows=$(psqlv "$2")
    if [ -n "$rows" ]; then
        violation "$1:"
        printf '%s\n' "$rows" | head -n 10 | sed 's/^/    /'
    else
        log "ok: $1"
    fi
}
H=3600
# whether a registration was certified at a time, by its last check before (no check: yes); an
# uncertified one gets no push at all, campaign or revert (loop.push_uncertified)
certified_at() { # number-sql platform-sql time-sql
    echo "COALESCE((SELECT c.cert_status = 'certified' FROM check_results c WHERE c.number = $1
                     AND c.platform = $2 AND c.checked_at <= $3 ORDER BY c.checked_at DESC LIMIT 1), true)"
}
rule "campaign label live at its 7-day lead (within a pass), on every platform" "
    SELECT np.platform FROM number_platforms np WHERE np.number = '$N_CAMPAIGN'
      AND $(certified_at np.number np.platform "$(at $((23 * DAY + H + 600)))")
      AND NOT EXISTS (SELECT 1 FROM tag_updates t WHERE t.number = np.number AND t.platform = np.platform
                      AND t.label = '$CAMPAIGN' AND t.pushed_at BETWEEN $(at $((23 * DAY))) AND $(at $((23 * DAY + H + 600))))"
rule "campaign label reverted within one pass after the event" "
    SELECT t.platform FROM tag_updates t WHERE t.number = '$N_CAMPAIGN' AND t.label = '$CAMPAIGN' AND t.state = 'applied'
      AND $(certified_at t.number t.platform "$(at $((45 * DAY + H + 600)))")
      AND NOT EXISTS (SELECT 1 FROM tag_updates r JOIN numbers n USING (number) WHERE r.number = t.number
                      AND r.platform = t.platform AND r.label = n.base_label
                      AND r.pushed_at BETWEEN $(at $((45 * DAY))) AND $(at $((45 * DAY + H + 600))))"
lapsed=$(psqlv "SELECT string_agg(DISTINCT t.platform, ',') FROM tag_updates t WHERE t.number = '$N_CAMPAIGN'
                AND t.label = '$CAMPAIGN' AND NOT $(certified_at t.number t.platform "$(at $((45 * DAY + H + 600)))")")
[ -z "$lapsed" ] || log "note: campaign not reverted on $lapsed: its certification had lapsed (no push to an uncertified registration; counted in the reconciler's log)"
rule "qualification live at its start, within 24 h, never before" "
    SELECT np.platform, min(t.pushed_at) FROM number_platforms np
      LEFT JOIN tag_updates t ON t.number = np.number AND t.platform = np.platform AND t.label = '$QUAL'
     WHERE np.number = '$N_QUAL' AND $(certified_at np.number np.platform "$(at $((120 * DAY)))") GROUP BY np.platform
    HAVING min(t.pushed_at) IS NULL OR min(t.pushed_at) < $(at $((120 * DAY)))
        OR min(t.pushed_at) > $(at $((120 * DAY))) + interval '24 hours'"
rule "a qualification recorded late is live within 24 h of being recorded" "
    SELECT np.platform, min(t.pushed_at) FROM number_platforms np
      LEFT JOIN tag_updates t ON t.number = np.number AND t.platform = np.platform AND t.label = '$QUAL_LATE'
     WHERE np.number = '$N_QUAL_LATE' AND $(certified_at np.number np.platform "$(at $((200 * DAY)))")
     GROUP BY np.platform
    HAVING min(t.pushed_at) IS NULL OR min(t.pushed_at) > $(at $((200 * DAY))) + interval '24 hours'"
rule "a qualification without documents is rejected with the platform's reason" "
    SELECT platform, state, reason FROM tag_updates WHERE number = '$N_QUAL_LATE' AND label = '$QUAL_LATE'
       AND ((platform = 'tencent') <> (state = 'rejected' AND reason LIKE '%qualification not verified%'))"
rule "labels with a forbidden word or over the length limit: rejected with a reason, once" "
    SELECT number, platform, label, count(*), string_agg(state || ':' || coalesce(reason, ''), '; ')
      FROM tag_updates WHERE label IN ('$FORBIDDEN', '$LONG')
     GROUP BY number, platform, label
    HAVING count(*) <> 1 OR bool_or(state <> 'rejected' OR coalesce(reason, '') = '')"
rule "no push to a registration that was not certified" "
    SELECT t.number, t.platform, t.label, c.cert_status FROM tag_updates t
      CROSS JOIN LATERAL (SELECT cr.cert_status FROM check_results cr WHERE cr.number = t.number
                          AND cr.platform = t.platform AND cr.checked_at <= t.pushed_at
                          ORDER BY cr.checked_at DESC LIMIT 1) c
     WHERE t.$mine AND c.cert_status IS DISTINCT FROM 'certified'"
rule "no duplicate paid push (the same label again while it was pending, applied or rejected)" "
    SELECT number, platform, label, pushed_at FROM (
      SELECT t.*, lag(label) OVER w AS prev_label, lag(state) OVER w AS prev_state
        FROM tag_updates t WHERE t.$mine WINDOW w AS (PARTITION BY number, platform ORDER BY pushed_at)) x
     WHERE label = prev_label AND prev_state <> 'unconfirmed'"
rule "every push ended applied, rejected or unconfirmed" "
    SELECT number, platform, label, state FROM tag_updates WHERE $mine AND state = 'pending_review'
       AND pushed_at < nt_now() - interval '7 days'"
rule "every rejected appeal re-filed after its cool-down or escalated" "
    SELECT a.number, a.platform, a.mark_type, a.round, a.decided_at FROM appeals a
      JOIN marks m ON m.number = a.number AND m.platform = a.platform AND m.type = a.mark_type
     WHERE a.$mine AND a.state = 'rejected' AND a.decided_at < nt_now() - interval '14 days'
       AND a.filed_at >= m.opened_at
       AND NOT EXISTS (SELECT 1 FROM appeals b WHERE b.number = a.number AND b.platform = a.platform
                       AND b.mark_type = a.mark_type AND b.round = a.round + 1 AND b.filed_at > a.decided_at)
       AND NOT (m.state = 'escalated' AND a.round >= 3)
       AND m.state NOT IN ('cleared', 'open')"
rule "approved appeals confirmed by a later check (or the mark came back)" "
    SELECT a.number, a.platform, a.mark_type FROM appeals a
      JOIN marks m ON m.number = a.number AND m.platform = a.platform AND m.type = a.mark_type
     WHERE a.$mine AND a.state = 'approved' AND a.confirmed_at IS NULL
       AND a.decided_at < nt_now() - interval '14 days' AND m.appeal_job = a.job_id"
rule "a mark that came back reopened with its history" "
    SELECT number, platform, type, remarks, history FROM marks
     WHERE number = '$RN' AND platform = '$RP' AND type = '$RT' AND (remarks < 1 OR jsonb_array_length(history) < 1)"
# (certifications that expire in the first 30 days cannot be renewed 30 days ahead: they are
# renewed at once, and not counted here)
# (a renewal whose first attempt failed on the broken credentials was asked for in time and
# done by a re-run: that one must still be done before the expiry)
rule "renewals asked for in time (at least 23 days ahead) on platforms with a renewal API" "
    SELECT r.number, r.platform, r.requested_at, r.expires_before, j.retry_of FROM renewals r
      JOIN jobs j ON j.id = r.job_id
     WHERE r.$mine AND r.expires_before > $(at $((30 * DAY)))
       AND r.requested_at > r.expires_before - CASE WHEN j.retry_of IS NULL THEN interval '23 days'
                                                    ELSE interval '0' END"
rule "no certification expired on platforms with a renewal API" "
    SELECT DISTINCT c.number, c.platform FROM check_results c
     WHERE c.$mine AND c.platform IN ('baidu', 'tencent') AND c.cert_status = 'expired'
       AND EXISTS (SELECT 1 FROM check_results f WHERE f.number = c.number AND f.platform = c.platform
                   AND f.cert_status = 'certified' AND f.checked_at < c.checked_at)"
rule "renewals without an API: a maintenance item at least 23 days ahead" "
    SELECT np.number, np.cert_expires_at FROM number_platforms np
     WHERE np.$mine AND np.platform = 'qihoo360' AND np.cert_status IN ('certified', 'expired')
       AND np.cert_expires_at < nt_now() + interval '23 days'
       AND np.cert_expires_at > $(at $((30 * DAY)))
       AND NOT EXISTS (SELECT 1 FROM maintenance_items i WHERE i.kind = 'renewal' AND i.number = np.number
                       AND i.platform = np.platform AND i.created_at <= i.due_at - interval '23 days')"
rule "every failure retried: run again until done (or a later job of its kind did the work)" "
    SELECT j.type, j.number, j.platform, j.error_class, j.retry_gen, j.last_error FROM jobs j
     WHERE j.$mine AND j.state IN ('failed', 'dead')
       AND NOT EXISTS (SELECT 1 FROM jobs k WHERE k.origin = coalesce(j.origin, j.id) AND k.state = 'done')
       AND NOT EXISTS (SELECT 1 FROM jobs k WHERE k.type = j.type AND k.number = j.number
                       AND k.platform = j.platform AND k.state = 'done' AND k.created_at > j.created_at)"
rule "region label reviewed every quarter" "
    SELECT count(*) FROM maintenance_items WHERE kind = 'region_review' AND number = '$N_REGION' HAVING count(*) < 3"
rule "yearly review of every tenant" "
    SELECT DISTINCT n.tenant_id FROM numbers n WHERE n.$mine AND NOT EXISTS (
      SELECT 1 FROM maintenance_items i WHERE i.kind = 'yearly_review' AND i.tenant_id = n.tenant_id)"
# what the reconciler skipped on purpose, and why, is in its log
for why in "tag uncertified_" "tag rejected_label" "ran [0-9]* failed jobs (auth) again"; do
    if grep -q "$why" "$NT_TMP/run.log"; then
        log "ok: the reconciler's log says: $(grep -o "${why}[^,\"]*" "$NT_TMP/run.log" | head -n 1)"
    else
        violation "the reconciler's log never says '$why'"
    fi
done
dups=$(sim GET /admin/counters | python3 -c 'import json,sys; print(json.load(sys.stdin)["duplicate_side_effects"])')
[ "$dups" = 0 ] || violation "the simulator counted $dups duplicate side effects"

# ---- what the year cost ---------------------------------------------------------------------
sim GET /admin/counters | python3 -c '
import json, sys
c = json.load(sys.stdin); e = c["by_endpoint"]
kinds = [("check", ["a.check", "b.check", "c.batch"]), ("tag_update", ["a.tag", "b.tag", "c.tag"]),
         ("tag_status", ["a.tag_status", "b.tag_status", "c.tag_status"]),
         ("appeal", ["a.appeal", "b.appeal", "c.appeal"]),
         ("appeal_status", ["a.appeal_status", "b.appeal_status", "c.appeal_status"]),
         ("renewal", ["a.renewal", "b.renewal", "c.renewal"])]
print("operations spent: " + " ".join("%s=%d" % (k, sum(e.get(x, 0) for x in xs)) for k, xs in kinds)
      + " (numbers checked in batches: %d)" % c["batch_numbers"])
print("side effects: tag_updates=%d (rejected in review %d) appeals=%d renewals=%d duplicates=%d"
      % (c["side_effects"]["tag_updates"], c["tags_rejected"], c["side_effects"]["appeals"],
         c["side_effects"]["renewals"], c["duplicate_side_effects"]))'
psqlv "SELECT 'pushes: ' || string_agg(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM tag_updates WHERE $mine GROUP BY state ORDER BY state) x"
psqlv "SELECT 'pushes verified by a check: ' || count(*) FILTER (WHERE verified_at IS NOT NULL) || ' of ' || count(*) FROM tag_updates WHERE $mine"
psqlv "SELECT 'appeals: ' || string_agg(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM appeals WHERE $mine GROUP BY state ORDER BY state) x"
psqlv "SELECT 'appeal rounds: ' || string_agg('round ' || round || '=' || n, ' ') FROM (SELECT round, count(*) n FROM appeals WHERE $mine GROUP BY round ORDER BY round) x"
psqlv "SELECT 'marks: ' || string_agg(state || '=' || n, ' ') FROM (SELECT state, count(*) n FROM marks WHERE $mine GROUP BY state ORDER BY state) x"
psqlv "SELECT 'renewals: ' || coalesce(string_agg(state || '=' || n, ' '), 'none') FROM (SELECT state, count(*) n FROM renewals WHERE $mine GROUP BY state ORDER BY state) x"
psqlv "SELECT 'maintenance items: ' || string_agg(kind || '=' || n, ' ') FROM (SELECT kind, count(*) n FROM maintenance_items WHERE $mine OR tenant_id IN (SELECT tenant_id FROM numbers WHERE $mine) GROUP BY kind ORDER BY kind) x"
psqlv "SELECT 'failed jobs: ' || count(*) FROM jobs WHERE $mine AND state = 'failed'"
echo "violations=$VIOLATIONS"
[ "$VIOLATIONS" -eq 0 ] || fail "$VIOLATIONS rule(s) broken"
log "PASS"
