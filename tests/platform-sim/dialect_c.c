/*
 * dialect_c.c — dialect C: an aggregator's batch query without request auth;
 * per number and platform only the most-counted mark is visible. Errors are
 * {"status":"error","error_code":"...","message":"..."}. Wire format:
 * docs/simulator.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialect.h"
#include "phone.h"

static const char *const verified_states[NT_CERT__COUNT] = {
    "verified", "pending", "expired", "revoked", "unverified",
};

static const char *const tag_names[NT_MARK__COUNT] = {
    "骚扰", "诈骗", "中介", "理财", "广告", "快递", "出租车", "其它",
};

static const char *const appeal_states[NT_APPEAL__COUNT] = {
    "queued",
    "reviewing",
    "done",
    "rejected",
};

static const nt_dialect_errdef_t errors[NT_DERR__COUNT] = {
    [NT_DERR_BAD_NUMBER] = {400, 0, "BAD_REQUEST", "invalid number"},
    [NT_DERR_BAD_BODY] = {400, 0, "BAD_REQUEST", "bad request body"},
    [NT_DERR_LABEL] = {400, 0, "LABEL_REJECTED", "label rejected"},
    [NT_DERR_AUTH_SIG] = {401, 0, "UNAUTHORIZED", "unauthorized"},
    [NT_DERR_AUTH_SKEW] = {401, 0, "UNAUTHORIZED", "unauthorized"},
    [NT_DERR_AUTH_KEY] = {401, 0, "UNAUTHORIZED", "unauthorized"},
    [NT_DERR_NO_TICKET] = {404, 0, "NOT_FOUND", "unknown appeal"},
    [NT_DERR_NO_MARK] = {409, 0, "NO_MARK", "no such mark"},
    [NT_DERR_RATE] = {429, 0, "RATE_LIMIT", "rate limited"},
    [NT_DERR_INTERNAL] = {500, 0, "INTERNAL", "internal error"},
    [NT_DERR_UNAVAILABLE] = {503, 0, "UNAVAILABLE", "unavailable"},
    [NT_DERR_NOT_FOUND] = {404, 0, "NOT_FOUND", "no such endpoint"},
    [NT_DERR_NOT_ELIGIBLE] = {409, 0, "NOT_ELIGIBLE", "not eligible"},
};

static const char *const label_states[NT_SIM_TAG__COUNT] = {"queued", "done", "rejected"};

static int error_body(nt_buf_t *out, const nt_dialect_errdef_t *e, const char *msg)
{
    int rc =
        nt_buf_printf(out, "{\"status\":\"error\",\"error_code\":\"%s\",\"message\":", e->name);
    NT_EMIT(rc, nt_buf_json_str(out, msg, strlen(msg)));
    NT_EMIT(rc, nt_buf_putc(out, '}'));
    return rc;
}

/* One batch item: the number, its verification, score and, under the
 * scope's name, the top mark only. */
static int render_check(nt_buf_t *out, const char *scope, const char *number,
                        const nt_sim_state_t *st)
{
    char until[11];
    nt_dialect_date(st->cert_expires_ms, until);
    int rc = nt_buf_puts(out, "{\"number\":");
    NT_EMIT(rc, nt_buf_json_str(out, number, strlen(number)));
    NT_EMIT(rc, nt_buf_printf(out,
                              ",\"verified_state\":\"%s\",\"verified_until\":\"%s\",\"score\":%d,"
                              "\"platforms\":{",
                              verified_states[st->cert], until, st->trust));
    NT_EMIT(rc, nt_buf_json_str(out, scope, strlen(scope)));
    NT_EMIT(rc, nt_buf_printf(
                    out, ":{\"count\":%d,\"show_name\":", st->nmarks ? st->marks[0].count : 0));
    NT_EMIT(rc, nt_buf_json_str(out, st->label, strlen(st->label)));
    NT_EMIT(rc, nt_buf_printf(out, ",\"tag_name\":\"%s\"}}}",
                              st->nmarks ? tag_names[st->marks[0].type] : ""));
    return rc;
}

