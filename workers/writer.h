/*
 * writer.h — the worker's PostgreSQL side: batched, asynchronous, idempotent.
 *
 * Jobs are handed over for a *claim* (the ledger's attempt counter, bumped
 * before each platform call) or for their *result*. Each kind is written in
 * batches, one parameterised statement per batch (unnest arrays; ON CONFLICT
 * on the job id, so a redelivered job never writes twice), sent on the
 * worker's event loop without blocking it. What a failure means depends on
 * its SQLSTATE (pg.h, nt_pg_sqlstate_class): a data error is the row's (the
 * batch is split and only that row is handed back as failed); anything else
 * is the database's (the batch waits with backoff and is sent again, on a
 * new connection when the old one broke or is read-only), and a row that
 * keeps failing while the others of its kind commit is isolated and handed
 * back as failed. A transient fault of the database never fails a job.
 */
#ifndef NT_WRITER_H
#define NT_WRITER_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "loop.h"
#include "wjob.h"

typedef struct writer_s writer_t;

typedef struct writer_cbs_s {
    void *arg;
    /* The claim of job is committed: attempts now counted, state is the
     * ledger state after the claim ("running", or a final state when the job
     * was already finished by an earlier delivery). On a failure that
     * cannot be retried, attempts is -1 and error says why. */
    void (*on_claimed)(void *arg, wjob_t *job, int attempts, const char *state, const char *error);
    /* The result of job is committed (error NULL), or could not be written:
     * error says why and eclass classifies it (WJ_EC_UNWRITABLE: PostgreSQL
     * refused the row; WJ_EC_CONFLICT: an appeal's ticket is another job's);
     * the caller records the failure another way. */
    void (*on_written)(void *arg, wjob_t *job, const char *eclass, const char *error);
    /* A check opened a mark (new, or back after being cleared); extra_evidence
     * is what callees reported about it (feedback_evidence, "" if nothing). */
    void (*on_new_mark)(void *arg, const char *number, const char *platform, const char *type,
                        int64_t opened_ms, const char *tenant, const char *extra_evidence);
    /* A token lease for platform index `platform` was answered: `granted`
     * tokens (maybe 0), or error when the statement failed. */
    void (*on_leased)(void *arg, size_t platform, double granted, const char *error);
} writer_cbs_t;

typedef struct writer_opts_s {
    const char *conninfo;
    const char *worker_id;
    int batch_max;
    int linger_ms;
    size_t max_platforms;  /* size of the lease table */
    int connect_timeout_s; /* the first connection: give up after (pg.connect_timeout_s) */
} writer_opts_t;

/* @returns a new writer connected to PostgreSQL; free with writer_free().
 * NULL on failure. */
writer_t *writer_new(nt_loop_t *loop, const writer_opts_t *opts, const writer_cbs_t *cbs,
                     nt_err_t *err);

void writer_free(writer_t *wr);

/* Queues a claim of job (state WJ_CLAIM). */
void writer_claim(writer_t *wr, wjob_t *job);

/* Queues the result of job (job->wkind says what; state WJ_WRITE). */
void writer_result(writer_t *wr, wjob_t *job);

/* Asks the shared bucket of a platform for `want` tokens (one lease per
 * platform at a time; a second request before the answer is ignored).
 * platform indexes a table of at most max_platforms; id is its name. */
void writer_lease(writer_t *wr, size_t platform, const char *id, double qps, double burst,
                  double want);

/* Jobs queued or being written. */
size_t writer_pending(const writer_t *wr);

/* True when the connection is up (for /readyz). */
bool writer_is_connected(const writer_t *wr);

/* Milliseconds the writer has had work queued without committing a
 * statement: 0 when idle or committing (for /readyz: a frozen, locked or
 * read-only database shows here while the connection looks fine). */
int64_t writer_stalled_ms(const writer_t *wr);

/* Statements sent and rows written so far (for metrics). */
void writer_stats(const writer_t *wr, uint64_t *statements, uint64_t *rows, uint64_t *failures);

#endif
