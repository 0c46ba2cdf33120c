/*
 * api_core.c — the table of control-plane operations and the helpers every
 * operation uses to read its input and answer (see api.h).
 */
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "hex.h"

const api_op_t api_ops[] = {
    {"GET", "/v1/whoami", "whoami", 0, api_whoami, "the token's role and tenant"},
    {"GET", "/v1/numbers", "numbers list", 0, api_numbers_list,
     "numbers (filters: status, prefix, scenario; limit, after)"},
    {"POST", "/v1/numbers", "numbers add", API_OP_WRITE, api_numbers_add,
     "register one number (number, scenario, base_label, platforms; tenant for an admin)"},
    {"POST", "/v1/numbers/import", "numbers import", API_OP_WRITE | API_OP_RAW, api_numbers_import,
     "bulk import: a CSV body, the columns and checks of `numtrust-producer import`"},
    {"GET", "/v1/numbers/{number}", "numbers get", 0, api_numbers_get,
     "one number: registrations, observed state, wanted labels"},
    {"PATCH", "/v1/numbers/{number}", "numbers update", API_OP_WRITE, api_numbers_update,
     "change scenario and/or base_label"},
    {"POST", "/v1/numbers/{number}/disable", "numbers disable", API_OP_WRITE, api_numbers_disable,
     "stop maintaining a number (kept, no new jobs)"},
    {"POST", "/v1/numbers/{number}/enable", "numbers enable", API_OP_WRITE, api_numbers_enable,
     "maintain a disabled or offboarded number again"},
    {"DELETE", "/v1/numbers/{number}", "numbers offboard", API_OP_WRITE, api_numbers_offboard,
     "offboard a number: no more jobs, schedules removed, history kept"},
    {"POST", "/v1/numbers/{number}/recheck", "numbers recheck", API_OP_WRITE, api_numbers_recheck,
     "check the number now (optional platform)"},
    {"POST", "/v1/numbers/{number}/appeal", "numbers appeal", API_OP_WRITE, api_numbers_appeal,
     "appeal the number's open marks now (optional platform)"},
    {"GET", "/v1/schedules", "schedules list", 0, api_schedules_list,
     "label schedules (filters: number, kind, active)"},
    {"POST", "/v1/schedules", "schedules add", API_OP_WRITE, api_schedules_add,
     "add a campaign, qualification, region or timeslot label schedule"},
    {"POST", "/v1/schedules/import", "schedules import", API_OP_WRITE | API_OP_RAW,
     api_schedules_import, "bulk import: CSV, or an iCalendar file (text/calendar)"},
    {"DELETE", "/v1/schedules/{id}", "schedules delete", API_OP_WRITE, api_schedules_delete,
     "remove a label schedule"},
    {"GET", "/v1/marks", "marks list", 0, api_marks_list,
     "marks (filters: number, platform, state, type)"},
    {"GET", "/v1/appeals", "appeals list", 0, api_appeals_list,
     "appeals (filters: number, platform, state)"},
    {"GET", "/v1/action-items", "actions list", 0, api_actions_list,
     "the manual queue: tag updates and appeals a person files on a platform's web form "
     "(filters: state, kind, platform, number; limit)"},
    {"GET", "/v1/action-items/{id}", "actions show", 0, api_actions_get,
     "one action item: where to file it and its form's fields"},
    {"POST", "/v1/action-items/{id}/submit", "actions submit", API_OP_WRITE, api_actions_submit,
     "the item was filed on the platform (optional reference, note)"},
    {"POST", "/v1/action-items/{id}/done", "actions done", API_OP_WRITE, api_actions_done,
     "the platform decided: outcome (applied|rejected, approved|rejected)"},
    {"GET", "/v1/policies", "policy show", 0, api_policy_get,
     "the resolved policy of the token's tenant (an admin: tenant, or the defaults) and "
     "optional scenario, with where each field comes from"},
    {"PATCH", "/v1/policies", "policy set", API_OP_WRITE, api_policy_patch,
     "set (a value) or unset (null) fields of one layer: the tenant's, or its scenario's; an "
     "admin also the defaults and the per-scenario layers (`policy unset` too)"},
    {"GET", "/v1/policies/document", "policy export", API_OP_ADMIN, api_policy_export,
     "every layer as a policy document (the file kept in version control)"},
    {"PUT", "/v1/policies/document", "policy apply", API_OP_ADMIN | API_OP_WRITE | API_OP_RAW,
     api_policy_apply, "replace every layer with a policy document's (dry_run=true: compare only)"},
    {"GET", "/v1/sla/summary", "sla summary", 0, api_sla_summary,
     "per tenant: mark rate against its target, the month's service levels and cost against "
     "the budget"},
    {"GET", "/v1/sla/breaches", "sla breaches", 0, api_sla_breaches,
     "breached service levels with their evidence (filters: kind, number; limit)"},
    {"GET", "/v1/sla/rates", "sla rates", 0, api_sla_rates,
     "the latest mark rates per tenant, platform, scenario and group (filter: dim)"},
    {"GET", "/v1/sla/trend/{number}", "sla trend", 0, api_sla_trend,
     "a number's trust trend, forecast and measured decay per quarter"},
    {"GET", "/v1/alerts", "alerts list", 0, api_alerts_list,
     "alerts raised (filters: event, number; limit)"},
    {"POST", "/v1/alerts/test", "alerts test", API_OP_WRITE, api_alerts_test,
     "raise a test alert (sent to the webhook endpoints by the reconciler daemon)"},
    {"GET", "/v1/alerts/endpoints", "alerts endpoint list", 0, api_endpoints_list,
     "webhook endpoints (secrets masked)"},
    {"POST", "/v1/alerts/endpoints", "alerts endpoint add", API_OP_WRITE, api_endpoints_add,
     "register or replace a webhook endpoint (name, url, secret, events)"},
    {"DELETE", "/v1/alerts/endpoints/{name}", "alerts endpoint remove", API_OP_WRITE,
     api_endpoints_remove, "remove a webhook endpoint with its pending deliveries"},
    {"GET", "/v1/alerts/deliveries", "alerts deliveries", 0, api_deliveries_list,
     "the outbox: deliveries to the endpoints (filter: state; limit)"},
    {"POST", "/v1/alerts/retry", "alerts retry", API_OP_WRITE, api_deliveries_retry,
     "re-queue dead deliveries"},
    {"GET", "/v1/quarantine", "quarantine list", 0, api_quarantine_list,
     "numbers in quarantine, what dialers must not call (all=true: every episode)"},
    {"POST", "/v1/quarantine", "quarantine add", API_OP_WRITE, api_quarantine_add,
     "quarantine a number by hand (number, note)"},
    {"POST", "/v1/quarantine/{number}/release", "quarantine release", API_OP_WRITE,
     api_quarantine_release, "end a number's quarantine now"},
    {"GET", "/v1/costs", "costs report", 0, api_costs_get,
     "the month's cost per tenant against the budget, or by scenario, platform, group or op"},
    {"POST", "/v1/feedback", "feedback post", API_OP_FEEDBACK | API_OP_WRITE, api_feedback_post,
     "public intake: a callee's report on a number (feedback token)"},
    {"GET", "/v1/feedback", "feedback list", 0, api_feedback_list,
     "callee reports received (filters: number)"},
    {"GET", "/v1/reports/{name}", "reports get", 0, api_reports_get,
     "a report view as rows (mark_rate, trust, labels, appeals, certification, operations, costs, "
     "feedback) or the HTML report (html); filters platform, scenario, since"},
};
const size_t api_nops = NT_ARRAY_LEN(api_ops);

