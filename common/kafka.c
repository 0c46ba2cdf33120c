/*
 * kafka.c — librdkafka handles, topic names and topic creation (kafka.h).
 */
#include "kafka.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Defaults applied before the kafka.* pass-through, so any can be overridden. */
typedef struct kdefault_s {
    const char *key;
    const char *value;
} kdefault_t;

static const kdefault_t producer_defaults[] = {
    {"enable.idempotence", "true"},
    {"acks", "all"},
    {"compression.codec", "lz4"},
    {"linger.ms", "5"},
    {"batch.num.messages", "10000"},
    {"message.timeout.ms", "120000"},
    {"queue.buffering.max.messages", "500000"},
};

/* The prefetch is bounded in bytes so that a worker's memory does not grow with the backlog:
 * at most 2 MiB of messages wait in the consumer queue, and one fetch brings at most 256 KiB
 * per partition. With librdkafka's 16 MiB and 1 MiB per fetch, the benchmark's 100,000-job
 * backlog came into the worker: about 50 of its 97 MiB.
 *
 * queued.min.messages is set to its maximum so that it never decides, and this is a
 * throughput fix, not a memory one. In librdkafka 2.0.2 (Debian 12's) a partition whose
 * consumer queue holds queued.min.messages or more is "not fetchable", and the queue a
 * high-level consumer compares with it is the one shared by every assigned partition. When
 * all partitions are not fetchable, no Fetch is outstanding and the broker thread sleeps
 * until its next wake-up, up to 1 s later: the worker draining the queue does not wake it.
 * With 100 (or 1,000), the worker emptied the queue in a fraction of a second and then waited
 * for the rest of the second: a 1 s sawtooth (received 2,000 jobs, idle ~0.55 s, again;
 * 4,450 jobs/s at 0 ms with half the machine idle). With only the byte cap in force,
 * librdkafka fetches until 2 MiB are queued, and the same sleep starts only then, with
 * about a second of work queued (~10,000 check jobs: 9,355 jobs/s, CPU-bound). Newer
 * librdkafka versions (fetch.queue.backoff.ms) do not need this. */
static const kdefault_t consumer_defaults[] = {
    {"enable.auto.commit", "true"},      {"enable.auto.offset.store", "false"},
    {"auto.commit.interval.ms", "1000"}, {"auto.offset.reset", "earliest"},
    {"session.timeout.ms", "10000"},     {"heartbeat.interval.ms", "1000"},
    {"max.poll.interval.ms", "60000"},   {"queued.max.messages.kbytes", "2048"},
    {"queued.min.messages", "10000000"}, {"fetch.message.max.bytes", "262144"},
    {"fetch.wait.max.ms", "50"},         {"enable.partition.eof", "false"},
};

int nt_kafka_topics_init(nt_kafka_topics_t *topics, const nt_config_t *cfg, nt_err_t *err)
{
    const char *prefix = cfg->topics_prefix;
    memset(topics, 0, sizeof(*topics));
    snprintf(topics->check, sizeof(topics->check), "%s.check", prefix);
    snprintf(topics->tag, sizeof(topics->tag), "%s.tag", prefix);
    snprintf(topics->appeal, sizeof(topics->appeal), "%s.appeal", prefix);
    snprintf(topics->dead, sizeof(topics->dead), "%s.dead", prefix);

    const char *p = cfg->topics_retry_tiers;
    while (*p) {
        char item[32];
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= sizeof(item))
            return nt_err_set(err, NT_EINVAL, false,
                              "key topics.retry_tiers: bad tier in \"%s\" (want e.g. 30s,5m,1h)",
                              cfg->topics_retry_tiers);
        memcpy(item, p, n);
        item[n] = '\0';
        char *end = NULL;
        errno = 0;
        long v = strtol(item, &end, 10);
        int64_t mult = 0;
        if (end != NULL && end[0] != '\0' && end[1] == '\0') {
            mult = end[0] == 's' ? 1000 : end[0] == 'm' ? 60000 : end[0] == 'h' ? 3600000 : 0;
        }
        if (item[0] < '0' || item[0] > '9' || errno != 0 || end == item || mult == 0 || v <= 0 ||
            v > 100000)
            return nt_err_set(err, NT_EINVAL, false,
                              "key topics.retry_tiers: tier \"%s\" is not a delay like 30s, 5m, 1h",
                              item);
        if (topics->ntiers == NT_KAFKA_MAX_TIERS)
            return nt_err_set(err, NT_EINVAL, false, "key topics.retry_tiers: more than %d tiers",
                              NT_KAFKA_MAX_TIERS);
        nt_kafka_tier_t *t = &topics->tiers[topics->ntiers++];
        t->delay_ms = v * mult;
        snprintf(t->topic, sizeof(t->topic), "%s.retry.%ld%c", prefix, v, end[0]);
        for (size_t k = 0; k + 1 < topics->ntiers; k++)
            if (strcmp(topics->tiers[k].topic, t->topic) == 0)
                return nt_err_set(err, NT_EINVAL, false,
                                  "key topics.retry_tiers: tier \"%s\" appears twice (each tier "
                                  "is a topic; use distinct delays)",
                                  item);
        p += n;
        if (*p == ',')
            p++;
    }
    if (topics->ntiers == 0)
        return nt_err_set(err, NT_EINVAL, false, "key topics.retry_tiers: at least one tier");
    return NT_OK;
}

