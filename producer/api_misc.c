/*
 * api_misc.c — marks and appeals (read), callee feedback (the public intake
 * and its listing) and reports.
 *
 * The feedback intake answers 202 {"accepted":true} to every well-formed
 * report, whether or not the number is the token's tenant's (a report for
 * another number is dropped): the answer tells a caller nothing about any
 * tenant. A stored report raises a check of the number at once (the
 * `check-feedback` selection of enqueue.c, also a reconciler pass, so the
 * check comes within one pass even when Kafka was down just now).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "job.h"
#include "phone.h"
#include "report.h"

int api_marks_list(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "number", "platform", "state",
                                          "type",   "limit",  NULL};
    long limit = 1000;
    if (api_only(c, allowed) != 0 || api_int(c, "limit", 1, 10000, &limit) != 0)
        return -1;
    const char *type = api_str(c, "type");
    if (type != NULL && !nt_job_is_mark_type(type))
        return api_fail(c, 400, "type", "field type: \"%.20s\" is not a mark type", type);
    char lim[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *p[] = {
        api_scope(c), api_str(c, "number"), api_str(c, "platform"), api_str(c, "state"), type, lim};
    return api_sql_json(
        c,
        "SELECT COALESCE(json_agg(x ORDER BY x.number, x.platform, x.type), '[]')::text FROM ("
        " SELECT m.number, m.platform, m.type, m.count, m.state, m.opened_at, m.last_seen_at,"
        "  m.cleared_at, m.appeal_job FROM marks m JOIN numbers n ON n.number = m.number"
        " WHERE ($1::text IS NULL OR n.tenant_id = $1) AND ($2::text IS NULL OR m.number = $2)"
        "   AND ($3::text IS NULL OR m.platform = $3) AND ($4::text IS NULL OR m.state = $4)"
        "   AND ($5::text IS NULL OR m.type = $5)"
        " ORDER BY m.number, m.platform, m.type LIMIT $6::int) x",
        6, p, NULL);
}

int api_appeals_list(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "number", "platform", "state", "limit", NULL};
    long limit = 1000;
    if (api_only(c, allowed) != 0 || api_int(c, "limit", 1, 10000, &limit) != 0)
        return -1;
    char lim[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *p[] = {api_scope(c), api_str(c, "number"), api_str(c, "platform"),
                       api_str(c, "state"), lim};
    return api_sql_json(
        c,
        "SELECT COALESCE(json_agg(x ORDER BY x.filed_at, x.job_id), '[]')::text FROM ("
        " SELECT a.job_id, a.number, a.platform, a.mark_type, a.ticket, a.state, a.evidence,"
        "  a.filed_at, a.updated_at, a.decided_at FROM appeals a"
        " JOIN numbers n ON n.number = a.number"
        " WHERE ($1::text IS NULL OR n.tenant_id = $1) AND ($2::text IS NULL OR a.number = $2)"
        "   AND ($3::text IS NULL OR a.platform = $3) AND ($4::text IS NULL OR a.state = $4)"
        " ORDER BY a.filed_at, a.job_id LIMIT $5::int) x",
        5, p, NULL);
}

int api_feedback_post(api_ctx_t *c)
{
    static const char *const allowed[] = {"number",  "seen_label", "seen_mark", "platform",
                                          "message", "reporter",   NULL};
    const char *number;
    if (api_only(c, allowed) != 0 || api_need(c, "number", &number) != 0)
        return -1;
    if (!nt_phone_is_e164(number))
        return api_fail(c, 400, "number", "field number: \"%.20s\" is not E.164", number);
    const char *label = api_str(c, "seen_label"), *mark = api_str(c, "seen_mark");
    const char *platform = api_str(c, "platform"), *message = api_str(c, "message");
    if (label == NULL && mark == NULL)
        return api_fail(c, 400, "seen_label",
                        "give seen_label (the label the callee saw) "
                        "and/or seen_mark (a mark type)");
    if (label != NULL && nt_buf_utf8_chars(label) > 64)
        return api_fail(c, 400, "seen_label", "field seen_label: at most 64 characters");
    if (mark != NULL && !nt_job_is_mark_type(mark))
        return api_fail(c, 400, "seen_mark",
                        "field seen_mark: \"%.20s\" is not harassment, fraud, agency, finance, "
                        "advertising, delivery, taxi or other",
                        mark);
    if (platform != NULL && nt_platforms_find(c->cli->platforms, platform) == NULL)
        return api_fail(c, 400, "platform", "field platform: \"%.60s\" is not a platform",
                        platform);
    if (message != NULL && nt_buf_utf8_chars(message) > 1000)
        return api_fail(c, 400, "message", "field message: at most 1000 characters");
    const char *reporter = api_str(c, "reporter");
    char source[160];
    snprintf(source, sizeof(source), "%.60s%s%.60s", c->source, reporter ? " reporter " : "",
             reporter ? reporter : "");
    const char *p[] = {c->tenant, number, label, mark, platform, message, source};
    /* stored only when the number is the tenant's; the answer is the same */
    if (api_sql_json(c,
                     "WITH ins AS (INSERT INTO feedback (tenant_id, number, seen_label, seen_mark,"
                     " platform, message, source) SELECT $1::text, $2::text, $3::text, $4::text,"
                     " $5::text, $6::text, $7::text WHERE EXISTS (SELECT 1 FROM numbers"
                     " WHERE number = $2::text AND tenant_id = $1::text)"
                     " RETURNING id) SELECT count(*)::text FROM ins",
                     7, p, NULL) != 0)
        return -1;
    c->dropped = strcmp(c->out.data, "1") != 0;
    nt_buf_reset(&c->out);
    if (!c->dropped) {
        enqueue_filter_t f = {.number = number, .tenant = c->tenant};
        uint64_t produced = 0;
        /* a failure here is caught up by the reconciler's check-feedback pass */
        (void)enqueue_run(c->cli, "check-feedback", &f, false, true, &produced);
    }
    c->status = 202;
    if (nt_buf_puts(&c->out, "{\"accepted\":true}") != NT_OK)
        return api_fail(c, 500, NULL, "out of memory");
    return 0;
}

