/*
 * api_sla.c — policies, service levels, alerts, quarantine and costs in the
 * API (issue 10's surface, docs/policies.md), for the CLI commands S built:
 * `policy`, `sla`, `alerts`, `quarantine`, `costs`. Writes go through the
 * same code as those commands (policies.c's policy_store_*, the quarantine
 * statements of sla_cli.c, nt_alert()); reads answer JSON from the tables
 * and views the commands print (effective policies, sla_breaches,
 * mark_rates, trust_trends, alerts, alert_endpoints, alert_deliveries,
 * quarantine, cost_monthly, nt_plan_fees(), tenant_policies).
 *
 * Scope: a tenant token reads and changes only its tenant's policy layers,
 * alerts, webhook endpoints (and their deliveries), quarantine list and
 * costs; another tenant's number is 404. An admin sees every tenant, may
 * scope itself with `tenant`, and alone changes the defaults, the
 * per-scenario layers, fleet-wide endpoints and the policy document.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "job.h"
#include "phone.h"
#include "sla.h"

/* ------------------------------------------------------------ helpers */

/* Who changed something, for policies.updated_by. */
static void who(const api_ctx_t *c, char *out, size_t outsz)
{
    if (c->token_id == 0)
        snprintf(out, outsz, "cli");
    else
        snprintf(out, outsz, "api token %ld", c->token_id);
}

/* Fails unless scenario (may be NULL) exists. */
static int check_scenario(api_ctx_t *c, const char *scenario)
{
    nt_err_t err;
    if (scenario == NULL)
        return 0;
    nt_err_clear(&err);
    const char *p[] = {scenario};
    PGresult *res = nt_pg_exec(c->pg, "SELECT 1 FROM scenarios WHERE id = $1", 1, p, &err);
    if (res == NULL)
        return api_fail(c, err.retriable ? 503 : 500, NULL, "%s", err.msg);
    int n = PQntuples(res);
    PQclear(res);
    return n == 1 ? 0
                  : api_fail(c, 400, "scenario",
                             "field scenario: \"%.60s\" is not a scenario (high_frequency, "
                             "seasonal, high_qualification, individual)",
                             scenario);
}

/* Fails unless an admin's tenant (may be NULL) is a tenant id and, when
 * must_exist, a tenant (policies may name one not imported yet, as `policy`
 * does; an alert endpoint's tenant must exist). */
static int check_tenant(api_ctx_t *c, const char *tenant, bool must_exist)
{
    nt_err_t err;
    if (tenant == NULL || c->role != API_ADMIN)
        return 0;
    if (!nt_job_is_tenant_id(tenant))
        return api_fail(c, 400, "tenant", "field tenant: \"%.64s\" is not a tenant id", tenant);
    if (!must_exist)
        return 0;
    nt_err_clear(&err);
    const char *p[] = {tenant};
    PGresult *res = nt_pg_exec(c->pg, "SELECT 1 FROM tenants WHERE id = $1", 1, p, &err);
    if (res == NULL)
        return api_fail(c, err.retriable ? 503 : 500, NULL, "%s", err.msg);
    int n = PQntuples(res);
    PQclear(res);
    return n == 1 ? 0 : api_fail(c, 400, "tenant", "field tenant: no tenant \"%.64s\"", tenant);
}

/* Fails with 404 unless number is managed and, for a tenant token, its
 * tenant's; 400 when it is not E.164. */
static int check_number(api_ctx_t *c, const char *number)
{
    nt_err_t err;
    if (!nt_phone_is_e164(number))
        return api_fail(c, 400, "number", "field number: \"%.20s\" is not E.164", number);
    nt_err_clear(&err);
    const char *p[] = {number, api_scope(c)};
    PGresult *res = nt_pg_exec(c->pg,
                               "SELECT 1 FROM numbers WHERE number = $1"
                               " AND ($2::text IS NULL OR tenant_id = $2)",
                               2, p, &err);
    if (res == NULL)
        return api_fail(c, err.retriable ? 503 : 500, NULL, "%s", err.msg);
    int n = PQntuples(res);
    PQclear(res);
    return n == 1 ? 0 : api_fail(c, 404, "number", "no number %s", number);
}

static int bool_field(api_ctx_t *c, const char *field, bool *value)
{
    const char *s = api_str(c, field);
    if (s == NULL)
        return 0;
    if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
        return api_fail(c, 400, field, "field %s: \"%.20s\" is not true or false", field, s);
    *value = strcmp(s, "true") == 0;
    return 0;
}

