#!/usr/bin/env bash
# History that grows with change (issue 14, migration 009): 40 numbers x 2 platforms (baidu,
# and cmcc, whose checks are priced) checked in four rounds.
#   1. first checks: every one a change (ledger `changed`, one history row each)
#   2. nothing changed: ledger `same`, no history row, but the observed state moves
#      (last_checked_at, last_check_job, the quarter's trust sums), the day's rollup counts
#      every check and every priced check is costed once
#   3. a mark injected on one registration, and trust scores moved away from two others'
#      last history rows (by less than history.trust_delta, and by more): two changes
#   4. the mark cleared, and another registration's recorded certification expiry made to
#      differ from what the platform shows: two changes, the mark cleared in the marks table,
#      the platform's expiry in the history row and the observed state again
#   5. a quarter later: nothing changed, the quarter of rounds 1-4 closed into the registrations'
#      trust sums (q_hist), trust_quarterly and the trend read all five scores
# and the partitions' upkeep: a row of a month far in the past and one of a month beyond the
# partitions made ahead land in the default partition; `history maintain` moves the future
# one into a new partition and drops the old month. The worker connects as the workers' role.
. "$(dirname "$0")/lib.sh"
nt_setup history
sim_reset
"$PRODUCER" costs prices >/dev/null # platform_prices from platforms.json (cmcc: a check costs)
tenant="hist$$"
mapfile -t nums < <(sla_fleet "$tenant" 241 40 baidu,cmcc high_frequency)
mine="number LIKE '+86241%'"
checks_done="SELECT count(*) FROM jobs WHERE type = 'check' AND state = 'done' AND $mine"
history_rows="SELECT count(*) FROM check_results WHERE $mine"
rollup="SELECT COALESCE(sum(checks), 0) || ' ' || COALESCE(sum(changes), 0) FROM check_daily
        WHERE tenant_id = '$tenant'"
delta=$(psqlv "SELECT trust_delta FROM history_settings")
# as the workers' role: the check statement needs no grant migration 009 does not give
start_worker NUMTRUST_PG_CONNINFO="${NT_PG_WORKER_CONNINFO:-$NUMTRUST_PG_CONNINFO}"

round() { # N: enqueue round N and wait for its 80 checks
    "$PRODUCER" enqueue check --prefix +86241 --period "h$1-$$" | grep enqueue
    wait_sql "$checks_done" $((80 * $1)) 60
}
results() { # SINCE: "changed same" of the checks enqueued since then
    psqlv "SELECT count(*) FILTER (WHERE j.result = 'changed') || ' '
                  || count(*) FILTER (WHERE j.result = 'same')
           FROM jobs j WHERE j.type = 'check' AND j.$mine
             AND j.created_at >= '$1'"
}

t1=$(psqlv "SELECT now()")
round 1
assert_eq "round 1: ledger results (changed same)" "$(results "$t1")" "80 0"
assert_eq "round 1: history rows" "$(psqlv "$history_rows")" 80
assert_eq "round 1: rollup (checks changes)" "$(psqlv "$rollup")" "80 80"
assert_eq "round 1: priced checks costed" \
    "$(psqlv "SELECT count(*) FROM cost_ledger WHERE $mine AND op = 'check'")" 40

t2=$(psqlv "SELECT now()")
# checked_at is numtrust time, aligned with the simulator's clock (lib.sh), which may be behind
# real time by a fraction of a second: compare it with numtrust time
t2n=$(psqlv "SELECT nt_now()")
round 2
assert_eq "round 2: ledger results (changed same)" "$(results "$t2")" "0 80"
assert_eq "round 2: no new history rows" "$(psqlv "$history_rows")" 80
assert_eq "round 2: rollup counts every check (checks changes)" "$(psqlv "$rollup")" "160 80"
assert_eq "round 2: every priced check costed once" \
    "$(psqlv "SELECT count(*) || ' ' || count(DISTINCT job_id) FROM cost_ledger
              WHERE $mine AND op = 'check'")" "80 80"
