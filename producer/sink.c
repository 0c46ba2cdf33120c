/*
 * sink.c — ledger-then-produce in batches of SINK_BATCH jobs (see sink.h).
 *
 * Every produced message carries its job id as the delivery report's opaque
 * (a copy the sink owns until the report): ids that Kafka did not
 * acknowledge are collected and taken out of the ledger at the end.
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

struct sink_s {
    const nt_config_t *cfg;
    nt_pg_t *pg;
    rd_kafka_t *rk;
    nt_kafka_topics_t topics;
    bool force;
    uint64_t progress;
    nt_job_t *batch;
    char (*retry_of)[NT_UUID_STRLEN]; /* per batch row: "" for a first attempt */
    int *gen;
    size_t nbatch;
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
 * the ledger as it was before the insert: a new row shows as unknown.) */
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
    " FROM r LEFT JOIN jobs j ON j.id = r.id";

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
    s->force = force;
    s->progress = progress;
    for (size_t i = 0; i < NT_ARRAY_LEN(s->arr); i++)
        nt_pg_array_init(&s->arr[i]);
    nt_buf_init(&s->value, 0);
    s->batch = calloc(SINK_BATCH, sizeof(*s->batch));
    s->retry_of = calloc(SINK_BATCH, sizeof(*s->retry_of));
    s->gen = calloc(SINK_BATCH, sizeof(*s->gen));
    s->todo = nt_strmap_new();
    if (s->batch == NULL || s->retry_of == NULL || s->gen == NULL || s->todo == NULL) {
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

/* Empties the batch, freeing what its jobs own (an appeal's evidence). */
static void batch_reset(sink_t *s)
{
    for (size_t i = 0; i < s->nbatch; i++)
        nt_job_clear(&s->batch[i]);
    s->nbatch = 0;
}

static int flush_batch(sink_t *s, nt_err_t *err)
{
    if (s->nbatch == 0)
        return NT_OK;
    for (size_t i = 0; i < NT_ARRAY_LEN(s->arr); i++)
        nt_pg_array_reset(&s->arr[i]);
    int rc = NT_OK;
    for (size_t i = 0; i < s->nbatch && rc == NT_OK; i++) {
        const nt_job_t *j = &s->batch[i];
        nt_pg_array_t *a = s->arr;
        if ((rc = nt_pg_array_add_str(&a[0], j->id)) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[1], nt_job_type_name(j->type))) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[2], j->number)) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[3], j->platform)) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[4], j->tenant)) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[5], j->origin[0] ? j->origin : NULL)) == NT_OK &&
            (rc = nt_pg_array_add_str(&a[6], s->retry_of[i][0] ? s->retry_of[i] : NULL)) == NT_OK)
            rc = nt_pg_array_add_int(&a[7], s->gen[i]);
    }
    if (rc != NT_OK)
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    const char *params[9];
    for (int i = 0; i < 5; i++)
        params[i] = nt_pg_array_text(&s->arr[i]);
    params[5] = s->force ? "true" : "false";
    for (int i = 5; i < NCOLS; i++)
        params[i + 1] = nt_pg_array_text(&s->arr[i]);
    PGresult *res = nt_pg_exec(s->pg, sql_ledger, 9, params, err);
    if (res == NULL)
        return err ? err->code : NT_ERR;
    int rows = PQntuples(res);
    for (int r = 0; r < rows; r++) {
        if (strcmp(PQgetvalue(res, r, 2), "t") == 0) {
            s->st.finished++;
            continue;
        }
        if (strcmp(PQgetvalue(res, r, 1), "t") != 0) {
            s->st.skipped++;
            continue;
        }
        if (nt_strmap_put(s->todo, PQgetvalue(res, r, 0), (void *)1) != NT_OK) {
            PQclear(res);
            return nt_err_set(err, NT_ENOMEM, false, "out of memory");
        }
    }
    PQclear(res);
    for (size_t i = 0; i < s->nbatch; i++) {
        const nt_job_t *j = &s->batch[i];
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
    batch_reset(s);
    return rc;
}

static int add(sink_t *s, const nt_job_t *job, const char *retry_of, int gen, nt_err_t *err)
{
    if (nt_job_copy(&s->batch[s->nbatch], job) != NT_OK) { /* the sink's own copy */
        nt_job_clear(&s->batch[s->nbatch]);
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    }
    snprintf(s->retry_of[s->nbatch], sizeof(s->retry_of[0]), "%s", retry_of ? retry_of : "");
    s->gen[s->nbatch] = gen;
    s->nbatch++;
    s->st.offered++;
    if (s->progress > 0 && s->st.offered % s->progress == 0)
        fprintf(stderr, "  ... %llu jobs (%llu produced, %llu delivered, %llu skipped)\n",
                (unsigned long long)s->st.offered, (unsigned long long)s->st.produced,
                (unsigned long long)s->st.delivered,
                (unsigned long long)(s->st.skipped + s->st.finished));
    if (s->nbatch < SINK_BATCH)
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
    if (s->rk != NULL) {
        /* reports still due free their ids: purge, then serve them */
        rd_kafka_purge(s->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        rd_kafka_flush(s->rk, 1000);
        rd_kafka_destroy(s->rk);
    }
    batch_reset(s);
    for (size_t i = 0; i < s->nundelivered; i++)
        free(s->undelivered[i]);
    free(s->undelivered);
    for (size_t i = 0; i < NT_ARRAY_LEN(s->arr); i++)
        nt_pg_array_free(&s->arr[i]);
    nt_buf_free(&s->value);
    nt_strmap_free(s->todo);
    free(s->batch);
    free(s->retry_of);
    free(s->gen);
    free(s);
}
