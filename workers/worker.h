/*
 * worker.h — numtrust-worker: one stateless member of the consumer group.
 *
 * Consumes the job topics and retry tiers, keeps hundreds of platform calls
 * in flight (at most one job per number), writes results through the writer
 * and stores each partition's offset only once every job at or below it has
 * its result committed. See docs/architecture.md for the life of a job.
 */
#ifndef NT_WORKER_H
#define NT_WORKER_H

#include <signal.h>
#include <stdint.h>

#include "adapter.h"
#include "config.h"
#include "err.h"

typedef struct nt_worker_s nt_worker_t;

/* @returns a new worker connected to Kafka and PostgreSQL; free with
 * nt_worker_free(). cfg and platforms must outlive it. stop is the run flag
 * the signal handler sets. NULL on failure (err says why). */
nt_worker_t *nt_worker_new(const nt_config_t *cfg, const nt_platforms_t *platforms,
                           volatile sig_atomic_t *stop, nt_err_t *err);

/* Runs until *stop is set, then drains (finishes in-flight jobs within
 * worker.drain_timeout_ms, writes, commits offsets, leaves the group).
 * When the drain starts it arms alarm(2) for the drain timeout plus 30 s:
 * the caller's SIGALRM handler is the shutdown watchdog.
 * Returns 0 on a clean stop, negative on a fatal error. */
int nt_worker_run(nt_worker_t *w);

void nt_worker_free(nt_worker_t *w);

#endif
