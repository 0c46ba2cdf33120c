/*
 * actions.c — the manual queue's C surface (see actions.h).
 *
 * Preparing: items are collected as parallel text arrays and written with
 * one INSERT ... SELECT FROM unnest(...) per enqueue batch. The partial
 * unique index of 008a (one item per subject while not done) is the arbiter:
 * a subject that has an open item gets no second one, only the label wanted
 * now when the item is still open; an id already known is skipped, so a
 * repeat in the same period is a no-op even after the item was done.
 * Recording: one call of nt_action_submit() / nt_action_done(), which lock
 * the item and do the rest in the same transaction.
 */
#include "actions.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "phone.h"

enum {
    A_ID,
    A_KIND,
    A_NUMBER,
    A_PLATFORM,
    A_TENANT,
    A_LABEL,
    A_MARK,
    A_EVIDENCE,
    A_URL,
    A_FORM,
    A_N
};

struct nt_actions_batch_s {
    nt_pg_array_t cols[A_N];
    size_t n;
    nt_buf_t form;
    nt_actions_stats_t st;
};

/* $1 ids, $2 kinds, $3 numbers, $4 platforms, $5 tenants, $6 labels (NULL
 * for appeals), $7 mark types (NULL for tags), $8 evidence, $9 form URLs,
 * $10 forms. Returns the items created and the items relabelled. */
static const char sql_offer[] =
    "WITH r AS ("
    "  SELECT DISTINCT ON (r.kind, r.number, r.platform, COALESCE(r.mark_type, '')) r.*"
    "  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],"
    "              $7::text[], $8::text[], $9::text[], $10::json[])"
    "    AS r(id, kind, number, platform, tenant_id, label, mark_type, evidence, form_url, form)"
    "  ORDER BY r.kind, r.number, r.platform, COALESCE(r.mark_type, ''), r.id"
    "), ins AS ("
    "  INSERT INTO action_items AS a (id, kind, number, platform, tenant_id, label, mark_type,"
    "                                 evidence, form_url, form)"
    "  SELECT r.id, r.kind, r.number, r.platform, r.tenant_id, r.label, r.mark_type, r.evidence,"
    "         r.form_url, r.form FROM r"
    "  WHERE NOT EXISTS (SELECT 1 FROM action_items x WHERE x.id = r.id)"
    "  ON CONFLICT (kind, number, platform, (COALESCE(mark_type::text, ''))) WHERE state <> 'done'"
    "  DO UPDATE SET label = EXCLUDED.label, evidence = EXCLUDED.evidence,"
    "    form_url = EXCLUDED.form_url, form = EXCLUDED.form"
    "  WHERE a.state = 'open' AND a.kind = 'tag_update' AND a.label IS DISTINCT FROM EXCLUDED.label"
    "  RETURNING (a.xmax = 0) AS created"
    ")"
    "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) FROM ins";

nt_actions_batch_t *nt_actions_batch_new(void)
{
    nt_actions_batch_t *b = calloc(1, sizeof(*b));
    if (b == NULL)
        return NULL;
    for (size_t c = 0; c < A_N; c++)
        nt_pg_array_init(&b->cols[c]);
    nt_buf_init(&b->form, 64 * 1024);
    return b;
}

void nt_actions_batch_free(nt_actions_batch_t *b)
{
    if (b == NULL)
        return;
    for (size_t c = 0; c < A_N; c++)
        nt_pg_array_free(&b->cols[c]);
    nt_buf_free(&b->form);
    free(b);
}

/* The evidence a person submits with a label: who vouches for it. */
static void tag_evidence(const nt_job_t *job, char *out, size_t outsz)
{
    snprintf(out, outsz,
             "Display name \"%s\" registered by enterprise %s for this number; business "
             "licence and authorisation on file.",
             job->label, job->tenant);
}