assert_eq "round 2: the observed state moved to the round's checks" \
    "$(psqlv "SELECT count(*) FROM number_platforms np JOIN jobs j ON j.id = np.last_check_job
              WHERE np.$mine AND j.created_at >= '$t2' AND np.last_checked_at > '$t2n'")" 80
assert_eq "round 2: both scores in the quarter's trust sums" \
    "$(psqlv "SELECT count(*) FROM number_platforms WHERE $mine AND q_n = 2")" 80

# round 3: a mark on nums[0] (baidu); nums[1]'s baidu score $((delta - 3)) points from its
# last history row's (no change), nums[2]'s $((delta + 2)) points (a change)
sim POST /admin/marks "{\"platform\":\"baidu\",\"number\":\"${nums[0]}\",\"type\":\"fraud\",\"count\":3}" >/dev/null
shift_score() { # NUMBER POINTS
    psqlv "UPDATE number_platforms SET hist_score = CASE WHEN trust_score >= 50
             THEN trust_score - $2 ELSE trust_score + $2 END
           WHERE number = '$1' AND platform = 'baidu'" >/dev/null
}
shift_score "${nums[1]}" $((delta - 3))
shift_score "${nums[2]}" $((delta + 2))
t3=$(psqlv "SELECT now()")
round 3
assert_eq "round 3: ledger results (changed same)" "$(results "$t3")" "2 78"
assert_eq "round 3: the changes' history rows" \
    "$(psqlv "SELECT string_agg(cr.number, ' ' ORDER BY cr.number) FROM check_results cr
              JOIN jobs j ON j.id = cr.job_id WHERE cr.$mine AND j.created_at >= '$t3'")" \
    "$(printf '%s\n' "${nums[0]}" "${nums[2]}" | sort | paste -sd' ')"
assert_eq "round 3: the new mark, opened by the round's check (open, or appealed at once)" \
    "$(psqlv "SELECT (m.state IN ('open', 'appealed')) || ' ' || m.count FROM marks m JOIN jobs j ON j.id = m.detected_by
              WHERE m.number = '${nums[0]}' AND m.platform = 'baidu' AND m.type = 'fraud'
                AND j.created_at >= '$t3'")" "true 3"
assert_eq "round 3: history rows" "$(psqlv "$history_rows")" 82

