/*
 * dialect_d.c — dialect D: XML bodies, bearer tokens, and decisions that
 * arrive later as signed callbacks (the shape of the carriers' caller cards
 * and the handset vendors' yellow pages). A label update or an appeal is
 * only accepted here; notify.c calls the platform's client back when it is
 * reviewed, and the status endpoint lets a client that missed a callback
 * poll. Errors are an HTTP status and <response><code>N</code>
 * <message>...</message></response>. Wire format: docs/simulator.md.
 */
#include <stdio.h>
#include <string.h>

#include "dialect.h"
#include "json.h"
#include "notify.h"
#include "phone.h"
#include "xml.h"

static const char *const cert_states[NT_CERT__COUNT] = {"VALID", "AUDITING", "EXPIRED", "REVOKED",
                                                        "NONE"};

static const char *const mark_codes[NT_MARK__COUNT] = {"HARASS", "FRAUD",    "AGENT", "FINANCE",
                                                       "AD",     "DELIVERY", "TAXI",  "OTHER"};

static const char *const complaint_states[NT_APPEAL__COUNT] = {"ACCEPTED", "PROCESSING", "PASSED",
                                                               "REFUSED"};

static const nt_dialect_errdef_t errors[NT_DERR__COUNT] = {
    [NT_DERR_BAD_NUMBER] = {400, 1001, NULL, "invalid number"},
    [NT_DERR_BAD_BODY] = {400, 1002, NULL, "bad request body"},
    [NT_DERR_LABEL] = {400, 1003, NULL, "card name rejected"},
    [NT_DERR_AUTH_SIG] = {401, 2001, NULL, "unauthorized"},
    [NT_DERR_AUTH_SKEW] = {401, 2001, NULL, "unauthorized"},
    [NT_DERR_AUTH_KEY] = {401, 2001, NULL, "unauthorized"},
    [NT_DERR_NO_TICKET] = {404, 1004, NULL, "unknown complaint"},
    [NT_DERR_NO_MARK] = {409, 1005, NULL, "no such mark"},
    [NT_DERR_RATE] = {429, 3001, NULL, "too many requests"},
    [NT_DERR_INTERNAL] = {500, 5001, NULL, "internal error"},
    [NT_DERR_UNAVAILABLE] = {503, 5003, NULL, "unavailable"},
    [NT_DERR_NOT_FOUND] = {404, 4040, NULL, "no such endpoint"},
    [NT_DERR_NOT_ELIGIBLE] = {409, 4090, NULL, "not eligible"},
};

/* Renders {"response": obj} as XML into out; takes ownership of obj. */
static int render(nt_buf_t *out, cJSON *obj)
{
    nt_err_t err;
    cJSON *root = cJSON_CreateObject();
    int rc = NT_ENOMEM;
    if (root != NULL && obj != NULL && cJSON_AddItemToObject(root, "response", obj)) {
        obj = NULL;
        rc = nt_xml_render(root, out, &err);
    }
    cJSON_Delete(obj);
    cJSON_Delete(root);
    return rc;
}

static int error_body(nt_buf_t *out, const nt_dialect_errdef_t *e, const char *msg)
{
    cJSON *r = cJSON_CreateObject();
    if (r == NULL || !cJSON_AddNumberToObject(r, "code", e->code) ||
        !cJSON_AddStringToObject(r, "message", msg)) {
        cJSON_Delete(r);
        return NT_ENOMEM;
    }
    return render(out, r);
}

static int auth(const nt_dialect_auth_t *in)
{
    const char *h = in->header(in->hctx, "Authorization");
    if (h == NULL || strncmp(h, "Bearer ", 7) != 0 || strcmp(h + 7, in->conf->bearer_token) != 0)
        return NT_DERR_AUTH_KEY;
    return NT_DERR_NONE;
}

static cJSON *ok_response(void)
{
    cJSON *r = cJSON_CreateObject();
    if (r != NULL &&
        (!cJSON_AddNumberToObject(r, "code", 0) || !cJSON_AddStringToObject(r, "message", "ok"))) {
        cJSON_Delete(r);
        return NULL;
    }
    return r;
}

