/*
 * retry.h — `numtrust-producer retry`: failed and dead jobs run again, as
 * new attempts the workers accept.
 *
 * A job that ended `failed` or `dead` stays so: the ledger is history, and a
 * worker drops a message whose id is finished. A re-run is a new job: id
 * UUIDv5("retry" | origin | generation), `jobs.retry_of` the job it re-runs,
 * `jobs.origin` the first attempt (kept as the platforms' Idempotency-Key, so
 * a side effect the first attempt got applied is not applied twice), and the
 * same payload, rebuilt from the envelope the ledger kept when the job
 * failed (`jobs.envelope`, migration 004a; a check needs none). The id is
 * deterministic: two retries of the same failure produce one job. A job that
 * was re-run is not selected again (re-run its re-run instead), and the dead
 * letter of a re-run dead job is marked replayed.
 *
 * The reconciler (producer/run.c) calls retry_run to retry failed scheduled
 * work with backoff: backoff_s doubles with each generation and max_gen
 * caps the generations.
 */
#ifndef NT_PRODUCER_RETRY_H
#define NT_PRODUCER_RETRY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"

/* What to re-run; NULL / 0 fields do not filter. Only jobs with an error
 * class (failed or dead since migration 004a) are ever selected. */
typedef struct retry_filter_s {
    const char *job_id;      /* one job (UUID) */
    const char *number;      /* one E.164 number */
    const char *prefix;      /* numbers starting with it ("+86138") */
    const char *platform;    /* platform id */
    const char *type;        /* job type name: "check", "tag_update", ... */
    const char *error_class; /* jobs.error_class: auth, rejected, mapping, request, config,
                              * invalid, unwritable, attempts */
    const char *states;      /* "failed", "dead" or "failed,dead"; NULL: both */
    const char *since;       /* finished at or after: RFC 3339, or a duration back from
                              * now ("2h", "7d") */
    const char *until;       /* finished before; same forms */
    int backoff_s;           /* > 0: only jobs finished at least backoff_s * 2^retry_gen
                              * seconds ago (generation 0 is the first attempt) */
    int max_gen;             /* > 0: only jobs whose retry_gen < max_gen */
    long limit;              /* > 0: at most this many jobs, oldest failures first */
} retry_filter_t;

typedef struct retry_stats_s {
    uint64_t selected;   /* failed or dead jobs that matched */
    uint64_t produced;   /* new attempts handed to Kafka */
    uint64_t delivered;  /* ... and acknowledged */
    uint64_t known;      /* the new attempt was in the ledger already (skipped) */
    uint64_t no_payload; /* nothing to rebuild the job from (skipped): its message was not
                          * a valid job, or it failed before migration 004a */
    uint64_t failed;     /* not delivered (taken out of the ledger again) */
} retry_stats_t;

/* Selects failed and dead jobs by f and produces each again as a new
 * attempt (see above). out: a line per re-run job (the first 20) and a
 * summary line are printed there; NULL prints nothing but errors. dry_run:
 * select and print, produce and record nothing. st (may be NULL) receives
 * the counts. Returns 0, 1 after printing why to stderr (database, Kafka,
 * undelivered jobs), 2 for a filter that is not valid (printed). */
int retry_run(cli_t *cli, const retry_filter_t *f, bool dry_run, FILE *out, retry_stats_t *st);

int cmd_retry(cli_t *cli, int argc, char **argv);

#endif
