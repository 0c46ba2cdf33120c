#!/usr/bin/env bash
# Fault scenario pg_refuses_writes: the database takes no writes for a while, twice, mid-run.
#   1. read-only for 15 s: ALTER DATABASE … SET default_transaction_read_only = on and the
#      workers' sessions terminated (what a failover or a storage-protection mode does); every
#      write fails with 25006 on the sessions they open again;
#   2. disk full for 15 s: every write of the run's rows fails with SQLSTATE 53100 (a trigger
#      raises it, as a full disk does for every extension of a table).
# Neither is a reason to kill a job: claims, results and dead letters wait and are written
# when the database takes writes again. Nothing lost or doubled, no job dead or failed, no
# dead letter at all, and /readyz says 503 while results are not being committed and 200 after.
. "$(dirname "$0")/faultlib.sh"
FAULT_NUMBERS=1200
FAULT_TAG_NUMBERS=240
fault_setup pg_refuses_writes 311
fault_fleet
fault_enqueue
FAULT_ALL_DONE="the database only refused writes for a while"
fault_start_worker NUMTRUST_WORKER_METRICS_LISTEN=127.0.0.1:0 NUMTRUST_WORKER_READY_STALL_S=3
fault_start_worker
fault_wait_progress 0.20
fault_check_alive

# psql that writes even while the database defaults to read-only (startup options win over
# ALTER DATABASE settings)
psqlw() { PGOPTIONS="-c default_transaction_read_only=off" psqlv "$1"; }
db=$(psqlv "SELECT current_database()")
ops=$(fault_ops_url 0)

log "phase 1: database $db read-only for 15 s, the workers' sessions terminated"
FAULT_RESTORE="psqlw \"ALTER DATABASE \\\"$db\\\" RESET default_transaction_read_only\" >/dev/null"
psqlw "ALTER DATABASE \"$db\" SET default_transaction_read_only = on" >/dev/null
psqlv "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid()
         AND backend_type = 'client backend'" >/dev/null
fault_sample_readyz "$ops" 15 "$NT_TMP/readyz-ro"
psqlw "ALTER DATABASE \"$db\" RESET default_transaction_read_only" >/dev/null
FAULT_RESTORE=""
log "phase 1 over: $(fault_final_count) of $FAULT_JOBS jobs final"
fault_check_alive
fault_wait_ready "$ops" 30 # phase 2 starts from a database that commits again

log "phase 2: every write of the run's rows fails with 53100 (disk full) for 15 s"
tables=(jobs check_results tag_updates appeals marks number_platforms dead_letters)
drop_sql="SET client_min_messages = warning; DROP FUNCTION IF EXISTS nt_fault_disk_full() CASCADE"
FAULT_RESTORE="psqlv '$drop_sql' >/dev/null"
{
    echo "CREATE FUNCTION nt_fault_disk_full() RETURNS trigger LANGUAGE plpgsql AS \$\$
          BEGIN RAISE EXCEPTION 'could not extend file: No space left on device (fault test)'
                USING ERRCODE = '53100'; END \$\$;"
    for t in "${tables[@]}"; do
        col=number
        [ "$t" = dead_letters ] && col=reason # no number column: every dead letter refused
        echo "CREATE TRIGGER nt_fault_disk_full BEFORE INSERT OR UPDATE ON $t FOR EACH ROW
              WHEN (NEW.$col LIKE '$FAULT_PREFIX%' OR '$t' = 'dead_letters')
              EXECUTE FUNCTION nt_fault_disk_full();"
    done
} | psql "$NUMTRUST_PG_CONNINFO" -X -q -v ON_ERROR_STOP=1 >/dev/null
fault_sample_readyz "$ops" 15 "$NT_TMP/readyz-full"
psqlv "$drop_sql" >/dev/null
FAULT_RESTORE=""
log "phase 2 over: $(fault_final_count) of $FAULT_JOBS jobs final"
fault_check_alive
fault_ended
fault_wait_ready "$ops" 30

fault_extra_checks() {
    local dl
    dl=$(psqlv "SELECT count(*) FROM dead_letters WHERE job_id IN
                (SELECT id FROM jobs WHERE $FAULT_MINE)")
    log "dead letters of the run: $dl"
    [ "$dl" = 0 ] || FAULT_BUGS+=("$dl dead letters: refused writes killed jobs")
    fault_check_readyz "$NT_TMP/readyz-ro" "read-only"
    fault_check_readyz "$NT_TMP/readyz-full" "disk full"
}
fault_finish