const char *nt_kafka_topic_for(const nt_kafka_topics_t *topics, nt_job_type_t type)
{
    switch (type) {
    case NT_JOB_CHECK:
        return topics->check;
    case NT_JOB_TAG_UPDATE:
    case NT_JOB_TAG_STATUS:
    case NT_JOB_RENEWAL:
        return topics->tag;
    case NT_JOB_APPEAL:
    case NT_JOB_APPEAL_STATUS:
        return topics->appeal;
    }
    return topics->check;
}

const nt_kafka_tier_t *nt_kafka_tier_for(const nt_kafka_topics_t *topics, int attempt)
{
    size_t i = attempt <= 1 ? 0 : (size_t)(attempt - 1);
    if (i >= topics->ntiers)
        i = topics->ntiers - 1;
    return &topics->tiers[i];
}

int nt_kafka_tier_index(const nt_kafka_topics_t *topics, const char *topic)
{
    for (size_t i = 0; i < topics->ntiers; i++)
        if (strcmp(topics->tiers[i].topic, topic) == 0)
            return (int)i;
    return -1;
}

bool nt_kafka_cooperative_ok(void)
{
    return rd_kafka_version() >= 0x020a0000;
}

const char *nt_kafka_assignor(void)
{
    return nt_kafka_cooperative_ok() ? "cooperative-sticky" : "roundrobin";
}