/* Fails unless value (may be NULL) is one of the NULL-terminated list. */
static int one_of(api_ctx_t *c, const char *field, const char *value, const char *const *list)
{
    char all[256] = "";
    size_t o = 0;
    if (value == NULL)
        return 0;
    for (const char *const *v = list; *v != NULL; v++) {
        if (strcmp(value, *v) == 0)
            return 0;
        o += (size_t)snprintf(all + o, sizeof(all) - o, "%s%s", o ? ", " : "", *v);
        if (o >= sizeof(all))
            o = sizeof(all) - 1;
    }
    return api_fail(c, 400, field, "field %s: \"%.40s\" is not one of %s", field, value, all);
}

/* ------------------------------------------------------------ policies */

/* The resolved policy of tenant and scenario (NULL: every one) as JSON:
 * {"tenant", "scenario", "fields": {NAME: {"value": "12h", "origin": "tenant"}}},
 * the values in the syntax PATCH takes. */
static int policy_answer(api_ctx_t *c, const char *tenant, const char *scenario)
{
    nt_policy_layer_t out;
    nt_policy_origin_t origin[NT_POLICY_NFIELDS];
    nt_err_t err;
    nt_err_clear(&err);
    if (policy_store_resolve(c->pg, tenant, scenario, &out, origin, &err) != NT_OK)
        return api_fail(c, err.retriable ? 503 : 500, NULL, "%s", err.msg);
    nt_buf_t *b = &c->out;
    int rc = nt_buf_puts(b, "{\"tenant\":");
    if (rc == NT_OK)
        rc = tenant ? nt_buf_json_str(b, tenant, strlen(tenant)) : nt_buf_puts(b, "null");
    if (rc == NT_OK)
        rc = nt_buf_puts(b, ",\"scenario\":");
    if (rc == NT_OK)
        rc = scenario ? nt_buf_json_str(b, scenario, strlen(scenario)) : nt_buf_puts(b, "null");
    if (rc == NT_OK)
        rc = nt_buf_puts(b, ",\"fields\":{");
    for (int f = 0; rc == NT_OK && f < NT_POLICY_NFIELDS; f++) {
        const char *name = nt_policy_fields()[f].name;
        const char *from = out.set[f] ? nt_policy_origin_name(origin[f]) : "scenario cycle";
        char human[NT_POLICY_VAL_MAX];
        rc = nt_buf_printf(b, "%s\"%s\":{\"value\":", f ? "," : "", name);
        if (rc == NT_OK && out.set[f]) {
            nt_policy_format(f, out.val[f], human, sizeof(human));
            rc = nt_buf_json_str(b, human, strlen(human));
        } else if (rc == NT_OK) {
            rc = nt_buf_puts(b, "null");
        }
        if (rc == NT_OK)
            rc = nt_buf_puts(b, ",\"origin\":");
        if (rc == NT_OK)
            rc = nt_buf_json_str(b, from, strlen(from));
        if (rc == NT_OK)
            rc = nt_buf_puts(b, "}");
    }
    if (rc == NT_OK)
        rc = nt_buf_puts(b, "}}");
    return rc == NT_OK ? 0 : api_fail(c, 500, NULL, "out of memory");
}

int api_policy_get(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "scenario", NULL};
    const char *tenant = api_scope(c), *scenario = api_str(c, "scenario");
    if (api_only(c, allowed) != 0 || check_tenant(c, tenant, false) != 0 ||
        check_scenario(c, scenario) != 0)
        return -1;
    return policy_answer(c, tenant, scenario);
}

int api_policy_patch(api_ctx_t *c)
{
    nt_policy_layer_t set;
    bool clear[NT_POLICY_NFIELDS];
    const nt_policy_field_t *fs = nt_policy_fields();
    const cJSON *item;
    nt_err_t err;
    int fields = 0;
    char by[64];

    memset(&set, 0, sizeof(set));
    memset(clear, 0, sizeof(clear));
    nt_err_clear(&err);
    const char *tenant = api_scope(c), *scenario = api_str(c, "scenario");
    if (check_tenant(c, tenant, false) != 0 || check_scenario(c, scenario) != 0)
        return -1;
    cJSON_ArrayForEach(item, c->in)
    {
        if (strcmp(item->string, "tenant") == 0 || strcmp(item->string, "scenario") == 0)
            continue;
        int f = nt_policy_field_index(item->string);
        if (f < 0)
            return api_fail(c, 400, item->string,
                            "field %.60s: not a policy field (docs/policies.md)", item->string);
        if (fs[f].tenant_wide && scenario != NULL)
            return api_fail(c, 400, fs[f].name,
                            "field %s: tenant-wide, it has no per-scenario value (leave out "
                            "scenario)",
                            fs[f].name);
        if (cJSON_IsNull(item)) {
            clear[f] = true;
        } else if (nt_policy_parse_json(f, item, set.val[f], sizeof(set.val[f]), &err) != NT_OK) {
            return api_fail(c, 400, fs[f].name, "field %s", err.msg);
        } else {
            set.set[f] = true;
        }
        fields++;
    }
    if (fields == 0)
        return api_fail(c, 400, "body",
                        "give the policy fields to set (a value) or unset (null), e.g. "
                        "{\"appeal_file_within\": \"6h\"}");
    who(c, by, sizeof(by));
    if (policy_store_set(c->pg, tenant ? tenant : "*", scenario ? scenario : "*", &set, clear, by,
                         &err) != NT_OK)
        return api_fail(c,
                        err.code == NT_EINVAL ? 400
                        : err.retriable       ? 503
                                              : 500,
                        NULL, "%s", err.msg);
    return policy_answer(c, tenant, scenario);
}

