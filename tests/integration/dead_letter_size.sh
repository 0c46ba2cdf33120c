#!/usr/bin/env bash
# A dead letter always fits (issue 8 item 3). Poison messages at the size boundaries go to the
# dead-letter topic and dead_letters without blocking their partition: exactly job.max_bytes
# (65536, kept whole), one byte more (kept in part), 1,000,001 bytes (over the producer's
# message.max.bytes) and 1,040,000 bytes (near the broker's limit). A dead letter keeps at most
# job.max_bytes of a message, with its full size and the SHA-256 of all its bytes; the checks
# produced behind them on the same partition are done and the committed lag falls to 0.
. "$(dirname "$0")/lib.sh"
nt_setup deadsize
fleet=$(gen_fleet 3 215 baidu,tencent)
"$PRODUCER" import --numbers "$fleet" >/dev/null
key=$(sed -n 2p "$fleet" | cut -d, -f2)
topic=$NUMTRUST_TOPICS_PREFIX.check
python3 - "$NT_TMP" <<'PY'
import hashlib, os, sys
out = sys.argv[1]
with open(os.path.join(out, "expect"), "w") as f:
    for i, n in enumerate((65536, 65537, 1000001, 1040000)):
        body = (b"not json %d " % n) + b"x" * n
        body = body[:n]
        open(os.path.join(out, "big-%d" % i), "wb").write(body)
        f.write("%d %s %d\n" % (n, hashlib.sha256(body).hexdigest(), min(n, 65536)))
PY
for i in 0 1 2 3; do
    kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -X message.max.bytes=1100000 -P -t "$topic" \
        -k "$key" "$NT_TMP/big-$i" || fail "kcat could not produce big-$i"
done
log "4 poison messages of 65536 to 1,040,000 bytes produced with key $key"
start_worker
"$PRODUCER" enqueue check --prefix +86215 --period "$NT_TEST_NAME-$$" | grep enqueue
wait_sql "SELECT count(*) >= 6 FROM jobs WHERE number LIKE '+86215%' AND type = 'check' AND state = 'done'" t 60
for _ in $(seq 1 30); do
    [ "$(group_lag)" = 0 ] && break
    sleep 1
done
assert_eq "committed lag" "$(group_lag)" 0
got=$(psqlv "SELECT raw_size || ' ' || raw_sha256 || ' ' || length(raw) FROM dead_letters
             WHERE source_topic = '$topic' ORDER BY raw_size")
assert_eq "dead letters (size, sha256, bytes kept)" "$got" "$(cat "$NT_TMP/expect")"
kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -C -t "$NUMTRUST_TOPICS_PREFIX.dead" -o beginning -e -q \
    -f '%S %h\n' | sed 's/,error=[^,]*//' >"$NT_TMP/dead"
assert_eq "dead-letter messages" "$(wc -l <"$NT_TMP/dead")" 4
while read -r n sha kept; do
    grep -q "^$kept .*raw_size=$n,raw_sha256=$sha" "$NT_TMP/dead" ||
        fail "no dead-letter message of $kept bytes for the $n-byte message: $(cut -c1-300 "$NT_TMP/dead")"
done <"$NT_TMP/expect"
assert_eq "dead letters marked truncated" "$(grep -c 'raw_truncated=true' "$NT_TMP/dead")" 3
stop_all_workers
log "PASS"
