/*
 * api_numbers.c — the numbers resource: list, get, register, bulk import,
 * update, disable / enable, offboard, and "check now" / "appeal now".
 *
 * Registration and bulk import go through import_numbers() (import.c), the
 * code path of `numtrust-producer import`, so a number is validated the same
 * way whichever door it comes in by. Re-checks and appeals go through
 * enqueue_run() (enqueue.c), the code path of `numtrust-producer enqueue`.
 * Every statement is scoped by tenant ($1 NULL: an admin, every tenant); a
 * number of another tenant is "not found", never "forbidden".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "clock.h"
#include "phone.h"

#define NUMBER_JSON                                                                                \
    "json_build_object('number', n.number, 'tenant', n.tenant_id, 'scenario', n.scenario_id,"      \
    " 'base_label', n.base_label, 'status', n.status, 'created_at', n.created_at,"                 \
    " 'registrations', COALESCE((SELECT json_agg(json_build_object('platform', np.platform,"       \
    "   'cert_status', np.cert_status, 'trust_score', np.trust_score,"                             \
    "   'label_android', np.label_android, 'label_ios', np.label_ios,"                             \
    "   'label_search', np.label_search, 'wanted_label', w.label, 'open_marks', np.open_marks,"    \
    "   'last_checked_at', np.last_checked_at) ORDER BY np.platform)"                              \
    "   FROM number_platforms np LEFT JOIN wanted_labels w USING (number, platform)"               \
    "   WHERE np.number = n.number), '[]'))"

static int need_number(api_ctx_t *c, const char **number)
{
    if (api_need(c, "number", number) != 0)
        return -1;
    if (!nt_phone_is_e164(*number))
        return api_fail(c, 400, "number",
                        "field number: \"%.40s\" is not E.164 (+, then 8-15 "
                        "digits; %%2B for + in a URL)",
                        *number);
    return 0;
}

static int answer_number(api_ctx_t *c, const char *number)
{
    const char *p[] = {api_scope(c), number};
    char nf[96];
    snprintf(nf, sizeof(nf), "number %s not found", number);
    return api_sql_json(c,
                        "SELECT " NUMBER_JSON "::text FROM numbers n"
                        " WHERE n.number = $2 AND ($1::text IS NULL OR n.tenant_id = $1)",
                        2, p, nf);
}

int api_numbers_get(api_ctx_t *c)
{
    static const char *const allowed[] = {"number", "tenant", NULL};
    const char *number;
    if (api_only(c, allowed) != 0 || need_number(c, &number) != 0)
        return -1;
    return answer_number(c, number);
}

int api_numbers_list(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "status", "prefix", "scenario",
                                          "limit",  "after",  NULL};
    static const char *const statuses[] = {"active", "disabled", "offboarded", "all"};
    long limit = 100;
    if (api_only(c, allowed) != 0 || api_int(c, "limit", 1, 1000, &limit) != 0)
        return -1;
    const char *status = api_str(c, "status"), *prefix = api_str(c, "prefix");
    bool ok = status == NULL;
    for (size_t i = 0; !ok && i < NT_ARRAY_LEN(statuses); i++)
        ok = strcmp(status, statuses[i]) == 0;
    if (!ok)
        return api_fail(c, 400, "status",
                        "field status: \"%.20s\" is not active, disabled, "
                        "offboarded or all",
                        status);
    if (prefix != NULL &&
        (prefix[0] != '+' || strspn(prefix + 1, "0123456789") != strlen(prefix) - 1))
        return api_fail(c, 400, "prefix", "field prefix: \"%.20s\" must be + and digits", prefix);
    char lim[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *p[] = {api_scope(c),           status, prefix,
                       api_str(c, "scenario"), lim,    api_str(c, "after")};
    return api_sql_json(
        c,
        "SELECT json_build_object('items', COALESCE(json_agg(x.j ORDER BY x.number), '[]'),"
        " 'next', CASE WHEN count(*) = $5::int THEN max(x.number) END)::text FROM ("
        " SELECT n.number, " NUMBER_JSON " AS j FROM numbers n"
        " WHERE ($1::text IS NULL OR n.tenant_id = $1)"
        "   AND CASE WHEN $2::text IS NULL THEN n.status <> 'offboarded'"
        "            WHEN $2 = 'all' THEN true ELSE n.status = $2 END"
        "   AND ($3::text IS NULL OR n.number LIKE $3 || '%')"
        "   AND ($4::text IS NULL OR n.scenario_id = $4) AND ($6::text IS NULL OR n.number > $6)"
        " ORDER BY n.number LIMIT $5::int) x",
        6, p, NULL);
}

/* ------------------------------------------------------------ imports */