int api_policy_export(api_ctx_t *c)
{
    static const char *const allowed[] = {NULL};
    nt_policy_doc_t doc;
    nt_err_t err;
    nt_err_clear(&err);
    if (api_only(c, allowed) != 0)
        return -1;
    if (policy_store_load(c->pg, &doc, &err) != NT_OK)
        return api_fail(c, err.retriable ? 503 : 500, NULL, "%s", err.msg);
    /* the defaults only where they differ from the built-in values, as `policy export` */
    nt_policy_layer_t *g = &doc.entries[0].layer;
    for (int f = 0; f < NT_POLICY_NFIELDS; f++) {
        const char *def = nt_policy_fields()[f].def;
        if (g->set[f] && def != NULL && strcmp(g->val[f], def) == 0)
            g->set[f] = false;
    }
    int rc = nt_policy_doc_render(&doc, &c->out);
    nt_policy_doc_free(&doc);
    return rc == NT_OK ? 0 : api_fail(c, 500, NULL, "out of memory");
}

int api_policy_apply(api_ctx_t *c)
{
    static const char *const allowed[] = {"dry_run", NULL};
    nt_policy_doc_t doc = {0};
    nt_buf_t report;
    nt_err_t err;
    bool dry = false;
    char by[64];
    nt_err_clear(&err);
    if (api_only(c, allowed) != 0 || bool_field(c, "dry_run", &dry) != 0)
        return -1;
    if (c->raw_len == 0)
        return api_fail(c, 400, "body", "the body is the policy document (JSON)");
    if (nt_policy_doc_parse(c->raw, c->raw_len, "body", &doc, &err) != NT_OK)
        return api_fail(c, 400, "body", "%s", err.msg);
    nt_buf_init(&report, 0);
    who(c, by, sizeof(by));
    int rc = policy_store_apply(c->pg, &doc, by, dry, &report, &err);
    nt_policy_doc_free(&doc);
    if (rc != NT_OK) {
        nt_buf_free(&report);
        return api_fail(c,
                        err.code == NT_EINVAL ? 400
                        : err.retriable       ? 503
                                              : 500,
                        err.code == NT_EINVAL ? "body" : NULL, "%s", err.msg);
    }
    rc = nt_buf_printf(&c->out, "{\"dry_run\":%s,\"report\":[", dry ? "true" : "false");
    const char *line = report.data != NULL ? report.data : "";
    for (int n = 0; rc == NT_OK && *line != '\0'; n++) {
        size_t len = strcspn(line, "\n");
        rc = nt_buf_puts(&c->out, n ? "," : "");
        if (rc == NT_OK)
            rc = nt_buf_json_str(&c->out, line, len);
        line += len + (line[len] == '\n');
    }
    if (rc == NT_OK)
        rc = nt_buf_puts(&c->out, "]}");
    nt_buf_free(&report);
    return rc == NT_OK ? 0 : api_fail(c, 500, NULL, "out of memory");
}

/* ------------------------------------------------------------ service levels */

static const char *const clock_kinds[] = {"appeal_filing", "appeal_decision", "qualification_label",
                                          "campaign_label", NULL};

