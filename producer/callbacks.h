/*
 * callbacks.h — platform callbacks: a platform that decides a label update
 * or an appeal later calls numtrust back (docs/platforms.md, Callbacks).
 *
 * The control plane's HTTP server (`numtrust-producer serve`) routes
 * POST /v1/callbacks/{platform} to nt_callbacks_handle. A callback is
 * verified (HMAC-SHA256 over TIMESTAMP "\n" BODY with the platform's
 * callback secret, and the timestamp within callbacks.window_s of now),
 * parsed with the platform's own format and pointers, and applied to the
 * appeal or tag update it names, idempotently and in the platform's order:
 * the same (ticket, kind, seq) twice is recorded once, a lower sequence never
 * overwrites a higher one, and a decided ticket stays decided. A callback
 * that never comes is reconciled by the appeal-status poll.
 */
#ifndef NT_CALLBACKS_H
#define NT_CALLBACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "clock.h"
#include "pg.h"
#include "platforms.h"

/* Looks a request header up (case-insensitively); NULL when absent. */
typedef const char *(*nt_callbacks_header_fn)(const void *hctx, const char *name);

typedef struct nt_callback_req_s {
    const char *platform; /* the {platform} path segment, decoded */
    const char *body;     /* the raw request body, body_len bytes (no NUL needed) */
    size_t body_len;
    nt_callbacks_header_fn header;
    const void *hctx; /* passed to header */
} nt_callback_req_t;

/* A verified, parsed callback, ready to be applied. */
typedef struct nt_callback_s {
    const nt_platform_t *platform;
    bool tag;                  /* a label review (tag_updates); false: an appeal decision */
    char ticket[128];          /* the platform's ticket */
    char state[32];            /* numtrust's state (values.tag_state / values.appeal_state) */
    char seq[24];              /* the platform's sequence, or the event time in ms without one */
    char when[NT_RFC3339_LEN]; /* the event's time (now without a time field) */
} nt_callback_t;

/* Verifies and parses one callback without any I/O (what the fuzzer
 * drives): the platform, its signature and timestamp window, the body in the
 * platform's format, and every field.
 * @param now_ms  wall-clock Unix time in ms: the signature window, and the
 *                event time when the platform sends none
 * @returns 0 with cb filled (out untouched), or the HTTP status to answer
 *          (400, 401, 404 as for nt_callbacks_handle) with out reset and
 *          holding the JSON error. */
int nt_callbacks_parse(const nt_platforms_t *ps, const nt_callback_req_t *req, int64_t now_ms,
                       nt_callback_t *cb, nt_buf_t *out);

/* Applies a parsed callback with one statement on pg (idempotent and
 * ordered, see the top of this file). Returns the HTTP status (200, 202,
 * 503 as for nt_callbacks_handle) with out reset and holding the answer. */
int nt_callbacks_apply(nt_pg_t *pg, const nt_callback_t *cb, nt_buf_t *out);

/* Handles one callback: nt_callbacks_parse, then nt_callbacks_apply.
 * @param ps      the platform registry (read only; safe to share between threads)
 * @param pg      a connection of the caller's, used for one statement; not
 *                shared with another thread during the call
 * @param now_ms  wall-clock Unix time in ms (real time: the signature window)
 * @param out     reset, then receives the JSON answer body
 * @returns the HTTP status to answer with:
 *   200 {"result":"applied"|"duplicate"|"stale"}  recorded (or already was)
 *   202 {"result":"unknown_ticket"}   kept; applied when it comes again or by polling
 *   400 {"error":...}  body not parsable, a field missing, an unknown kind or state
 *   401 {"error":...}  signature missing or wrong, timestamp outside the window
 *   404 {"error":...}  no such platform, or it does not call back
 *   503 {"error":...}  PostgreSQL failed: the platform should retry
 */
int nt_callbacks_handle(const nt_platforms_t *ps, nt_pg_t *pg, const nt_callback_req_t *req,
                        int64_t now_ms, nt_buf_t *out);

/* The signature a callback carries: lowercase hex of
 * HMAC-SHA256(secret, timestamp "\n" body), 64 characters and a NUL. */
void nt_callbacks_sign(const char *secret, const char *timestamp, const char *body, size_t len,
                       char out[65]);

#endif
