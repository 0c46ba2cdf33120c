#!/usr/bin/env bash
# The scale benchmark (tests/bench/scale.sh) at a size CI can afford: 3,000 numbers on 3
# platforms, 500 registrations due, 30 days of rollups. Its figures are not checked here (the
# benchmark is an instrument); what is: every step ran and printed its line, the import was
# analyzed (issue 15.3), every enqueue selection has a plan, and the check-due pass selected
# and delivered exactly the registrations observed more than a week ago.
. "$(dirname "$0")/lib.sh"
nt_setup scalesmall
out=$NT_TMP/scale.out
bash "$NT_REPO/tests/bench/scale.sh" --numbers 3000 --due 500 --days 30 >"$out" 2>"$NT_TMP/scale.err" ||
    { tail -n 20 "$NT_TMP/scale.err"; fail "scale.sh failed"; }
cat "$out"
for step in fleet import observe due year report; do
    grep -q "^bench scale step=$step secs=[0-9.]* " "$out" || fail "no line for step $step"
done
assert_eq "import: registrations, and both tables analyzed" \
    "$(sed -n 's/^bench scale step=import .* registrations=\([0-9]*\) analyzed=\([0-9/]*\) .*/\1 \2/p' "$out")" \
    "9000 2/2"
assert_eq "a plan for every enqueue selection" \
    "$(grep -c '^bench scale plan kind=[a-z-]* total_cost=' "$out")" 6
due=$(sed -n 's/^bench scale step=observe .* observed_8_days_ago=\([0-9]*\) .*/\1/p' "$out")
[ "${due:-0}" -gt 0 ] || fail "no registration set up as due"
assert_eq "check-due: due, selected and delivered" \
    "$(sed -n 's/^bench scale step=due .* due=\([0-9]*\) selected=\([0-9]*\) delivered=\([0-9]*\) .*/\1 \2 \3/p' "$out")" \
    "$due $due $due"
assert_eq "the scale fleet deleted afterwards" \
    "$(psqlv "SELECT count(*) FROM numbers WHERE number LIKE '+869%'")" 0
log "PASS"