int api_sla_summary(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", NULL};
    if (api_only(c, allowed) != 0)
        return -1;
    const char *p[] = {api_scope(c)};
    /* `sla summary`: per tenant the mark rate against its target, this month's
     * service levels and cost against the budget */
    return api_sql_json(
        c,
        "WITH m AS (SELECT nt_month(nt_now()) AS month),"
        " sla AS (SELECT tenant_id, sum(met) AS met, sum(breached) AS breached,"
        "                sum(open + at_risk) AS open FROM sla_month GROUP BY tenant_id),"
        " plans AS (SELECT tenant_id, sum(amount) AS amount"
        "           FROM nt_plan_fees((SELECT month FROM m)) GROUP BY tenant_id) "
        "SELECT COALESCE(json_agg(x ORDER BY x.tenant), '[]')::text FROM ("
        " SELECT t.id AS tenant, to_char(m.month, 'YYYY-MM') AS month,"
        "  ts.mark_rate::float8 AS mark_rate, tp.max_mark_rate::float8 AS target,"
        "  CASE WHEN ts.tenant_id IS NULL THEN 'unchecked' WHEN ts.over_target THEN 'over'"
        "       ELSE 'ok' END AS status, ts.over_since,"
        "  COALESCE(s.met, 0) AS sla_met, COALESCE(s.breached, 0) AS sla_breached,"
        "  COALESCE(s.open, 0) AS sla_open, round(b.spent, 2)::float8 AS operations_cost,"
        "  round(COALESCE(p.amount, 0), 2)::float8 AS plans,"
        "  round(b.spent + COALESCE(p.amount, 0), 2)::float8 AS month_cost,"
        "  CASE WHEN b.budget = 'Infinity' THEN NULL ELSE b.budget::float8 END AS budget,"
        "  b.currency"
        " FROM tenants t CROSS JOIN m JOIN tenant_policies tp ON tp.tenant_id = t.id"
        " JOIN tenant_budgets b ON b.tenant_id = t.id"
        " LEFT JOIN tenant_status ts ON ts.tenant_id = t.id"
        " LEFT JOIN sla s ON s.tenant_id = t.id LEFT JOIN plans p ON p.tenant_id = t.id"
        " WHERE ($1::text IS NULL OR t.id = $1)) x",
        1, p, NULL);
}

int api_sla_breaches(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "kind", "number", "limit", NULL};
    long limit = 50;
    const char *kind = api_str(c, "kind");
    if (api_only(c, allowed) != 0 || api_int(c, "limit", 1, 10000, &limit) != 0 ||
        one_of(c, "kind", kind, clock_kinds) != 0)
        return -1;
    char lim[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *p[] = {api_scope(c), kind, api_str(c, "number"), lim};
    return api_sql_json(
        c,
        "SELECT COALESCE(json_agg(x ORDER BY x.due_at DESC, x.id DESC), '[]')::text FROM ("
        " SELECT id, kind, tenant_id AS tenant, number, platform, detail, started_at, due_at,"
        "  done_at, breached_at, extract(epoch FROM late_by)::bigint AS late_by_s, evidence"
        " FROM sla_breaches WHERE ($1::text IS NULL OR tenant_id = $1)"
        "  AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR number = $3)"
        " ORDER BY due_at DESC, id DESC LIMIT $4::int) x",
        4, p, NULL);
}

int api_sla_rates(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "dim", NULL};
    static const char *const dims[] = {"tenant", "platform", "scenario", "group", NULL};
    const char *dim = api_str(c, "dim");
    if (api_only(c, allowed) != 0 || one_of(c, "dim", dim, dims) != 0)
        return -1;
    const char *p[] = {api_scope(c), dim};
    /* the latest hour of each tenant, dimension and key (`sla rates`) */
    return api_sql_json(
        c,
        "SELECT COALESCE(json_agg(x ORDER BY x.tenant, x.dim, x.key), '[]')::text FROM ("
        " SELECT DISTINCT ON (tenant_id, dim, key) tenant_id AS tenant, dim, key, registrations,"
        "  marked, rate::float8 AS rate, target::float8 AS target, rate > target AS over_target,"
        "  bucket AS hour"
        " FROM mark_rates WHERE ($1::text IS NULL OR tenant_id = $1)"
        "  AND ($2::text IS NULL OR dim = $2)"
        " ORDER BY tenant_id, dim, key, bucket DESC) x",
        2, p, NULL);
}

int api_sla_trend(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "number", NULL};
    const char *number;
    if (api_only(c, allowed) != 0 || api_need(c, "number", &number) != 0 ||
        check_number(c, number) != 0)
        return -1;
    const char *p[] = {number};
    return api_sql_json(
        c,
        "SELECT json_build_object('number', $1::text,"
        " 'trends', COALESCE((SELECT json_agg(t ORDER BY t.platform) FROM ("
        "   SELECT platform, points, first_at, last_at, last_score, slope_per_day,"
        "    decay_pct_quarter, threshold, crosses_at, computed_at"
        "   FROM trust_trends WHERE number = $1) t), '[]'),"
        " 'quarters', COALESCE((SELECT json_agg(q ORDER BY q.platform, q.quarter) FROM ("
        "   SELECT platform, to_char(quarter, 'YYYY-\"Q\"Q') AS quarter, checks,"
        "    avg_score::float8 AS avg_score, decay_pct::float8 AS decay_pct"
        "   FROM trust_quarterly WHERE number = $1) q), '[]'))::text",
        1, p, "no such number");
}