static int bad_item(nt_buf_t *out, const cJSON *item)
{
    int rc = nt_buf_puts(out, "{\"number\":");
    if (cJSON_IsString(item)) {
        NT_EMIT(rc, nt_buf_json_str(out, item->valuestring, strlen(item->valuestring)));
    } else {
        char *text = cJSON_PrintUnformatted(item);
        NT_EMIT(rc, text ? nt_buf_json_str(out, text, strlen(text)) : NT_ENOMEM);
        cJSON_free(text);
    }
    NT_EMIT(rc, nt_buf_puts(out, ",\"error\":\"BAD_NUMBER\"}"));
    return rc;
}

static int h_batch(nt_dialect_call_t *call)
{
    cJSON *root = nt_dialect_body(call);
    const cJSON *numbers = cJSON_GetObjectItemCaseSensitive(root, "numbers");
    int n = cJSON_IsArray(numbers) ? cJSON_GetArraySize(numbers) : -1;
    const cJSON *item;
    int rc;

    if (n < 1 || n > call->max_batch) {
        rc = nt_dialect_fail(&nt_dialect_c, call, NT_DERR_BAD_BODY);
        goto out;
    }
    call->batch_numbers = (size_t)n;
    call->status = 200;
    rc = nt_buf_puts(call->out, "{\"status\":\"ok\",\"items\":[");
    size_t i = 0;
    cJSON_ArrayForEach(item, numbers)
    {
        nt_sim_state_t st;
        if (i++ > 0)
            NT_EMIT(rc, nt_buf_putc(call->out, ','));
        if (!cJSON_IsString(item) || !nt_phone_is_e164(item->valuestring)) {
            NT_EMIT(rc, bad_item(call->out, item));
            continue;
        }
        if (nt_sim_state(call->sim, call->scope, item->valuestring, &st) != NT_OK) {
            rc = nt_dialect_fail(&nt_dialect_c, call, NT_DERR_INTERNAL);
            goto out;
        }
        NT_EMIT(rc, render_check(call->out, call->scope_name, item->valuestring, &st));
    }
    NT_EMIT(rc, nt_buf_puts(call->out, "]}"));
out:
    cJSON_Delete(root);
    return rc;
}

static int queued(nt_dialect_call_t *call, const char *ticket)
{
    call->status = 200;
    return nt_buf_printf(
        call->out, "{\"status\":\"ok\",\"data\":{\"id\":\"%s\",\"state\":\"queued\"}}", ticket);
}

static int h_tag(nt_dialect_call_t *call)
{
    char ticket[NT_SIM_TICKET_LEN];
    cJSON *root = nt_dialect_body(call);
    const char *number = nt_dialect_str(root, "number");
    const char *name = nt_dialect_str(root, "show_name");
    int e = NT_DERR_NONE;
    int rc;

    if (number == NULL || name == NULL)
        e = NT_DERR_BAD_BODY;
    else if (!nt_phone_is_e164(number))
        e = NT_DERR_BAD_NUMBER;
    else if (!nt_dialect_label_ok(name))
        e = NT_DERR_LABEL;
    if (e != NT_DERR_NONE) {
        rc = nt_dialect_fail(&nt_dialect_c, call, (nt_derr_t)e);
        goto out;
    }
    rc = nt_sim_tag_update(call->sim, call->scope, number, name, call->idem_key, ticket);
    if (rc != NT_OK)
        rc = nt_dialect_fail(&nt_dialect_c, call, NT_DERR_INTERNAL);
    else
        rc = queued(call, ticket);
out:
    cJSON_Delete(root);
    return rc;
}

