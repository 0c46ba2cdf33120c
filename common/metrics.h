/*
 * metrics.h — Prometheus text metrics for the worker (and producer daemon).
 *
 * Counters and histograms live in plain arrays updated from the event loop
 * (no locks: one thread); nt_metrics_render writes the exposition format for
 * /metrics. Consumer lag comes from librdkafka's statistics JSON.
 */
#ifndef NT_METRICS_H
#define NT_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platforms.h"
#include "buf.h"
#include "err.h"

typedef enum {
    NT_METRIC_OK = 0,
    NT_METRIC_FAILED,
    NT_METRIC_RETRIED,
    NT_METRIC_DEAD,
    NT_METRIC_DUPLICATE,
    NT_METRIC_DEFERRED,
} nt_metric_outcome_t;

#define NT_METRIC_OUTCOMES 6

typedef struct nt_metrics_s nt_metrics_t;

/* @returns new metrics for these platforms (may be NULL: no per-platform
 * series); free with nt_metrics_free(). */
nt_metrics_t *nt_metrics_new(const nt_platforms_t *platforms, nt_err_t *err);
void nt_metrics_free(nt_metrics_t *m);

/* A job ended (type index an nt_job_type_t, NT_JOB_NTYPES = unknown) with an outcome, latency_us
 * after it was received. */
void nt_metrics_job_done(nt_metrics_t *m, int type, nt_metric_outcome_t outcome,
                         int64_t latency_us);

/* A job's result was recorded age_ms after the job was created (its
 * envelope's created_at): the end-to-end age operators hold service levels
 * against. */
void nt_metrics_job_age(nt_metrics_t *m, int type, int64_t age_ms);

/* The writer's totals: statements committed, job rows written, failures. */
void nt_metrics_set_writer(nt_metrics_t *m, uint64_t statements, uint64_t rows, uint64_t failures);

/* A platform call ended. */
void nt_metrics_call(nt_metrics_t *m, size_t platform, nt_outcome_t outcome, int64_t elapsed_us);

/* Per-platform state: breaker open, current rate (calls/s, 0 = unlimited). */
void nt_metrics_set_platform(nt_metrics_t *m, size_t platform, bool breaker_open, double rate);

/* Gauges sampled by the worker's loop. */
void nt_metrics_set_gauges(nt_metrics_t *m, size_t jobs_in_flight, size_t http_in_flight,
                           size_t writes_pending, bool pg_connected);

/* The worker's in-flight window (numtrust_window_jobs). */
void nt_metrics_set_window(nt_metrics_t *m, size_t jobs);

/* Reads consumer lag from librdkafka's statistics JSON (sum over partitions
 * of consumer_lag where known). */
void nt_metrics_kafka_stats(nt_metrics_t *m, const char *json, size_t len);

/* Current summed consumer lag, -1 before the first statistics (then
 * /metrics has no numtrust_consumer_lag sample). */
int64_t nt_metrics_consumer_lag(const nt_metrics_t *m);

/* Appends the Prometheus text exposition to out. */
int nt_metrics_render(const nt_metrics_t *m, nt_buf_t *out) NT_MUSTCHECK;

#endif
