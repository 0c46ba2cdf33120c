/*
 * retry.c — `numtrust-producer retry` (see retry.h).
 *
 * Selects through a cursor (constant memory), rebuilds each job from the
 * envelope the ledger kept, gives it its re-run identity and hands it to the
 * sink (ledger, then Kafka with delivery reports), as enqueue does.
 */
#include "retry.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "job.h"
#include "phone.h"
#include "sink.h"

#define SHOW_MAX 20 /* re-run jobs listed one per line; the rest are counted */

static const char *const error_classes[] = {"auth",   "rejected", "mapping",    "request",
                                            "config", "invalid",  "unwritable", "attempts"};

/* Columns: id, type, number, platform, tenant, envelope, retry_gen, origin,
 * state, error_class, last_error. */
static const char sql_select[] =
    "DECLARE sel NO SCROLL CURSOR FOR"
    " SELECT j.id::text, j.type, j.number, j.platform, coalesce(j.tenant_id, ''),"
    "        j.envelope::text, j.retry_gen, coalesce(j.origin, j.id)::text, j.state,"
    "        j.error_class, coalesce(j.last_error, '')"
    " FROM jobs j"
    " WHERE j.error_class IS NOT NULL AND j.state = ANY(string_to_array($1, ','))"
    "   AND ($2::uuid IS NULL OR j.id = $2::uuid)"
    "   AND ($3::text IS NULL OR j.number = $3)"
    "   AND ($4::text IS NULL OR j.number LIKE $4 || '%')"
    "   AND ($5::text IS NULL OR j.platform = $5)"
    "   AND ($6::text IS NULL OR j.type = $6)"
    "   AND ($7::text IS NULL OR j.error_class = $7)"
    "   AND ($8::timestamptz IS NULL OR j.finished_at >= $8::timestamptz)"
    "   AND ($9::timestamptz IS NULL OR j.finished_at < $9::timestamptz)"
    "   AND ($10::int IS NULL OR j.finished_at < now() - make_interval(secs =>"
    "        $10::int * power(2, least(j.retry_gen, 20))))"
    "   AND ($11::int IS NULL OR j.retry_gen < $11::int)"
    "   AND NOT EXISTS (SELECT 1 FROM jobs c WHERE c.retry_of = j.id)"
    " ORDER BY j.finished_at, j.id LIMIT $12::bigint";

static const char sql_replayed[] =
    "UPDATE dead_letters SET replayed_at = now() WHERE job_id = ANY($1::uuid[])"
    " AND replayed_at IS NULL";

static void retry_usage(FILE *fp)
{
    fputs("usage: numtrust-producer retry (--job ID | --all | FILTERS) [--state failed|dead]\n"
          "                               [--limit N] [--dry-run]\n"
          "FILTERS: [--number N] [--prefix +86138] [--platform P] [--type T] [--class C]\n"
          "         [--since TIME] [--until TIME]\n\n"
          "Runs failed and dead jobs again, as new attempts: each gets a new id derived from\n"
          "the first attempt's id and its generation (so retrying twice produces one job),\n"
          "is linked to the job it re-runs (jobs.retry_of) and carries the same payload\n"
          "(label, mark type, evidence, ticket), rebuilt from the envelope the ledger kept\n"
          "when the job failed. Tag updates and appeals keep the first attempt's\n"
          "Idempotency-Key, so a platform never applies one twice. A job that was re-run\n"
          "is not selected again: retry its re-run. Fix the cause first (credentials, a\n"
          "platform's configuration), then retry.\n\n"
          "  --job ID        one job\n"
          "  --all           every failed and dead job (required without another filter)\n"
          "  --number N      jobs of one number; --prefix: of numbers starting with it\n"
          "  --platform P    jobs of one platform\n"
          "  --type T        check, tag_update, appeal, appeal_status, ...\n"
          "  --class C       why they failed: auth (credentials), rejected (the platform\n"
          "                  refused), mapping (unreadable answer), request, config\n"
          "                  (platform or operation not configured), invalid, unwritable\n"
          "                  (PostgreSQL refused the row), attempts (dead after max attempts)\n"
          "  --state S       failed or dead (default: both)\n"
          "  --since TIME    finished at or after TIME: RFC 3339 (2026-11-28T08:00:00Z) or a\n"
          "                  duration back from now (2h, 7d); --until: finished before\n"
          "  --limit N       at most N jobs, oldest failures first\n"
          "  --dry-run       list what would be re-run, change nothing\n\n"
          "Prints one line per re-run job (the first 20) and a summary:\n"
          "  retry: N selected, N produced, N delivered, N already re-run (skipped), N without\n"
          "  a payload (skipped), N failed\n"
          "Exit status 0 when every selected job was re-run (or skipped), 1 when the\n"
          "database or Kafka failed, 2 for bad arguments.\n",
          fp);
}

