#!/usr/bin/env bash
# The ledger never claims what was not delivered (issue 8 item 10): with Kafka unreachable,
# `enqueue` fails (exit status 1, saying how many jobs were not delivered) and takes those jobs
# out of the ledger again, so the documented re-run produces them at once instead of skipping
# them as "already known" for an hour.
. "$(dirname "$0")/lib.sh"
nt_setup undelivered
fleet=$(gen_fleet 20 214 baidu,tencent)
"$PRODUCER" import --numbers "$fleet" >/dev/null
P=$NT_TEST_NAME-$$
rc=0
NUMTRUST_KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:21199 NUMTRUST_KAFKA_MESSAGE_TIMEOUT_MS=2000 \
    "$PRODUCER" enqueue check --prefix +86214 --period "$P" >"$NT_TMP/out" 2>&1 || rc=$?
grep -v GETPID "$NT_TMP/out" | grep -v "^%" | tail -n 4
assert_eq "enqueue with Kafka unreachable: exit status" "$rc" 1
grep -q "40 jobs were not delivered; 40 taken out of the ledger" "$NT_TMP/out" ||
    fail "the failure does not say what happened: $(tail -n 3 "$NT_TMP/out")"
assert_eq "ledger rows of the undelivered jobs" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE number LIKE '+86214%'")" 0
out=$("$PRODUCER" enqueue check --prefix +86214 --period "$P" 2>&1 | grep -v GETPID)
echo "$out"
echo "$out" | grep -q "40 selected, 40 produced, 40 delivered, 0 already known" ||
    fail "the re-run after the failure: $out"
assert_eq "queued in the ledger after the re-run" \
    "$(psqlv "SELECT count(*) FROM jobs WHERE number LIKE '+86214%' AND state = 'queued'")" 40
log "PASS"
