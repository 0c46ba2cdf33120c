/*
 * admin.c — the admin API (see admin.h and docs/simulator.md). A route table
 * maps (method, path) to a handler; handlers parse JSON bodies with cJSON
 * and render answers with nt_buf.
 */
#include "admin.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "dialect.h"
#include "notify.h"
#include "phone.h"

typedef struct admin_call_s {
    nt_simsrv_t *srv;
    const nt_simsrv_req_t *req;
    nt_buf_t *out;
    cJSON *root; /* the parsed body, for POSTs */
} admin_call_t;

typedef int (*admin_fn)(admin_call_t *call);

static int fail(admin_call_t *call, int status, const char *msg)
{
    nt_buf_reset(call->out);
    int rc = nt_buf_puts(call->out, "{\"error\":");
    NT_EMIT(rc, nt_buf_json_str(call->out, msg, strlen(msg)));
    NT_EMIT(rc, nt_buf_putc(call->out, '}'));
    return rc == NT_OK ? status : 500;
}

static int ok(admin_call_t *call)
{
    return nt_buf_puts(call->out, "{\"ok\":true}") == NT_OK ? 200 : 500;
}

/* The decoded value of name in the query ('+' stays '+': numbers carry it). */
static bool query_get(const char *query, const char *name, char *out, size_t outsz)
{
    size_t nlen = strlen(name);
    const char *p = query;
    while (p != NULL && *p) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=')
            return nt_dialect_pct_decode(p + nlen + 1, len - nlen - 1, out, outsz) >= 0;
        p = amp ? amp + 1 : NULL;
    }
    return false;
}

/* Reads "platform" and "number" from the body into a scope id and number. */
static int body_target(admin_call_t *call, int *scope, const char **number)
{
    const char *platform = nt_dialect_str(call->root, "platform");
    *number = nt_dialect_str(call->root, "number");
    if (platform == NULL)
        return fail(call, 400, "\"platform\": missing or not a string");
    if (*number == NULL || !nt_phone_is_e164(*number))
        return fail(call, 400, "\"number\": missing or not E.164");
    *scope = nt_sim_scope(nt_simsrv_sim(call->srv), platform);
    if (*scope < 0)
        return fail(call, 400, "\"platform\": not a valid scope name");
    return 0;
}

static int marks_json(nt_buf_t *out, const nt_sim_state_t *st, size_t n)
{
    int rc = nt_buf_putc(out, '[');
    for (size_t i = 0; i < n && i < st->nmarks; i++)
        NT_EMIT(rc, nt_buf_printf(out, "%s{\"type\":\"%s\",\"count\":%d}", i ? "," : "",
                                  nt_sim_mark_name(st->marks[i].type), st->marks[i].count));
    NT_EMIT(rc, nt_buf_putc(out, ']'));
    return rc;
}

static int a_health(admin_call_t *call)
{
    return ok(call);
}