int nt_actions_offer(nt_actions_batch_t *b, const nt_platform_t *p, const nt_job_t *job,
                     nt_err_t *err)
{
    char evidence[NT_JOB_EVIDENCE_MAX];
    bool tag = job->type == NT_JOB_TAG_UPDATE;
    if (!tag && job->type != NT_JOB_APPEAL)
        return nt_err_set(err, NT_EINVAL, false, "a %s job is not a manual action",
                          nt_job_type_name(job->type));
    if (tag)
        tag_evidence(job, evidence, sizeof(evidence));
    else
        nt_buf_copy_str(evidence, sizeof(evidence), nt_job_evidence(job));
    nt_adapter_req_t req = {.job_id = job->id,
                            .number = job->number,
                            .label = tag ? job->label : NULL,
                            .mark_type = tag ? NULL : job->mark_type,
                            .evidence = evidence};
    int rc = nt_adapter_render_form(p, tag ? NT_OP_TAG_UPDATE : NT_OP_APPEAL_SUBMIT, &req, &b->form,
                                    err);
    if (rc != NT_OK)
        return rc;
    const char *url = nt_platform_manual_url(p);
    nt_pg_array_t *c = b->cols;
    const char *vals[A_FORM] = {
        [A_ID] = job->id,
        [A_KIND] = nt_job_type_name(job->type),
        [A_NUMBER] = job->number,
        [A_PLATFORM] = job->platform,
        [A_TENANT] = job->tenant[0] ? job->tenant : NULL,
        [A_LABEL] = tag ? job->label : NULL,
        [A_MARK] = tag ? NULL : job->mark_type,
        [A_EVIDENCE] = evidence,
        [A_URL] = url != NULL ? url : "",
    };
    for (size_t i = 0; rc == NT_OK && i < A_FORM; i++)
        rc = nt_pg_array_add_str(&c[i], vals[i]);
    if (rc == NT_OK)
        rc = nt_pg_array_add(&c[A_FORM], b->form.data, b->form.len);
    if (rc != NT_OK)
        return nt_err_set(err, NT_ENOMEM, false, "action items: out of memory");
    b->n++;
    b->st.offered++;
    return NT_OK;
}

size_t nt_actions_pending(const nt_actions_batch_t *b)
{
    return b->n;
}

int nt_actions_flush(nt_actions_batch_t *b, nt_pg_t *pg, nt_err_t *err)
{
    const char *params[A_N];
    int rc = NT_OK;
    if (b->n == 0)
        return NT_OK;
    for (size_t c = 0; c < A_N; c++)
        if ((params[c] = nt_pg_array_text(&b->cols[c])) == NULL)
            rc = nt_err_set(err, NT_ENOMEM, false, "action items: out of memory");
    PGresult *res = rc == NT_OK ? nt_pg_exec(pg, sql_offer, A_N, params, err) : NULL;
    if (res != NULL) {
        uint64_t created = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        uint64_t relabelled = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
        b->st.created += created;
        b->st.relabelled += relabelled;
        b->st.known += b->n - created - relabelled;
        PQclear(res);
    } else if (rc == NT_OK) {
        rc = err != NULL && err->code != 0 ? err->code : NT_EIO;
    }
    for (size_t c = 0; c < A_N; c++)
        nt_pg_array_reset(&b->cols[c]);
    b->n = 0;
    return rc;
}

void nt_actions_get_stats(const nt_actions_batch_t *b, nt_actions_stats_t *st)
{
    *st = b->st;
}

const char *nt_actions_outcomes(const char *kind)
{
    if (kind == NULL)
        return NULL;
    if (strcmp(kind, "tag_update") == 0)
        return "applied, rejected";
    if (strcmp(kind, "appeal") == 0)
        return "approved, rejected";
    return NULL;
}

bool nt_actions_is_id(const char *id)
{
    nt_uuid_t u;
    return id != NULL && strlen(id) == NT_UUID_STRLEN - 1 && nt_uuid_parse(id, &u) == NT_OK;
}

