/*
 * adapter.h — declarative platform adapters (docs/platforms.md).
 *
 * For a platform of the registry (platforms.h, loaded from platforms.json)
 * this module builds the HTTP call of an operation and turns the answer into
 * an outcome class and a normalised result. It does no I/O of its own.
 */
#ifndef NT_ADAPTER_H
#define NT_ADAPTER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "http.h"
#include "job.h"
#include "platforms.h"

/* Surfaces a label is displayed on. */
enum { NT_SURFACE_ANDROID = 0, NT_SURFACE_IOS = 1, NT_SURFACE_SEARCH = 2 };
#define NT_SURFACES 3

#define NT_MAX_MARKS      8          /* one per taxonomy type */
#define NT_MARK_COUNT_MAX 1000000000 /* larger counts are a mapping error */
#define NT_CERT_MAX       16
#define NT_STATE_MAX      16

typedef struct nt_mark_s {
    char type[NT_JOB_MARK_TYPE_MAX]; /* taxonomy type */
    int count;
} nt_mark_t;

/* A number's normalised state on one platform, as one check saw it. */
typedef struct nt_check_state_s {
    char number[NT_JOB_NUMBER_MAX];
    bool has_cert;
    char cert_status[NT_CERT_MAX];
    bool has_score;
    int trust_score; /* 0-100 */
    bool has_cert_expires;
    int64_t cert_expires_ms; /* the certification's expiry (Unix ms) */
    bool has_label[NT_SURFACES];
    char label[NT_SURFACES][NT_JOB_LABEL_MAX];
    nt_mark_t marks[NT_MAX_MARKS]; /* sorted by count desc, then taxonomy order */
    size_t nmarks;
    /* batch only: the outcome of this one number */
    nt_outcome_t item_outcome;
    char item_error[128];
} nt_check_state_t;

/* The answer to a tag update, appeal submit or appeal status. */
#define NT_REASON_MAX 192

/* The answer to a tag update, tag status, appeal submit, appeal status or
 * renewal. */
typedef struct nt_ticket_s {
    char ticket[NT_JOB_TICKET_MAX];
    char state[NT_STATE_MAX];   /* normalised tag, appeal or renewal state */
    char reason[NT_REASON_MAX]; /* the platform's words (a rejection), "" if none */
    bool has_expires;
    int64_t expires_ms; /* renewal: the new expiry, when the platform says it */
} nt_ticket_t;

/* How a platform answered, before any mapping. */
typedef struct nt_answer_s {
    nt_outcome_t outcome;
    long status;
    int64_t retry_after_ms; /* -1: none */
    bool timed_out;         /* no answer in time (feeds AIMD) */
    char reason[256];       /* for non-ok outcomes; no secrets, no full numbers */
} nt_answer_t;

/* What a request is about; unused fields may be NULL. */
typedef struct nt_adapter_req_s {
    const char *job_id;
    const char *idempotency_key; /* tag_update, appeal_submit; NULL: job_id */
    const char *number;          /* single-number operations */
    const char *const *numbers;  /* check_batch */
    size_t nnumbers;
    const char *label;     /* tag_update */
    const char *mark_type; /* appeal_submit: taxonomy type */
    const char *evidence;  /* appeal_submit */
    const char *ticket;    /* appeal_status, tag_status */
} nt_adapter_req_t;

/* Builds the HTTP call for op: URL into url, body into body (both caller-
 * owned and reset here; the call points into them), headers (auth,
 * Content-Type, X-Request-Id, Idempotency-Key) into call->headers, owned by
 * the call. now_s is the Unix time used for signatures.
 * Returns 0, or NT_EINVAL (err: missing variable, unknown mark type). */
int nt_adapter_build(const nt_platform_t *p, nt_op_t op, const nt_adapter_req_t *req, int64_t now_s,
                     nt_http_call_t *call, nt_buf_t *url, nt_buf_t *body,
                     nt_err_t *err) NT_MUSTCHECK;

/* Classifies a finished call. When the outcome is OK, *root receives the
 * parsed body (delete it with cJSON_Delete); otherwise *root is NULL. */
void nt_adapter_answer(const nt_platform_t *p, const nt_http_result_t *res, nt_answer_t *ans,
                       cJSON **root);

/* Maps a check answer. 0, or NT_EINVAL with err (a mapping failure, which is
 * a permanent outcome). */
int nt_adapter_map_check(const nt_platform_t *p, const cJSON *root, nt_check_state_t *st,
                         nt_err_t *err) NT_MUSTCHECK;

/* Maps a check_batch answer into sts[0..n-1], matched to numbers[] by the
 * item_number pointer (or by position without one). Numbers the answer
 * leaves out get item_outcome RETRYABLE. 0 or NT_EINVAL for the whole
 * answer. */
int nt_adapter_map_batch(const nt_platform_t *p, const cJSON *root, const char *const *numbers,
                         size_t n, nt_check_state_t *sts, nt_err_t *err) NT_MUSTCHECK;

/* Maps a tag_update, tag_status, appeal_submit, appeal_status or renewal
 * answer. */
int nt_adapter_map_ticket(const nt_platform_t *p, nt_op_t op, const cJSON *root, nt_ticket_t *t,
                          nt_err_t *err) NT_MUSTCHECK;

/* Renders a manual platform's form for op (NT_OP_TAG_UPDATE or
 * NT_OP_APPEAL_SUBMIT) with req's variables into out (reset first) as a JSON
 * object of field -> value: what a person types into the platform's web
 * form. 0 or NT_EINVAL (no form, a variable without a value). */
int nt_adapter_render_form(const nt_platform_t *p, nt_op_t op, const nt_adapter_req_t *req,
                           nt_buf_t *out, nt_err_t *err) NT_MUSTCHECK;

/* HMAC-SHA256 request signature as docs/platforms.md defines it, written as
 * 64 lowercase hex characters plus NUL. Exposed for tests. */
void nt_adapter_sign(const char *secret, const char *method, const char *path,
                     const char *timestamp, const char *nonce, const char *body, size_t body_len,
                     char out[65]);

#endif