static int render_check(nt_buf_t *out, const char *scope, const char *number,
                        const nt_sim_state_t *st)
{
    (void)scope;
    cJSON *r = ok_response();
    cJSON *card = r ? cJSON_AddObjectToObject(r, "card") : NULL;
    cJSON *marks = NULL;
    bool ok = card != NULL && cJSON_AddStringToObject(r, "number", number) &&
              cJSON_AddStringToObject(r, "cert", cert_states[st->cert]) &&
              cJSON_AddNumberToObject(r, "score", st->trust) &&
              cJSON_AddStringToObject(card, "android", st->label) &&
              cJSON_AddStringToObject(card, "ios", st->label) &&
              cJSON_AddStringToObject(card, "search", st->label);
    /* <marks><mark>..</mark>...</marks>, or an empty <marks/> */
    if (ok && st->nmarks == 0)
        ok = cJSON_AddStringToObject(r, "marks", "") != NULL;
    if (ok && st->nmarks > 0) {
        cJSON *list = cJSON_CreateArray();
        marks = cJSON_AddObjectToObject(r, "marks");
        ok = list != NULL && marks != NULL && cJSON_AddItemToObject(marks, "mark", list);
        if (!ok)
            cJSON_Delete(list);
        for (size_t i = 0; ok && i < st->nmarks; i++) {
            cJSON *m = cJSON_CreateObject();
            ok = m != NULL && cJSON_AddItemToArray(list, m) &&
                 cJSON_AddStringToObject(m, "type", mark_codes[st->marks[i].type]) &&
                 cJSON_AddNumberToObject(m, "count", st->marks[i].count);
        }
    }
    if (!ok) {
        cJSON_Delete(r);
        return NT_ENOMEM;
    }
    return render(out, r);
}

/* The request body as a tree: the members of its root element, or NULL. */
static cJSON *xml_body(const nt_dialect_call_t *call, const char *root_name, cJSON **doc)
{
    nt_err_t err;
    *doc = call->body_len > 0 ? nt_xml_parse(call->body, call->body_len, &err) : NULL;
    cJSON *r = cJSON_GetObjectItemCaseSensitive(*doc, root_name);
    return cJSON_IsObject(r) ? r : NULL;
}

static int h_check(nt_dialect_call_t *call)
{
    nt_sim_state_t st;
    if (!nt_phone_is_e164(call->arg))
        return nt_dialect_fail(&nt_dialect_d, call, NT_DERR_BAD_NUMBER);
    if (nt_sim_state(call->sim, call->scope, call->arg, &st) != NT_OK)
        return nt_dialect_fail(&nt_dialect_d, call, NT_DERR_INTERNAL);
    call->status = 200;
    return render_check(call->out, call->scope_name, call->arg, &st);
}

static int accepted(nt_dialect_call_t *call, const char *ticket, const char *state)
{
    cJSON *r = ok_response();
    if (r == NULL || !cJSON_AddStringToObject(r, "ticket", ticket) ||
        !cJSON_AddStringToObject(r, "state", state)) {
        cJSON_Delete(r);
        return NT_ENOMEM;
    }
    call->status = 200;
    return render(call->out, r);
}

/* Schedules the ticket's callbacks (unless it was filed before: an
 * idempotent repeat schedules nothing twice, the server answers it): a card
 * is "in review" a minute after it was accepted, then active or rejected
 * when decided; a complaint is in review, then passed or refused. */
static int schedule(nt_dialect_call_t *call, const char *ticket, const char *kind)
{
    nt_sim_ticket_info_t info;
    int rc;
    if (call->notify == NULL)
        return NT_OK;
    if ((rc = nt_sim_ticket_info(call->sim, call->scope, ticket, &info)) != NT_OK)
        return rc;
    if (!info.appeal) {
        int64_t reviewing = info.submit_ms + 60000;
        rc = reviewing < info.decide_ms
                 ? nt_notify_add(call->notify, call->scope_name, ticket, kind, info.number, 1,
                                 "REVIEWING", false, reviewing)
                 : NT_OK;
        NT_EMIT(rc, nt_notify_add(call->notify, call->scope_name, ticket, kind, info.number, 2,
                                  info.approved ? "ACTIVE" : "REJECTED", true, info.decide_ms));
        return rc;
    }
    rc = nt_notify_add(call->notify, call->scope_name, ticket, kind, info.number, 1,
                       complaint_states[NT_APPEAL_IN_REVIEW], false, info.review_ms);
    NT_EMIT(rc,
            nt_notify_add(call->notify, call->scope_name, ticket, kind, info.number, 2,
                          complaint_states[info.approved ? NT_APPEAL_APPROVED : NT_APPEAL_REJECTED],
                          true, info.decide_ms));
    return rc;
}