/* The SQLSTATE nt_pg_exec put into err ("postgres: 23505 ..."), or "". */
static void err_sqlstate(const nt_err_t *err, char out[6])
{
    const char *p = strncmp(err->msg, "postgres: ", 10) == 0 ? err->msg + 10 : "";
    size_t n = strspn(p, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ");
    out[0] = '\0';
    if (n == 5 && p[5] == ' ')
        snprintf(out, 6, "%.5s", p);
}

static void copy_col(const PGresult *res, int c, char *out, size_t outsz)
{
    nt_buf_copy_str(out, outsz, PQgetisnull(res, 0, c) ? "" : PQgetvalue(res, 0, c));
}

int nt_actions_record(nt_pg_t *pg, nt_action_step_t step, const char *id, const char *outcome,
                      const char *reference, const char *note, nt_action_result_t *res,
                      nt_err_t *err)
{
#define RESULT_COLUMNS                                                                             \
    "SELECT effect, kind, state, outcome,"                                                         \
    " to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
    static const char sql_submit[] = RESULT_COLUMNS " FROM nt_action_submit($1::uuid, $2, $3)";
    static const char sql_done[] = RESULT_COLUMNS " FROM nt_action_done($1::uuid, $4, $2, $3)";
#undef RESULT_COLUMNS
    memset(res, 0, sizeof(*res));
    if (!nt_actions_is_id(id))
        return nt_err_set(err, NT_EINVAL, false, "field id: \"%.64s\" is not an item id (a UUID)",
                          id != NULL ? id : "");
    if (step == NT_ACTION_DONE &&
        (outcome == NULL || (strcmp(outcome, "applied") != 0 && strcmp(outcome, "approved") != 0 &&
                             strcmp(outcome, "rejected") != 0)))
        return nt_err_set(err, NT_EINVAL, false,
                          "field outcome: \"%.32s\" is not applied, rejected (label updates) or "
                          "approved, rejected (appeals)",
                          outcome != NULL ? outcome : "");
    if (reference != NULL && (reference[0] == '\0' || strlen(reference) >= NT_JOB_TICKET_MAX))
        return nt_err_set(err, NT_EINVAL, false, "field reference: \"%.64s\" must be 1 to %d bytes",
                          reference, NT_JOB_TICKET_MAX - 1);
    if (note != NULL && strlen(note) > 2000)
        return nt_err_set(err, NT_EINVAL, false, "field note: longer than 2000 bytes");
    const char *params[4] = {id, reference, note, outcome};
    bool done = step == NT_ACTION_DONE;
    PGresult *r = nt_pg_exec(pg, done ? sql_done : sql_submit, done ? 4 : 3, params, err);
    if (r == NULL) {
        char state[6], why[sizeof(err->msg)];
        err_sqlstate(err, state);
        if (strcmp(state, "22023") == 0) { /* the item's kind has no such outcome */
            nt_buf_copy_str(why, sizeof(why), err->msg + 16);
            return nt_err_set(err, NT_EINVAL, false, "field outcome: %s", why);
        }
        if (strcmp(state, "23505") == 0)
            return nt_err_set(err, NT_EINVAL, false,
                              "field reference: \"%.64s\" is already the ticket of another "
                              "appeal on this platform",
                              reference != NULL ? reference : "");
        return err->code != 0 ? err->code : NT_EIO;
    }
    copy_col(r, 0, res->effect, sizeof(res->effect));
    copy_col(r, 1, res->kind, sizeof(res->kind));
    copy_col(r, 2, res->state, sizeof(res->state));
    copy_col(r, 3, res->outcome, sizeof(res->outcome));
    copy_col(r, 4, res->at, sizeof(res->at));
    PQclear(r);
    return NT_OK;
}

static const char *const filter_states[] = {"open", "submitted", "pending", "done", "all"};

int nt_actions_filter_check(const nt_action_filter_t *f, nt_err_t *err)
{
    bool ok = f->state == NULL;
    for (size_t i = 0; !ok && i < NT_ARRAY_LEN(filter_states); i++)
        ok = strcmp(f->state, filter_states[i]) == 0;
    if (!ok)
        return nt_err_set(err, NT_EINVAL, false,
                          "field state: \"%.32s\" is not one of open, submitted, pending, done, "
                          "all",
                          f->state);
    if (f->kind != NULL && nt_actions_outcomes(f->kind) == NULL)
        return nt_err_set(err, NT_EINVAL, false,
                          "field kind: \"%.32s\" is not tag_update or appeal", f->kind);
    if (f->number != NULL && !nt_phone_is_e164(f->number))
        return nt_err_set(err, NT_EINVAL, false, "field number: \"%.32s\" is not an E.164 number",
                          f->number);
    if (f->tenant != NULL && !nt_job_is_tenant_id(f->tenant))
        return nt_err_set(err, NT_EINVAL, false, "field tenant: \"%.64s\" is not a tenant id",
                          f->tenant);
    if (f->limit < 0 || f->limit > 100000)
        return nt_err_set(err, NT_EINVAL, false, "field limit: %ld is outside [1, 100000]",
                          f->limit);
    return NT_OK;
}

/* The columns of an item as the API and `actions --json` show it. */
#define ITEM_COLUMNS                                                                               \
    "id, kind, state, number, platform, platform_name, tenant_id AS tenant, label, mark_type,"     \
    " evidence, form_url, form, outcome, reference, note, created_at, submitted_at, done_at,"      \
    " extract(epoch FROM age)::bigint AS age_s"

static int json_result(nt_pg_t *pg, const char *sql, int n, const char *const *params,
                       nt_buf_t *out, nt_err_t *err)
{
    nt_buf_reset(out);
    PGresult *res = nt_pg_exec(pg, sql, n, params, err);
    if (res == NULL)
        return err->code != 0 ? err->code : NT_EIO;
    int rc = NT_ENOENT;
    if (PQntuples(res) == 1 && !PQgetisnull(res, 0, 0))
        rc = nt_buf_append(out, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0));
    PQclear(res);
    if (rc == NT_ENOENT)
        return nt_err_set(err, NT_ENOENT, false, "no such item");
    return rc;
}

