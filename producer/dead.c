/*
 * dead.c — `numtrust-producer dead list|replay`.
 *
 * Dead letters are on the dead-letter topic (raw bytes and source headers)
 * and in the dead_letters table. `list` shows them; `replay` resets the
 * job's ledger row (attempts 0, queued) and produces the original bytes to
 * the job topic of its type, then marks the row replayed. Messages that were
 * never a valid job (poison) are skipped unless --include-poison.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "job.h"
#include "kafka.h"

static void dead_usage(FILE *fp)
{
    fputs("usage: numtrust-producer dead list [--limit N]\n"
          "       numtrust-producer dead replay (--job ID | --all) [--prefix +86138]\n"
          "                                     [--include-poison]\n\n"
          "list    the newest dead letters: source, job id, attempts, reason\n"
          "replay  put dead jobs back on their job topic with a fresh attempt count,\n"
          "        after fixing what killed them (credentials, a platform outage, ...);\n"
          "        --prefix keeps to jobs of numbers starting with it\n",
          fp);
}

static int dead_list(nt_pg_t *pg, const char *limit)
{
    nt_err_t err;
    nt_err_clear(&err);
    const char *params[] = {limit};
    PGresult *res = nt_pg_exec(
        pg,
        "SELECT source_topic, source_partition, source_offset, coalesce(job_id::text, '-'),"
        " attempts, to_char(dead_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
        " CASE WHEN replayed_at IS NULL THEN '' ELSE 'replayed' END, reason"
        " FROM dead_letters ORDER BY dead_at DESC LIMIT $1::bigint",
        1, params, &err);
    if (res == NULL) {
        fprintf(stderr, "numtrust-producer dead: %s\n", err.msg);
        return 1;
    }
    int rows = PQntuples(res);
    for (int r = 0; r < rows; r++)
        printf("%s [%s] @%s  job %s  attempts %s  %s %s\n  reason: %s\n", PQgetvalue(res, r, 0),
               PQgetvalue(res, r, 1), PQgetvalue(res, r, 2), PQgetvalue(res, r, 3),
               PQgetvalue(res, r, 4), PQgetvalue(res, r, 5), PQgetvalue(res, r, 6),
               PQgetvalue(res, r, 7));
    printf("%d dead letters shown\n", rows);
    PQclear(res);
    return 0;
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    int *failed = opaque;
    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        (*failed)++;
        fprintf(stderr, "replay: delivery failed: %s\n", rd_kafka_err2str(rkm->err));
    }
}

static int dead_replay(cli_t *cli, nt_pg_t *pg, const char *job, const char *prefix,
                       bool include_poison)
{
    nt_err_t err;
    nt_kafka_topics_t topics;
    int failed = 0, replayed = 0, skipped = 0, truncated = 0, rc = 1;
    rd_kafka_t *rk = NULL;
    PGresult *res = NULL;

    nt_err_clear(&err);
    if (nt_kafka_topics_init(&topics, &cli->cfg, &err) != NT_OK ||
        (rk = nt_kafka_producer_new(&cli->cfg, dr_cb, &failed, &err)) == NULL) {
        fprintf(stderr, "numtrust-producer dead: %s\n", err.msg);
        return 1;
    }
    const char *params[] = {job, prefix};
    res = nt_pg_exec(pg,
                     "SELECT d.source_topic, d.source_partition, d.source_offset, d.raw,"
                     " coalesce(d.raw_size > length(d.raw), false)"
                     " FROM dead_letters d LEFT JOIN jobs j ON j.id = d.job_id"
                     " WHERE d.replayed_at IS NULL AND ($1::uuid IS NULL OR d.job_id = $1::uuid)"
                     "   AND ($2::text IS NULL OR j.number LIKE $2 || '%')"
                     " ORDER BY d.dead_at",
                     2, params, &err);
    if (res == NULL) {
        fprintf(stderr, "numtrust-producer dead: %s\n", err.msg);
        goto out;
    }
    for (int r = 0; r < PQntuples(res); r++) {
        if (strcmp(PQgetvalue(res, r, 4), "t") == 0) {
            /* a message larger than job.max_bytes, kept in part: its bytes
             * cannot be produced again, and it was poison anyway */
            truncated++;
            continue;
        }
        size_t len = 0;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, r, 3), &len);
        if (raw == NULL)
            continue;
        nt_job_t j;
        nt_job_verdict_t v = nt_job_decode(raw, len, (size_t)cli->cfg.job_max_bytes, &j, &err);
        free(j.evidence); /* the raw bytes are produced again, not the decoded job */
        j.evidence = NULL;
        const char *topic = PQgetvalue(res, r, 0);
        if (v == NT_JOB_VERDICT_POISON && !include_poison) {
            skipped++;
            PQfreemem(raw);
            continue;
        }
        if (v != NT_JOB_VERDICT_POISON) {
            topic = nt_kafka_topic_for(&topics, j.type);
            const char *p1[] = {j.id};
            if (nt_pg_run(pg,
                          "UPDATE jobs SET state = 'queued', attempts = 0, last_error = NULL,"
                          " error_class = NULL, finished_at = NULL, updated_at = now()"
                          " WHERE id = $1::uuid",
                          1, p1, &err) != NT_OK) {
                fprintf(stderr, "numtrust-producer dead: %s\n", err.msg);
                PQfreemem(raw);
                goto out;
            }
        }
        rd_kafka_resp_err_t kerr = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
            RD_KAFKA_V_KEY(j.number, strlen(j.number)), RD_KAFKA_V_VALUE(raw, len), RD_KAFKA_V_END);
        PQfreemem(raw);
        if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
            fprintf(stderr, "numtrust-producer dead: produce: %s\n", rd_kafka_err2str(kerr));
            goto out;
        }
        if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR || failed > 0) {
            fprintf(stderr, "numtrust-producer dead: replay not acknowledged by Kafka\n");
            goto out;
        }
        const char *p3[] = {PQgetvalue(res, r, 0), PQgetvalue(res, r, 1), PQgetvalue(res, r, 2)};
        if (nt_pg_run(pg,
                      "UPDATE dead_letters SET replayed_at = now() WHERE source_topic = $1"
                      " AND source_partition = $2::int AND source_offset = $3::bigint",
                      3, p3, &err) != NT_OK) {
            fprintf(stderr, "numtrust-producer dead: %s\n", err.msg);
            goto out;
        }
        replayed++;
    }
    printf("replayed %d dead letters; skipped %d poison messages%s, %d kept in part (larger than "
           "job.max_bytes: not replayable)\n",
           replayed, skipped,
           skipped && !include_poison ? " (--include-poison to replay them too)" : "", truncated);
    rc = 0;
