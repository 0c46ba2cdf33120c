/*
 * ops.h — the operations endpoints every numtrust daemon serves on its own
 * event loop: /healthz (the loop turns), /readyz (the daemon's own checks)
 * and /metrics (its Prometheus text).
 *
 * One implementation for the worker and the reconciler (`numtrust-producer
 * run`): the HTTP server's limits that keep probes answerable (a request
 * deadline a trickle cannot extend, room made for new connections), the
 * status codes and bodies. The daemon supplies two callbacks.
 */
#ifndef NT_OPS_H
#define NT_OPS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "loop.h"

typedef struct nt_ops_s nt_ops_t;

/* Why the daemon is not ready, written into why (whysz bytes, one line, no
 * newline), or returns false when it is ready. */
typedef bool (*nt_ops_ready_fn)(void *arg, char *why, size_t whysz);

/* Appends the daemon's metrics (Prometheus text) to out; 0 or a buf error. */
typedef int (*nt_ops_metrics_fn)(void *arg, nt_buf_t *out);

/* @returns a new server on listen ("host:port", port 0: any free one) that
 * answers GET /healthz with 200 "ok", /readyz with 200 "ready" or 503 and
 * the reason not_ready() gives, /metrics with 200 and metrics()'s text (500
 * when it fails), anything else with 404; free with nt_ops_free(). key names
 * the config key in errors ("worker.metrics_listen"). NULL on failure (err
 * names the key and value). */
nt_ops_t *nt_ops_new(nt_loop_t *loop, const char *listen, const char *key,
                     nt_ops_ready_fn not_ready, nt_ops_metrics_fn metrics, void *arg,
                     nt_err_t *err);

/* Appends the standard process_* metrics (open and maximum file
 * descriptors, CPU seconds, resident and virtual memory, start time) read
 * from /proc; /metrics of nt_ops_new adds them after the daemon's own. */
int nt_ops_process_metrics(nt_buf_t *out) NT_MUSTCHECK;

/* The bound port. */
int nt_ops_port(const nt_ops_t *ops);

/* ops may be NULL. */
void nt_ops_free(nt_ops_t *ops);

#endif
