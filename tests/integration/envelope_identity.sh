#!/usr/bin/env bash
# Messages that lie about their identity (issue 8 item 12):
#  1. an invalid envelope carrying a valid job's id, delivered before that job: it is recorded
#     failed under an id of its own (naming the id it claimed), and the valid job is done;
#  2. a valid check keyed with another number (so it sits in that number's partition): it goes
#     to the dead-letter topic saying so, and `dead replay` runs it keyed by its own number.
. "$(dirname "$0")/lib.sh"
nt_setup identity
sim_reset
fleet=$(gen_fleet 3 218 baidu)
"$PRODUCER" import --numbers "$fleet" >/dev/null
a=$(sed -n 2p "$fleet" | cut -d, -f2)
b=$(sed -n 3p "$fleet" | cut -d, -f2)
ten=$(sed -n 2p "$fleet" | cut -d, -f1)
topic=$NUMTRUST_TOPICS_PREFIX.check
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
id=$(python3 -c "import uuid; print(uuid.uuid4())")
other=$(python3 -c "import uuid; print(uuid.uuid4())")
envelope() { # ID NUMBER
    printf '{"v":1,"id":"%s","type":"check","number":"%s","platform":"baidu","tenant":"%s","attempt":0,"created_at":"%s","payload":{}}' \
        "$1" "$2" "$ten" "$now"
}
printf '{"v":1,"id":"%s","type":"check","number":"not-a-number","platform":"baidu","tenant":"%s","attempt":0,"created_at":"%s","payload":{}}' \
    "$id" "$ten" "$now" >"$NT_TMP/invalid"
envelope "$id" "$a" >"$NT_TMP/valid"
envelope "$other" "$a" >"$NT_TMP/miskeyed"
produce_raw "$topic" "$a" "$NT_TMP/invalid"
produce_raw "$topic" "$a" "$NT_TMP/valid"
produce_raw "$topic" "$b" "$NT_TMP/miskeyed"
start_worker
wait_sql "SELECT state FROM jobs WHERE id = '$id'" 'done' 60
assert_eq "the invalid message, under an id of its own" \
    "$(psqlv "SELECT state || ' ' || error_class || ' ' || (id <> '$id') FROM jobs
              WHERE last_error LIKE 'field number:%claimed job id $id%'")" "failed invalid true"
assert_eq "check results of the valid job" \
    "$(psqlv "SELECT count(*) FROM check_results WHERE job_id = '$id'")" 1
wait_sql "SELECT state FROM jobs WHERE id = '$other'" dead 60
psqlv "SELECT reason FROM dead_letters WHERE job_id = '$other'" | tee "$NT_TMP/reason"
grep -q "is not the job's number" "$NT_TMP/reason" || fail "the dead letter does not say why"
assert_eq "check results of the miskeyed job before the replay" \
    "$(psqlv "SELECT count(*) FROM check_results WHERE job_id = '$other'")" 0
"$PRODUCER" dead replay --job "$other" | grep replayed
wait_sql "SELECT state FROM jobs WHERE id = '$other'" 'done' 60
kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -C -t "$topic" -o beginning -e -q -f '%k %s\n' |
    grep "$other" | awk '{print $1}' | sort >"$NT_TMP/keys"
assert_eq "keys of the miskeyed job's messages (as sent and as replayed, sorted)" \
    "$(tr '\n' ' ' <"$NT_TMP/keys")" "$(printf '%s\n' "$b" "$a" | sort | tr '\n' ' ')"
stop_all_workers
log "PASS"
