/*
 * kafka.h — librdkafka set-up shared by the producer CLI and the workers.
 *
 * Builds producer and consumer handles from the config (numtrust's defaults
 * first, then every kafka.* key passed through unchanged, so an operator can
 * override anything), names the topics, picks the consumer-group assignor
 * for the linked librdkafka version, and creates topics with the Admin API.
 */
#ifndef NT_KAFKA_H
#define NT_KAFKA_H

#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "err.h"
#include "job.h"

#define NT_KAFKA_TOPIC_MAX 256
#define NT_KAFKA_MAX_TIERS 8

typedef struct nt_kafka_tier_s {
    char topic[NT_KAFKA_TOPIC_MAX];
    int64_t delay_ms;
} nt_kafka_tier_t;

/* Topic names derived from topics.prefix and topics.retry_tiers. */
typedef struct nt_kafka_topics_s {
    char check[NT_KAFKA_TOPIC_MAX];
    char tag[NT_KAFKA_TOPIC_MAX];
    char appeal[NT_KAFKA_TOPIC_MAX];
    char dead[NT_KAFKA_TOPIC_MAX];
    nt_kafka_tier_t tiers[NT_KAFKA_MAX_TIERS];
    size_t ntiers;
} nt_kafka_topics_t;

/* Fills topics from cfg. Returns 0 or NT_EINVAL (bad retry tier list; err
 * names the tier). */
int nt_kafka_topics_init(nt_kafka_topics_t *topics, const nt_config_t *cfg,
                         nt_err_t *err) NT_MUSTCHECK;

/* The topic a fresh job of this type goes to. */
const char *nt_kafka_topic_for(const nt_kafka_topics_t *topics, nt_job_type_t type);

/* The retry tier for a job that has failed `attempt` times (1-based): tier
 * attempt-1, the last tier for every attempt beyond. */
const nt_kafka_tier_t *nt_kafka_tier_for(const nt_kafka_topics_t *topics, int attempt);

/* Index of the tier whose topic is `topic`, or -1. */
int nt_kafka_tier_index(const nt_kafka_topics_t *topics, const char *topic);

/* The consumer-group assignor for the linked librdkafka: "cooperative-sticky"
 * from 2.10 on (earlier versions have cooperative rebalance bugs), else the
 * eager "roundrobin". */
const char *nt_kafka_assignor(void);

/* True when the linked librdkafka's cooperative protocol can be trusted. */
bool nt_kafka_cooperative_ok(void);

/* True when rk hit a fatal error (its error callback logged it once with the
 * reason): it can do nothing more and the process should exit non-zero.
 * The reason goes to why (may be NULL). rk may be NULL (false). */
bool nt_kafka_fatal(rd_kafka_t *rk, char *why, size_t whysz);

/* Both constructors below install an error callback that logs a fatal
 * error once with its reason and other errors as warnings. */

/* @returns a new idempotent producer; free with rd_kafka_destroy() after
 * rd_kafka_flush(). dr_msg_cb may be NULL. opaque reaches the callbacks. NULL
 * on failure (err names the property). */
rd_kafka_t *nt_kafka_producer_new(const nt_config_t *cfg,
                                  void (*dr_msg_cb)(rd_kafka_t *, const rd_kafka_message_t *,
                                                    void *),
                                  void *opaque, nt_err_t *err);

/* @returns a new consumer in group_id with auto-commit on and automatic
 * offset store off (offsets are stored only after results commit); the
 * rebalance callback is installed; stats_cb (may be NULL) gets librdkafka's
 * statistics JSON every statistics.interval.ms (set it through kafka.*, the
 * default here is 5000 when stats_cb is given); free with rd_kafka_consumer_close() then
 * rd_kafka_destroy(). NULL on failure. */
rd_kafka_t *nt_kafka_consumer_new(const nt_config_t *cfg, const char *group_id,
                                  void (*rebalance_cb)(rd_kafka_t *, rd_kafka_resp_err_t,
                                                       rd_kafka_topic_partition_list_t *, void *),
                                  int (*stats_cb)(rd_kafka_t *, char *, size_t, void *),
                                  void *opaque, nt_err_t *err);

/* Creates the topics that are missing (job topics, retry tiers, dead) with
 * topics.partitions / topics.replication, then checks each exists. Prints one
 * line per topic to stdout when verbose. */
int nt_kafka_create_topics(const nt_config_t *cfg, const nt_kafka_topics_t *topics, bool verbose,
                           nt_err_t *err) NT_MUSTCHECK;

#endif