/* ------------------------------------------------------------ alerts */

int api_alerts_list(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "event", "number", "limit", NULL};
    long limit = 50;
    const char *event = api_str(c, "event");
    if (api_only(c, allowed) != 0 || api_int(c, "limit", 1, 10000, &limit) != 0)
        return -1;
    if (event != NULL && !alerts_is_event(event))
        return api_fail(c, 400, "event",
                        "field event: \"%.40s\" is not an event (mark_new, sla_breach, ...)",
                        event);
    char lim[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *p[] = {api_scope(c), event, api_str(c, "number"), lim};
    /* a tenant's alerts; deliveries counted to the endpoints the caller sees */
    return api_sql_json(
        c,
        "SELECT COALESCE(json_agg(x ORDER BY x.id DESC), '[]')::text FROM ("
        " SELECT a.id, a.event, a.tenant_id AS tenant, a.number, a.platform, a.summary, a.data,"
        "  a.at, a.created_at AS raised_at,"
        "  (SELECT count(*) FROM alert_deliveries d JOIN alert_endpoints e ON e.id = d.endpoint_id"
        "   WHERE d.alert_id = a.id AND ($1::text IS NULL OR e.tenant_id = $1)) AS deliveries,"
        "  (SELECT count(*) FROM alert_deliveries d JOIN alert_endpoints e ON e.id = d.endpoint_id"
        "   WHERE d.alert_id = a.id AND d.state = 'delivered'"
        "     AND ($1::text IS NULL OR e.tenant_id = $1)) AS delivered"
        " FROM alerts a WHERE ($1::text IS NULL OR a.tenant_id = $1)"
        "  AND ($2::text IS NULL OR a.event = $2) AND ($3::text IS NULL OR a.number = $3)"
        " ORDER BY a.id DESC LIMIT $4::int) x",
        4, p, NULL);
}

int api_alerts_test(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", NULL};
    const char *tenant = api_scope(c);
    if (api_only(c, allowed) != 0 || check_tenant(c, tenant, true) != 0)
        return -1;
    const char *p[] = {tenant, c->role == API_ADMIN ? "true" : "false"};
    c->status = 202;
    /* the endpoints that will receive it: the tenant's, and for an admin the
     * fleet-wide ones too */
    return api_sql_json(
        c,
        "SELECT json_build_object('raised', nt_alert('test', $1, NULL, NULL,"
        "   'test:' || gen_random_uuid(), 'a test alert from the API', '{}'::jsonb),"
        " 'endpoints', (SELECT count(*) FROM alert_endpoints e WHERE e.enabled"
        "   AND (e.tenant_id = $1 OR ($2::bool AND e.tenant_id IS NULL))"
        "   AND (e.events IS NULL OR 'test' = ANY(e.events))))::text",
        2, p, NULL);
}

#define ENDPOINT_JSON                                                                              \
    "json_build_object('name', e.name, 'url', e.url, 'tenant', e.tenant_id, 'events', e.events,"   \
    " 'enabled', e.enabled, 'secret', left(e.secret, 4) || '****', 'created_at', e.created_at)"

int api_endpoints_list(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", NULL};
    if (api_only(c, allowed) != 0)
        return -1;
    const char *p[] = {api_scope(c)};
    return api_sql_json(c,
                        "SELECT COALESCE(json_agg(" ENDPOINT_JSON " ORDER BY e.name), '[]')::text"
                        " FROM alert_endpoints e WHERE $1::text IS NULL OR e.tenant_id = $1",
                        1, p, NULL);
}