static int h_appeal(nt_dialect_call_t *call)
{
    char ticket[NT_SIM_TICKET_LEN];
    cJSON *root = nt_dialect_body(call);
    const char *number = nt_dialect_str(root, "number");
    const char *tag = nt_dialect_str(root, "tag_name");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(root, "reason");
    int type = tag ? nt_dialect_lookup(tag_names, NT_MARK__COUNT, tag) : -1;
    int e = NT_DERR_NONE;
    int rc;

    if (type < 0 && tag != NULL)
        type = nt_sim_mark_parse(tag); /* the taxonomy name is accepted too */
    if (number == NULL || type < 0 || (reason != NULL && !cJSON_IsString(reason)))
        e = NT_DERR_BAD_BODY;
    else if (!nt_phone_is_e164(number))
        e = NT_DERR_BAD_NUMBER;
    if (e != NT_DERR_NONE) {
        rc = nt_dialect_fail(&nt_dialect_c, call, (nt_derr_t)e);
        goto out;
    }
    rc = nt_sim_appeal_submit(call->sim, call->scope, number, (nt_mark_t)type, call->idem_key,
                              ticket);
    if (rc != NT_OK)
        rc = nt_dialect_fail(&nt_dialect_c, call,
                             rc == NT_ENOENT ? NT_DERR_NO_MARK : NT_DERR_INTERNAL);
    else
        rc = queued(call, ticket);
out:
    cJSON_Delete(root);
    return rc;
}

static int h_appeal_status(nt_dialect_call_t *call)
{
    nt_appeal_t status;
    if (nt_sim_appeal_status(call->sim, call->scope, call->arg, &status) != NT_OK)
        return nt_dialect_fail(&nt_dialect_c, call, NT_DERR_NO_TICKET);
    call->status = 200;
    int rc = nt_buf_puts(call->out, "{\"status\":\"ok\",\"data\":{\"id\":");
    NT_EMIT(rc, nt_buf_json_str(call->out, call->arg, strlen(call->arg)));
    NT_EMIT(rc, nt_buf_printf(call->out, ",\"state\":\"%s\"}}", appeal_states[status]));
    return rc;
}

static int h_tag_status(nt_dialect_call_t *call)
{
    nt_sim_tag_t state;
    char reason[NT_SIM_REASON_MAX];
    if (nt_sim_tag_status(call->sim, call->scope, call->arg, &state, reason) != NT_OK)
        return nt_dialect_fail(&nt_dialect_c, call, NT_DERR_NO_TICKET);
    call->status = 200;
    int rc = nt_buf_puts(call->out, "{\"status\":\"ok\",\"data\":{\"id\":");
    NT_EMIT(rc, nt_buf_json_str(call->out, call->arg, strlen(call->arg)));
    NT_EMIT(rc, nt_buf_printf(call->out, ",\"state\":\"%s\",\"reason\":", label_states[state]));
    NT_EMIT(rc, nt_buf_json_str(call->out, reason, strlen(reason)));
    NT_EMIT(rc, nt_buf_puts(call->out, "}}"));
    return rc;
}

/* The aggregator has no renewal: certifications are renewed with each
 * platform directly. */
static const nt_dialect_route_t routes[] = {
    {"POST", "batch/query", NT_SIM_EP_CHECK, h_batch},
    {"POST", "label/submit", NT_SIM_EP_TAG, h_tag},
    {"POST", "appeal/submit", NT_SIM_EP_APPEAL, h_appeal},
    {"GET", "appeal/*", NT_SIM_EP_APPEAL_STATUS, h_appeal_status},
    {"GET", "label/*", NT_SIM_EP_TAG_STATUS, h_tag_status},
};

const nt_dialect_t nt_dialect_c = {
    .id = 'c',
    .ep_names = {"c.batch", "c.tag", "c.appeal", "c.appeal_status", "c.tag_status", "c.renewal"},
    .routes = routes,
    .nroutes = NT_ARRAY_LEN(routes),
    .errors = errors,
    .error_body = error_body,
    .auth = NULL,
    .render_check = render_check,
    .top_mark_only = true,
};