int api_feedback_list(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "number", "limit", NULL};
    long limit = 1000;
    if (api_only(c, allowed) != 0 || api_int(c, "limit", 1, 10000, &limit) != 0)
        return -1;
    char lim[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *p[] = {api_scope(c), api_str(c, "number"), lim};
    return api_sql_json(
        c,
        "SELECT COALESCE(json_agg(x ORDER BY x.id), '[]')::text FROM ("
        " SELECT f.id, f.number, f.seen_label, f.seen_mark, f.platform, f.message,"
        "  f.received_at FROM feedback f"
        " WHERE ($1::text IS NULL OR f.tenant_id = $1) AND ($2::text IS NULL OR f.number = $2)"
        " ORDER BY f.id DESC LIMIT $3::int) x",
        3, p, NULL);
}

int api_reports_get(api_ctx_t *c)
{
    static const char *const allowed[] = {"name", "tenant", "platform", "scenario", "since", NULL};
    const char *name;
    nt_err_t err;
    if (api_only(c, allowed) != 0 || api_need(c, "name", &name) != 0)
        return -1;
    report_filter_t f = {.tenant = api_scope(c),
                         .platform = api_str(c, "platform"),
                         .scenario = api_str(c, "scenario"),
                         .since = api_str(c, "since")};
    nt_err_clear(&err);
    if (f.since != NULL) {
        const char *p[] = {f.since};
        PGresult *res = nt_pg_exec(c->pg, "SELECT $1::timestamptz", 1, p, &err);
        PQclear(res);
        if (res == NULL)
            return api_fail(c, 400, "since", "field since: \"%.40s\" is not a time (2027-01-01)",
                            f.since);
    }
    if (strcmp(name, "html") == 0) {
        if (report_html(c->pg, f.tenant, f.platform, f.scenario, f.since, &c->out, &err) != 0)
            return api_fail(c, 500, NULL, "%s", err.msg);
        c->html = true;
        return 0;
    }
    const report_section_t *sec = report_section_find(name);
    if (sec != NULL && c->role != API_ADMIN && strcmp(name, "dead_letters") == 0)
        sec = NULL; /* fleet-wide: not a tenant's to read */
    if (sec == NULL)
        return api_fail(c, 404, "name",
                        "no report named \"%.30s\" (fleet, scenarios, platforms, mark_rate, "
                        "trust, labels, marks, appeals, certification, operations, "
                        "costs, feedback, jobs, html; dead_letters for an admin)",
                        name);
    PGresult *res = report_section_query(c->pg, sec, &f, &err);
    if (res == NULL)
        return api_fail(c, 500, NULL, "%s", err.msg);
    if (report_section_snapshot(sec, &f)) {
        /* the rows are the fleet-state snapshot's: say of when (headers,
         * so that the answer stays an array of rows) */
        snprintf(c->snapshot_taken, sizeof(c->snapshot_taken), "%s", f.taken);
        c->snapshot_age_s = (long)f.age_s;
    }
    int rc = report_result_json(res, &c->out);
    PQclear(res);
    return rc == NT_OK ? 0 : api_fail(c, 500, NULL, "answer too large");
}