int api_endpoints_add(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "name", "url", "secret", "events", NULL};
    const char *name, *url, *secret, *tenant = api_scope(c);
    char events[600] = "{";
    size_t o = 1;
    if (api_only(c, allowed) != 0 || api_need(c, "name", &name) != 0 ||
        api_need(c, "url", &url) != 0 || api_need(c, "secret", &secret) != 0 ||
        check_tenant(c, tenant, true) != 0)
        return -1;
    if (!nt_job_is_tenant_id(name))
        return api_fail(c, 400, "name", "field name: \"%.64s\": 1-63 of [A-Za-z0-9_.-]", name);
    /* a tenant's receiver must be https: the reconciler POSTs from inside the
     * network, and a plain-http URL of a tenant's choosing would let it reach
     * internal services (an admin registers what it wants) */
    bool https = strncmp(url, "https://", 8) == 0;
    if ((!https && strncmp(url, "http://", 7) != 0) || strlen(url) > 2000 ||
        (c->role != API_ADMIN && !https))
        return api_fail(c, 400, "url", "field url: \"%.80s\" is not an %s URL", url,
                        c->role == API_ADMIN ? "http(s)" : "https");
    if (strlen(secret) < 16 || strlen(secret) > 256)
        return api_fail(c, 400, "secret", "field secret: must have 16 to 256 characters");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(c->in, "events");
    if (ev != NULL && !cJSON_IsNull(ev)) {
        if (!cJSON_IsArray(ev))
            return api_fail(c, 400, "events", "field events: must be an array of event names");
        const cJSON *it;
        cJSON_ArrayForEach(it, ev)
        {
            if (!cJSON_IsString(it) || !alerts_is_event(it->valuestring))
                return api_fail(c, 400, "events",
                                "field events: \"%.40s\" is not an event (mark_new, "
                                "sla_breach, ...)",
                                cJSON_IsString(it) ? it->valuestring : "?");
            o += (size_t)snprintf(events + o, sizeof(events) - o, "%s%s", o > 1 ? "," : "",
                                  it->valuestring);
            if (o >= sizeof(events) - 2)
                return api_fail(c, 400, "events", "field events: too many");
        }
        snprintf(events + o, sizeof(events) - o, "}");
    }
    const char *p[] = {name,
                       url,
                       secret,
                       tenant,
                       ev != NULL && !cJSON_IsNull(ev) ? events : NULL,
                       c->role == API_ADMIN ? "true" : "false"};
    /* one name space for every tenant (alert_endpoints.name is unique): a name
     * another owner uses is taken, never overwritten (an admin's may be) */
    if (api_sql_json(
            c,
            "WITH up AS (INSERT INTO alert_endpoints AS e (name, url, secret, tenant_id, events)"
            " VALUES ($1, $2, $3, $4, $5::text[])"
            " ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, secret = EXCLUDED.secret,"
            "  tenant_id = EXCLUDED.tenant_id, events = EXCLUDED.events, enabled = true"
            " WHERE $6::bool OR e.tenant_id IS NOT DISTINCT FROM EXCLUDED.tenant_id"
            " RETURNING e.*, (e.xmax = 0) AS created)"
            " SELECT json_build_object('created', (SELECT created FROM up), 'endpoint',"
            "  (SELECT " ENDPOINT_JSON " FROM up e))::text WHERE EXISTS (SELECT 1 FROM up)",
            6, p, NULL) != 0)
        return -1;
    cJSON *ans = cJSON_ParseWithLength(c->out.data, c->out.len);
    bool taken = cJSON_IsArray(ans);
    c->status = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ans, "created")) ? 201 : 200;
    cJSON_Delete(ans);
    if (taken) {
        nt_buf_reset(&c->out);
        return api_fail(c, 409, "name", "field name: \"%s\" is taken; choose another", name);
    }
    return 0;
}

int api_endpoints_remove(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "name", NULL};
    const char *name;
    if (api_only(c, allowed) != 0 || api_need(c, "name", &name) != 0)
        return -1;
    const char *p[] = {name, api_scope(c)};
    int rc = api_sql_json(c,
                          "WITH d AS (DELETE FROM alert_endpoints WHERE name = $1"
                          " AND ($2::text IS NULL OR tenant_id = $2) RETURNING 1)"
                          " SELECT json_build_object('deleted', count(*))::text FROM d"
                          " HAVING count(*) > 0",
                          2, p, "no such endpoint");
    if (rc != 0 && c->status == 404)
        snprintf(c->field, sizeof(c->field), "name");
    return rc;
}

int api_deliveries_list(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "state", "limit", NULL};
    static const char *const states[] = {"pending", "delivered", "dead", NULL};
    long limit = 50;
    const char *state = api_str(c, "state");
    if (api_only(c, allowed) != 0 || api_int(c, "limit", 1, 10000, &limit) != 0 ||
        one_of(c, "state", state, states) != 0)
        return -1;
    char lim[24];
    snprintf(lim, sizeof(lim), "%ld", limit);
    const char *p[] = {api_scope(c), state, lim};
    return api_sql_json(
        c,
        "SELECT COALESCE(json_agg(x ORDER BY x.alert_id DESC, x.endpoint), '[]')::text FROM ("
        " SELECT d.alert_id, e.name AS endpoint, a.event, d.delivery_id, d.state, d.attempts,"
        "  d.last_status, d.last_error, d.next_attempt_at, d.delivered_at"
        " FROM alert_deliveries d JOIN alert_endpoints e ON e.id = d.endpoint_id"
        " JOIN alerts a ON a.id = d.alert_id"
        " WHERE ($1::text IS NULL OR e.tenant_id = $1) AND ($2::text IS NULL OR d.state = $2)"
        " ORDER BY d.alert_id DESC, e.name LIMIT $3::int) x",
        3, p, NULL);
}

