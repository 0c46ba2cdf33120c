/*
 * sink.c — ledger-then-produce in batches of SINK_BATCH jobs (see sink.h).
 */
#include "sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "log.h"
#include "strmap.h"

#define SINK_BATCH 2000

struct sink_s {
    const nt_config_t *cfg;
    nt_pg_t *pg;
    rd_kafka_t *rk;
    nt_kafka_topics_t topics;
    bool force;
    uint64_t progress;
    nt_job_t *batch;
    size_t nbatch;
    nt_pg_array_t arr[5];
    nt_strmap_t *todo;
    nt_buf_t value;
    sink_stats_t st;
    uint64_t errors_printed;
};

static const char sql_ledger[] =
    "WITH r AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[])"
    "           AS r(id, type, number, platform, tenant)),"
    " ins AS (INSERT INTO jobs (id, type, number, platform, tenant_id, state)"
    "         SELECT id, type, number, platform, tenant, 'queued' FROM r"
    "         ON CONFLICT (id) DO NOTHING RETURNING id)"
    "SELECT r.id::text FROM r LEFT JOIN jobs j ON j.id = r.id"
    " WHERE $6 OR j.id IS NULL"
    "    OR (j.state NOT IN ('done', 'failed', 'dead') AND j.updated_at < now() - interval '1 "
    "hour')";

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    sink_t *s = opaque;
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        s->st.delivered++;
        return;
    }
    s->st.failed++;
    if (s->errors_printed++ < 10)
        fprintf(stderr, "delivery to %s failed: %s\n", rd_kafka_topic_name(rkm->rkt),
                rd_kafka_err2str(rkm->err));
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
    s->todo = nt_strmap_new();
    if (s->batch == NULL || s->todo == NULL) {
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
    for (;;) {
        rd_kafka_resp_err_t kerr = rd_kafka_producev(
            s->rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(job->number, strlen(job->number)),
            RD_KAFKA_V_VALUE(s->value.data, s->value.len), RD_KAFKA_V_END);
        if (kerr == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (kerr != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            return nt_err_set(err, NT_EIO, false, "produce to %s: %s", topic,
                              rd_kafka_err2str(kerr));
        rd_kafka_poll(s->rk, 100); /* the local queue is full: wait for deliveries */
    }
    s->st.produced++;
    rd_kafka_poll(s->rk, 0);
    return NT_OK;
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
        if ((rc = nt_pg_array_add_str(&s->arr[0], j->id)) == NT_OK &&
            (rc = nt_pg_array_add_str(&s->arr[1], nt_job_type_name(j->type))) == NT_OK &&
            (rc = nt_pg_array_add_str(&s->arr[2], j->number)) == NT_OK &&
            (rc = nt_pg_array_add_str(&s->arr[3], j->platform)) == NT_OK)
            rc = nt_pg_array_add_str(&s->arr[4], j->tenant);
    }
    if (rc != NT_OK)
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    const char *params[6];
    for (int i = 0; i < 5; i++)
        params[i] = nt_pg_array_text(&s->arr[i]);
    params[5] = s->force ? "true" : "false";
    PGresult *res = nt_pg_exec(s->pg, sql_ledger, 6, params, err);
    if (res == NULL)
        return err ? err->code : NT_ERR;
    int rows = PQntuples(res);
    for (int r = 0; r < rows; r++)
        if (nt_strmap_put(s->todo, PQgetvalue(res, r, 0), (void *)1) != NT_OK) {
            PQclear(res);
            return nt_err_set(err, NT_ENOMEM, false, "out of memory");
        }
    PQclear(res);
    for (size_t i = 0; i < s->nbatch && rc == NT_OK; i++) {
        const nt_job_t *j = &s->batch[i];
        if (nt_strmap_del(s->todo, j->id) == NULL) {
            s->st.skipped++;
            continue;
        }
        rc = produce_one(s, j, err);
    }
    s->nbatch = 0;
    return rc;
}

int sink_add(sink_t *s, const nt_job_t *job, nt_err_t *err)
{
    s->batch[s->nbatch++] = *job;
    s->st.offered++;
    if (s->progress > 0 && s->st.offered % s->progress == 0)
        fprintf(stderr, "  ... %llu jobs (%llu produced, %llu delivered, %llu skipped)\n",
                (unsigned long long)s->st.offered, (unsigned long long)s->st.produced,
                (unsigned long long)s->st.delivered, (unsigned long long)s->st.skipped);
    if (s->nbatch < SINK_BATCH)
        return NT_OK;
    return flush_batch(s, err);
}

int sink_finish(sink_t *s, int timeout_ms, nt_err_t *err)
{
    int rc = flush_batch(s, err);
    if (rc != NT_OK)
        return rc;
    rd_kafka_resp_err_t kerr = rd_kafka_flush(s->rk, timeout_ms);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        int left = rd_kafka_outq_len(s->rk);
        return nt_err_set(err, NT_EIO, true,
                          "%d jobs not acknowledged by Kafka within %d ms (%s); enqueue again "
                          "(ids are deterministic, nothing doubles)",
                          left, timeout_ms, rd_kafka_err2str(kerr));
    }
    if (s->st.failed > 0)
        return nt_err_set(err, NT_EIO, true,
                          "%llu jobs were not delivered; enqueue again (ids are deterministic, "
                          "nothing doubles)",
                          (unsigned long long)s->st.failed);
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
    if (s->rk != NULL)
        rd_kafka_destroy(s->rk);
    for (size_t i = 0; i < NT_ARRAY_LEN(s->arr); i++)
        nt_pg_array_free(&s->arr[i]);
    nt_buf_free(&s->value);
    nt_strmap_free(s->todo);
    free(s->batch);
    free(s);
}