/* A time filter: RFC 3339 as is, or a duration back from now; out is the
 * RFC 3339 form (NT_RFC3339_LEN bytes). 0 or NT_EINVAL. */
static int parse_when(const char *s, char out[NT_RFC3339_LEN])
{
    int64_t ms = 0;
    if (nt_clock_parse(s, &ms) == NT_OK) {
        nt_clock_format(ms, out);
        return NT_OK;
    }
    if (nt_clock_parse_duration(s, false, &ms) == NT_OK) {
        nt_clock_format(nt_clock_wall_ms() - ms, out);
        return NT_OK;
    }
    return NT_EINVAL;
}

static bool is_error_class(const char *s)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(error_classes); i++)
        if (strcmp(s, error_classes[i]) == 0)
            return true;
    return false;
}

/* Checks a filter; prints what is wrong and returns 2, else 0. */
static int check_filter(const retry_filter_t *f)
{
    nt_job_type_t t;
    if (f->job_id != NULL && !nt_uuid_is_valid(f->job_id))
        return cli_usage_error("retry", "--job \"%s\" is not a UUID", f->job_id);
    if (f->number != NULL && !nt_phone_is_e164(f->number))
        return cli_usage_error("retry", "--number \"%s\" is not an E.164 number", f->number);
    if (f->prefix != NULL && (f->prefix[0] != '+' || f->prefix[1] == '\0' ||
                              strspn(f->prefix + 1, "0123456789") != strlen(f->prefix) - 1))
        return cli_usage_error("retry", "--prefix \"%s\" must be + and digits (e.g. +86138)",
                               f->prefix);
    if (f->type != NULL && nt_job_type_parse(f->type, &t) != NT_OK)
        return cli_usage_error("retry", "--type \"%s\" is not a job type (check, tag_update, ...)",
                               f->type);
    if (f->error_class != NULL && !is_error_class(f->error_class))
        return cli_usage_error("retry",
                               "--class \"%s\" is not an error class (auth, rejected, mapping, "
                               "request, config, invalid, unwritable, attempts)",
                               f->error_class);
    if (f->states != NULL && strcmp(f->states, "failed") != 0 && strcmp(f->states, "dead") != 0 &&
        strcmp(f->states, "failed,dead") != 0)
        return cli_usage_error("retry", "--state \"%s\" is not failed or dead", f->states);
    char when[NT_RFC3339_LEN];
    if (f->since != NULL && parse_when(f->since, when) != NT_OK)
        return cli_usage_error("retry", "--since \"%s\" is not an RFC 3339 time or a duration",
                               f->since);
    if (f->until != NULL && parse_when(f->until, when) != NT_OK)
        return cli_usage_error("retry", "--until \"%s\" is not an RFC 3339 time or a duration",
                               f->until);
    if (f->backoff_s < 0 || f->max_gen < 0 || f->limit < 0)
        return cli_usage_error("retry", "backoff, generations and limit cannot be negative");
    return 0;
}

