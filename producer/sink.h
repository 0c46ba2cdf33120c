/*
 * sink.h — where the producer sends jobs: the jobs ledger in PostgreSQL,
 * then Kafka, in batches, with every delivery report checked.
 *
 * A job is recorded in the ledger (state queued) before it is produced. A
 * job the ledger already knows is skipped: finished ones always (the
 * workers would drop them; `numtrust-producer retry` runs failed and dead
 * ones again as new jobs), unfinished ones touched in the last hour unless
 * forced (they are on Kafka already, the workers may just be busy or down);
 * an unfinished job untouched for an hour is produced again in case its
 * message was lost before it reached Kafka. So enqueuing the same
 * deterministic ids twice does no work twice. A job Kafka did not
 * acknowledge is taken out of the ledger again (if no worker has touched
 * it), so the ledger never claims what was not delivered and enqueuing again
 * produces it at once. Messages are keyed by number, so one number's jobs
 * stay in order.
 */
#ifndef NT_SINK_H
#define NT_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "job.h"
#include "kafka.h"
#include "pg.h"

typedef struct sink_s sink_t;

typedef struct sink_stats_s {
    uint64_t offered;    /* jobs given to the sink */
    uint64_t skipped;    /* queued or running already (on Kafka; not forced) */
    uint64_t finished;   /* done, failed or dead in the ledger: never produced */
    uint64_t produced;   /* handed to librdkafka */
    uint64_t delivered;  /* acknowledged by the broker */
    uint64_t failed;     /* not delivered (reported on stderr) */
    uint64_t unrecorded; /* of those, taken out of the ledger again */
} sink_stats_t;

/* @returns a new sink; free with sink_free() after sink_finish(). force:
 * produce unfinished jobs the ledger knows whatever their age (never
 * finished ones). progress: print a line to stderr every `progress` jobs
 * (0: never). */
sink_t *sink_new(const nt_config_t *cfg, nt_pg_t *pg, bool force, uint64_t progress, nt_err_t *err);

/* Offers one job (copied). 0, or a negative code when the ledger write
 * failed (err set). */
int sink_add(sink_t *s, const nt_job_t *job, nt_err_t *err) NT_MUSTCHECK;

/* Offers a re-run of the job retry_of (job->origin set, gen its retry
 * generation): recorded with both in the ledger. As sink_add. */
int sink_add_rerun(sink_t *s, const nt_job_t *job, const char *retry_of, int gen,
                   nt_err_t *err) NT_MUSTCHECK;

/* Flushes everything and waits for the delivery reports (up to timeout_ms;
 * what is still unacknowledged then is purged). Jobs not delivered are taken
 * out of the ledger again unless a worker touched them. 0 when every
 * produced job was delivered. */
int sink_finish(sink_t *s, int timeout_ms, nt_err_t *err) NT_MUSTCHECK;

void sink_get_stats(const sink_t *s, sink_stats_t *st);

void sink_free(sink_t *s);

#endif
