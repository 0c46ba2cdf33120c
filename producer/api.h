/*
 * api.h — the control plane's operations, one table for two front ends: the
 * HTTP server (`numtrust-producer serve`, serve.c) and the CLI subcommands
 * (`numtrust-producer numbers list`, api_cli.c). An operation reads its
 * input from one JSON object (path parameters, query parameters and body
 * fields merged; the raw body for CSV and iCalendar imports) and writes one
 * JSON answer, so both front ends behave the same by construction.
 */
#ifndef NT_PRODUCER_API_H
#define NT_PRODUCER_API_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "cli.h"
#include "pg.h"

/* Who is asking: an admin sees every tenant, a tenant token its own numbers,
 * a feedback token may only post callee reports. */
typedef enum { API_ADMIN = 0, API_TENANT = 1, API_FEEDBACK = 2 } api_role_t;

typedef struct api_ctx_s {
    cli_t *cli;
    nt_pg_t *pg; /* the operation's connection (borrowed) */
    api_role_t role;
    const char *tenant; /* the token's tenant; NULL for an admin */
    long token_id;      /* 0: the CLI */
    cJSON *in;          /* the input object (borrowed) */
    const char *raw;    /* the request body (CSV, iCalendar), may be NULL */
    size_t raw_len;
    const char *content_type; /* of raw; may be NULL */
    const char *source;       /* the caller's address ("cli" for the CLI) */
    int64_t domain_now_ms;    /* numtrust time, when an operation needs it */
    /* the answer */
    int status;   /* HTTP status; 200 unless set */
    nt_buf_t out; /* JSON text (or HTML when html is set) */
    bool html;
    bool dropped; /* feedback: not stored (the number is not the tenant's); same answer */
    /* a report read from the fleet-state snapshot: when it was taken (RFC
     * 3339; "" when the rows were computed now) and its age in seconds, sent
     * as the headers X-Numtrust-Snapshot-Taken and X-Numtrust-Snapshot-Age */
    char snapshot_taken[40];
    long snapshot_age_s;
    char field[64]; /* on failure: the field at fault, "" when none */
    char msg[512];  /* on failure: what is wrong */
} api_ctx_t;

typedef int (*api_fn)(api_ctx_t *c);

enum {
    API_OP_ADMIN = 1u << 0,    /* admin token only */
    API_OP_FEEDBACK = 1u << 1, /* the feedback token's operation (public intake) */
    API_OP_RAW = 1u << 2,      /* the body is a file (CSV, iCalendar, a policy document), kept
                                * as it came; up to api.max_import_bytes */
    API_OP_WRITE = 1u << 3,    /* changes something */
};

typedef struct api_op_s {
    const char *method; /* GET, POST, PATCH, DELETE */
    const char *path;   /* "/v1/numbers/{number}": {name} is a path parameter */
    const char *cli;    /* "numbers get": the CLI subcommand */
    unsigned flags;
    api_fn fn;
    const char *help;
} api_op_t;

extern const api_op_t api_ops[];
extern const size_t api_nops;

/* Fails the operation: sets status, field (may be NULL) and message; returns
 * -1 so handlers can `return api_fail(...)`. */
int api_fail(api_ctx_t *c, int status, const char *field, const char *fmt, ...) NT_PRINTF(4, 5);

/* The string value of a field: a JSON string as is, a number or boolean as
 * text (the CLI passes everything as text). NULL when absent or null. */
const char *api_str(api_ctx_t *c, const char *field);

/* Required string field; fails (400, naming the field) when absent. */
int api_need(api_ctx_t *c, const char *field, const char **value);

/* An optional integer field within [min, max]; *value keeps its default when
 * absent. Fails naming the field when it is not an integer in range. */
int api_int(api_ctx_t *c, const char *field, long min, long max, long *value);

/* Fails with 400 naming the first field of the input not in allowed (a
 * NULL-terminated list); catches typos like "base_lable". */
int api_only(api_ctx_t *c, const char *const *allowed);

/* Runs sql (text parameters) whose single row and column is JSON text and
 * appends it to c->out. NULL or zero rows: 404 with not_found (when given)
 * or an empty array. SQL errors become 400 (data) or 503 (connection). */
int api_sql_json(api_ctx_t *c, const char *sql, int nparams, const char *const *params,
                 const char *not_found);

/* The tenant parameter for scoped SQL: the token's tenant, or for an admin
 * the input's "tenant" field (NULL: every tenant). */
const char *api_scope(api_ctx_t *c);

/* The operations, by resource (api_numbers.c, api_schedules.c, ...). */
int api_numbers_list(api_ctx_t *c);
int api_numbers_get(api_ctx_t *c);
int api_numbers_add(api_ctx_t *c);
int api_numbers_import(api_ctx_t *c);
int api_numbers_update(api_ctx_t *c);
int api_numbers_disable(api_ctx_t *c);
int api_numbers_enable(api_ctx_t *c);
int api_numbers_offboard(api_ctx_t *c);
int api_numbers_recheck(api_ctx_t *c);
int api_numbers_appeal(api_ctx_t *c);
int api_schedules_list(api_ctx_t *c);
int api_schedules_add(api_ctx_t *c);
int api_schedules_delete(api_ctx_t *c);
int api_schedules_import(api_ctx_t *c);
int api_marks_list(api_ctx_t *c);
int api_appeals_list(api_ctx_t *c);
int api_actions_list(api_ctx_t *c);
int api_actions_get(api_ctx_t *c);
int api_actions_submit(api_ctx_t *c);
int api_actions_done(api_ctx_t *c);
int api_policy_get(api_ctx_t *c);
int api_policy_patch(api_ctx_t *c);
int api_policy_export(api_ctx_t *c);
int api_policy_apply(api_ctx_t *c);
int api_sla_summary(api_ctx_t *c);
int api_sla_breaches(api_ctx_t *c);
int api_sla_rates(api_ctx_t *c);
int api_sla_trend(api_ctx_t *c);
int api_alerts_list(api_ctx_t *c);
int api_alerts_test(api_ctx_t *c);
int api_endpoints_list(api_ctx_t *c);
int api_endpoints_add(api_ctx_t *c);
int api_endpoints_remove(api_ctx_t *c);
int api_deliveries_list(api_ctx_t *c);
int api_deliveries_retry(api_ctx_t *c);
int api_quarantine_list(api_ctx_t *c);
int api_quarantine_add(api_ctx_t *c);
int api_quarantine_release(api_ctx_t *c);
int api_costs_get(api_ctx_t *c);
int api_feedback_post(api_ctx_t *c);
int api_feedback_list(api_ctx_t *c);
int api_reports_get(api_ctx_t *c);
int api_whoami(api_ctx_t *c);

/* The HTML report (report_html.c): one self-contained page with inline SVG
 * charts, scoped by tenant / platform / scenario / since (any may be NULL).
 * Appends to out. 0, or -1 with err set. */
int report_html(nt_pg_t *pg, const char *tenant, const char *platform, const char *scenario,
                const char *since, nt_buf_t *out, nt_err_t *err);

/* SHA-256 of s as 64 lowercase hex digits (tokens are stored hashed). */
void api_token_hash(const char *s, char out[65]);

#endif