int api_deliveries_retry(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", NULL};
    if (api_only(c, allowed) != 0)
        return -1;
    const char *p[] = {api_scope(c)};
    return api_sql_json(c,
                        "WITH r AS (UPDATE alert_deliveries d SET state = 'pending', attempts = 0,"
                        " next_attempt_at = now() FROM alert_endpoints e"
                        " WHERE e.id = d.endpoint_id AND d.state = 'dead'"
                        " AND ($1::text IS NULL OR e.tenant_id = $1) RETURNING 1)"
                        " SELECT json_build_object('requeued', count(*))::text FROM r",
                        1, p, NULL);
}

/* ------------------------------------------------------------ quarantine */

#define QUARANTINE_JSON                                                                            \
    "json_build_object('id', q.id, 'number', q.number, 'tenant', q.tenant_id, 'scenario',"         \
    " n.scenario_id, 'group', n.number_group, 'reason', q.reason, 'since', q.since,"               \
    " 'clean_since', q.clean_since, 'release_after', q.release_after, 'released_at',"              \
    " q.released_at, 'release_reason', q.release_reason, 'note', q.note, 'evidence', q.evidence)"

int api_quarantine_list(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "number", "all", NULL};
    bool all = false;
    if (api_only(c, allowed) != 0 || bool_field(c, "all", &all) != 0)
        return -1;
    const char *p[] = {api_scope(c), api_str(c, "number"), all ? "true" : "false"};
    /* without all: exactly the rows of quarantined_numbers, what dialers read */
    return api_sql_json(c,
                        "SELECT COALESCE(json_agg(" QUARANTINE_JSON
                        " ORDER BY q.since DESC, q.id DESC), '[]')::text"
                        " FROM quarantine q JOIN numbers n ON n.number = q.number"
                        " WHERE ($1::text IS NULL OR q.tenant_id = $1)"
                        "  AND ($2::text IS NULL OR q.number = $2)"
                        "  AND ($3::bool OR q.released_at IS NULL)",
                        3, p, NULL);
}

