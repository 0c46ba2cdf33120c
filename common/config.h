/*
 * config.h — numtrust's configuration: one typed table of keys.
 *
 * Sources, later ones winning: built-in defaults, a JSON file (nested objects
 * flatten to dotted keys: {"worker":{"max_inflight":500}} is
 * worker.max_inflight), then environment variables NUMTRUST_<KEY> with dots
 * as underscores (NUMTRUST_WORKER_MAX_INFLIGHT). Keys under "kafka." are
 * librdkafka properties passed through unchanged (NUMTRUST_KAFKA_LINGER_MS
 * sets kafka.linger.ms). Unknown keys and NUMTRUST_* variables are errors.
 * Everything is validated before any program connects anywhere. The config
 * is frozen after load (style.md rule 9).
 */
#ifndef NT_CONFIG_H
#define NT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

typedef struct nt_kv_s {
    char *key; /* librdkafka property name, without "kafka." */
    char *value;
} nt_kv_t;

typedef struct nt_config_s {
    /* where the values came from, for messages */
    char *file;

    char *log_level;

    char *pg_conninfo;
    int pg_connect_timeout_s;

    nt_kv_t *kafka; /* pass-through librdkafka properties */
    size_t nkafka;

    char *topics_prefix;
    int topics_partitions;
    int topics_replication;
    char *topics_retry_tiers; /* "30s,5m,1h" */

    char *platforms_file;
    char *sql_dir;

    int job_max_bytes;
    int job_max_attempts;

    char *worker_group_id;
    char *worker_id; /* empty: hostname-pid */
    int worker_max_inflight;
    int worker_min_inflight;
    int worker_batch_max;
    int worker_batch_linger_ms;
    int worker_drain_timeout_ms;
    int worker_http_max_body;
    int worker_http_max_conns;
    char *worker_metrics_listen;  /* "" = off */
    int worker_ready_stall_s;     /* /readyz: writes stalled this long = not ready */
    int worker_retry_after_max_s; /* longest Retry-After obeyed */
    bool worker_appeal_fast_path;
    char *worker_appeal_marks; /* mark types appealed automatically */

    char *producer_metrics_listen;
    int producer_interval_s;
    int report_snapshot_min_registrations;
    int report_snapshot_interval_s;

    /* policies, service levels, alerts (docs/policies.md) */
    int sla_lookback_days;
    int sla_trend_days;
    int sla_trend_batch;
    /* history (migration 009): synced into history_settings by the reconciler */
    int history_keep_months;
    int history_trust_delta;
    int alerts_poll_ms;
    int alerts_batch;
    int alerts_timeout_ms;
    int alerts_backoff_base_ms;
    int alerts_backoff_max_ms;
    int alerts_max_attempts;
    /* the closed loop (docs/maintenance.md) */
    int loop_verify_after_s;
    int loop_verify_timeout_s;
    int loop_tag_poll_s;
    bool loop_push_uncertified;
    int loop_appeal_cooldown_s;
    int loop_appeal_max_rounds;
    int loop_renew_ahead_s;
    int loop_retry_backoff_s;
    int loop_retry_max;
    char *api_listen; /* the control plane (`numtrust-producer serve`) */
    int api_max_body_bytes;
    int api_max_import_bytes;
    int api_max_conns;
    int api_timeout_s;
    int api_statement_timeout_ms;
    int api_rate_per_s;
    int api_rate_burst;
    int api_feedback_per_min;
    int api_callback_rate_per_s; /* per platform; over it: 503, which platforms retry */
    int api_callback_rate_burst;
    int api_pg_pool;
} nt_config_t;

/* Loads defaults, then file (may be NULL: no file), then the environment.
 * @returns 0, or NT_EINVAL with err naming the file, key and value. cfg is
 * then freed already. Free a loaded cfg with nt_config_free(). */
int nt_config_load(nt_config_t *cfg, const char *file, nt_err_t *err) NT_MUSTCHECK;

/* Releases everything cfg owns; cfg may be NULL. */
void nt_config_free(nt_config_t *cfg);

/* Sets one key as if it came from a source named origin (for messages).
 * Returns 0 or NT_EINVAL (unknown key, bad type, out of bounds). */
int nt_config_set(nt_config_t *cfg, const char *key, const char *value, const char *origin,
                  nt_err_t *err) NT_MUSTCHECK;

/* Writes every key and its value, one "key = value" per line, secrets
 * replaced by "****", for `--print-config`. */
void nt_config_dump(const nt_config_t *cfg, int fd);

/* The documentation table: for each key its env name, type, default and
 * help, as Markdown rows (used to generate docs/configuration.md). */
void nt_config_doc(int fd);

/* Value of a pass-through kafka property, or NULL. */
const char *nt_config_kafka_get(const nt_config_t *cfg, const char *key);

#endif
