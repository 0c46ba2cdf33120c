#!/usr/bin/env bash
# Fault scenario duplicate_delivery: after a run of ~10,000 jobs has completed (committed lag
# 0), the workers stop and every message of some partitions is delivered again: partition 0 of
# the check topic by resetting the group's offset to the earliest, partition 1 of the tag topic
# by producing each of its messages a second time. The restarted workers must recognise them
# all as duplicates (the ledger says they are finished): no second result, no second platform
# call for a tag update, no second side effect.
. "$(dirname "$0")/faultlib.sh"
fault_setup duplicate_delivery 310
fault_fleet
fault_enqueue
fault_start_worker
fault_start_worker
# the run itself, to completion
FAULT_T_END=$(date +%s.%N)
FAULT_LAG_LIMIT_S=$FAULT_FINISH_TIMEOUT_S fault_wait_lag0
FAULT_LAG0_S=na
fault_check_alive
fault_stop_all
fault_mark_gone 0
fault_mark_gone 1
sim GET /admin/counters >"$NT_TMP/counters-before.json"
platform_calls() { python3 -c "import json,sys; c=json.load(sys.stdin)['by_endpoint']; print(sum(v for k, v in c.items() if k != 'admin'))"; }
calls_before=$(platform_calls <"$NT_TMP/counters-before.json")
check_topic=$NUMTRUST_TOPICS_PREFIX.check
tag_topic=$NUMTRUST_TOPICS_PREFIX.tag
# 1. the group's offset of check partition 0 back to the earliest
"$NT_STACK" kafka-groups --group "$NUMTRUST_WORKER_GROUP_ID" --reset-offsets --to-earliest \
    --topic "$check_topic:0" --execute >"$NT_TMP/reset.out" 2>&1 || { cat "$NT_TMP/reset.out"; fail "offset reset failed"; }
replayed_checks=$(awk -v t="$check_topic" '$2 == t && $3 == 0 { print $4 }' "$NT_TMP/reset.out")
n_check=$(kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -C -t "$check_topic" -p 0 -o beginning -e -q -f 'x\n' | wc -l)
log "check partition 0: group offset reset to ${replayed_checks:-?}; $n_check messages delivered again"
# 2. every message of tag partition 1 produced again
kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -C -t "$tag_topic" -p 1 -o beginning -e -q \
    -f '%k\x1f%s\x1e' >"$NT_TMP/tag-p1.bin"
n_tag=$(tr -cd '\036' <"$NT_TMP/tag-p1.bin" | wc -c)
kcat -b "$NUMTRUST_KAFKA_BOOTSTRAP_SERVERS" -P -t "$tag_topic" -p 1 -K '\x1f' -D '\x1e' -l "$NT_TMP/tag-p1.bin"
log "tag partition 1: $n_tag messages produced again"
[ "$n_check" -gt 0 ] && [ "$n_tag" -gt 0 ] || fail "nothing to deliver again"
fault_start_worker
fault_start_worker
fault_ended
fault_extra_checks() {
    local dups calls_after
    dups=$(fault_worker_sum duplicate)
    log "duplicates recognised by the workers: $dups (delivered again: $n_check checks + $n_tag tag updates)"
    [ "$dups" -ge $((n_check + n_tag)) ] ||
        FAULT_BUGS+=("workers recognised $dups duplicates of $((n_check + n_tag)) messages delivered again")
    calls_after=$(sim GET /admin/counters | platform_calls)
    log "simulator: $((calls_after - calls_before)) platform calls since the replay began"
    [ "$calls_after" = "$calls_before" ] ||
        FAULT_BUGS+=("$((calls_after - calls_before)) platform calls for jobs that were already finished")
}
fault_finish
