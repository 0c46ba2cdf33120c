/*
 * sink.c — ledger-then-produce in batches of SINK_BATCH jobs (see sink.h).
 *
 * Every produced message carries its job id as the delivery report's opaque
 * (a copy the sink owns until the report): ids that Kafka did not
 * acknowledge are collected and taken out of the ledger at the end.
 *
 * The ledger statement of a batch is sent without waiting for it: while
 * PostgreSQL records batch N the caller selects and builds batch N+1, and
 * batch N's answer is read (and its jobs produced) when no connection is free
 * for the next, or at sink_finish. Up to SINK_LEDGERS batches are recorded at
 * once, each on its own connection (the caller's and ones the sink opens),
 * and answers are read oldest first, so jobs are still produced in the order
 * they were offered and every one after its ledger row. (Waiting for each
 * batch left the producer idle for half of a 1-million-check due pass; with
 * one statement in flight the ledger's backend was then the bottleneck, 80 %
 * of a core for 17 of the pass's 25 s, while the other core was half idle.)
 */
#include "sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "strmap.h"

#define SINK_BATCH 2000
#define NCOLS      8
/* ledger statements in flight, one a connection; a batch is being filled
 * meanwhile */
#define SINK_LEDGERS 2
#define SINK_SLOTS   (SINK_LEDGERS + 1)

struct sink_s {
    const nt_config_t *cfg;
    nt_pg_t *pg; /* the caller's */
    /* ledger connections: [0] the caller's, the others the sink's own, opened
     * on first use. nledgers: how many are used, 1 after one failed to open.
     * Batches go to them in turn and are collected oldest first, so the one
     * after the last used is always free while fewer than nledgers are
     * pending. */
    nt_pg_t *ledgers[SINK_LEDGERS];
    int nledgers;
    int next_ledger;
    rd_kafka_t *rk;
    nt_kafka_topics_t topics;
    bool force;
    uint64_t progress;
    /* the batch being filled and those whose ledger statement is in
     * PostgreSQL, its answer not read yet (pending) */
    struct {
        nt_job_t *batch;
        char (*retry_of)[NT_UUID_STRLEN]; /* per batch row: "" for a first attempt */
        int *gen;
        size_t nbatch;
        int conn; /* pending: the ledger connection its statement went to */
    } slot[SINK_SLOTS];
    /* the slot being filled; slots are filled in turn, so the pending ones
     * are the npending before it and the one after it is free */
    int cur;
    int pending[SINK_LEDGERS]; /* pending slots, oldest first */
    int npending;
    nt_pg_array_t arr[NCOLS];
    nt_strmap_t *todo;
    nt_buf_t value;
    sink_stats_t st;
    uint64_t errors_printed;
    char **undelivered; /* ids whose delivery failed (owned) */
    size_t nundelivered, capundelivered;
};

/* $1..$5 the job, $6 force, $7 origins, $8 retry_of, $9 retry generations.
 * Returns per job: id, produce it?, finished already? (The main query sees
 * the ledger as it was before the insert: a new row shows as unknown.) Only
 * the rows the insert did not take are looked up, one index probe each (the
 * sub-select, kept apart by OFFSET 0): a join let the planner hash the whole
 * ledger for every batch while the table was new and small in its
 * statistics, as the due pass filled it with a million rows. */
static const char sql_ledger[] =
    "WITH r AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
    "                                $7::uuid[], $8::uuid[], $9::int[])"
    "           AS r(id, type, number, platform, tenant, origin, retry_of, gen)),"
    " ins AS (INSERT INTO jobs (id, type, number, platform, tenant_id, state, origin, retry_of,"
    "                           retry_gen)"
    "         SELECT id, type, number, platform, tenant, 'queued', origin, retry_of, gen FROM r"
    "         ON CONFLICT (id) DO NOTHING RETURNING id)"
    "SELECT r.id::text,"
    "       j.id IS NULL OR (j.state NOT IN ('done', 'failed', 'dead')"
    "                        AND ($6 OR j.updated_at < now() - interval '1 hour')),"
    "       coalesce(j.state IN ('done', 'failed', 'dead'), false)"
    " FROM r LEFT JOIN ins ON ins.id = r.id"
    " LEFT JOIN LATERAL (SELECT j.id, j.state, j.updated_at FROM jobs j"
    "                    WHERE ins.id IS NULL AND j.id = r.id OFFSET 0) j ON true";