typedef struct rejects_s {
    nt_buf_t *out;
    int n;
    long first_line;
    char first[300];
} rejects_t;

/* "field base_label: must be ..." -> "base_label" */
static void field_of(const char *msg, char *out, size_t outsz)
{
    out[0] = '\0';
    if (strncmp(msg, "field ", 6) == 0) {
        size_t n = strcspn(msg + 6, ": ");
        snprintf(out, outsz, "%.*s", (int)n, msg + 6);
    }
}

static void on_reject(void *arg, long line, const char *msg)
{
    rejects_t *r = arg;
    char field[64];
    if (r->n == 0) {
        r->first_line = line;
        snprintf(r->first, sizeof(r->first), "%s", msg);
    }
    if (r->out == NULL || r->n >= 50) {
        r->n++;
        return;
    }
    field_of(msg, field, sizeof(field));
    int rc = nt_buf_printf(r->out, "%s{\"line\":%ld,\"field\":", r->n > 0 ? "," : "", line);
    if (rc == NT_OK)
        rc = field[0] ? nt_buf_json_str(r->out, field, strlen(field)) : nt_buf_puts(r->out, "null");
    if (rc == NT_OK)
        rc = nt_buf_puts(r->out, ",\"message\":");
    if (rc == NT_OK)
        rc = nt_buf_json_str(r->out, msg, strlen(msg));
    if (rc == NT_OK)
        rc = nt_buf_puts(r->out, "}");
    (void)rc;
    r->n++;
}

static int csv_quoted(nt_buf_t *b, const char *s, char sep)
{
    int rc = nt_buf_putc(b, '"');
    for (const char *p = s; rc == NT_OK && *p; p++)
        rc = *p == '"' ? nt_buf_puts(b, "\"\"") : nt_buf_putc(b, *p);
    if (rc == NT_OK)
        rc = nt_buf_putc(b, '"');
    if (rc == NT_OK)
        rc = nt_buf_putc(b, sep);
    return rc;
}

int api_numbers_add(api_ctx_t *c)
{
    static const char *const allowed[] = {"number",     "tenant",    "scenario",
                                          "base_label", "platforms", NULL};
    const char *number, *scenario, *label, *tenant = api_scope(c);
    nt_buf_t csv, plats;
    int rc = -1;
    FILE *fp = NULL;

    nt_buf_init(&csv, 64 * 1024);
    nt_buf_init(&plats, 16 * 1024);
    if (api_only(c, allowed) != 0 || need_number(c, &number) != 0 ||
        api_need(c, "scenario", &scenario) != 0 || api_need(c, "base_label", &label) != 0)
        goto out;
    if (tenant == NULL) {
        api_fail(c, 400, "tenant", "field tenant: required with an admin token");
        goto out;
    }
    if (c->role != API_ADMIN && api_str(c, "tenant") != NULL &&
        strcmp(api_str(c, "tenant"), c->tenant) != 0) {
        api_fail(c, 400, "tenant", "field tenant: \"%.64s\" is not your tenant",
                 api_str(c, "tenant"));
        goto out;
    }
    /* platforms: an array of ids, or "a;b" text (what the CLI passes) */
    const cJSON *pv = cJSON_GetObjectItemCaseSensitive(c->in, "platforms");
    if (cJSON_IsArray(pv)) {
        const cJSON *e;
        cJSON_ArrayForEach(e, pv)
        {
            if (!cJSON_IsString(e)) {
                api_fail(c, 400, "platforms", "field platforms: every element must be a string");
                goto out;
            }
            if (nt_buf_printf(&plats, "%s%s", plats.len ? ";" : "", e->valuestring) != NT_OK) {
                api_fail(c, 413, "platforms", "field platforms: too long");
                goto out;
            }
        }
    } else if (cJSON_IsString(pv)) {
        if (nt_buf_puts(&plats, pv->valuestring) != NT_OK) {
            api_fail(c, 413, "platforms", "field platforms: too long");
            goto out;
        }
    } else {
        api_fail(c, 400, "platforms", "field platforms: required, an array of platform ids");
        goto out;
    }
    if (nt_buf_puts(&csv, "tenant,number,scenario,base_label,platforms\n") != NT_OK ||
        csv_quoted(&csv, tenant, ',') != NT_OK || csv_quoted(&csv, number, ',') != NT_OK ||
        csv_quoted(&csv, scenario, ',') != NT_OK || csv_quoted(&csv, label, ',') != NT_OK ||
        csv_quoted(&csv, plats.data ? plats.data : "", '\n') != NT_OK) {
        api_fail(c, 413, NULL, "fields too long");
        goto out;
    }
    fp = fmemopen(csv.data, csv.len, "rb");
    if (fp == NULL) {
        api_fail(c, 500, NULL, "fmemopen failed");
        goto out;
    }
    rejects_t rj = {0};
    import_opts_t o = {
        .name = "body", .only_tenant = tenant, .reject = on_reject, .reject_arg = &rj};
    import_result_t r;
    if (import_numbers(c->cli, fp, &o, &r) != 0 || r.bad > 0) {
        char field[64];
        field_of(rj.first, field, sizeof(field));
        api_fail(c, rj.first_line > 0 ? 400 : 500, field[0] ? field : NULL, "%s",
                 rj.first[0] ? rj.first : "import failed");
        goto out;
    }
    c->status = 201;
    rc = answer_number(c, number);
    if (rc == 0)
        c->status = 201;
out:
    if (fp != NULL)
        fclose(fp);
    nt_buf_free(&csv);
    nt_buf_free(&plats);
    return rc;
}