int api_fail(api_ctx_t *c, int status, const char *field, const char *fmt, ...)
{
    va_list ap;
    c->status = status;
    snprintf(c->field, sizeof(c->field), "%s", field != NULL ? field : "");
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof(c->msg), fmt, ap);
    va_end(ap);
    return -1;
}

const char *api_str(api_ctx_t *c, const char *field)
{
    char text[64];
    cJSON *v = cJSON_GetObjectItemCaseSensitive(c->in, field);
    if (v == NULL || cJSON_IsNull(v))
        return NULL;
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsBool(v))
        snprintf(text, sizeof(text), "%s", cJSON_IsTrue(v) ? "true" : "false");
    else if (cJSON_IsNumber(v) && v->valuedouble == (double)(long long)v->valuedouble)
        snprintf(text, sizeof(text), "%lld", (long long)v->valuedouble);
    else if (cJSON_IsNumber(v))
        snprintf(text, sizeof(text), "%.17g", v->valuedouble);
    else
        return NULL;
    /* the text replaces the value in the input, so it lives as long as the input
     * and two fields read into one parameter list never share a buffer */
    cJSON *str = cJSON_CreateString(text);
    if (str == NULL || !cJSON_ReplaceItemViaPointer(c->in, v, str)) {
        cJSON_Delete(str);
        return NULL;
    }
    return str->valuestring;
}

