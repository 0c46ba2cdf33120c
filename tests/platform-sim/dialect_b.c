/*
 * dialect_b.c — dialect B: code-based API with bearer tokens, numbers
 * without "+", numeric mark codes, integer states and business errors inside
 * HTTP 200 (the shape of Tencent's number-security API). Wire format:
 * docs/simulator.md.
 */
#include <stdio.h>
#include <string.h>

#include "dialect.h"
#include "phone.h"

static const int auth_states[NT_CERT__COUNT] = {1, 4, 2, 3, 0};

static const int mark_codes[NT_MARK__COUNT] = {50, 51, 52, 53, 54, 55, 56, 99};

static const int complaint_states[NT_APPEAL__COUNT] = {0, 1, 2, 3};

static const nt_dialect_errdef_t errors[NT_DERR__COUNT] = {
    [NT_DERR_BAD_NUMBER] = {200, 2001, NULL, "invalid phone"},
    [NT_DERR_BAD_BODY] = {200, 2002, NULL, "bad request body"},
    [NT_DERR_LABEL] = {200, 2003, NULL, "label rejected"},
    [NT_DERR_AUTH_SIG] = {401, 4010, NULL, "invalid token"},
    [NT_DERR_AUTH_SKEW] = {401, 4010, NULL, "invalid token"},
    [NT_DERR_AUTH_KEY] = {401, 4010, NULL, "invalid token"},
    [NT_DERR_NO_TICKET] = {200, 2004, NULL, "unknown complaint"},
    [NT_DERR_NO_MARK] = {200, 2009, NULL, "no such mark"},
    [NT_DERR_RATE] = {429, 1001, NULL, "frequency limit"},
    [NT_DERR_INTERNAL] = {500, 5000, NULL, "internal error"},
    [NT_DERR_UNAVAILABLE] = {503, 5003, NULL, "unavailable"},
    [NT_DERR_NOT_FOUND] = {404, 4040, NULL, "not found"},
    [NT_DERR_NOT_ELIGIBLE] = {200, 2010, NULL, "not eligible for renewal"},
};

static const int label_states[NT_SIM_TAG__COUNT] = {1, 2, 3};

static int error_body(nt_buf_t *out, const nt_dialect_errdef_t *e, const char *msg)
{
    int rc = nt_buf_printf(out, "{\"ret\":%d,\"msg\":", e->code);
    NT_EMIT(rc, nt_buf_json_str(out, msg, strlen(msg)));
    NT_EMIT(rc, nt_buf_putc(out, '}'));
    return rc;
}

static int auth(const nt_dialect_auth_t *in)
{
    const char *h = in->header(in->hctx, "Authorization");
    if (h == NULL || strncmp(h, "Bearer ", 7) != 0 || strcmp(h + 7, in->conf->bearer_token) != 0)
        return NT_DERR_AUTH_KEY;
    return NT_DERR_NONE;
}

static int render_check(nt_buf_t *out, const char *scope, const char *number,
                        const nt_sim_state_t *st)
{
    size_t ll = strlen(st->label);
    (void)scope;
    int rc = nt_buf_printf(out,
                           "{\"ret\":0,\"msg\":\"ok\",\"result\":{\"phone\":\"%s\","
                           "\"auth_state\":%d,\"expire_time\":%lld,\"score\":%d,"
                           "\"show\":{\"android_name\":",
                           number + 1, auth_states[st->cert],
                           (long long)(st->cert_expires_ms / 1000), st->trust * 10);
    NT_EMIT(rc, nt_buf_json_str(out, st->label, ll));
    NT_EMIT(rc, nt_buf_puts(out, ",\"ios_name\":"));
    NT_EMIT(rc, nt_buf_json_str(out, st->label, ll));
    NT_EMIT(rc, nt_buf_puts(out, ",\"web_name\":"));
    NT_EMIT(rc, nt_buf_json_str(out, st->label, ll));
    NT_EMIT(rc, nt_buf_puts(out, "},\"marks\":["));
    for (size_t i = 0; i < st->nmarks; i++)
        NT_EMIT(rc, nt_buf_printf(out, "%s{\"code\":%d,\"cnt\":%d}", i ? "," : "",
                                  mark_codes[st->marks[i].type], st->marks[i].count));
    NT_EMIT(rc, nt_buf_puts(out, "]}}"));
    return rc;
}

/* Reads "phone" (digits without "+", as a string or an integer) into
 * number as E.164. Returns NT_DERR_NONE or the error kind. */
