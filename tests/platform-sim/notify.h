/*
 * notify.h — dialect D's asynchronous decisions: signed XML callbacks.
 *
 * When dialect D accepts a label update or an appeal, it schedules the
 * events the platform will call back with (a complaint in review, then
 * decided; a card applied), each at a simulated time, with a per-ticket
 * sequence number. A timer sends the events that are due to callbacks.url
 * ({platform} replaced by the scope), signed with
 * hex(HMAC-SHA256(callback_secret, TIMESTAMP "\n" BODY)), and the fault
 * knobs (callbacks.rate_*) lose, duplicate, reorder, delay or forge them.
 * Wire format: docs/simulator.md, "Dialect D".
 */
#ifndef NT_NOTIFY_H
#define NT_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "loop.h"
#include "sim.h"
#include "simconf.h"

typedef struct nt_notify_s nt_notify_t;

/* @returns a new sender reading conf (its callbacks.* and secret at each
 * send, so POST /admin/config applies at once) and sim's clock; free with
 * nt_notify_free(). NULL when out of memory. */
nt_notify_t *nt_notify_new(const nt_simconf_t *conf, nt_sim_t *sim);
void nt_notify_free(nt_notify_t *n);

/* Sends from loop from now on (a 50 ms timer and an HTTP client). Without
 * it (unit tests) events are only queued. Returns 0 or NT_ENOMEM. */
int nt_notify_attach(nt_notify_t *n, nt_loop_t *loop, nt_err_t *err) NT_MUSTCHECK;

/* Schedules one event: at simulated time at_ms, tell scope's callback URL
 * that ticket (of kind "complaint" or "card", about number) is now state,
 * the ticket's seq-th event; decision marks the ticket's last one (the
 * platform's verdict), counted apart per kind when it is lost. Returns 0 or
 * NT_ENOMEM / NT_ETOOBIG (more than max_records events waiting). */
int nt_notify_add(nt_notify_t *n, const char *scope, const char *ticket, const char *kind,
                  const char *number, int seq, const char *state, bool decision,
                  int64_t at_ms) NT_MUSTCHECK;

/* Sends what is due now (the timer calls it). */
void nt_notify_tick(nt_notify_t *n);

/* Renders the event body that nt_notify_tick sends (for tests). */
int nt_notify_body(nt_buf_t *out, const char *ticket, const char *kind, const char *number, int seq,
                   const char *state, int64_t at_ms) NT_MUSTCHECK;

/* The counters as a JSON object (GET /admin/callbacks); "lost_decisions"
 * has, per kind, the decisions that were lost (never sent). */
int nt_notify_stats(const nt_notify_t *n, nt_buf_t *out) NT_MUSTCHECK;

/* Zeroes the counters (events stay queued). */
void nt_notify_reset_counters(nt_notify_t *n);

#endif
