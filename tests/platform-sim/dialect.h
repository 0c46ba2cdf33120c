/*
 * dialect.h — the platform API dialects, as tables.
 *
 * A dialect is a row of data: its routes (method, path pattern, endpoint,
 * handler), its error table (HTTP status, code, message per error kind), its
 * error body shape, its request authentication and its check rendering. The
 * server (simsrv.c) runs the common pipeline — routing, outage, auth, rate
 * limit, faults, idempotency, latency — and calls the route's handler, which
 * parses the body, asks the model (sim.h) and renders the dialect's answer.
 * Adding a dialect is adding a table, not a branch in the server.
 */
#ifndef NT_DIALECT_H
#define NT_DIALECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "sim.h"
#include "simconf.h"

/* Error kinds every dialect renders in its own shape. */
typedef enum {
    NT_DERR_BAD_NUMBER,
    NT_DERR_BAD_BODY,
    NT_DERR_LABEL,
    NT_DERR_AUTH_SIG,
    NT_DERR_AUTH_SKEW,
    NT_DERR_AUTH_KEY,
    NT_DERR_NO_TICKET,
    NT_DERR_NO_MARK,
    NT_DERR_RATE,
    NT_DERR_INTERNAL,
    NT_DERR_UNAVAILABLE,
    NT_DERR_NOT_FOUND,
    NT_DERR_NOT_ELIGIBLE, /* renewal: nothing to renew (pending, revoked, none) */
    NT_DERR__COUNT
} nt_derr_t;

#define NT_DERR_NONE (-1) /* auth passed */

typedef struct nt_dialect_errdef_s {
    int http;         /* HTTP status */
    int code;         /* numeric code (dialects A and B) */
    const char *name; /* text code (dialect C) */
    const char *msg;  /* default message */
} nt_dialect_errdef_t;

/* One platform call handed to a route handler. */
typedef struct nt_dialect_call_s {
    nt_sim_t *sim;
    int scope;
    const char *scope_name;
    const char *arg; /* the decoded '*' path segment ({number} or {ticket}); NULL if none */
    const char *body;
    size_t body_len;
    const char *idem_key; /* NULL when the request has none */
    int max_batch;
    nt_buf_t *out;              /* the response body, empty on entry */
    int status;                 /* set by the handler */
    size_t batch_numbers;       /* set by a batch check */
    struct nt_notify_s *notify; /* dialect D's callbacks (notify.h); NULL: none */
} nt_dialect_call_t;

/* Renders the answer into call->out and sets call->status. Returns 0, or
 * NT_ENOMEM / NT_ETOOBIG (the server then answers the dialect's 500). */
typedef int (*nt_dialect_fn)(nt_dialect_call_t *call);

typedef struct nt_dialect_route_s {
    const char *method;
    const char *pattern; /* path after /p/{scope}/{d}/; "*" matches one segment */
    nt_sim_ep_t ep;
    nt_dialect_fn fn;
} nt_dialect_route_t;

/* What authentication looks at. */
typedef struct nt_dialect_auth_s {
    const char *method;
    const char *path; /* raw, as sent */
    const char *body;
    size_t body_len;
    const char *(*header)(const void *hctx, const char *name); /* NULL when absent */
    const void *hctx;
    const nt_simconf_t *conf;
    int64_t now_s; /* real wall-clock seconds */
} nt_dialect_auth_t;

typedef struct nt_dialect_s {
    char id; /* 'a', 'b', 'c', 'd' */
    const char *ep_names[NT_SIM_EP__COUNT];
    const nt_dialect_route_t *routes;
    size_t nroutes;
    const nt_dialect_errdef_t *errors; /* NT_DERR__COUNT rows */
    /* Renders an error body. */
    int (*error_body)(nt_buf_t *out, const nt_dialect_errdef_t *e, const char *msg);
    /* NT_DERR_NONE when the request may pass, else the error kind; NULL: no auth. */
    int (*auth)(const nt_dialect_auth_t *in);
    /* Renders the check answer for one number (dialect C: one batch item). */
    int (*render_check)(nt_buf_t *out, const char *scope, const char *number,
                        const nt_sim_state_t *st);
    bool top_mark_only;       /* the dialect shows only the most-counted mark */
    const char *content_type; /* of its answers; NULL: application/json */
} nt_dialect_t;

extern const nt_dialect_t nt_dialect_a;
extern const nt_dialect_t nt_dialect_b;
extern const nt_dialect_t nt_dialect_c;
extern const nt_dialect_t nt_dialect_d;

#define NT_DIALECTS 4 /* a, b, c, d */

/* The dialect with this id, or NULL. */
const nt_dialect_t *nt_dialect_find(char id);

/* Renders error e (msg NULL: the table's message) into out (reset first).
 * Returns the HTTP status. */
int nt_dialect_error(const nt_dialect_t *d, nt_buf_t *out, nt_derr_t e, const char *msg);

/* Sets call's answer to error e. Returns 0 or NT_ENOMEM. */
int nt_dialect_fail(const nt_dialect_t *d, nt_dialect_call_t *call, nt_derr_t e);

/* The route matching method and rest (path after /p/{scope}/{d}/), or
 * NULL. *arg / *arglen get the raw segment matched by '*' (NULL, 0 if none). */
const nt_dialect_route_t *nt_dialect_route(const nt_dialect_t *d, const char *method,
                                           const char *rest, const char **arg, size_t *arglen);

/* Percent-decodes the n bytes at s into out (outsz bytes, NUL-terminated).
 * Returns the decoded length, or -1 for a bad escape, a NUL or no room. */
int nt_dialect_pct_decode(const char *s, size_t n, char *out, size_t outsz);

/* True for an acceptable label: 1-32 characters of valid UTF-8 without
 * control characters. */
bool nt_dialect_label_ok(const char *s);

/* Parses call's body as a JSON object. NULL when it is not one. Free the
 * result with cJSON_Delete. */
cJSON *nt_dialect_body(const nt_dialect_call_t *call);

/* The string member name of obj, or NULL. */
const char *nt_dialect_str(const cJSON *obj, const char *name);

/* Runs an append step unless an earlier one failed (keeps the first error). */
#define NT_EMIT(rc, expr)                                                                          \
    do {                                                                                           \
        if ((rc) == NT_OK)                                                                         \
            (rc) = (expr);                                                                         \
    } while (0)

/* HMAC-SHA256 request signature of dialect A: lowercase hex of
 * HMAC(secret, METHOD "\n" PATH "\n" TIMESTAMP "\n" NONCE "\n" hex(SHA256(body))).
 * Returns 0 or NT_ENOMEM. */
int nt_dialect_a_sign(const char *secret, const char *method, const char *path, const char *ts,
                      const char *nonce, const char *body, size_t len, char hex[65]) NT_MUSTCHECK;

/* Writes ms as a UTC date "YYYY-MM-DD" into out (11 bytes); "" for 0. */
void nt_dialect_date(int64_t ms, char out[11]);

/* Index of s in names[n], or -1. */
int nt_dialect_lookup(const char *const *names, size_t n, const char *s);

#endif