static int read_phone(const cJSON *root, char number[NT_PHONE_MAX + 2])
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "phone");
    if (cJSON_IsString(v)) {
        if (strlen(v->valuestring) > NT_PHONE_MAX)
            return NT_DERR_BAD_NUMBER;
        snprintf(number, NT_PHONE_MAX + 2, "+%s", v->valuestring);
    } else if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e15) {
        snprintf(number, NT_PHONE_MAX + 2, "+%.0f", v->valuedouble);
    } else {
        return NT_DERR_BAD_BODY;
    }
    return nt_phone_is_e164(number) ? NT_DERR_NONE : NT_DERR_BAD_NUMBER;
}

static int h_check(nt_dialect_call_t *call)
{
    char number[NT_PHONE_MAX + 2];
    nt_sim_state_t st;
    cJSON *root = nt_dialect_body(call);
    int e = root != NULL ? read_phone(root, number) : NT_DERR_BAD_BODY;
    int rc;
    cJSON_Delete(root);
    if (e != NT_DERR_NONE)
        return nt_dialect_fail(&nt_dialect_b, call, (nt_derr_t)e);
    if (nt_sim_state(call->sim, call->scope, number, &st) != NT_OK)
        return nt_dialect_fail(&nt_dialect_b, call, NT_DERR_INTERNAL);
    call->status = 200;
    rc = render_check(call->out, call->scope_name, number, &st);
    return rc;
}

static int h_tag(nt_dialect_call_t *call)
{
    char number[NT_PHONE_MAX + 2];
    char ticket[NT_SIM_TICKET_LEN];
    cJSON *root = nt_dialect_body(call);
    int e = root != NULL ? read_phone(root, number) : NT_DERR_BAD_BODY;
    const char *name = nt_dialect_str(root, "name");
    int rc;

    if (e == NT_DERR_NONE && name == NULL)
        e = NT_DERR_BAD_BODY;
    if (e == NT_DERR_NONE && !nt_dialect_label_ok(name))
        e = NT_DERR_LABEL;
    if (e != NT_DERR_NONE) {
        rc = nt_dialect_fail(&nt_dialect_b, call, (nt_derr_t)e);
        goto out;
    }
    rc = nt_sim_tag_update(call->sim, call->scope, number, name, call->idem_key, ticket);
    if (rc != NT_OK) {
        rc = nt_dialect_fail(&nt_dialect_b, call, NT_DERR_INTERNAL);
        goto out;
    }
    call->status = 200;
    rc = nt_buf_printf(call->out,
                       "{\"ret\":0,\"msg\":\"ok\",\"result\":{\"order_id\":\"%s\",\"state\":1}}",
                       ticket);
out:
    cJSON_Delete(root);
    return rc;
}

static int h_appeal(nt_dialect_call_t *call)
{
    char number[NT_PHONE_MAX + 2];
    char ticket[NT_SIM_TICKET_LEN];
    cJSON *root = nt_dialect_body(call);
    int e = root != NULL ? read_phone(root, number) : NT_DERR_BAD_BODY;
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, "code");
    const cJSON *reason = cJSON_GetObjectItemCaseSensitive(root, "reason");
    int type = -1;
    int rc;

    for (int i = 0; i < NT_MARK__COUNT && cJSON_IsNumber(code); i++) {
        if (code->valuedouble == mark_codes[i])
            type = i;
    }
    if (e == NT_DERR_NONE && (type < 0 || (reason != NULL && !cJSON_IsString(reason))))
        e = NT_DERR_BAD_BODY;
    if (e != NT_DERR_NONE) {
        rc = nt_dialect_fail(&nt_dialect_b, call, (nt_derr_t)e);
        goto out;
    }
    rc = nt_sim_appeal_submit(call->sim, call->scope, number, (nt_mark_t)type, call->idem_key,
                              ticket);
    if (rc != NT_OK) {
        rc = nt_dialect_fail(&nt_dialect_b, call,
                             rc == NT_ENOENT ? NT_DERR_NO_MARK : NT_DERR_INTERNAL);
        goto out;
    }
    call->status = 200;
    rc = nt_buf_printf(
        call->out, "{\"ret\":0,\"msg\":\"ok\",\"result\":{\"complaint_id\":\"%s\",\"state\":0}}",
        ticket);
out:
    cJSON_Delete(root);
    return rc;
}

