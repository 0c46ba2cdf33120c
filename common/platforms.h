/*
 * platforms.h — the platforms registry (docs/platforms.md).
 *
 * A platform is data: base URL, auth, one request template and one response
 * mapping per operation, value maps into numtrust's vocabulary, error
 * classes, rate limit and timeouts, all loaded from platforms.json and
 * validated here, once, before anything connects. The worker and the
 * producer read it through the accessors below; building a request and
 * mapping an answer is the adapter's (adapter.h).
 */
#ifndef NT_PLATFORMS_H
#define NT_PLATFORMS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef enum {
    NT_OP_CHECK = 0,
    NT_OP_CHECK_BATCH,
    NT_OP_TAG_UPDATE,
    NT_OP_APPEAL_SUBMIT,
    NT_OP_APPEAL_STATUS,
    NT_OP_TAG_STATUS, /* the review state of a tag update, by ticket */
    NT_OP_RENEWAL,    /* ask for a certification's renewal */
} nt_op_t;

#define NT_OP_N 7

typedef enum {
    NT_OUTCOME_OK = 0,
    NT_OUTCOME_RETRYABLE,
    NT_OUTCOME_RATE_LIMITED, /* retryable, and the platform wants us slower */
    NT_OUTCOME_PERMANENT,
    NT_OUTCOME_AUTH,     /* permanent: credentials are wrong */
    NT_OUTCOME_REJECTED, /* the platform refused the request on its merits (a label it will
                          * not show): the operation's answer, recorded, never retried */
} nt_outcome_t;

#define NT_OUTCOME_N 6

typedef struct nt_platforms_s nt_platforms_t;
typedef struct nt_platform_s nt_platform_t;

/* What an operation costs on a platform (platforms.md, Prices). */
typedef enum {
    NT_PRICE_CHECK = 0,
    NT_PRICE_LABEL_UPDATE,
    NT_PRICE_APPEAL,
    NT_PRICE_RENEWAL,
} nt_price_t;

#define NT_PRICE_N 4

/* How a platform calls back with review decisions (platforms.md,
 * Callbacks). Pointers are JSON pointers into the parsed body (an XML body
 * is parsed as common/xml.h says). Strings are owned by the platform. */
typedef struct nt_platform_callbacks_s {
    const char *secret;           /* HMAC-SHA256 key (from secret_env); never logged */
    long window_s;                /* accepted distance of the timestamp from now */
    const char *timestamp_header; /* default X-Nt-Callback-Timestamp */
    const char *signature_header; /* default X-Nt-Callback-Signature */
    const char *kind, *ticket, *state, *seq, *time; /* pointers; seq and time may be NULL */
} nt_platform_callbacks_t;

/* Loads and validates a platforms file; ${NAME} in strings is replaced from
 * the environment and the auth variables must be set.
 * @returns a new set; free with nt_platforms_free(). NULL on failure with err
 * naming the file, platform, key and value. */
nt_platforms_t *nt_platforms_load(const char *file, nt_err_t *err);

/* The same from text in memory; origin names it in messages. */
nt_platforms_t *nt_platforms_parse(const char *text, size_t len, const char *origin, nt_err_t *err);

void nt_platforms_free(nt_platforms_t *ps);

size_t nt_platforms_count(const nt_platforms_t *ps);
const nt_platform_t *nt_platforms_at(const nt_platforms_t *ps, size_t i);
/* NULL when no platform has this id. */
const nt_platform_t *nt_platforms_find(const nt_platforms_t *ps, const char *id);

const char *nt_platform_id(const nt_platform_t *p);
/* The credentials of p (bearer token, HMAC key and secret, callback
 * secret), for redacting what the platform answers (redact.h): up to max of
 * them into out. Returns how many. Never log them. */
size_t nt_platform_secrets(const nt_platform_t *p, const char **out, size_t max);
const char *nt_platform_name(const nt_platform_t *p);
const char *nt_platform_dialect(const nt_platform_t *p);
bool nt_platform_has_op(const nt_platform_t *p, nt_op_t op);
/* Numbers per batched check call, 0 without a check_batch operation. */
int nt_platform_batch_max(const nt_platform_t *p);
double nt_platform_qps(const nt_platform_t *p); /* 0: unlimited */
int nt_platform_burst(const nt_platform_t *p);
/* Index of p in its set (stable; for per-platform arrays). */
size_t nt_platform_index(const nt_platform_t *p);

/* True when bodies are XML ("format": "xml"): requests are rendered and
 * answers parsed by common/xml.h, then mapped like JSON. */
bool nt_platform_is_xml(const nt_platform_t *p);

/* True for a platform without a submission API ("dialect": "manual"): tag
 * updates and appeals become action items for a person (docs/platforms.md,
 * Manual platforms); checks still use its check operation. */
bool nt_platform_is_manual(const nt_platform_t *p);

/* The surfaces the platform shows a label on, as bits 1 << NT_SURFACE_*
 * (adapter.h); all three unless "surfaces" says otherwise. */
unsigned nt_platform_surfaces(const nt_platform_t *p);

/* The configured price of one operation: true and *amount set, or false
 * when the platform has no "prices". */
bool nt_platform_price(const nt_platform_t *p, nt_price_t what, double *amount);

/* The currency of the prices ("CNY"), "" without prices. */
const char *nt_platform_currency(const nt_platform_t *p);
const char *nt_price_name(nt_price_t what);

/* The callback settings, NULL when the platform does not call back. */
const nt_platform_callbacks_t *nt_platform_callbacks(const nt_platform_t *p);

/* What the kind a callback names ("complaint") means: NT_OP_APPEAL_STATUS
 * for an appeal decision, NT_OP_TAG_UPDATE for a label review; -1 when the
 * kind is not in callbacks.kinds. */
int nt_platform_callback_kind(const nt_platform_t *p, const char *kind);

/* Maps a platform's state text through values.appeal_state (op
 * NT_OP_APPEAL_STATUS) or values.tag_state (NT_OP_TAG_UPDATE) into out.
 * 0, or NT_EINVAL when the value is not in the map (or vocabulary). */
int nt_platform_map_state(const nt_platform_t *p, nt_op_t op, const char *text, char *out,
                          size_t outsz) NT_MUSTCHECK;

/* A manual platform's submission form: the URL a person opens, and the form
 * fields of op (NT_OP_TAG_UPDATE or NT_OP_APPEAL_SUBMIT) as a template with
 * the adapter's variables; NULL when not configured. */
const char *nt_platform_manual_url(const nt_platform_t *p);
const cJSON *nt_platform_manual_form(const nt_platform_t *p, nt_op_t op);

const char *nt_op_name(nt_op_t op);
const char *nt_outcome_name(nt_outcome_t outcome);

#endif