/* Jobs Kafka did not take: out of the ledger again, unless a worker claimed
 * them meanwhile (a purged in-flight message may have reached the broker). */
static const char sql_unrecord[] =
    "DELETE FROM jobs WHERE id = ANY($1::uuid[]) AND state = 'queued' AND attempts = 0";

static void remember_undelivered(sink_t *s, char *id)
{
    if (s->nundelivered == s->capundelivered) {
        size_t ncap = s->capundelivered ? s->capundelivered * 2 : 64;
        char **n = realloc(s->undelivered, ncap * sizeof(*n));
        if (n == NULL) {
            free(id); /* the 1-hour rule still re-produces it */
            return;
        }
        s->undelivered = n;
        s->capundelivered = ncap;
    }
    s->undelivered[s->nundelivered++] = id;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    sink_t *s = opaque;
    char *id = rkm->_private;
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        s->st.delivered++;
        free(id);
        return;
    }
    s->st.failed++;
    if (s->errors_printed++ < 10)
        fprintf(stderr, "delivery to %s failed: %s\n", rd_kafka_topic_name(rkm->rkt),
                rd_kafka_err2str(rkm->err));
    if (id != NULL)
        remember_undelivered(s, id);
}

sink_t *sink_new(const nt_config_t *cfg, nt_pg_t *pg, bool force, uint64_t progress, nt_err_t *err)
{
    sink_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        return NULL;
    }
    s->cfg = cfg;
    s->pg = pg;
    s->ledgers[0] = pg;
    s->nledgers = SINK_LEDGERS;
    s->force = force;
    s->progress = progress;
    for (size_t i = 0; i < NT_ARRAY_LEN(s->arr); i++)
        nt_pg_array_init(&s->arr[i]);
    nt_buf_init(&s->value, 0);
    for (int k = 0; k < SINK_SLOTS; k++) {
        s->slot[k].batch = calloc(SINK_BATCH, sizeof(*s->slot[k].batch));
        s->slot[k].retry_of = calloc(SINK_BATCH, sizeof(*s->slot[k].retry_of));
        s->slot[k].gen = calloc(SINK_BATCH, sizeof(*s->slot[k].gen));
        if (s->slot[k].batch == NULL || s->slot[k].retry_of == NULL || s->slot[k].gen == NULL) {
            nt_err_set(err, NT_ENOMEM, false, "out of memory");
            goto fail;
        }
    }
    s->todo = nt_strmap_new();
    if (s->todo == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        goto fail;
    }
    if (nt_kafka_topics_init(&s->topics, cfg, err) != NT_OK)
        goto fail;
    s->rk = nt_kafka_producer_new(cfg, dr_cb, s, err);
    if (s->rk == NULL)
        goto fail;
    return s;
fail:
    sink_free(s);
    return NULL;
}

