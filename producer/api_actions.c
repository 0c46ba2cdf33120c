/*
 * api_actions.c — the manual queue in the API: list, show, and record the
 * filing (submit) and the platform's decision (done) of an action item, on
 * P2's surface (actions.h), so `numtrust-producer actions ...` and
 * /v1/action-items/... run the same rules: each step recorded exactly once,
 * the same step again a no-op, another outcome for a done item refused.
 *
 * A tenant token sees and records only its tenant's items; another tenant's
 * item is 404 like one that does not exist. The API takes full item ids
 * (the list gives them); the CLI also takes their first 8 hex digits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions.h"
#include "api.h"

/* Fails with the field named by an error from actions.c ("field state: ..."). */
static int fail_err(api_ctx_t *c, int status, const nt_err_t *err)
{
    char field[64] = "";
    if (strncmp(err->msg, "field ", 6) == 0)
        snprintf(field, sizeof(field), "%.*s", (int)strcspn(err->msg + 6, ": "), err->msg + 6);
    return api_fail(c, status, field[0] ? field : NULL, "%s", err->msg);
}

/* Fails unless item id exists and, for a tenant token, is its tenant's. */
static int item_visible(api_ctx_t *c, const char *id)
{
    nt_err_t err;
    nt_err_clear(&err);
    if (!nt_actions_is_id(id))
        return api_fail(c, 400, "id", "field id: \"%.64s\" is not an item id (a UUID)", id);
    const char *p[] = {id, c->role == API_ADMIN ? NULL : c->tenant};
    PGresult *res = nt_pg_exec(c->pg,
                               "SELECT 1 FROM action_items WHERE id = $1::uuid"
                               " AND ($2::text IS NULL OR tenant_id = $2)",
                               2, p, &err);
    if (res == NULL)
        return api_fail(c, err.retriable ? 503 : 500, NULL, "%s", err.msg);
    int n = PQntuples(res);
    PQclear(res);
    return n == 1 ? 0 : api_fail(c, 404, "id", "no action item %s", id);
}

int api_actions_list(api_ctx_t *c)
{
    static const char *const allowed[] = {"tenant", "number", "platform", "state",
                                          "kind",   "limit",  NULL};
    long limit = 100;
    nt_err_t err;
    nt_err_clear(&err);
    if (api_only(c, allowed) != 0 || api_int(c, "limit", 1, 100000, &limit) != 0)
        return -1;
    nt_action_filter_t f = {.state = api_str(c, "state"),
                            .kind = api_str(c, "kind"),
                            .platform = api_str(c, "platform"),
                            .tenant = api_scope(c),
                            .number = api_str(c, "number"),
                            .limit = limit};
    if (nt_actions_filter_check(&f, &err) != NT_OK)
        return fail_err(c, 400, &err);
    if (f.platform != NULL && nt_platforms_find(c->cli->platforms, f.platform) == NULL)
        return api_fail(c, 400, "platform", "field platform: \"%.60s\" is not a platform",
                        f.platform);
    nt_buf_t out;
    nt_buf_init(&out, 0);
    int rc = nt_actions_list_json(c->pg, &f, &out, &err);
    if (rc != NT_OK)
        rc = api_fail(c, err.retriable ? 503 : 500, NULL, "%s", err.msg);
    else if (nt_buf_append(&c->out, out.data, out.len) != NT_OK)
        rc = api_fail(c, 500, NULL, "answer too large");
    nt_buf_free(&out);
    return rc;
}

int api_actions_get(api_ctx_t *c)
{
    static const char *const allowed[] = {"id", "tenant", NULL};
    const char *id;
    nt_err_t err;
    nt_err_clear(&err);
    if (api_only(c, allowed) != 0 || api_need(c, "id", &id) != 0 || item_visible(c, id) != 0)
        return -1;
    nt_buf_t out;
    nt_buf_init(&out, 0);
    int rc = nt_actions_get_json(c->pg, id, &out, &err);
    if (rc == NT_ENOENT)
        rc = api_fail(c, 404, "id", "no action item %s", id);
    else if (rc != NT_OK)
        rc = api_fail(c, err.retriable ? 503 : 500, NULL, "%s", err.msg);
    else if (nt_buf_append(&c->out, out.data, out.len) != NT_OK)
        rc = api_fail(c, 500, NULL, "answer too large");
    nt_buf_free(&out);
    return rc;
}

/* submit and done: one step of an item, then the item as it is now. */
static int record(api_ctx_t *c, nt_action_step_t step)
{
    static const char *const allowed_submit[] = {"id", "tenant", "reference", "note", NULL};
    static const char *const allowed_done[] = {"id",   "tenant",  "reference",
                                               "note", "outcome", NULL};
    const char *id, *outcome = NULL;
    nt_action_result_t res;
    nt_err_t err;
    nt_err_clear(&err);
    bool done = step == NT_ACTION_DONE;
    if (api_only(c, done ? allowed_done : allowed_submit) != 0 || api_need(c, "id", &id) != 0 ||
        (done && api_need(c, "outcome", &outcome) != 0) || item_visible(c, id) != 0)
        return -1;
    int rc = nt_actions_record(c->pg, step, id, outcome, api_str(c, "reference"),
                               api_str(c, "note"), &res, &err);
    if (rc == NT_EINVAL)
        return fail_err(c, 400, &err);
    if (rc != NT_OK)
        return api_fail(c, err.retriable ? 503 : 500, NULL, "%s", err.msg);
    if (strcmp(res.effect, "unknown") == 0)
        return api_fail(c, 404, "id", "no action item %s", id);
    if (strcmp(res.effect, "conflict") == 0)
        return api_fail(c, 409, "outcome",
                        "field outcome: item %s (%s) was done with outcome %s at %s; \"%.20s\" "
                        "not recorded",
                        id, res.kind, res.outcome, res.at, outcome);
    nt_buf_t item;
    nt_buf_init(&item, 0);
    rc = nt_actions_get_json(c->pg, id, &item, &err);
    if (rc != NT_OK) {
        nt_buf_free(&item);
        return api_fail(c, err.retriable ? 503 : 500, NULL, "%s", err.msg);
    }
    rc = nt_buf_puts(&c->out, "{\"effect\":");
    if (rc == NT_OK)
        rc = nt_buf_json_str(&c->out, res.effect, strlen(res.effect));
    if (rc == NT_OK)
        rc = nt_buf_puts(&c->out, ",\"at\":");
    if (rc == NT_OK)
        rc = nt_buf_json_str(&c->out, res.at, strlen(res.at));
    if (rc == NT_OK)
        rc = nt_buf_puts(&c->out, ",\"item\":");
    if (rc == NT_OK)
        rc = nt_buf_append(&c->out, item.data, item.len);
    if (rc == NT_OK)
        rc = nt_buf_puts(&c->out, "}");
    nt_buf_free(&item);
    return rc == NT_OK ? 0 : api_fail(c, 500, NULL, "out of memory");
}

int api_actions_submit(api_ctx_t *c)
{
    return record(c, NT_ACTION_SUBMIT);
}

int api_actions_done(api_ctx_t *c)
{
    return record(c, NT_ACTION_DONE);
}
