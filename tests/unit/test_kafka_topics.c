/*
 * test_kafka_topics.c — topic names and retry tiers (kafka.h; no broker
 * needed): nt_kafka_topics_init from topics.prefix / topics.retry_tiers,
 * tier parsing and its errors, nt_kafka_tier_for / tier_index /
 * topic_for, and the assignor chosen for the linked librdkafka.
 */
#include <librdkafka/rdkafka.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "kafka.h"

static int ncases;

/* Kafka's legal topic characters: [a-zA-Z0-9._-], 1 to 249 of them. */
static bool legal_topic(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > 249)
        return false;
    for (const char *p = t; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

static void test_init(void)
{
    static const struct {
        const char *prefix, *tiers;
        int rc;
        size_t ntiers;
        const char *topics[4]; /* tier topics */
        int64_t delays[4];
        const char *err; /* substring naming the bad tier */
    } rows[] = {
        {"numtrust",
         "30s,5m,1h",
         NT_OK,
         3,
         {"numtrust.retry.30s", "numtrust.retry.5m", "numtrust.retry.1h"},
         {30000, 300000, 3600000},
         NULL},
        {"t", "10s", NT_OK, 1, {"t.retry.10s"}, {10000}, NULL},
        {"acme-prod.v2",
         "1s,90s,2m,24h",
         NT_OK,
         4,
         {"acme-prod.v2.retry.1s", "acme-prod.v2.retry.90s", "acme-prod.v2.retry.2m",
          "acme-prod.v2.retry.24h"},
         {1000, 90000, 120000, 86400000},
         NULL},
        {"n", "1s,2s,3s,4s,5s,6s,7s,8s", NT_OK, 8, {"n.retry.1s"}, {1000}, NULL},
        {"n", "1s,2s,3s,4s,5s,6s,7s,8s,9s", NT_EINVAL, 0, {NULL}, {0}, "8"},
        {"n", "30x", NT_EINVAL, 0, {NULL}, {0}, "30x"},
        {"n", "30s,5d", NT_EINVAL, 0, {NULL}, {0}, "5d"},
        {"n", "0s", NT_EINVAL, 0, {NULL}, {0}, "0s"},
        {"n", "-5m", NT_EINVAL, 0, {NULL}, {0}, "-5m"},
        {"n", "5", NT_EINVAL, 0, {NULL}, {0}, "\"5\""},
        {"n", "5mm", NT_EINVAL, 0, {NULL}, {0}, "5mm"},
        {"n", "m", NT_EINVAL, 0, {NULL}, {0}, "\"m\""},
        {"n", "1.5h", NT_EINVAL, 0, {NULL}, {0}, "1.5h"},
        {"n", "100001s", NT_EINVAL, 0, {NULL}, {0}, "100001s"},
        {"n", "99999999999999999999s", NT_EINVAL, 0, {NULL}, {0}, "99999999999999999999s"},
        {"n", "30s,,5m", NT_EINVAL, 0, {NULL}, {0}, "30s,,5m"},
        {"n", ",30s", NT_EINVAL, 0, {NULL}, {0}, ",30s"},
        {"n", "", NT_EINVAL, 0, {NULL}, {0}, "tier"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_config_t cfg;
        nt_kafka_topics_t topics;
        nt_err_t err;
        memset(&cfg, 0, sizeof(cfg));
        cfg.topics_prefix = (char *)rows[i].prefix;
        cfg.topics_retry_tiers = (char *)rows[i].tiers;
        nt_err_clear(&err);
        int rc = nt_kafka_topics_init(&topics, &cfg, &err);
        CHECKF(rc == rows[i].rc, "tiers \"%s\": rc %d (%s), want %d", rows[i].tiers, rc, err.msg,
               rows[i].rc);
        if (rc != NT_OK) {
            if (rows[i].err != NULL) {
                CHECK_CONTAINS(rows[i].tiers, err.msg, rows[i].err);
                CHECK_CONTAINS(rows[i].tiers, err.msg, "topics.retry_tiers");
            }
            continue;
        }
        char want[64];
        snprintf(want, sizeof(want), "%s.check", rows[i].prefix);
        CHECK_STR(topics.check, want);
        snprintf(want, sizeof(want), "%s.tag", rows[i].prefix);
        CHECK_STR(topics.tag, want);
        snprintf(want, sizeof(want), "%s.appeal", rows[i].prefix);
        CHECK_STR(topics.appeal, want);
        snprintf(want, sizeof(want), "%s.dead", rows[i].prefix);
        CHECK_STR(topics.dead, want);
        CHECKF(topics.ntiers == rows[i].ntiers, "tiers \"%s\": %zu tiers, want %zu", rows[i].tiers,
               topics.ntiers, rows[i].ntiers);
        for (size_t k = 0; k < 4 && rows[i].topics[k] != NULL && k < topics.ntiers; k++) {
            CHECKF(strcmp(topics.tiers[k].topic, rows[i].topics[k]) == 0,
                   "tiers \"%s\": tier %zu topic %s, want %s", rows[i].tiers, k,
                   topics.tiers[k].topic, rows[i].topics[k]);
            CHECKF(topics.tiers[k].delay_ms == rows[i].delays[k],
                   "tiers \"%s\": tier %zu delay %lld, want %lld", rows[i].tiers, k,
                   (long long)topics.tiers[k].delay_ms, (long long)rows[i].delays[k]);
        }
    }

    /* Whatever a tier list holds, init never yields a topic Kafka refuses:
     * it either rejects the list (naming the tier) or every name is legal. */
    static const char *const odd[] = {"30s, 5m, 1h", " 30s", "+30s", "30s,+5m", "5m ", "\t1h"};
    for (size_t i = 0; i < NT_ARRAY_LEN(odd); i++, ncases++) {
        nt_config_t cfg;
        nt_kafka_topics_t topics;
        nt_err_t err;
        memset(&cfg, 0, sizeof(cfg));
        cfg.topics_prefix = (char *)"numtrust";
        cfg.topics_retry_tiers = (char *)odd[i];
        nt_err_clear(&err);
        if (nt_kafka_topics_init(&topics, &cfg, &err) != NT_OK) {
            CHECK_CONTAINS(odd[i], err.msg, "topics.retry_tiers");
            continue;
        }
        for (size_t k = 0; k < topics.ntiers; k++)
            CHECKF(legal_topic(topics.tiers[k].topic),
                   "tiers \"%s\" accepted, giving the illegal topic name \"%s\"", odd[i],
                   topics.tiers[k].topic);
    }
}

static void test_lookup(void)
{
    nt_config_t cfg;
    nt_kafka_topics_t topics;
    nt_err_t err;
    memset(&cfg, 0, sizeof(cfg));
    cfg.topics_prefix = (char *)"numtrust";
    cfg.topics_retry_tiers = (char *)"30s,5m,1h";
    if (nt_kafka_topics_init(&topics, &cfg, &err) != NT_OK) {
        CHECKF(0, "init: %s", err.msg);
        return;
    }
    static const struct {
        int attempt;
        const char *topic;
        int64_t delay;
    } tiers[] = {
        {1, "numtrust.retry.30s", 30000},    {2, "numtrust.retry.5m", 300000},
        {3, "numtrust.retry.1h", 3600000},   {4, "numtrust.retry.1h", 3600000},
        {100, "numtrust.retry.1h", 3600000}, {0, "numtrust.retry.30s", 30000},
        {-1, "numtrust.retry.30s", 30000},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(tiers); i++, ncases++) {
        const nt_kafka_tier_t *t = nt_kafka_tier_for(&topics, tiers[i].attempt);
        CHECKF(t != NULL && strcmp(t->topic, tiers[i].topic) == 0 && t->delay_ms == tiers[i].delay,
               "tier_for(%d) = %s %lld, want %s %lld", tiers[i].attempt, t ? t->topic : "(null)",
               t ? (long long)t->delay_ms : -1LL, tiers[i].topic, (long long)tiers[i].delay);
    }
    static const struct {
        const char *topic;
        int index;
    } idx[] = {{"numtrust.retry.30s", 0}, {"numtrust.retry.5m", 1},  {"numtrust.retry.1h", 2},
               {"numtrust.check", -1},    {"numtrust.retry.2h", -1}, {"", -1}};
    for (size_t i = 0; i < NT_ARRAY_LEN(idx); i++, ncases++)
        CHECKF(nt_kafka_tier_index(&topics, idx[i].topic) == idx[i].index,
               "tier_index(\"%s\") = %d, want %d", idx[i].topic,
               nt_kafka_tier_index(&topics, idx[i].topic), idx[i].index);
    static const struct {
        nt_job_type_t type;
        const char *topic;
    } types[] = {{NT_JOB_CHECK, "numtrust.check"},
                 {NT_JOB_TAG_UPDATE, "numtrust.tag"},
                 {NT_JOB_APPEAL, "numtrust.appeal"},
                 {NT_JOB_APPEAL_STATUS, "numtrust.appeal"}};
    for (size_t i = 0; i < NT_ARRAY_LEN(types); i++, ncases++)
        CHECK_STR(nt_kafka_topic_for(&topics, types[i].type), types[i].topic);
}

static void test_assignor(void)
{
    /* cooperative-sticky only from librdkafka 2.10 (earlier versions have
     * cooperative rebalance bugs); Debian 12's 2.0.2 gets roundrobin */
    int v = rd_kafka_version();
    bool new_enough = v >= 0x020a0000;
    ncases += 2;
    CHECK_STR(nt_kafka_assignor(), new_enough ? "cooperative-sticky" : "roundrobin");
    CHECK(nt_kafka_cooperative_ok() == new_enough);
    printf("linked librdkafka %s: assignor %s\n", rd_kafka_version_str(), nt_kafka_assignor());
    if ((v >> 8) == 0x020002) { /* 2.0.2, the version numtrust targets */
        ncases++;
        CHECK_STR(nt_kafka_assignor(), "roundrobin");
    }
}

int main(void)
{
    test_init();
    test_lookup();
    test_assignor();
    printf("test_kafka_topics: %d cases\n", ncases);
    CHECK_DONE();
}