int api_numbers_import(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "dry_run", NULL};
    nt_buf_t errs;
    FILE *fp = NULL;
    int rc = -1;
    nt_buf_init(&errs, 256 * 1024);
    if (api_only(c, allowed) != 0)
        goto out;
    if (c->raw == NULL || c->raw_len == 0) {
        api_fail(c, 400, "body",
                 "body: a CSV file with the header "
                 "tenant,number,scenario,base_label,platforms");
        goto out;
    }
    const char *dry = api_str(c, "dry_run");
    fp = fmemopen((void *)c->raw, c->raw_len, "rb");
    if (fp == NULL) {
        api_fail(c, 500, NULL, "fmemopen failed");
        goto out;
    }
    rejects_t rj = {.out = &errs};
    import_opts_t o = {.name = "body",
                       .dry = dry != NULL && strcmp(dry, "true") == 0,
                       .only_tenant = c->role == API_ADMIN ? NULL : c->tenant,
                       .reject = on_reject,
                       .reject_arg = &rj};
    import_result_t r;
    if (import_numbers(c->cli, fp, &o, &r) != 0) {
        char field[64];
        field_of(rj.first, field, sizeof(field));
        api_fail(c, rj.first_line > 0 ? 400 : 500,
                 rj.first_line > 0 ? (field[0] ? field : "body") : NULL, "%s%s",
                 rj.first_line > 0 ? "body: " : "", rj.first[0] ? rj.first : "import failed");
        goto out;
    }
    if (nt_buf_printf(&c->out,
                      "{\"dry_run\":%s,\"imported\":%ld,\"registrations\":%ld,\"rejected\":%ld,"
                      "\"errors\":[%s]}",
                      o.dry ? "true" : "false", r.good, r.regs, r.bad,
                      errs.data ? errs.data : "") != NT_OK) {
        api_fail(c, 500, NULL, "out of memory");
        goto out;
    }
    rc = 0;
out:
    if (fp != NULL)
        fclose(fp);
    nt_buf_free(&errs);
    return rc;
}

/* ------------------------------------------------------------ changes */

int api_numbers_update(api_ctx_t *c)
{
    static const char *const allowed[] = {"number", "tenant", "scenario", "base_label", NULL};
    const char *number;
    if (api_only(c, allowed) != 0 || need_number(c, &number) != 0)
        return -1;
    const char *scenario = api_str(c, "scenario"), *label = api_str(c, "base_label");
    if (scenario == NULL && label == NULL)
        return api_fail(c, 400, "scenario", "give scenario and/or base_label to change");
    if (label != NULL && (nt_buf_utf8_chars(label) == 0 || nt_buf_utf8_chars(label) > 64))
        return api_fail(c, 400, "base_label", "field base_label: must be 1-64 characters, has %zu",
                        nt_buf_utf8_chars(label));
    if (scenario != NULL) {
        nt_err_t err;
        nt_err_clear(&err);
        const char *sp[] = {scenario};
        PGresult *res = nt_pg_exec(c->pg, "SELECT 1 FROM scenarios WHERE id = $1", 1, sp, &err);
        bool known = res != NULL && PQntuples(res) == 1;
        PQclear(res);
        if (res == NULL)
            return api_fail(c, 503, NULL, "%s", err.msg);
        if (!known)
            return api_fail(c, 400, "scenario",
                            "field scenario: \"%.40s\" is not one of "
                            "high_frequency, seasonal, high_qualification, "
                            "individual",
                            scenario);
    }
    const char *p[] = {api_scope(c), number, scenario, label};
    char nf[96];
    snprintf(nf, sizeof(nf), "number %s not found", number);
    int rc = api_sql_json(c,
                          "UPDATE numbers SET scenario_id = COALESCE($3, scenario_id),"
                          " base_label = COALESCE($4, base_label)"
                          " WHERE number = $2 AND ($1::text IS NULL OR tenant_id = $1)"
                          " RETURNING number::text",
                          4, p, nf);
    if (rc != 0)
        return rc;
    nt_buf_reset(&c->out);
    return answer_number(c, number);
}