static int h_card(nt_dialect_call_t *call)
{
    cJSON *doc = NULL;
    char ticket[NT_SIM_TICKET_LEN];
    int rc;
    const cJSON *b = xml_body(call, "card", &doc);
    const char *number = nt_dialect_str(b, "number");
    const char *name = nt_dialect_str(b, "name");
    if (number == NULL || name == NULL) {
        rc = nt_dialect_fail(&nt_dialect_d, call, NT_DERR_BAD_BODY);
        goto out;
    }
    if (!nt_phone_is_e164(number)) {
        rc = nt_dialect_fail(&nt_dialect_d, call, NT_DERR_BAD_NUMBER);
        goto out;
    }
    if (!nt_dialect_label_ok(name)) {
        rc = nt_dialect_fail(&nt_dialect_d, call, NT_DERR_LABEL);
        goto out;
    }
    rc = nt_sim_tag_update(call->sim, call->scope, number, name, call->idem_key, ticket);
    if (rc == NT_OK)
        rc = schedule(call, ticket, "card");
    if (rc != NT_OK)
        rc = nt_dialect_fail(&nt_dialect_d, call, NT_DERR_INTERNAL);
    else
        rc = accepted(call, ticket, "REVIEWING");
out:
    cJSON_Delete(doc);
    return rc;
}

static int h_complaint(nt_dialect_call_t *call)
{
    cJSON *doc = NULL;
    char ticket[NT_SIM_TICKET_LEN];
    int rc;
    const cJSON *b = xml_body(call, "complaint", &doc);
    const char *number = nt_dialect_str(b, "number");
    const char *mark = nt_dialect_str(b, "mark");
    int type = mark ? nt_dialect_lookup(mark_codes, NT_MARK__COUNT, mark) : -1;
    if (type < 0 && mark != NULL)
        type = nt_sim_mark_parse(mark); /* the taxonomy name is accepted too */
    if (number == NULL || type < 0) {
        rc = nt_dialect_fail(&nt_dialect_d, call, NT_DERR_BAD_BODY);
        goto out;
    }
    if (!nt_phone_is_e164(number)) {
        rc = nt_dialect_fail(&nt_dialect_d, call, NT_DERR_BAD_NUMBER);
        goto out;
    }
    rc = nt_sim_appeal_submit(call->sim, call->scope, number, (nt_mark_t)type, call->idem_key,
                              ticket);
    if (rc == NT_OK)
        rc = schedule(call, ticket, "complaint");
    if (rc != NT_OK)
        rc = nt_dialect_fail(&nt_dialect_d, call,
                             rc == NT_ENOENT ? NT_DERR_NO_MARK : NT_DERR_INTERNAL);
    else
        rc = accepted(call, ticket, complaint_states[NT_APPEAL_SUBMITTED]);
out:
    cJSON_Delete(doc);
    return rc;
}

static int h_complaint_status(nt_dialect_call_t *call)
{
    nt_appeal_t status;
    if (nt_sim_appeal_status(call->sim, call->scope, call->arg, &status) != NT_OK)
        return nt_dialect_fail(&nt_dialect_d, call, NT_DERR_NO_TICKET);
    return accepted(call, call->arg, complaint_states[status]);
}

/* A card's review, for a poll: the callback that should have told it may
 * never come (the reconciler then asks here). */
static int h_card_status(nt_dialect_call_t *call)
{
    static const char *const card_states[NT_SIM_TAG__COUNT] = {"REVIEWING", "ACTIVE", "REJECTED"};
    nt_sim_tag_t state;
    char reason[NT_SIM_REASON_MAX];
    if (nt_sim_tag_status(call->sim, call->scope, call->arg, &state, reason) != NT_OK)
        return nt_dialect_fail(&nt_dialect_d, call, NT_DERR_NO_TICKET);
    cJSON *r = ok_response();
    if (r == NULL || !cJSON_AddStringToObject(r, "ticket", call->arg) ||
        !cJSON_AddStringToObject(r, "state", card_states[state]) ||
        (reason[0] != '\0' && !cJSON_AddStringToObject(r, "reason", reason))) {
        cJSON_Delete(r);
        return NT_ENOMEM;
    }
    call->status = 200;
    return render(call->out, r);
}

static const nt_dialect_route_t routes[] = {
    {"GET", "v1/numbers/*", NT_SIM_EP_CHECK, h_check},
    {"POST", "v1/cards", NT_SIM_EP_TAG, h_card},
    {"POST", "v1/complaints", NT_SIM_EP_APPEAL, h_complaint},
    {"GET", "v1/complaints/*", NT_SIM_EP_APPEAL_STATUS, h_complaint_status},
    {"GET", "v1/cards/*", NT_SIM_EP_TAG_STATUS, h_card_status},
};

const nt_dialect_t nt_dialect_d = {
    .id = 'd',
    .ep_names = {"d.check", "d.card", "d.complaint", "d.complaint_status", "d.card_status",
                 "d.renewal"},
    .routes = routes,
    .nroutes = NT_ARRAY_LEN(routes),
    .errors = errors,
    .error_body = error_body,
    .auth = auth,
    .render_check = render_check,
    .top_mark_only = false,
    .content_type = "application/xml",
};
