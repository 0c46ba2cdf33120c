#!/usr/bin/env bash
# Issue 10, acceptance: costs add up to the operations the simulator counted,
# and the budget cap defers routine checks and never service-level work.
# 20 numbers on baidu (dialect A), tencent (B) and cmcc (D, the only platform
# of its dialect here, whose checks cost 0.02 CNY) are checked, get their
# labels pushed and their marks appealed; the cost ledger, written by the
# result tables' triggers at the prices of platforms.json, must equal the
# simulator's counts (GET /admin/counters, by dialect and endpoint) times
# those prices, platform by platform. Then the tenant's monthly budget is set
# 5 cmcc checks above its spending: a week on (every number's weekly mark
# check is due) check-due takes 5 cmcc checks and defers the other 15 — the
# free platforms' checks go — while an appeal (50 CNY on cmcc) is still
# enqueued and filed with the budget spent. Numtrust time is reset on exit.
. "$(dirname "$0")/lib.sh"
nt_setup slacost
sim_reset
trap '"$PRODUCER" clock set --offset 0 --force >/dev/null || true; sim_reset; nt_cleanup' EXIT
"$PRODUCER" clock set --offset 0 --force >/dev/null
export NUMTRUST_WORKER_APPEAL_FAST_PATH=false

tenant=it-cost-$$
mapfile -t nums < <(sla_fleet "$tenant" 2064 20 baidu,tencent,cmcc individual)
mine="number LIKE '+862064%'"
pfx=+862064
"$PRODUCER" costs prices | head -1
sim POST /admin/counters/reset >/dev/null
start_worker

# --- checks, label pushes, appeals
for i in 0 1 2; do
    for p in baidu tencent cmcc; do
        sim POST /admin/marks "{\"platform\":\"$p\",\"number\":\"${nums[$i]}\",\"type\":\"harassment\",\"count\":4}" >/dev/null
    done
done
"$PRODUCER" enqueue check --prefix $pfx --period "k1-$$" | grep enqueue
wait_sql "SELECT count(*) FROM check_results WHERE $mine" 60 60
"$PRODUCER" enqueue tag --prefix $pfx --period "k1-$$" | grep enqueue
"$PRODUCER" enqueue appeal --prefix $pfx | grep enqueue
wait_sql "SELECT count(*) FROM jobs WHERE $mine AND state NOT IN ('done', 'failed', 'dead')" 0 60
assert_eq "jobs that did not end done" "$(psqlv "SELECT count(*) FROM jobs WHERE $mine AND state <> 'done'")" 0

counters=$(sim GET /admin/counters)
# the simulator's counts times the prices of platforms.json, per platform and operation
expected=$(python3 - "$NUMTRUST_PLATFORMS_FILE" "$counters" <<'PY'
import json, sys
prices = {p["id"]: p["prices"] for p in json.load(open(sys.argv[1]))["platforms"]}
ep = json.loads(sys.argv[2])["by_endpoint"]
rows = []
for platform, dialect in (("baidu", "a"), ("tencent", "b"), ("cmcc", "d")):
    names = {"a": ("a.check", "a.tag", "a.appeal"), "b": ("b.check", "b.tag", "b.appeal"),
             "d": ("d.check", "d.card", "d.complaint")}[dialect]
    for op, name in zip(("check", "label_update", "appeal"), names):
        n = ep[name]
        price = prices[platform][op]
        if n and price:
            rows.append("%s %s %d %.2f" % (platform, op, n, n * price))
print("\n".join(sorted(rows)))
PY
)
ledger=$(psqlv "SELECT platform || ' ' || op || ' ' || count(*) || ' ' || to_char(sum(amount), 'FM999990.00')
                FROM cost_ledger WHERE tenant_id = '$tenant' GROUP BY platform, op ORDER BY 1")
log "simulator counts x prices:"$'\n'"$expected"
log "cost ledger:"$'\n'"$ledger"
[ -n "$ledger" ] || fail "the cost ledger is empty"
assert_eq "cost ledger against the simulator's counts (platform, op, operations, amount)" \
    "$ledger" "$expected"
total=$(psqlv "SELECT to_char(sum(amount), 'FM999990.00') FROM cost_ledger WHERE tenant_id = '$tenant'")
"$PRODUCER" costs --tenant "$tenant" | tee "$NT_TMP/costs.out"
grep -q " $total " "$NT_TMP/costs.out" || fail "costs report does not show the total $total"
"$PRODUCER" costs --tenant "$tenant" --by platform

# --- the budget: a week on, 5 cmcc checks left in it
"$PRODUCER" clock advance 8d >/dev/null
spent=$(psqlv "SELECT spent FROM tenant_budgets WHERE tenant_id = '$tenant'")
"$PRODUCER" policy set --tenant "$tenant" "monthly_budget=$(echo "$spent + 0.10" | bc)" >/dev/null
"$PRODUCER" sla pass >/dev/null
assert_eq "routine checks due, by platform and decision" \
    "$(psqlv "SELECT string_agg(platform || ' ' || decision || ' ' || n, ', ' ORDER BY platform, decision)
              FROM (SELECT platform, decision, count(*) AS n FROM checks_due
                    WHERE tenant_id = '$tenant' GROUP BY 1, 2) d")" \
    "baidu go 20, cmcc deferred_budget 15, cmcc go 5, tencent go 20"
"$PRODUCER" enqueue check --due --tenant "$tenant" | tee "$NT_TMP/due.out"
grep -q " 45 produced" "$NT_TMP/due.out" || fail "check-due did not take 45"
grep -Eq "15 routine checks deferred|deferred_budget 15" "$NT_TMP/due.out" || fail "check-due did not defer 15"
wait_sql "SELECT count(*) FROM check_results WHERE $mine" 105 60
assert_eq "spent against the budget after the checks" \
    "$(psqlv "SELECT spent = budget FROM tenant_budgets WHERE tenant_id = '$tenant'")" t

# service-level work is never deferred: a new fraud mark on cmcc is appealed
victim=${nums[10]}
sim POST /admin/marks "{\"platform\":\"cmcc\",\"number\":\"$victim\",\"type\":\"fraud\",\"count\":3}" >/dev/null
"$PRODUCER" enqueue check --number "$victim" --platform cmcc --period "k2-$$" >/dev/null
wait_sql "SELECT count(*) FROM marks WHERE number = '$victim' AND type = 'fraud'" 1 60
"$PRODUCER" enqueue appeal --tenant "$tenant" | tee "$NT_TMP/appeal.out"
grep -q ": 1 selected, 1 produced" "$NT_TMP/appeal.out" || fail "the appeal was not enqueued"
wait_sql "SELECT count(*) FROM appeals WHERE number = '$victim' AND mark_type = 'fraud'" 1 60
assert_eq "over budget after the appeal (spent - budget, CNY)" \
    "$(psqlv "SELECT to_char(spent - budget, 'FM990.00') FROM tenant_budgets WHERE tenant_id = '$tenant'")" \
    "50.02"
"$PRODUCER" sla pass >/dev/null
assert_eq "cmcc checks going over the budget now" \
    "$(psqlv "SELECT count(*) FROM checks_due WHERE tenant_id = '$tenant' AND platform = 'cmcc' AND decision = 'go'")" 0
stop_all_workers
log "PASS"
