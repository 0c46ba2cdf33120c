#!/usr/bin/env bash
# Fault scenario poison_mix: every kind of poison message (not JSON, bad UTF-8, a NUL byte,
# oversized, unknown version, not an object, no id, a SQL-like id, deep nesting, garbage),
# invalid jobs (numbers that are not E.164, unknown platforms, SQL-like tenants, ...) and valid
# jobs carrying SQL-like labels and evidence, interleaved with ~10,000 valid jobs in every
# partition of the check, tag, appeal and retry-tier topics: before, between and after the
# enqueued jobs and while the workers run. Poison goes to the dead-letter topic and dead_letters
# with its bytes unchanged, invalid jobs fail with the field named, SQL-like strings are stored
# byte-identical, no partition stalls, no worker crashes, nothing valid is lost or doubled.
. "$(dirname "$0")/faultlib.sh"
fault_setup poison_mix 309
fault_fleet
python3 "$FAULTS_DIR/poison.py" gen --topics-prefix "$NUMTRUST_TOPICS_PREFIX" \
    --check-fleet "$FAULT_CHECK_FLEET" --tag-fleet "$FAULT_TAG_FLEET" --out "$NT_TMP/poison"
npoison=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['poison']))" "$NT_TMP/poison/manifest.json")
# the appeals with SQL-like evidence need their marks at the simulator
while read -r m; do sim POST /admin/marks "$m" >/dev/null; done <"$NT_TMP/poison/marks.jsonl"
produce_batch() { # BATCH
    local b t f n
    while read -r b t f n; do
        [ "$b" = "$1" ] || continue
        kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -P -t "$t" -K '\x1f' -D '\x1e' -l "$f" ||
            fail "kcat could not produce $f"
        log "batch $b: $n messages to $t"
    done <"$NT_TMP/poison/files"
}
produce_batch A
out=$("$PRODUCER" enqueue check --prefix "${FAULT_PREFIX}0" --period "$FAULT_NAME-$$" 2>&1)
echo "$out" | grep '^enqueue' || fail "enqueue check: $out"
nc=$(echo "$out" | sed -n 's/.* \([0-9]*\) delivered.*/\1/p')
produce_batch B
out=$("$PRODUCER" enqueue tag --prefix "${FAULT_PREFIX}1" --period "$FAULT_NAME-$$" 2>&1)
echo "$out" | grep '^enqueue' || fail "enqueue tag: $out"
nt=$(echo "$out" | sed -n 's/.* \([0-9]*\) delivered.*/\1/p')
produce_batch C
FAULT_EXPECT=(--expect "check=$nc" --expect "tag_update=$nt")
FAULT_JOBS=$((nc + nt))
log "enqueued $FAULT_JOBS jobs among the poison"
fault_start_worker
fault_start_worker
fault_wait_progress 0.30
produce_batch D
fault_check_alive
fault_ended
fault_extra_checks() {
    python3 "$FAULTS_DIR/poison.py" verify --topics-prefix "$NUMTRUST_TOPICS_PREFIX" \
        --manifest "$NT_TMP/poison/manifest.json" || FAULT_BUGS+=("poison verification failed")
}
fault_finish --ids "$NT_TMP/poison/ids" --poison "$npoison"