/* Rebuilds the job of one selected row as its re-run. 0, or NT_EINVAL when
 * there is nothing to rebuild it from (why in err). */
static int rebuild(PGresult *res, int r, int64_t now_ms, size_t max_bytes, nt_job_t *job,
                   nt_err_t *err)
{
    const char *type = PQgetvalue(res, r, 1);
    if (!PQgetisnull(res, r, 5)) {
        const char *env = PQgetvalue(res, r, 5);
        if (nt_job_decode(env, strlen(env), max_bytes, job, err) != NT_JOB_VERDICT_OK)
            return NT_EINVAL;
    } else if (strcmp(type, "check") == 0) {
        /* a check carries nothing but its registration */
        nt_job_init(job);
        job->type = NT_JOB_CHECK;
        snprintf(job->number, sizeof(job->number), "%s", PQgetvalue(res, r, 2));
        snprintf(job->platform, sizeof(job->platform), "%s", PQgetvalue(res, r, 3));
        snprintf(job->tenant, sizeof(job->tenant), "%s", PQgetvalue(res, r, 4));
    } else {
        return nt_err_set(err, NT_EINVAL, false,
                          "no envelope kept (its message was not a valid "
                          "job, or it failed before migration 004a)");
    }
    char gen[16];
    const char *origin = PQgetvalue(res, r, 7);
    snprintf(gen, sizeof(gen), "%d", (int)strtol(PQgetvalue(res, r, 6), NULL, 10) + 1);
    const char *fields[] = {"retry", origin, gen};
    nt_uuid_v5_fields(job->id, fields, NT_ARRAY_LEN(fields));
    snprintf(job->origin, sizeof(job->origin), "%s", origin);
    job->attempt = 0;
    job->not_before_ms = 0;
    job->created_at_ms = now_ms;
    return nt_job_validate(job, err);
}

/* One line per re-run job, the first SHOW_MAX of them (*shown counts). */
static void show(FILE *out, uint64_t *shown, PGresult *res, int r, const nt_job_t *job,
                 const char *what)
{
    if (out == NULL || (*shown)++ > SHOW_MAX)
        return;
    if (*shown == SHOW_MAX + 1) {
        fprintf(out, "  ... (more not listed)\n");
        return;
    }
    char masked[64];
    const char *number = PQgetvalue(res, r, 2);
    nt_phone_mask(number, strlen(number), masked, sizeof(masked));
    fprintf(out, "  %s %s %s %s %s (%s, %s: %.120s)%s%s\n", what, PQgetvalue(res, r, 0),
            PQgetvalue(res, r, 1), masked, PQgetvalue(res, r, 3), PQgetvalue(res, r, 8),
            PQgetvalue(res, r, 9), PQgetvalue(res, r, 10), job ? " -> " : "", job ? job->id : "");
}

/* Marks the dead letters of the re-run dead jobs replayed, so that `dead
 * replay` does not run them a second time. */
static int mark_replayed(nt_pg_t *pg, nt_pg_array_t *dead_ids, nt_err_t *err)
{
    if (dead_ids->n == 0)
        return NT_OK;
    const char *params[1] = {nt_pg_array_text(dead_ids)};
    if (params[0] == NULL)
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    return nt_pg_run(pg, sql_replayed, 1, params, err);
}