int api_need(api_ctx_t *c, const char *field, const char **value)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->in, field);
    if (v != NULL && !cJSON_IsNull(v) && !cJSON_IsString(v) && !cJSON_IsNumber(v))
        return api_fail(c, 400, field, "field %s: must be a string", field);
    *value = api_str(c, field);
    if (*value == NULL || (*value)[0] == '\0')
        return api_fail(c, 400, field, "field %s: required", field);
    return 0;
}

int api_int(api_ctx_t *c, const char *field, long min, long max, long *value)
{
    const char *s = api_str(c, field);
    if (s == NULL)
        return 0;
    char *end = NULL;
    long v = strtol(s, &end, 10);
    if (end == s || *end != '\0' || v < min || v > max)
        return api_fail(c, 400, field, "field %s: \"%.40s\" is not an integer in [%ld, %ld]", field,
                        s, min, max);
    *value = v;
    return 0;
}

int api_only(api_ctx_t *c, const char *const *allowed)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, c->in)
    {
        bool ok = false;
        for (const char *const *a = allowed; *a != NULL && !ok; a++)
            ok = strcmp(*a, item->string) == 0;
        if (!ok)
            return api_fail(c, 400, item->string, "field %.60s: unknown for this operation",
                            item->string);
    }
    return 0;
}

const char *api_scope(api_ctx_t *c)
{
    return c->role == API_ADMIN ? api_str(c, "tenant") : c->tenant;
}

int api_sql_json(api_ctx_t *c, const char *sql, int nparams, const char *const *params,
                 const char *not_found)
{
    nt_err_t err;
    nt_err_clear(&err);
    PGresult *res = nt_pg_exec(c->pg, sql, nparams, params, &err);
    if (res == NULL) {
        /* data errors (22xxx, 23xxx) are the caller's; the rest are ours */
        if (err.retriable)
            return api_fail(c, 503, NULL, "database unavailable: %s", err.msg);
        return api_fail(
            c, strstr(err.msg, ": 22") != NULL || strstr(err.msg, ": 23") != NULL ? 400 : 500, NULL,
            "%s", err.msg);
    }
    int rc = 0;
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0)) {
        if (not_found != NULL)
            rc = api_fail(c, 404, NULL, "%s", not_found);
        else if (nt_buf_puts(&c->out, "[]") != NT_OK)
            rc = api_fail(c, 500, NULL, "out of memory");
    } else if (nt_buf_puts(&c->out, PQgetvalue(res, 0, 0)) != NT_OK) {
        rc = api_fail(c, 500, NULL, "answer too large");
    }
    PQclear(res);
    return rc;
}

void api_token_hash(const char *s, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha256(), NULL);
    nt_hex_encode(md, 32, out);
}

int api_whoami(api_ctx_t *c)
{
    static const char *const names[] = {"admin", "tenant", "feedback"};
    if (nt_buf_puts(&c->out, "{\"role\":") != NT_OK ||
        nt_buf_json_str(&c->out, names[c->role], strlen(names[c->role])) != NT_OK ||
        nt_buf_puts(&c->out, ",\"tenant\":") != NT_OK ||
        (c->tenant != NULL ? nt_buf_json_str(&c->out, c->tenant, strlen(c->tenant))
                           : nt_buf_puts(&c->out, "null")) != NT_OK ||
        nt_buf_puts(&c->out, "}") != NT_OK)
        return api_fail(c, 500, NULL, "out of memory");
    return 0;
}