out:
    PQclear(res);
    if (rk != NULL)
        rd_kafka_destroy(rk);
    return rc;
}

int cmd_dead(cli_t *cli, int argc, char **argv)
{
    const char *sub = NULL, *limit = "50", *job = NULL, *prefix = NULL;
    bool all = false, poison = false;
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        if (strcmp(argv[i], "--help") == 0) {
            dead_usage(stdout);
            return 0;
        } else if (cli_opt(argc, argv, &i, "--limit", &v)) {
            if ((limit = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--prefix", &v)) {
            if ((prefix = v) == NULL)
                return 2;
        } else if (cli_opt(argc, argv, &i, "--job", &v)) {
            if ((job = v) == NULL)
                return 2;
        } else if (strcmp(argv[i], "--all") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--include-poison") == 0) {
            poison = true;
        } else if (sub == NULL &&
                   (strcmp(argv[i], "list") == 0 || strcmp(argv[i], "replay") == 0)) {
            sub = argv[i];
        } else {
            return cli_usage_error("dead", "unknown argument \"%s\"", argv[i]);
        }
    }
    if (sub == NULL)
        return cli_usage_error("dead", "list or replay?");
    if (job != NULL && !nt_uuid_is_valid(job))
        return cli_usage_error("dead", "--job \"%s\" is not a UUID", job);
    char *end = NULL;
    if (strtol(limit, &end, 10) <= 0 || *end != '\0')
        return cli_usage_error("dead", "--limit \"%s\" is not a positive integer", limit);
    if (strcmp(sub, "replay") == 0 && !all && job == NULL)
        return cli_usage_error("dead", "replay needs --job ID or --all");
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        return 1;
    int rc =
        strcmp(sub, "list") == 0 ? dead_list(pg, limit) : dead_replay(cli, pg, job, prefix, poison);
    nt_pg_free(pg);
    return rc;
}