/* add and release: S's statements (sla_cli.c), then the episode. */
static int quarantine_step(api_ctx_t *c, bool add)
{
    static const char *const allowed_add[] = {"tenant", "number", "note", NULL};
    static const char *const allowed_release[] = {"tenant", "number", "note", NULL};
    const char *number, *note = NULL;
    nt_err_t err;
    nt_err_clear(&err);
    if (api_only(c, add ? allowed_add : allowed_release) != 0 ||
        api_need(c, "number", &number) != 0 || (add && api_need(c, "note", &note) != 0) ||
        check_number(c, number) != 0)
        return -1;
    if (!add)
        note = api_str(c, "note");
    if (note != NULL && strlen(note) > 1000)
        return api_fail(c, 400, "note", "field note: at most 1000 bytes");
    const char *p[] = {number, note};
    PGresult *res =
        nt_pg_exec(c->pg, add ? sla_sql_quarantine_add : sla_sql_quarantine_release, 2, p, &err);
    if (res == NULL)
        return api_fail(c, err.retriable ? 503 : 500, NULL, "%s", err.msg);
    char id[24] = "";
    if (PQntuples(res) == 1)
        snprintf(id, sizeof(id), "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    if (id[0] == '\0')
        return api_fail(c, 409, "number", "field number: %s %s", number,
                        add ? "is in quarantine already" : "is not in quarantine");
    const char *q[] = {id};
    if (add)
        c->status = 201;
    return api_sql_json(c,
                        "SELECT " QUARANTINE_JSON "::text FROM quarantine q"
                        " JOIN numbers n ON n.number = q.number WHERE q.id = $1::bigint",
                        1, q, "no such quarantine");
}

int api_quarantine_add(api_ctx_t *c)
{
    return quarantine_step(c, true);
}

int api_quarantine_release(api_ctx_t *c)
{
    return quarantine_step(c, false);
}

/* ------------------------------------------------------------ costs */

/* The month's rows: operations from the ledger, plan fees per scenario. */
#define COST_ROWS                                                                                  \
    "WITH m AS (SELECT COALESCE($1::date, nt_month(nt_now())) AS month),"                          \
    " r AS ("                                                                                      \
    "  SELECT c.tenant_id, c.scenario_id, c.platform, c.number_group, c.op, c.currency,"           \
    "         c.operations, c.amount FROM cost_monthly c, m WHERE c.month = m.month"               \
    "  UNION ALL"                                                                                  \
    "  SELECT f.tenant_id, f.scenario_id, '(plan)', '', 'plan_' || f.plan_per, f.currency, 0,"     \
    "         f.amount FROM nt_plan_fees((SELECT month FROM m)) f WHERE f.amount > 0) "

#define COST_BY(col, name)                                                                         \
    COST_ROWS "SELECT COALESCE(json_agg(x ORDER BY x.tenant, x." name "), '[]')::text FROM ("      \
              " SELECT r.tenant_id AS tenant, to_char(m.month, 'YYYY-MM') AS month, r." col        \
              " AS " name ", sum(r.operations) AS operations,"                                     \
              " round(sum(r.amount), 2)::float8 AS amount, r.currency FROM r CROSS JOIN m"         \
              " WHERE ($2::text IS NULL OR r.tenant_id = $2)"                                      \
              " GROUP BY r.tenant_id, m.month, r." col ", r.currency) x"

int api_costs_get(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "month", "by", NULL};
    static const struct {
        const char *by, *sql;
    } dims[] = {
        {"tenant", COST_ROWS
         "SELECT COALESCE(json_agg(x ORDER BY x.tenant), '[]')::text FROM ("
         " SELECT t.id AS tenant, to_char(m.month, 'YYYY-MM') AS month,"
         "  COALESCE(sum(r.operations), 0) AS operations,"
         "  round(COALESCE(sum(r.amount) FILTER (WHERE r.op NOT LIKE 'plan_%'), 0), 2)::float8"
         "   AS operations_cost,"
         "  round(COALESCE(sum(r.amount) FILTER (WHERE r.op LIKE 'plan_%'), 0), 2)::float8"
         "   AS plans,"
         "  round(COALESCE(sum(r.amount), 0), 2)::float8 AS total,"
         "  CASE WHEN tp.monthly_budget = 'Infinity' THEN NULL"
         "       ELSE tp.monthly_budget::float8 END AS budget,"
         "  CASE WHEN tp.monthly_budget IN ('Infinity', 0) THEN NULL"
         "       ELSE round(COALESCE(sum(r.amount) FILTER (WHERE r.op NOT LIKE 'plan_%'"
         "                  AND r.currency = tp.budget_currency), 0) / tp.monthly_budget, 4)"
         "            ::float8 END AS of_budget,"
         "  tp.budget_currency AS currency"
         " FROM tenants t CROSS JOIN m JOIN tenant_policies tp ON tp.tenant_id = t.id"
         " LEFT JOIN r ON r.tenant_id = t.id WHERE ($2::text IS NULL OR t.id = $2)"
         " GROUP BY t.id, m.month, tp.monthly_budget, tp.budget_currency) x"},
        {"scenario", COST_BY("scenario_id", "scenario")},
        {"platform", COST_BY("platform", "platform")},
        {"group", COST_BY("number_group", "number_group")},
        {"op", COST_BY("op", "op")},
    };
    const char *month = api_str(c, "month"), *by = api_str(c, "by");
    const char *sql = dims[0].sql;
    char month_date[32];
    if (api_only(c, allowed) != 0)
        return -1;
    if (by != NULL) {
        sql = NULL;
        for (size_t d = 0; d < NT_ARRAY_LEN(dims); d++)
            if (strcmp(by, dims[d].by) == 0)
                sql = dims[d].sql;
        if (sql == NULL)
            return api_fail(c, 400, "by",
                            "field by: \"%.20s\" is not tenant, scenario, platform, group or op",
                            by);
    }
    if (month != NULL) {
        int y = 0, mo = 0;
        char tail = 0;
        if (strlen(month) != 7 || sscanf(month, "%4d-%2d%c", &y, &mo, &tail) != 2 || y < 2000 ||
            mo < 1 || mo > 12)
            return api_fail(c, 400, "month", "field month: \"%.20s\" is not YYYY-MM", month);
        snprintf(month_date, sizeof(month_date), "%04d-%02d-01", y, mo);
    }
    const char *p[] = {month != NULL ? month_date : NULL, api_scope(c)};
    return api_sql_json(c, sql, 2, p, NULL);
}