int nt_actions_list_json(nt_pg_t *pg, const nt_action_filter_t *f, nt_buf_t *out, nt_err_t *err)
{
    static const char sql[] =
        "SELECT COALESCE(json_agg(q), '[]')::text FROM ("
        "  SELECT " ITEM_COLUMNS " FROM action_queue"
        "  WHERE ($1 = 'all' OR ($1 = 'pending' AND state <> 'done') OR state = $1)"
        "    AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR platform = $3)"
        "    AND ($4::text IS NULL OR tenant_id = $4) AND ($5::text IS NULL OR number = $5)"
        "  ORDER BY created_at, id LIMIT $6::bigint) q";
    char limit[24];
    int rc = nt_actions_filter_check(f, err);
    if (rc != NT_OK)
        return rc;
    snprintf(limit, sizeof(limit), "%ld", f->limit > 0 ? f->limit : 100);
    const char *params[6] = {
        f->state ? f->state : "pending", f->kind, f->platform, f->tenant, f->number, limit};
    return json_result(pg, sql, 6, params, out, err);
}

int nt_actions_get_json(nt_pg_t *pg, const char *id, nt_buf_t *out, nt_err_t *err)
{
    static const char sql[] = "SELECT row_to_json(q)::text FROM (SELECT " ITEM_COLUMNS
                              " FROM action_queue WHERE id = $1::uuid) q";
    if (!nt_actions_is_id(id))
        return nt_err_set(err, NT_EINVAL, false, "field id: \"%.64s\" is not an item id (a UUID)",
                          id != NULL ? id : "");
    const char *params[1] = {id};
    return json_result(pg, sql, 1, params, out, err);
}

int nt_actions_resolve(nt_pg_t *pg, const char *prefix, char out[NT_UUID_STRLEN], nt_err_t *err)
{
    char low[NT_UUID_STRLEN];
    size_t n = strlen(prefix);
    out[0] = '\0';
    if (n >= NT_UUID_STRLEN || n < 8 || strspn(prefix, "0123456789abcdefABCDEF-") != n)
        return nt_err_set(err, NT_EINVAL, false,
                          "item \"%.64s\": give the item's id or at least its first 8 hex digits",
                          prefix);
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)prefix[i]);
    const char *params[1] = {low};
    PGresult *res = nt_pg_exec(pg,
                               "SELECT id::text FROM action_items WHERE id::text LIKE $1 || '%'"
                               " ORDER BY id LIMIT 2",
                               1, params, err);
    if (res == NULL)
        return err->code != 0 ? err->code : NT_EIO;
    int rows = PQntuples(res), rc = NT_OK;
    if (rows == 0)
        rc = nt_err_set(err, NT_ENOENT, false, "item \"%s\": no such action item", prefix);
    else if (rows > 1)
        rc = nt_err_set(err, NT_EINVAL, false,
                        "item \"%s\": several items start with it (%s, %s, ...): give more "
                        "digits",
                        prefix, PQgetvalue(res, 0, 0), PQgetvalue(res, 1, 0));
    else
        nt_buf_copy_str(out, NT_UUID_STRLEN, PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}