static int set_status(api_ctx_t *c, const char *status)
{
    static const char *const allowed[] = {"number", "tenant", NULL};
    const char *number;
    if (api_only(c, allowed) != 0 || need_number(c, &number) != 0)
        return -1;
    const char *p[] = {api_scope(c), number, status};
    char nf[96];
    snprintf(nf, sizeof(nf), "number %s not found", number);
    int rc = api_sql_json(
        c,
        "WITH u AS (UPDATE numbers SET status = $3, status_changed_at = now()"
        "  WHERE number = $2 AND ($1::text IS NULL OR tenant_id = $1) RETURNING number),"
        " d AS (DELETE FROM label_schedules ls USING u"
        "  WHERE $3 = 'offboarded' AND ls.number = u.number RETURNING ls.id)"
        " SELECT (SELECT number::text FROM u) WHERE (SELECT count(*) FROM d) >= 0",
        3, p, nf);
    if (rc != 0)
        return rc;
    nt_buf_reset(&c->out);
    return answer_number(c, number);
}

int api_numbers_disable(api_ctx_t *c)
{
    return set_status(c, "disabled");
}

int api_numbers_enable(api_ctx_t *c)
{
    return set_status(c, "active");
}

int api_numbers_offboard(api_ctx_t *c)
{
    return set_status(c, "offboarded");
}

/* ------------------------------------------------------------ now */

static int enqueue_now(api_ctx_t *c, const char *kind)
{
    static const char *const allowed[] = {"number", "tenant", "platform", NULL};
    const char *number;
    if (api_only(c, allowed) != 0 || need_number(c, &number) != 0)
        return -1;
    const char *platform = api_str(c, "platform");
    if (platform != NULL && nt_platforms_find(c->cli->platforms, platform) == NULL)
        return api_fail(c, 400, "platform", "field platform: \"%.60s\" is not a platform",
                        platform);
    /* the number must be the caller's */
    const char *p[] = {api_scope(c), number};
    char nf[96];
    snprintf(nf, sizeof(nf), "number %s not found", number);
    if (api_sql_json(c,
                     "SELECT status FROM numbers WHERE number = $2"
                     " AND ($1::text IS NULL OR tenant_id = $1)",
                     2, p, nf) != 0)
        return -1;
    bool active = strcmp(c->out.data, "active") == 0;
    nt_buf_reset(&c->out);
    if (!active)
        return api_fail(c, 409, "number", "number %s is not active (enable it first)", number);
    char period[48];
    snprintf(period, sizeof(period), "api-%lld", (long long)nt_clock_wall_ms());
    enqueue_filter_t f = {.number = number,
                          .platform = platform,
                          .tenant = api_scope(c),
                          .period = strcmp(kind, "check") == 0 ? period : NULL};
    uint64_t produced = 0;
    if (enqueue_run(c->cli, kind, &f, false, true, &produced) != 0)
        return api_fail(c, 503, NULL, "could not enqueue (Kafka or PostgreSQL unavailable)");
    c->status = 202;
    if (nt_buf_printf(&c->out, "{\"kind\":\"%s\",\"enqueued\":%llu}",
                      strcmp(kind, "check") == 0 ? "check" : "appeal",
                      (unsigned long long)produced) != NT_OK)
        return api_fail(c, 500, NULL, "out of memory");
    return 0;
}

int api_numbers_recheck(api_ctx_t *c)
{
    return enqueue_now(c, "check");
}

int api_numbers_appeal(api_ctx_t *c)
{
    return enqueue_now(c, "appeal");
}
