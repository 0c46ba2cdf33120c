#!/usr/bin/env bash
# Acceptance (c) of the foundation: malformed messages and a job with an
# invalid number on a topic neither stall their partition nor crash the
# worker. Poison (not JSON, bad UTF-8, oversized, unknown version) goes to
# the dead-letter topic with its raw bytes and a row in dead_letters; the
# invalid job is recorded as failed with its reason; the valid job behind
# them, on the same partition, is processed. A SQL-like label is stored
# byte-identical.
. "$(dirname "$0")/lib.sh"
nt_setup poison
sim_reset

fleet=$(gen_fleet 20 202)
"$PRODUCER" import --numbers "$fleet"
key=$(sed -n 2p "$fleet" | cut -d, -f2)     # every message below has this key: one partition
topic="$NUMTRUST_TOPICS_PREFIX.check"
tagtopic="$NUMTRUST_TOPICS_PREFIX.tag"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)

printf '{"v":1,"id":"not json' >"$NT_TMP/m1"
printf '{"v":1,"id":"6f1c1c1e-0000-5000-8000-00000000000\xff","type":"check"}' >"$NT_TMP/m2"
python3 -c "print('{\"v\":1,\"pad\":\"' + 'x' * 70000 + '\"}', end='')" >"$NT_TMP/m3"
printf '{"v":2,"id":"6f1c1c1e-0000-5000-8000-000000000002","type":"check"}' >"$NT_TMP/m4"
bad_id=$(python3 -c "import uuid; print(uuid.uuid4())") # its own per run: invalid rows are not purged
printf '{"v":1,"id":"%s","type":"check","number":"13800138000","platform":"baidu","tenant":"t","attempt":0,"created_at":"%s","payload":{}}' \
    "$bad_id" "$now" >"$NT_TMP/m5"
good_id=6f1c1c1e-0000-5000-8000-000000000006
printf '{"v":1,"id":"%s","type":"check","number":"%s","platform":"tencent","tenant":"tenant01","attempt":0,"created_at":"%s","payload":{}}' \
    "$good_id" "$key" "$now" >"$NT_TMP/m6"
sql_label="'); DROP TABLE jobs; --"
sql_id=6f1c1c1e-0000-5000-8000-000000000007
python3 - "$sql_id" "$key" "$now" "$sql_label" >"$NT_TMP/m7" <<'PY'
import json, sys
print(json.dumps({"v": 1, "id": sys.argv[1], "type": "tag_update", "number": sys.argv[2],
                  "platform": "tencent", "tenant": "tenant01", "attempt": 0,
                  "created_at": sys.argv[3], "payload": {"label": sys.argv[4]}},
                 ensure_ascii=False), end="")
PY
for m in m1 m2 m3 m4 m5 m6; do produce_raw "$topic" "$key" "$NT_TMP/$m"; done
produce_raw "$tagtopic" "$key" "$NT_TMP/m7"
log "produced 4 poison messages, 1 invalid job, 1 valid check and 1 tag update with a SQL-like label"

start_worker
wait_sql "SELECT count(*) FROM check_results WHERE job_id = '$good_id'" 1 60
wait_sql "SELECT count(*) FROM dead_letters WHERE source_topic = '$topic'" 4 30
# an invalid message is recorded under an id of its own, naming the id it claimed
wait_sql "SELECT state FROM jobs WHERE last_error LIKE '%claimed job id $bad_id%'" failed 30
wait_sql "SELECT count(*) FROM jobs WHERE id = '$sql_id' AND state IN ('done', 'failed')" 1 30
for _ in $(seq 1 30); do [ "$(group_lag)" = 0 ] && break; sleep 1; done
stop_all_workers

assert_eq "invalid job's reason names the field" \
    "$(psqlv "SELECT last_error LIKE 'field number:%' FROM jobs
              WHERE last_error LIKE '%claimed job id $bad_id%'")" t
psqlv "SELECT source_offset, reason FROM dead_letters WHERE source_topic = '$topic' ORDER BY 1"
assert_eq "dead letters with a reason" \
    "$(psqlv "SELECT count(*) FROM dead_letters WHERE source_topic = '$topic' AND reason <> ''")" 4
# the raw bytes are kept unchanged, in PostgreSQL and on the dead-letter topic; of the
# oversized one (m3, over job.max_bytes) its first job.max_bytes, its size and the SHA-256 of
# all its bytes
for i in 1 2 3 4; do
    want=$(sha256sum <"$NT_TMP/m$i" | cut -c1-64)
    got=$(psqlv "SELECT raw_sha256 || ' ' || raw_size FROM dead_letters WHERE source_topic = '$topic'
                 ORDER BY source_offset OFFSET $((i - 1)) LIMIT 1")
    assert_eq "size and hash of poison message $i in dead_letters" "$got" "$want $(wc -c <"$NT_TMP/m$i")"
    [ "$i" = 3 ] && want=$(head -c 65536 "$NT_TMP/m3" | sha256sum | cut -c1-64)
    got=$(psqlv "SELECT encode(sha256(raw), 'hex') FROM dead_letters WHERE source_topic = '$topic'
                 ORDER BY source_offset OFFSET $((i - 1)) LIMIT 1")
    assert_eq "raw bytes of poison message $i in dead_letters" "$got" "$want"
done
kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -C -t "$NUMTRUST_TOPICS_PREFIX.dead" -o beginning -e -q \
    -f '%h\n' >"$NT_TMP/dead-headers"
assert_eq "messages on the dead-letter topic with source headers" \
    "$(grep -c "source_topic=$topic" "$NT_TMP/dead-headers")" 4
grep -q 'error=' "$NT_TMP/dead-headers" || fail "dead-letter headers lack error="
if [ "$(psqlv "SELECT state FROM jobs WHERE id = '$sql_id'")" = "done" ]; then
    assert_eq "SQL-like label stored byte-identical" \
        "$(psqlv "SELECT label FROM tag_updates WHERE job_id = '$sql_id'")" "$sql_label"
else
    # the platform may refuse a label; then the failure is recorded
    log "tag update refused by the platform: $(psqlv "SELECT last_error FROM jobs WHERE id = '$sql_id'")"
fi
assert_eq "jobs table still exists and holds the valid check" \
    "$(psqlv "SELECT state FROM jobs WHERE id = '$good_id'")" "done"
assert_eq "committed consumer-group lag" "$(group_lag)" 0
log "PASS"
