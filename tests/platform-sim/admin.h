/*
 * admin.h — the simulator's admin API (/admin/...): health, ground truth,
 * mark injection, run-time config, clock, outages, counters, idempotency.
 * Answers are JSON; errors are HTTP 400/404 with {"error":"..."}.
 */
#ifndef NT_ADMIN_H
#define NT_ADMIN_H

#include "buf.h"
#include "simsrv.h"

/* Answers one admin request into out (reset first); returns the status. */
int nt_admin_dispatch(nt_simsrv_t *srv, const nt_simsrv_req_t *req, nt_buf_t *out);

/* Renders the /admin/counters object into out. */
int nt_admin_counters(nt_simsrv_t *srv, nt_buf_t *out) NT_MUSTCHECK;

#endif