static int produce_one(sink_t *s, const nt_job_t *job, nt_err_t *err)
{
    nt_buf_reset(&s->value);
    if (nt_job_encode(job, &s->value) != NT_OK)
        return nt_err_set(err, NT_ENOMEM, false, "cannot encode job %s", job->id);
    const char *topic = nt_kafka_topic_for(&s->topics, job->type);
    char *id = strdup(job->id); /* the delivery report's; freed there */
    if (id == NULL)
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    for (;;) {
        rd_kafka_resp_err_t kerr = rd_kafka_producev(
            s->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(job->number, strlen(job->number)),
            RD_KAFKA_V_VALUE(s->value.data, s->value.len), RD_KAFKA_V_OPAQUE(id), RD_KAFKA_V_END);
        if (kerr == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (kerr != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            /* never handed over: not on Kafka, so not in the ledger either */
            s->st.failed++;
            remember_undelivered(s, id);
            return nt_err_set(err, NT_EIO, false, "produce to %s: %s", topic,
                              rd_kafka_err2str(kerr));
        }
        rd_kafka_poll(s->rk, 100); /* the local queue is full: wait for deliveries */
    }
    s->st.produced++;
    rd_kafka_poll(s->rk, 0);
    return NT_OK;
}

/* Empties slot k, freeing what its jobs own (an appeal's evidence). */
static void batch_reset(sink_t *s, int k)
{
    for (size_t i = 0; i < s->slot[k].nbatch; i++)
        nt_job_clear(&s->slot[k].batch[i]);
    s->slot[k].nbatch = 0;
}

/* Ledger connection i, opened on first use. NULL when it cannot be opened:
 * the sink then records on the caller's connection alone (said once on
 * stderr). */
static nt_pg_t *ledger_conn(sink_t *s, int i)
{
    if (s->ledgers[i] == NULL) {
        nt_err_t e;
        nt_err_clear(&e);
        s->ledgers[i] = nt_pg_connect(s->cfg->pg_conninfo, s->cfg->pg_connect_timeout_s, &e);
        if (s->ledgers[i] == NULL) {
            fprintf(stderr,
                    "numtrust-producer: a second ledger connection failed (%s); recording "
                    "on one\n",
                    e.msg);
            s->nledgers = 1;
        }
    }
    return s->ledgers[i];
}

/* Reads the answer of the oldest pending ledger statement and produces the
 * jobs it recorded (or found unfinished and stale); empties its slot. */
static int collect(sink_t *s, nt_err_t *err)
{
    if (s->npending == 0)
        return NT_OK;
    int k = s->pending[0];
    s->npending--;
    memmove(s->pending, s->pending + 1, (size_t)s->npending * sizeof(s->pending[0]));
    nt_pg_t *pg = s->ledgers[s->slot[k].conn];
    PGconn *conn = nt_pg_conn(pg);
    PGresult *res = NULL, *r;
    while ((r = PQgetResult(conn)) != NULL) { /* one result, then NULL */
        if (res == NULL)
            res = r;
        else
            PQclear(r);
    }
    int rc = NT_OK;
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = nt_pg_result_error(pg, res, "postgres", err);
        PQclear(res);
        batch_reset(s, k); /* not recorded (the statement failed): not produced */
        return rc;
    }
    int rows = PQntuples(res);
    for (int i = 0; i < rows; i++) {
        if (strcmp(PQgetvalue(res, i, 2), "t") == 0) {
            s->st.finished++;
            continue;
        }
        if (strcmp(PQgetvalue(res, i, 1), "t") != 0) {
            s->st.skipped++;
            continue;
        }
        if (nt_strmap_put(s->todo, PQgetvalue(res, i, 0), (void *)1) != NT_OK) {
            rc = nt_err_set(err, NT_ENOMEM, false, "out of memory");
            break;
        }
    }
    PQclear(res);
    for (size_t i = 0; i < s->slot[k].nbatch; i++) {
        const nt_job_t *j = &s->slot[k].batch[i];
        if (nt_strmap_del(s->todo, j->id) == NULL)
            continue; /* counted above (or a second copy in the batch) */
        if (rc == NT_OK) {
            rc = produce_one(s, j, err);
        } else {
            /* recorded, never produced: out of the ledger again */
            char *id = strdup(j->id);
            if (id != NULL)
                remember_undelivered(s, id);
        }
    }
    batch_reset(s, k);
    return rc;
}

/* Reads every pending answer, oldest first; the first failure's code (err
 * set by it; the others' batches are still read and produced). */
static int collect_all(sink_t *s, nt_err_t *err)
{
    int rc = NT_OK;
    while (s->npending > 0) {
        nt_err_t e2;
        nt_err_clear(&e2);
        int r = collect(s, rc == NT_OK ? err : &e2);
        if (rc == NT_OK)
            rc = r;
    }
    return rc;
}

/* Sends the filled slot's ledger statement without waiting for it, on a
 * free ledger connection (after reading the oldest answer when none is). */