int retry_run(cli_t *cli, const retry_filter_t *f, bool dry_run, FILE *out, retry_stats_t *st)
{
    nt_pg_t *pg = NULL, *ledger = NULL;
    sink_t *sink = NULL;
    nt_err_t err;
    nt_pg_array_t dead_ids;
    nt_job_t job; /* the row's re-run (owns an appeal's evidence) */
    nt_job_init(&job);
    retry_stats_t stats;
    uint64_t shown = 0;
    int rc = check_filter(f);
    int64_t t0 = nt_clock_mono_ms(), now_ms = nt_clock_wall_ms();
    char since[NT_RFC3339_LEN], until[NT_RFC3339_LEN], backoff[16], maxgen[16], limit[24];

    memset(&stats, 0, sizeof(stats));
    nt_err_clear(&err);
    nt_pg_array_init(&dead_ids);
    if (rc != 0)
        goto out;
    rc = 1;
    if (f->since != NULL && parse_when(f->since, since) != NT_OK)
        goto out;
    if (f->until != NULL && parse_when(f->until, until) != NT_OK)
        goto out;
    snprintf(backoff, sizeof(backoff), "%d", f->backoff_s);
    snprintf(maxgen, sizeof(maxgen), "%d", f->max_gen);
    snprintf(limit, sizeof(limit), "%ld", f->limit);
    const char *params[12] = {
        f->states != NULL ? f->states : "failed,dead",
        f->job_id,
        f->number,
        f->prefix,
        f->platform,
        f->type,
        f->error_class,
        f->since != NULL ? since : NULL,
        f->until != NULL ? until : NULL,
        f->backoff_s > 0 ? backoff : NULL,
        f->max_gen > 0 ? maxgen : NULL,
        f->limit > 0 ? limit : NULL,
    };
    if ((pg = cli_pg(cli)) == NULL || (!dry_run && (ledger = cli_pg(cli)) == NULL))
        goto out;
    if (!dry_run && (sink = sink_new(&cli->cfg, ledger, false, 0, &err)) == NULL) {
        fprintf(stderr, "numtrust-producer retry: %s\n", err.msg);
        goto out;
    }
    if (nt_pg_run(pg, "BEGIN", 0, NULL, &err) != NT_OK ||
        nt_pg_run(pg, sql_select, 12, params, &err) != NT_OK) {
        fprintf(stderr, "numtrust-producer retry: %s\n", err.msg);
        goto out;
    }
    for (;;) {
        if (*cli->stop) {
            fprintf(stderr, "numtrust-producer retry: interrupted\n");
            break;
        }
        if (cli->tick != NULL)
            cli->tick(cli->tick_arg);
        PGresult *res = nt_pg_exec(pg, "FETCH 1000 FROM sel", 0, NULL, &err);
        if (res == NULL) {
            fprintf(stderr, "numtrust-producer retry: %s\n", err.msg);
            goto out;
        }
        int rows = PQntuples(res);
        for (int r = 0; r < rows; r++) {
            nt_job_clear(&job); /* the row before's (its evidence) */
            stats.selected++;
            if (rebuild(res, r, now_ms, (size_t)cli->cfg.job_max_bytes, &job, &err) != NT_OK) {
                if (out != NULL && stats.no_payload < SHOW_MAX)
                    fprintf(out, "  skipped %s: %s\n", PQgetvalue(res, r, 0), err.msg);
                stats.no_payload++;
                continue;
            }
            show(out, &shown, res, r, &job, dry_run ? "would re-run" : "re-run");
            if (dry_run)
                continue;
            if (strcmp(PQgetvalue(res, r, 8), "dead") == 0 &&
                nt_pg_array_add_str(&dead_ids, PQgetvalue(res, r, 0)) != NT_OK) {
                PQclear(res);
                fprintf(stderr, "numtrust-producer retry: out of memory\n");
                goto out;
            }
            int gen = (int)strtol(PQgetvalue(res, r, 6), NULL, 10) + 1;
            if (sink_add_rerun(sink, &job, PQgetvalue(res, r, 0), gen, &err) != NT_OK) {
                PQclear(res);
                fprintf(stderr, "numtrust-producer retry: %s\n", err.msg);
                goto out;
            }
        }
        PQclear(res);
        if (rows == 0)
            break;
    }
    if (nt_pg_run(pg, "COMMIT", 0, NULL, &err) != NT_OK)
        fprintf(stderr, "numtrust-producer retry: %s\n", err.msg);
    int frc = NT_OK;
    if (!dry_run) {
        sink_stats_t ss;
        frc = sink_finish(sink, 60000, &err);
        sink_get_stats(sink, &ss);
        stats.produced = ss.produced;
        stats.delivered = ss.delivered;
        stats.known = ss.skipped + ss.finished;
        stats.failed = ss.failed;
        if (frc == NT_OK && mark_replayed(ledger, &dead_ids, &err) != NT_OK)
            fprintf(stderr, "numtrust-producer retry: marking dead letters replayed: %s\n",
                    err.msg);
    }
    if (out != NULL)
        fprintf(out,
                "retry: %llu selected, %llu produced, %llu delivered, %llu already re-run "
                "(skipped), %llu without a payload (skipped), %llu failed%s; %.1f s\n",
                (unsigned long long)stats.selected, (unsigned long long)stats.produced,
                (unsigned long long)stats.delivered, (unsigned long long)stats.known,
                (unsigned long long)stats.no_payload, (unsigned long long)stats.failed,
                dry_run ? " (dry run: nothing produced)" : "",
                (double)(nt_clock_mono_ms() - t0) / 1000.0);
    if (frc != NT_OK) {
        fprintf(stderr, "numtrust-producer retry: %s\n", err.msg);
        goto out;
    }
    rc = 0;
out:
    nt_job_clear(&job);
    if (st != NULL)
        *st = stats;
    sink_free(sink);
    nt_pg_free(pg);
    nt_pg_free(ledger);
    nt_pg_array_free(&dead_ids);
    return rc;
}