static int h_appeal_status(nt_dialect_call_t *call)
{
    nt_appeal_t status;
    cJSON *root = nt_dialect_body(call);
    const char *id = nt_dialect_str(root, "complaint_id");
    int rc;

    if (id == NULL) {
        rc = nt_dialect_fail(&nt_dialect_b, call, NT_DERR_BAD_BODY);
        goto out;
    }
    if (nt_sim_appeal_status(call->sim, call->scope, id, &status) != NT_OK) {
        rc = nt_dialect_fail(&nt_dialect_b, call, NT_DERR_NO_TICKET);
        goto out;
    }
    call->status = 200;
    rc = nt_buf_puts(call->out, "{\"ret\":0,\"msg\":\"ok\",\"result\":{\"complaint_id\":");
    NT_EMIT(rc, nt_buf_json_str(call->out, id, strlen(id)));
    NT_EMIT(rc, nt_buf_printf(call->out, ",\"state\":%d}}", complaint_states[status]));
out:
    cJSON_Delete(root);
    return rc;
}

static int h_tag_status(nt_dialect_call_t *call)
{
    nt_sim_tag_t state;
    char reason[NT_SIM_REASON_MAX];
    cJSON *root = nt_dialect_body(call);
    const char *id = nt_dialect_str(root, "order_id");
    int rc;

    if (id == NULL) {
        rc = nt_dialect_fail(&nt_dialect_b, call, NT_DERR_BAD_BODY);
        goto out;
    }
    if (nt_sim_tag_status(call->sim, call->scope, id, &state, reason) != NT_OK) {
        rc = nt_dialect_fail(&nt_dialect_b, call, NT_DERR_NO_TICKET);
        goto out;
    }
    call->status = 200;
    rc = nt_buf_puts(call->out, "{\"ret\":0,\"msg\":\"ok\",\"result\":{\"order_id\":");
    NT_EMIT(rc, nt_buf_json_str(call->out, id, strlen(id)));
    NT_EMIT(rc, nt_buf_printf(call->out, ",\"state\":%d,\"reject_reason\":", label_states[state]));
    NT_EMIT(rc, nt_buf_json_str(call->out, reason, strlen(reason)));
    NT_EMIT(rc, nt_buf_puts(call->out, "}}"));
out:
    cJSON_Delete(root);
    return rc;
}

static int h_renewal(nt_dialect_call_t *call)
{
    char number[NT_PHONE_MAX + 2];
    char ticket[NT_SIM_TICKET_LEN];
    cJSON *root = nt_dialect_body(call);
    int e = root != NULL ? read_phone(root, number) : NT_DERR_BAD_BODY;
    int rc;

    if (e != NT_DERR_NONE) {
        rc = nt_dialect_fail(&nt_dialect_b, call, (nt_derr_t)e);
        goto out;
    }
    rc = nt_sim_renew(call->sim, call->scope, number, call->idem_key, ticket);
    if (rc != NT_OK) {
        rc = nt_dialect_fail(&nt_dialect_b, call,
                             rc == NT_EINVAL ? NT_DERR_NOT_ELIGIBLE : NT_DERR_INTERNAL);
        goto out;
    }
    call->status = 200;
    rc = nt_buf_printf(call->out,
                       "{\"ret\":0,\"msg\":\"ok\",\"result\":{\"renew_id\":\"%s\",\"state\":0}}",
                       ticket);
out:
    cJSON_Delete(root);
    return rc;
}

static const nt_dialect_route_t routes[] = {
    {"POST", "api/v2/query", NT_SIM_EP_CHECK, h_check},
    {"POST", "api/v2/label", NT_SIM_EP_TAG, h_tag},
    {"POST", "api/v2/complaint", NT_SIM_EP_APPEAL, h_appeal},
    {"POST", "api/v2/complaint/query", NT_SIM_EP_APPEAL_STATUS, h_appeal_status},
    {"POST", "api/v2/label/query", NT_SIM_EP_TAG_STATUS, h_tag_status},
    {"POST", "api/v2/cert/renew", NT_SIM_EP_RENEWAL, h_renewal},
};

const nt_dialect_t nt_dialect_b = {
    .id = 'b',
    .ep_names = {"b.check", "b.tag", "b.appeal", "b.appeal_status", "b.tag_status", "b.renewal"},
    .routes = routes,
    .nroutes = NT_ARRAY_LEN(routes),
    .errors = errors,
    .error_body = error_body,
    .auth = auth,
    .render_check = render_check,
    .top_mark_only = false,
};