static int flush_batch(sink_t *s, nt_err_t *err)
{
    int rc = s->npending >= s->nledgers ? collect(s, err) : NT_OK;
    int k = s->cur;
    if (rc != NT_OK || s->slot[k].nbatch == 0) {
        if (rc != NT_OK)
            batch_reset(s, k); /* neither recorded nor produced */
        return rc;
    }
    for (size_t i = 0; i < NT_ARRAY_LEN(s->arr); i++)
        nt_pg_array_reset(&s->arr[i]);
    for (size_t i = 0; i < s->slot[k].nbatch && rc == NT_OK; i++) {
        const nt_job_t *j = &s->slot[k].batch[i];
        const char *retry_of = s->slot[k].retry_of[i];
        nt_pg_array_t *a = s->arr;
        if ((rc = nt_pg_array_add_str(&a[0], j->id)) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[1], nt_job_type_name(j->type))) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[2], j->number)) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[3], j->platform)) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[4], j->tenant)) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[5], j->origin[0] ? j->origin : NULL)) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[6], retry_of[0] ? retry_of : NULL)) == NT_OK)
            rc = nt_pg_array_add_int(&a[7], s->slot[k].gen[i]);
    }
    if (rc != NT_OK) {
        batch_reset(s, k);
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    }
    const char *params[9];
    for (int i = 0; i < 5; i++)
        params[i] = nt_pg_array_text(&s->arr[i]);
    params[5] = s->force ? "true" : "false";
    for (int i = 5; i < NCOLS; i++)
        params[i + 1] = nt_pg_array_text(&s->arr[i]);
    int c = s->next_ledger;
    nt_pg_t *pg = ledger_conn(s, c);
    if (pg == NULL) { /* the second connection would not open: wait for the first */
        if ((rc = collect_all(s, err)) != NT_OK) {
            batch_reset(s, k);
            return rc;
        }
        c = 0;
        pg = s->pg;
    }
    if (!nt_pg_is_ok(pg) && nt_pg_reconnect(pg, err) != NT_OK) {
        batch_reset(s, k);
        return err ? err->code : NT_ERR;
    }
    /* libpq copies the parameters into its output buffer: arr is free again */
    if (!PQsendQueryParams(nt_pg_conn(pg), sql_ledger, 9, NULL, params, NULL, NULL, 0)) {
        batch_reset(s, k);
        return nt_pg_result_error(pg, NULL, "postgres", err);
    }
    s->slot[k].conn = c;
    s->pending[s->npending++] = k;
    s->next_ledger = (c + 1) % s->nledgers;
    s->cur = (k + 1) % SINK_SLOTS;
    return NT_OK;
}

static int add(sink_t *s, const nt_job_t *job, const char *retry_of, int gen, nt_err_t *err)
{
    int k = s->cur;
    size_t n = s->slot[k].nbatch;
    if (nt_job_copy(&s->slot[k].batch[n], job) != NT_OK) { /* the sink's own copy */
        nt_job_clear(&s->slot[k].batch[n]);
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    }
    snprintf(s->slot[k].retry_of[n], sizeof(s->slot[k].retry_of[0]), "%s",
             retry_of ? retry_of : "");
    s->slot[k].gen[n] = gen;
    s->slot[k].nbatch++;
    s->st.offered++;
    if (s->progress > 0 && s->st.offered % s->progress == 0)
        fprintf(stderr, "  ... %llu jobs (%llu produced, %llu delivered, %llu skipped)\n",
                (unsigned long long)s->st.offered, (unsigned long long)s->st.produced,
                (unsigned long long)s->st.delivered,
                (unsigned long long)(s->st.skipped + s->st.finished));
    if (s->slot[k].nbatch < SINK_BATCH)
        return NT_OK;
    return flush_batch(s, err);
}

int sink_add(sink_t *s, const nt_job_t *job, nt_err_t *err)
{
    return add(s, job, NULL, 0, err);
}

int sink_add_rerun(sink_t *s, const nt_job_t *job, const char *retry_of, int gen, nt_err_t *err)
{
    return add(s, job, retry_of, gen, err);
}