int cmd_retry(cli_t *cli, int argc, char **argv)
{
    retry_filter_t f;
    const char *limit = NULL;
    bool all = false, dry_run = false;

    memset(&f, 0, sizeof(f));
    for (int i = 1; i < argc; i++) {
        const char *v = NULL;
        static const struct {
            const char *name;
            size_t off;
        } opts[] = {
            {"--job", offsetof(retry_filter_t, job_id)},
            {"--number", offsetof(retry_filter_t, number)},
            {"--prefix", offsetof(retry_filter_t, prefix)},
            {"--platform", offsetof(retry_filter_t, platform)},
            {"--type", offsetof(retry_filter_t, type)},
            {"--class", offsetof(retry_filter_t, error_class)},
            {"--state", offsetof(retry_filter_t, states)},
            {"--since", offsetof(retry_filter_t, since)},
            {"--until", offsetof(retry_filter_t, until)},
        };
        bool matched = false;
        for (size_t o = 0; o < NT_ARRAY_LEN(opts) && !matched; o++) {
            if (cli_opt(argc, argv, &i, opts[o].name, &v)) {
                if (v == NULL)
                    return 2;
                *(const char **)((char *)&f + opts[o].off) = v;
                matched = true;
            }
        }
        if (matched)
            continue;
        if (strcmp(argv[i], "--help") == 0) {
            retry_usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--all") == 0) {
            all = true;
        } else if (strcmp(argv[i], "--dry-run") == 0) {
            dry_run = true;
        } else if (cli_opt(argc, argv, &i, "--limit", &v)) {
            if ((limit = v) == NULL)
                return 2;
        } else {
            return cli_usage_error("retry", "unknown argument \"%s\"", argv[i]);
        }
    }
    if (limit != NULL) {
        char *end = NULL;
        f.limit = strtol(limit, &end, 10);
        if (end == limit || *end != '\0' || f.limit <= 0)
            return cli_usage_error("retry", "--limit \"%s\" is not a positive integer", limit);
    }
    if (!all && f.job_id == NULL && f.number == NULL && f.prefix == NULL && f.platform == NULL &&
        f.type == NULL && f.error_class == NULL && f.since == NULL && f.until == NULL)
        return cli_usage_error("retry", "give --job, a filter, or --all");
    return retry_run(cli, &f, dry_run, stdout, NULL);
}