static int a_truth(admin_call_t *call)
{
    char platform[NT_SIMCONF_NAME_MAX], number[64], ts[NT_RFC3339_LEN];
    nt_sim_t *sim = nt_simsrv_sim(call->srv);
    nt_sim_state_t st;

    if (!query_get(call->req->query, "platform", platform, sizeof(platform)))
        return fail(call, 400, "query parameter \"platform\" is missing");
    if (!query_get(call->req->query, "number", number, sizeof(number)) || !nt_phone_is_e164(number))
        return fail(call, 400, "query parameter \"number\" is missing or not E.164");
    int scope = nt_sim_scope(sim, platform);
    if (scope < 0)
        return fail(call, 400, "query parameter \"platform\" is not a valid scope name");
    if (nt_sim_state(sim, scope, number, &st) != NT_OK)
        return fail(call, 500, "internal error");
    const nt_dialect_t *d = nt_dialect_find(nt_sim_scope_dialect(sim, scope));
    size_t shown = d != NULL && d->top_mark_only ? 1 : NT_MARK__COUNT;
    size_t ll = strlen(st.label);
    nt_clock_format(nt_sim_now(sim), ts);

    nt_buf_t *out = call->out;
    int rc = nt_buf_puts(out, "{\"platform\":");
    NT_EMIT(rc, nt_buf_json_str(out, platform, strlen(platform)));
    NT_EMIT(rc, nt_buf_puts(out, ",\"number\":"));
    NT_EMIT(rc, nt_buf_json_str(out, number, strlen(number)));
    char expires[NT_RFC3339_LEN] = "";
    if (st.cert_expires_ms != 0)
        nt_clock_format(st.cert_expires_ms, expires);
    NT_EMIT(rc, nt_buf_printf(
                    out, ",\"cert_status\":\"%s\",\"cert_expires\":", nt_sim_cert_name(st.cert)));
    NT_EMIT(rc, st.cert_expires_ms != 0 ? nt_buf_printf(out, "\"%s\"", expires)
                                        : nt_buf_puts(out, "null"));
    NT_EMIT(rc, nt_buf_printf(out, ",\"qualification_verified\":%s,\"trust_score\":%d,\"labels\":{",
                              st.qualification_verified ? "true" : "false", st.trust));
    /* only the surfaces this platform shows a label on */
    static const char *const surfaces[] = {"android", "ios", "search"};
    unsigned shown_on = nt_sim_scope_surfaces(sim, scope);
    bool first = true;
    for (size_t i = 0; i < NT_ARRAY_LEN(surfaces); i++) {
        if (!(shown_on & (1u << i)))
            continue;
        NT_EMIT(rc, nt_buf_printf(out, "%s\"%s\":", first ? "" : ",", surfaces[i]));
        NT_EMIT(rc, nt_buf_json_str(out, st.label, ll));
        first = false;
    }
    NT_EMIT(rc, nt_buf_puts(out, "},\"marks\":"));
    NT_EMIT(rc, marks_json(out, &st, shown));
    NT_EMIT(rc, nt_buf_puts(out, ",\"all_marks\":"));
    NT_EMIT(rc, marks_json(out, &st, NT_MARK__COUNT));
    NT_EMIT(rc, nt_buf_printf(out, ",\"sim_time\":\"%s\"}", ts));
    return rc == NT_OK ? 200 : 500;
}

static int a_marks(admin_call_t *call)
{
    int scope;
    const char *number;
    int st = body_target(call, &scope, &number);
    if (st != 0)
        return st;
    const char *type = nt_dialect_str(call->root, "type");
    int t = type ? nt_sim_mark_parse(type) : -1;
    if (t < 0)
        return fail(call, 400, "\"type\": missing or not in the mark taxonomy");
    const cJSON *count = cJSON_GetObjectItemCaseSensitive(call->root, "count");
    double n = count == NULL ? 1 : cJSON_IsNumber(count) ? count->valuedouble : -1;
    if (n < 1 || n > 1e9 || n != floor(n))
        return fail(call, 400, "\"count\": not an integer in [1, 1000000000]");
    if (nt_sim_mark_inject(nt_simsrv_sim(call->srv), scope, number, (nt_mark_t)t, (int)n) != NT_OK)
        return fail(call, 500, "cannot record the mark (max_records reached?)");
    return ok(call);
}

static int a_marks_clear(admin_call_t *call)
{
    int scope;
    const char *number;
    int st = body_target(call, &scope, &number);
    if (st != 0)
        return st;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(call->root, "type");
    int t = -1;
    if (type != NULL) {
        t = cJSON_IsString(type) ? nt_sim_mark_parse(type->valuestring) : -1;
        if (t < 0)
            return fail(call, 400, "\"type\": not in the mark taxonomy");
    }
    if (nt_sim_mark_clear(nt_simsrv_sim(call->srv), scope, number, t) != NT_OK)
        return fail(call, 500, "cannot record the change (max_records reached?)");
    return ok(call);
}

static int a_qualification(admin_call_t *call)
{
    int scope;
    const char *number;
    int st = body_target(call, &scope, &number);
    if (st != 0)
        return st;
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(call->root, "verified");
    if (!cJSON_IsBool(v))
        return fail(call, 400, "\"verified\": missing or not true/false");
    if (nt_sim_qualification_set(nt_simsrv_sim(call->srv), scope, number, cJSON_IsTrue(v)) != NT_OK)
        return fail(call, 500, "cannot record the change (max_records reached?)");
    return ok(call);
}

static int a_config(admin_call_t *call)
{
    nt_err_t err;
    if (nt_simsrv_reconfigure(call->srv, call->root, &err) != NT_OK)
        return fail(call, 400, err.msg);
    return ok(call);
}