/* Takes the jobs Kafka did not acknowledge out of the ledger again. */
static void unrecord(sink_t *s)
{
    nt_pg_array_t ids;
    nt_err_t err;
    nt_err_clear(&err);
    nt_pg_array_init(&ids);
    int rc = NT_OK;
    for (size_t i = 0; i < s->nundelivered && rc == NT_OK; i++)
        rc = nt_pg_array_add_str(&ids, s->undelivered[i]);
    const char *params[1] = {rc == NT_OK ? nt_pg_array_text(&ids) : NULL};
    PGresult *res = params[0] != NULL ? nt_pg_exec(s->pg, sql_unrecord, 1, params, &err) : NULL;
    if (res != NULL) {
        s->st.unrecorded += strtoull(PQcmdTuples(res), NULL, 10);
        PQclear(res);
    } else {
        fprintf(stderr,
                "numtrust-producer: could not take %zu undelivered jobs out of the ledger (%s); "
                "they are produced again by an enqueue an hour from now\n",
                s->nundelivered, err.msg[0] ? err.msg : "out of memory");
    }
    nt_pg_array_free(&ids);
}

int sink_finish(sink_t *s, int timeout_ms, nt_err_t *err)
{
    int rc = flush_batch(s, err);
    nt_err_t err2;
    nt_err_clear(&err2);
    int rc2 = collect_all(s, rc == NT_OK ? err : &err2); /* the last batches' answers */
    if (rc == NT_OK)
        rc = rc2;
    rd_kafka_resp_err_t kerr = rd_kafka_flush(s->rk, timeout_ms);
    int left = rd_kafka_outq_len(s->rk);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        /* what is still queued or in flight is given up: its delivery
         * reports (purged) put it on the undelivered list */
        rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(s->rk, 5000);
    }
    if (s->nundelivered > 0)
        unrecord(s);
    if (rc != NT_OK)
        return rc;
    char why[256];
    if (nt_kafka_fatal(s->rk, why, sizeof(why)))
        return nt_err_set(
            err, NT_EIO, false,
            "Kafka producer fatal error (%s): %llu jobs not delivered, %llu taken out "
            "of the ledger; run again (a new producer starts clean)",
            why, (unsigned long long)s->st.failed, (unsigned long long)s->st.unrecorded);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR)
        return nt_err_set(err, NT_EIO, true,
                          "%d jobs not acknowledged by Kafka within %d ms (%s); %llu taken out of "
                          "the ledger: enqueue again (ids are deterministic, nothing doubles)",
                          left, timeout_ms, rd_kafka_err2str(kerr),
                          (unsigned long long)s->st.unrecorded);
    if (s->st.failed > 0)
        return nt_err_set(err, NT_EIO, true,
                          "%llu jobs were not delivered; %llu taken out of the ledger: enqueue "
                          "again (ids are deterministic, nothing doubles)",
                          (unsigned long long)s->st.failed, (unsigned long long)s->st.unrecorded);
    return NT_OK;
}

void sink_get_stats(const sink_t *s, sink_stats_t *st)
{
    *st = s->st;
}

void sink_free(sink_t *s)
{
    if (s == NULL)
        return;
    if (s->npending > 0) {
        /* freed after a failure elsewhere (say the selection's connection) with a
         * batch recorded and not produced yet: deliver it, and what is queued,
         * rather than leave it to the ledger's one-hour rule */
        nt_err_t e;
        nt_err_clear(&e);
        if (sink_finish(s, 10000, &e) != NT_OK)
            fprintf(stderr, "numtrust-producer: %s\n", e.msg);
    }
    if (s->rk != NULL) {
        /* reports still due free their ids: purge, then serve them */
        rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(s->rk, 1000);
        rd_kafka_destroy(s->rk);
    }
    for (int k = 0; k < SINK_SLOTS; k++) {
        batch_reset(s, k);
        free(s->slot[k].batch);
        free(s->slot[k].retry_of);
        free(s->slot[k].gen);
    }
    for (int i = 1; i < SINK_LEDGERS; i++)
        nt_pg_free(s->ledgers[i]);
    for (size_t i = 0; i < s->nundelivered; i++)
        free(s->undelivered[i]);
    free(s->undelivered);
    for (size_t i = 0; i < NT_ARRAY_LEN(s->arr); i++)
        nt_pg_array_free(&s->arr[i]);
    nt_buf_free(&s->value);
    nt_strmap_free(s->todo);
    free(s);
}
