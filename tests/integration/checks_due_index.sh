#!/usr/bin/env bash
# Issue 14, migrations 013, 015, 016 and 017: the check-due selection read through
# the index on last_checked_at (013), with each candidate's cycle as an expression
# instead of a sub-select (015), the enabled-platform join inside each branch of
# the candidates (016) and the budget window only for tenants with a budget (017),
# selects exactly what 012's definition selected for active numbers; a disabled
# number is not due and does not take its tenant's budget (017). A fleet of 6
# tenants x 300 numbers on 3 platforms (and a disabled one) over every
# scenario: a tenant over its mark-rate target, numbers in number_risk, a
# policy with mark_check_every 0 and a monthly cycle, a tenant-and-scenario
# policy, a budget that defers, a price in another currency, never-checked
# registrations and last checks from minutes to 200 days old. checks_due is
# compared with 012's view (read from its migration) both ways over this fleet (the shared
# database holds other tests' numbers, some disabled, which 012 still counts), under three
# settings:
# as built; nobody over target (the cutoff then later than the risk cycle, so
# the number_risk registrations come only through their own branch); no
# policy at all (no cutoff). All in one transaction, rolled back: nothing is
# left in the shared database.
. "$(dirname "$0")/lib.sh"
nt_setup duidx
t=itdue$$
out=$NT_TMP/compare.out

# 012's definition, read from the migration itself (the view's statement, renamed)
old_view=$(sed -n '/^CREATE OR REPLACE VIEW checks_due AS$/,/;$/p' "$NT_REPO/deploy/sql/012_now_once.sql" |
    sed '1s/.*/CREATE TEMP VIEW checks_due_old AS/')