static int a_clock(admin_call_t *call)
{
    char ts[NT_RFC3339_LEN];
    nt_sim_t *sim = nt_simsrv_sim(call->srv);
    const cJSON *adv = cJSON_GetObjectItemCaseSensitive(call->root, "advance_s");
    if (!cJSON_IsNumber(adv) || adv->valuedouble < 0 || adv->valuedouble > 1e11)
        return fail(call, 400, "\"advance_s\": missing or not a number in [0, 1e11]");
    nt_sim_advance(sim, (int64_t)llround(adv->valuedouble * 1000.0));
    nt_clock_format(nt_sim_now(sim), ts);
    return nt_buf_printf(call->out, "{\"sim_time\":\"%s\"}", ts) == NT_OK ? 200 : 500;
}

static int a_outage(admin_call_t *call)
{
    nt_err_t err;
    const cJSON *secs = cJSON_GetObjectItemCaseSensitive(call->root, "seconds");
    const char *mode = nt_dialect_str(call->root, "mode");
    if (!cJSON_IsNumber(secs) || secs->valuedouble != floor(secs->valuedouble))
        return fail(call, 400, "\"seconds\": missing or not an integer");
    if (mode == NULL)
        return fail(call, 400, "\"mode\": missing; want \"refuse\" or \"503\"");
    if (nt_simsrv_outage(call->srv, (int64_t)secs->valuedouble, mode, &err) != NT_OK)
        return fail(call, 400, err.msg);
    return ok(call);
}

int nt_admin_counters(nt_simsrv_t *srv, nt_buf_t *out)
{
    const nt_sim_counters_t *c = nt_sim_counters(nt_simsrv_sim(srv));
    nt_idem_stats_t is = nt_idem_stats(nt_simsrv_idem(srv));
    static const nt_dialect_t *const ds[] = {&nt_dialect_a, &nt_dialect_b, &nt_dialect_c,
                                             &nt_dialect_d};

    int rc =
        nt_buf_printf(out, "{\"requests\":%llu,\"by_endpoint\":{", (unsigned long long)c->requests);
    for (size_t d = 0; d < NT_ARRAY_LEN(ds); d++) {
        for (int ep = 0; ep < NT_SIM_EP__COUNT; ep++)
            NT_EMIT(rc, nt_buf_printf(out, "\"%s\":%llu,", ds[d]->ep_names[ep],
                                      (unsigned long long)c->by_endpoint[d][ep]));
    }
    NT_EMIT(rc,
            nt_buf_printf(out, "\"admin\":%llu},\"by_status\":{", (unsigned long long)c->admin));
    bool first = true;
    for (int s = 0; s < 600; s++) {
        if (c->by_status[s] == 0)
            continue;
        NT_EMIT(rc, nt_buf_printf(out, "%s\"%d\":%llu", first ? "" : ",", s,
                                  (unsigned long long)c->by_status[s]));
        first = false;
    }
    NT_EMIT(rc, nt_buf_printf(
                    out,
                    "},\"rate_limited\":%llu,\"auth_failures\":%llu,"
                    "\"faults\":{\"5xx\":%llu,\"timeout\":%llu,\"malformed\":%llu},"
                    "\"batch_numbers\":%llu,",
                    (unsigned long long)c->rate_limited, (unsigned long long)c->auth_failures,
                    (unsigned long long)c->faults_5xx, (unsigned long long)c->faults_timeout,
                    (unsigned long long)c->faults_malformed, (unsigned long long)c->batch_numbers));
    NT_EMIT(rc, nt_buf_printf(out,
                              "\"idempotency\":{\"keys\":%llu,\"repeats\":%llu,"
                              "\"max_calls_per_key\":%llu},"
                              "\"side_effects\":{\"tag_updates\":%llu,\"appeals\":%llu,"
                              "\"renewals\":%llu},\"tags_rejected\":%llu,"
                              "\"duplicate_side_effects\":%llu,\"early_retries\":%llu}",
                              (unsigned long long)is.keys, (unsigned long long)is.repeats,
                              (unsigned long long)is.max_calls, (unsigned long long)c->tag_updates,
                              (unsigned long long)c->appeals, (unsigned long long)c->renewals,
                              (unsigned long long)c->tags_rejected,
                              (unsigned long long)c->duplicate_side_effects,
                              (unsigned long long)c->early_retries));
    return rc;
}

static int a_counters(admin_call_t *call)
{
    return nt_admin_counters(call->srv, call->out) == NT_OK ? 200 : 500;
}