static int conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, const char *origin,
                    nt_err_t *err)
{
    char errstr[512];
    if (rd_kafka_conf_set(conf, key, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
        return nt_err_set(err, NT_EINVAL, false, "%s kafka.%s: %s", origin, key, errstr);
    return NT_OK;
}

static rd_kafka_conf_t *conf_new(const nt_config_t *cfg, const kdefault_t *defs, size_t ndefs,
                                 nt_err_t *err)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    for (size_t i = 0; i < ndefs; i++) {
        if (conf_set(conf, defs[i].key, defs[i].value, "default", err) != NT_OK)
            goto fail;
    }
    for (size_t i = 0; i < cfg->nkafka; i++) {
        if (conf_set(conf, cfg->kafka[i].key, cfg->kafka[i].value, "config", err) != NT_OK)
            goto fail;
    }
    return conf;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* librdkafka's own log lines, re-emitted as numtrust JSON lines. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    nt_log_level_t l = level <= 3 ? NT_LOG_ERROR : level <= 5 ? NT_LOG_WARN : NT_LOG_DEBUG;
    NT_LOG(l, NT_LOG_CTX_NONE, "librdkafka %s: %s", fac, buf);
}

/* librdkafka's errors. A fatal one (the idempotent producer lost its
 * guarantees: sequence desynchronisation, fenced, not authorised) ends the
 * client for good; librdkafka raises it once, and it is logged once here
 * with its reason; the owner notices it with nt_kafka_fatal() and exits
 * non-zero so that its orchestrator restarts it. The others are transient
 * (brokers down, a connection reset): librdkafka recovers by itself. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[512];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof(why));
        NT_ERROR("kafka: fatal error in %s: %s: %s; this process must restart", rd_kafka_name(rk),
                 rd_kafka_err2name(orig), why);
        return;
    }
    NT_WARN("kafka: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

bool nt_kafka_fatal(rd_kafka_t *rk, char *why, size_t whysz)
{
    return rk != NULL && rd_kafka_fatal_error(rk, why, whysz) != RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_t *nt_kafka_producer_new(const nt_config_t *cfg,
                                  void (*dr_msg_cb)(rd_kafka_t *, const rd_kafka_message_t *,
                                                    void *),
                                  void *opaque, nt_err_t *err)
{
    char errstr[512];
    rd_kafka_conf_t *conf = conf_new(cfg, producer_defaults, NT_ARRAY_LEN(producer_defaults), err);
    if (conf == NULL)
        return NULL;
    if (dr_msg_cb != NULL)
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, opaque);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        rd_kafka_conf_destroy(conf);
        nt_err_set(err, NT_EINVAL, false, "kafka producer: %s", errstr);
    }
    return rk;
}

rd_kafka_t *nt_kafka_consumer_new(const nt_config_t *cfg, const char *group_id,
                                  void (*rebalance_cb)(rd_kafka_t *, rd_kafka_resp_err_t,
                                                       rd_kafka_topic_partition_list_t *, void *),
                                  int (*stats_cb)(rd_kafka_t *, char *, size_t, void *),
                                  void *opaque, nt_err_t *err)
{
    char errstr[512];
    rd_kafka_conf_t *conf = conf_new(cfg, consumer_defaults, NT_ARRAY_LEN(consumer_defaults), err);
    if (conf == NULL)
        return NULL;
    /* Correctness depends on storing offsets only after results commit:
     * this one setting is not left to the pass-through. */
    if (conf_set(conf, "enable.auto.offset.store", "false", "required", err) != NT_OK ||
        conf_set(conf, "group.id", group_id, "config", err) != NT_OK)
        goto fail;
    if (nt_config_kafka_get(cfg, "partition.assignment.strategy") == NULL &&
        conf_set(conf, "partition.assignment.strategy", nt_kafka_assignor(), "default", err) !=
            NT_OK)
        goto fail;
    if (stats_cb != NULL) {
        rd_kafka_conf_set_stats_cb(conf, stats_cb);
        if (nt_config_kafka_get(cfg, "statistics.interval.ms") == NULL &&
            conf_set(conf, "statistics.interval.ms", "5000", "default", err) != NT_OK)
            goto fail;
    }
    if (rebalance_cb != NULL)
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    rd_kafka_conf_set_error_cb(conf, error_cb);
    rd_kafka_conf_set_opaque(conf, opaque);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
    if (rk == NULL) {
        nt_err_set(err, NT_EINVAL, false, "kafka consumer: %s", errstr);
        goto fail;
    }
    return rk;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

int nt_kafka_create_topics(const nt_config_t *cfg, const nt_kafka_topics_t *topics, bool verbose,
                           nt_err_t *err)
{
    const char *names[4 + NT_KAFKA_MAX_TIERS];
    size_t n = 0;
    rd_kafka_t *rk = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_NewTopic_t *nts[4 + NT_KAFKA_MAX_TIERS] = {0};
    rd_kafka_AdminOptions_t *opts = NULL;
    rd_kafka_event_t *ev = NULL;
    int rc = NT_OK;
    char errstr[512];

    names[n++] = topics->check;
    names[n++] = topics->tag;
    names[n++] = topics->appeal;
    for (size_t i = 0; i < topics->ntiers; i++)
        names[n++] = topics->tiers[i].topic;
    names[n++] = topics->dead;

    rk = nt_kafka_producer_new(cfg, NULL, NULL, err);
    if (rk == NULL) {
        rc = NT_EINVAL;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        nts[i] = rd_kafka_NewTopic_new(names[i], cfg->topics_partitions, cfg->topics_replication,
                                       errstr, sizeof(errstr));
        if (nts[i] == NULL) {
            rc = nt_err_set(err, NT_EINVAL, false, "topic %s: %s", names[i], errstr);
            goto out;
        }
    }
    q = rd_kafka_queue_new(rk);
    opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    if (rd_kafka_AdminOptions_set_operation_timeout(opts, 30000, errstr, sizeof(errstr)) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        rd_kafka_AdminOptions_set_request_timeout(opts, 60000, errstr, sizeof(errstr)) !=
            RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = nt_err_set(err, NT_EINVAL, false, "admin options: %s", errstr);
        goto out;
    }
    rd_kafka_CreateTopics(rk, nts, n, opts, q);
    ev = rd_kafka_queue_poll(q, 65000);
    if (ev == NULL) {
        rc = nt_err_set(err, NT_EIO, true, "create topics: no answer from the broker in 65 s");
        goto out;
    }
    if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        rc = nt_err_set(err, NT_EIO, true, "create topics: %s", rd_kafka_event_error_string(ev));
        goto out;
    }
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    size_t cnt = 0;
    const rd_kafka_topic_result_t **trs = rd_kafka_CreateTopics_result_topics(res, &cnt);
    for (size_t i = 0; i < cnt; i++) {
        rd_kafka_resp_err_t terr = rd_kafka_topic_result_error(trs[i]);
        const char *name = rd_kafka_topic_result_name(trs[i]);
        if (terr == RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (verbose)
                printf("topic %s: created (%d partitions, replication %d)\n", name,
                       cfg->topics_partitions, cfg->topics_replication);
        } else if (terr == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
            if (verbose)
                printf("topic %s: exists\n", name);
        } else {
            rc = nt_err_set(err, NT_EIO, false, "topic %s: %s", name,
                            rd_kafka_topic_result_error_string(trs[i]));
            goto out;
        }
    }
out:
    if (ev != NULL)
        rd_kafka_event_destroy(ev);
    if (opts != NULL)
        rd_kafka_AdminOptions_destroy(opts);
    if (q != NULL)
        rd_kafka_queue_destroy(q);
    for (size_t i = 0; i < n; i++)
        if (nts[i] != NULL)
            rd_kafka_NewTopic_destroy(nts[i]);
    if (rk != NULL)
        rd_kafka_destroy(rk);
    return rc;
}