sim POST /admin/marks/clear "{\"platform\":\"baidu\",\"number\":\"${nums[0]}\"}" >/dev/null
expires=$(psqlv "SELECT COALESCE(cert_expires_at::text, 'none') FROM number_platforms
                 WHERE number = '${nums[4]}' AND platform = 'baidu'")
psqlv "UPDATE number_platforms SET cert_expires_at = '2001-02-03T00:00:00Z'
       WHERE number = '${nums[4]}' AND platform = 'baidu'" >/dev/null
t4=$(psqlv "SELECT now()")
round 4
assert_eq "round 4: ledger results (changed same)" "$(results "$t4")" "2 78"
assert_eq "round 4: another expiry is a change; the platform's in history and observed state" \
    "$(psqlv "SELECT COALESCE(cr.cert_expires_at::text, 'none') || ' '
                     || COALESCE(np.cert_expires_at::text, 'none')
              FROM check_results cr JOIN jobs j ON j.id = cr.job_id
              JOIN number_platforms np ON np.number = cr.number AND np.platform = cr.platform
              WHERE cr.number = '${nums[4]}' AND cr.platform = 'baidu' AND j.created_at >= '$t4'")" \
    "$expires $expires"
assert_eq "round 4: the mark cleared" \
    "$(psqlv "SELECT state FROM marks WHERE number = '${nums[0]}' AND platform = 'baidu'
              AND type = 'fraud'")" cleared
assert_eq "exactly one history row per changed check, none for the others" \
    "$(psqlv "SELECT count(*) FROM jobs j WHERE j.type = 'check' AND j.$mine
              AND (SELECT count(*) FROM check_results cr WHERE cr.job_id = j.id)
                  <> CASE j.result WHEN 'changed' THEN 1 ELSE 0 END")" 0
assert_eq "rollup after 4 rounds (checks changes)" "$(psqlv "$rollup")" "320 84"
assert_eq "history rows naming the worker that wrote them" \
    "$(psqlv "SELECT count(*) FILTER (WHERE worker <> '') || ' ' || count(*)
              FROM check_results WHERE $mine")" "84 84"

# round 5, a quarter later (numtrust time; the simulator's state unchanged): its first score
# closes the quarter of rounds 1-4 into q_hist, and the trend is fitted through all five
offset="$(($("$PRODUCER" clock show | sed -n 's/^offset_ms=//p') / 1000))s"
"$PRODUCER" clock advance 100d >/dev/null
t5=$(psqlv "SELECT now()")
round 5
"$PRODUCER" clock set --offset "$offset" --force >/dev/null
assert_eq "round 5: ledger results (changed same)" "$(results "$t5")" "0 80"
assert_eq "round 5: one closed quarter of four scores, the new one open with one" \
    "$(psqlv "SELECT count(*) FROM number_platforms WHERE $mine AND array_length(q_hist, 1) = 7
              AND q_hist[2] = 4 AND q_n = 1 AND q_start > (DATE '1970-01-01' + q_hist[1]::int)")" 80
assert_eq "trust_quarterly: both quarters of a registration" \
    "$(psqlv "SELECT string_agg(checks::text, ' ' ORDER BY quarter) FROM trust_quarterly
              WHERE number = '${nums[3]}' AND platform = 'baidu'")" "4 1"
"$PRODUCER" clock advance 100d >/dev/null
"$PRODUCER" sla pass >/dev/null
"$PRODUCER" clock set --offset "$offset" --force >/dev/null
assert_eq "the trend fitted through all five scores" \
    "$(psqlv "SELECT points FROM trust_trends WHERE number = '${nums[3]}' AND platform = 'baidu'")" 5
stop_all_workers

# partitions: a month long past and one a century ahead (beyond the months made ahead; only
# this test writes there, so its partition from an earlier run goes first) wait in the default
# partition
far=$(psqlv "SELECT to_char(date_trunc('month', nt_now() AT TIME ZONE 'UTC')
                            + interval '100 years', 'YYYYMM')")
psqlv "DROP TABLE IF EXISTS check_results_$far" >/dev/null
psqlv "INSERT INTO check_results (job_id, number, platform, checked_at) VALUES
         (gen_random_uuid(), '${nums[5]}', 'baidu', '2001-01-15T00:00:00Z'),
         (gen_random_uuid(), '${nums[5]}', 'baidu',
          date_trunc('month', nt_now()) + interval '100 years 3 days')" >/dev/null
assert_eq "rows waiting in the default partition" \
    "$(psqlv "SELECT count(*) FROM check_results_default WHERE number = '${nums[5]}'")" 2
"$PRODUCER" history maintain
assert_eq "default partition empty after maintenance" \
    "$(psqlv "SELECT count(*) FROM check_results_default")" 0
assert_eq "the future row in its month's partition" \
    "$(psqlv "SELECT tableoid::regclass FROM check_results WHERE number = '${nums[5]}'
              AND checked_at > nt_now()")" "check_results_$far"
assert_eq "the month past history.keep_months dropped, with its row" \
    "$(psqlv "SELECT count(*) FROM check_results WHERE number = '${nums[5]}'
              AND checked_at < '2002-01-01'")|$(psqlv "SELECT to_regclass('check_results_200101')")" "0|"
"$PRODUCER" history | grep -E "settings|check_results_$far|rollup"
log "PASS"