static int a_counters_reset(admin_call_t *call)
{
    nt_simsrv_reset_counters(call->srv);
    return ok(call);
}

static int a_idempotency(admin_call_t *call)
{
    char key[NT_IDEM_KEY_MAX + 1];
    if (!query_get(call->req->query, "key", key, sizeof(key)) || key[0] == '\0')
        return fail(call, 400, "query parameter \"key\" is missing");
    int rc = nt_buf_puts(call->out, "{\"key\":");
    NT_EMIT(rc, nt_buf_json_str(call->out, key, strlen(key)));
    NT_EMIT(rc, nt_buf_printf(call->out, ",\"calls\":%llu}",
                              (unsigned long long)nt_idem_calls(nt_simsrv_idem(call->srv), key)));
    return rc == NT_OK ? 200 : 500;
}

static int a_callbacks(admin_call_t *call)
{
    return nt_notify_stats(nt_simsrv_notify(call->srv), call->out) == NT_OK ? 200 : 500;
}

/* GET /admin/ticket?platform=P&ticket=T: what the platform decided. */
static int a_ticket(admin_call_t *call)
{
    char platform[NT_SIMCONF_NAME_MAX], ticket[64];
    nt_sim_t *sim = nt_simsrv_sim(call->srv);
    nt_sim_ticket_info_t info;
    static const char *const states[] = {"submitted", "in_review", "approved", "rejected"};
    if (!query_get(call->req->query, "platform", platform, sizeof(platform)))
        return fail(call, 400, "query parameter \"platform\" is missing");
    if (!query_get(call->req->query, "ticket", ticket, sizeof(ticket)))
        return fail(call, 400, "query parameter \"ticket\" is missing");
    int scope = nt_sim_scope(sim, platform);
    if (scope < 0)
        return fail(call, 400, "query parameter \"platform\" is not a valid scope name");
    if (nt_sim_ticket_info(sim, scope, ticket, &info) != NT_OK)
        return fail(call, 404, "unknown ticket");
    bool decided = nt_sim_now(sim) >= info.decide_ms;
    int rc = nt_buf_printf(call->out,
                           "{\"kind\":\"%s\",\"number\":\"%s\",\"state\":\"%s\","
                           "\"decided\":%s,\"approved\":%s}",
                           info.appeal ? "appeal" : "tag", info.number,
                           info.appeal     ? states[info.status]
                           : !decided      ? "pending_review"
                           : info.approved ? "applied"
                                           : "rejected",
                           decided ? "true" : "false", info.approved ? "true" : "false");
    return rc == NT_OK ? 200 : 500;
}

static const struct {
    const char *method;
    const char *path;
    bool body; /* wants a JSON object body */
    admin_fn fn;
} routes[] = {
    {"GET", "/admin/health", false, a_health},
    {"GET", "/admin/truth", false, a_truth},
    {"POST", "/admin/marks", true, a_marks},
    {"POST", "/admin/marks/clear", true, a_marks_clear},
    {"POST", "/admin/qualification", true, a_qualification},
    {"POST", "/admin/config", true, a_config},
    {"POST", "/admin/clock", true, a_clock},
    {"POST", "/admin/outage", true, a_outage},
    {"GET", "/admin/counters", false, a_counters},
    {"POST", "/admin/counters/reset", false, a_counters_reset},
    {"GET", "/admin/idempotency", false, a_idempotency},
    {"GET", "/admin/callbacks", false, a_callbacks},
    {"GET", "/admin/ticket", false, a_ticket},
};

int nt_admin_dispatch(nt_simsrv_t *srv, const nt_simsrv_req_t *req, nt_buf_t *out)
{
    admin_call_t call = {srv, req, out, NULL};
    bool path_known = false;
    int status;

    nt_buf_reset(out);
    for (size_t i = 0; i < NT_ARRAY_LEN(routes); i++) {
        if (strcmp(routes[i].path, req->path) != 0)
            continue;
        path_known = true;
        if (strcmp(routes[i].method, req->method) != 0)
            continue;
        if (routes[i].body) {
            call.root = req->body_len > 0 ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
            if (!cJSON_IsObject(call.root)) {
                cJSON_Delete(call.root);
                return fail(&call, 400, "body: want a JSON object");
            }
        }
        status = routes[i].fn(&call);
        cJSON_Delete(call.root);
        return status;
    }
    return path_known ? fail(&call, 405, "method not allowed") : fail(&call, 404, "not found");
}