[ "$(grep -c 'FROM number_platforms np' <<<"$old_view")" -eq 1 ] ||
    fail "012's checks_due not found in deploy/sql/012_now_once.sql"
{
    printf 'BEGIN;\n%s\n' "$old_view"
    cat <<'SQL'
-- the fleet: tenants a..f, 300 numbers each over the four scenarios, 3 platforms
INSERT INTO platforms (id, enabled) VALUES ('baidu', true), ('tencent', true), ('cmcc', true)
ON CONFLICT (id) DO NOTHING;
INSERT INTO platforms (id, enabled) VALUES (:'t' || 'off', false);
INSERT INTO platform_prices (platform, op, amount, currency)
VALUES ('cmcc', 'check', 0.02, 'CNY'), ('tencent', 'check', 0.01, 'USD')
ON CONFLICT (platform, op) DO UPDATE SET amount = excluded.amount, currency = excluded.currency;
INSERT INTO tenants (id) SELECT :'t' || x FROM unnest('{a,b,c,d,e,f}'::text[]) x;
-- b over its target, f under it; c: no mark check, a monthly cycle; d: a budget half spent;
-- e: a 3-day cycle and a 2-day mark check in one scenario
INSERT INTO tenant_status (tenant_id, registrations, marked, mark_rate, target, over_target,
                           updated_at)
VALUES (:'t' || 'b', 100, 9, 0.09, 0.03, true, nt_now()),
       (:'t' || 'f', 100, 1, 0.01, 0.03, false, nt_now());
INSERT INTO policies (tenant_id, scenario_id, check_every, mark_check_every)
VALUES (:'t' || 'c', '*', interval '1 mon', interval '0');
INSERT INTO policies (tenant_id, scenario_id, monthly_budget, budget_currency)
VALUES (:'t' || 'd', '*', 1.00, 'CNY');
INSERT INTO policies (tenant_id, scenario_id, check_every, mark_check_every)
VALUES (:'t' || 'e', 'seasonal', interval '3 days', interval '2 days');
INSERT INTO cost_ledger (job_id, op, number, platform, tenant_id, scenario_id, amount, currency,
                         at, month)
VALUES (gen_random_uuid(), 'check', '+8625100000001', 'cmcc', :'t' || 'd', 'individual', 0.50,
        'CNY', nt_now(), nt_month(nt_now()));
SELECT setseed(0.14);
INSERT INTO numbers (number, tenant_id, scenario_id, base_label)
SELECT '+86251' || k || lpad(i::text, 5, '0'), :'t' || x,
       (ARRAY['high_frequency', 'seasonal', 'high_qualification', 'individual'])[1 + i % 4],
       'due-' || i
FROM unnest('{a,b,c,d,e,f}'::text[]) WITH ORDINALITY u(x, k), generate_series(1, 300) i;
INSERT INTO number_platforms (number, platform, last_checked_at)
SELECT n.number, p, CASE WHEN random() < 0.1 THEN NULL
                         ELSE nt_now() - random() * random() * interval '200 days' END
FROM numbers n, unnest(ARRAY['baidu', 'tencent', 'cmcc', :'t' || 'off']) p
WHERE n.tenant_id LIKE :'t' || '_';
INSERT INTO number_risk (number, reason, since, computed_at)
SELECT number, (ARRAY['recent_mark', 'falling_trust', 'callee_reports'])[1 + (random() * 2)::int],
       nt_now(), nt_now()
FROM numbers WHERE tenant_id LIKE :'t' || '_' AND random() < 0.1;
-- a few checked just before and after the risk cycle, the mark check and a month
UPDATE number_platforms np
SET last_checked_at = nt_now() - (ARRAY[interval '1 day', interval '7 days', interval '1 mon',
                                       interval '30 days', interval '2 days'])[1 + i % 5]
                               + (i % 3 - 1) * interval '1 second'
FROM (SELECT number, row_number() OVER (ORDER BY number) AS i FROM numbers
      WHERE tenant_id LIKE :'t' || '_' AND number LIKE '%7') s
WHERE np.number = s.number AND np.platform = 'cmcc';
-- risky numbers checked a day and a half ago: due on their risk cycle (1 day), not on any other
UPDATE number_platforms np SET last_checked_at = nt_now() - interval '36 hours'
FROM (SELECT number FROM number_risk WHERE number LIKE '+86251%' ORDER BY number LIMIT 30) r
WHERE np.number = r.number AND np.platform = 'baidu';
ANALYZE numbers;
ANALYZE number_platforms;

-- compare: "label|old minus new|new minus old|rows of the fleet|of them deferred|risk only"
CREATE TEMP VIEW compare AS
SELECT (SELECT count(*) FROM (SELECT * FROM checks_due_old WHERE tenant_id LIKE :'t' || '_'
                               EXCEPT ALL
                               SELECT * FROM checks_due WHERE tenant_id LIKE :'t' || '_') d)
           AS old_not_new,
       (SELECT count(*) FROM (SELECT * FROM checks_due WHERE tenant_id LIKE :'t' || '_'
                               EXCEPT ALL
                               SELECT * FROM checks_due_old WHERE tenant_id LIKE :'t' || '_') d)
           AS new_not_old,
       (SELECT count(*) FROM checks_due WHERE tenant_id LIKE :'t' || '_') AS due,
       (SELECT count(*) FROM checks_due
        WHERE tenant_id LIKE :'t' || '_' AND decision = 'deferred_budget') AS deferred,
       (SELECT count(*) FROM checks_due c
        JOIN number_platforms np ON np.number = c.number AND np.platform = c.platform
        WHERE c.tenant_id LIKE :'t' || '_' AND c.reason LIKE 'risk\_%'
          AND np.last_checked_at > nt_now() - interval '2 days') AS risk_recent;
SELECT 'built', * FROM compare;
UPDATE tenant_status SET over_target = false WHERE tenant_id = :'t' || 'b';
SELECT 'none_over', * FROM compare;
SAVEPOINT p;
DELETE FROM policies;
SELECT 'no_policy', * FROM compare;
ROLLBACK TO p;
-- 017: a disabled number is not due, and its checks no longer take tenant d's budget
-- (cmcc checks cost 0.02 CNY against 0.50 left: 25 go). Five of the numbers whose paid
-- check is 'go' are disabled: 012 still gives them 5 of the 25, 017 gives all 25 to
-- active numbers.
CREATE TEMP TABLE d_go AS
SELECT number FROM checks_due
WHERE tenant_id = :'t' || 'd' AND platform = 'cmcc' AND decision = 'go';
UPDATE numbers SET status = 'disabled'
WHERE number IN (SELECT number FROM d_go ORDER BY number LIMIT 5);
SELECT 'disabled',
       (SELECT count(*) FROM checks_due c JOIN numbers n ON n.number = c.number
        WHERE n.status <> 'active') AS inactive_due,
       (SELECT count(*) FROM d_go) AS go_before,
       (SELECT count(*) FROM checks_due
        WHERE tenant_id = :'t' || 'd' AND platform = 'cmcc' AND decision = 'go') AS go_after,
       (SELECT count(*) FROM checks_due_old o JOIN numbers n ON n.number = o.number
        WHERE o.tenant_id = :'t' || 'd' AND o.platform = 'cmcc' AND o.decision = 'go'
          AND n.status = 'active') AS go_012,
       (SELECT count(*) FROM checks_due WHERE tenant_id = :'t' || 'd' AND platform = 'cmcc'
        AND decision = 'deferred_budget') AS deferred_after;
ROLLBACK;
SQL
} | psql "$NUMTRUST_PG_CONNINFO" -X -A -t -q -v ON_ERROR_STOP=1 -v t="$t" >"$out" ||
    fail "the comparison failed: $(cat "$out")"
cat "$out"

row() { sed -n "s/^$1|//p" "$out"; }
assert_eq "built: old minus new, new minus old" "$(row built | cut -d'|' -f1,2)" "0|0"
assert_eq "nobody over target: old minus new, new minus old" "$(row none_over | cut -d'|' -f1,2)" "0|0"
assert_eq "no policy: old minus new, new minus old, due" "$(row no_policy | cut -d'|' -f1-3)" "0|0|0"
IFS='|' read -r inactive go_before go_after go_012 deferred_after <<<"$(row disabled)"
assert_eq "017: checks of disabled numbers due" "$inactive" 0
assert_eq "017: tenant d's paid go checks after 5 of their numbers are disabled" "$go_after" "$go_before"
assert_eq "012: the same, its disabled numbers keeping their place" "$go_012" "$((go_before - 5))"
[ "$deferred_after" -gt 0 ] || fail "017: tenant d has no check deferred: the budget is not binding"
log "ok: disabled: $go_after of tenant d's paid checks go to active numbers (012: $go_012)"
for s in built none_over; do
    IFS='|' read -r _ _ due deferred risk <<<"$(row $s)"
    [ "$due" -gt 0 ] || fail "$s: nothing of the fleet due"
    [ "$deferred" -gt 0 ] || fail "$s: no check deferred by the budget"
    [ "$risk" -gt 0 ] || fail "$s: no number_risk registration checked within 2 days due"
    log "ok: $s: $due due, $deferred deferred, $risk risk checks of the last 2 days"
done
log "PASS"
