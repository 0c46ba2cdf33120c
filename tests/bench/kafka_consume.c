/*
 * kafka_consume.c — numtrust-bench-kafka: the Kafka consume ceiling.
 *
 * Joins a fresh consumer group with the worker's consumer configuration
 * (nt_kafka_consumer_new: same defaults, same kafka.* pass-through, offsets
 * stored by hand and auto-committed), consumes one topic until N messages,
 * storing each message's offset as the worker does after its write, and
 * prints how fast. No decoding, no work: the most a worker's consumer can take.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "clock.h"
#include "config.h"
#include "err.h"
#include "kafka.h"

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static void usage(FILE *fp)
{
    fputs("usage: numtrust-bench-kafka --topic T --count N [--group G] [--timeout-s S]\n"
          "\n"
          "Consumes N messages of topic T in a fresh consumer group (default\n"
          "bench-consume-<pid>) with the worker's consumer settings, storing every\n"
          "offset, and prints on stdout:\n"
          "  kafka_consume msgs=N bytes=B join_ms=J window_s=W msgs_per_s=R total_msgs_per_s=T\n"
          "window: first message to the Nth (rate R, the ceiling); total: from start-up\n"
          "(group join included) to the Nth. Settings: NUMTRUST_* environment\n"
          "(NUMTRUST_KAFKA_BOOTSTRAP_SERVERS, any NUMTRUST_KAFKA_<property>).\n"
          "Exit 1 if fewer than N messages arrived within --timeout-s (default 120).\n",
          fp);
}

int main(int argc, char **argv)
{
    const char *topic = NULL, *group = NULL;
    long long want = 0;
    long timeout_s = 120;
    char group_buf[64];
    nt_config_t cfg;
    nt_err_t err;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_partition_list_t *sub = NULL;
    bool cfg_loaded = false;
    int rc = 1;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--topic") == 0 && i + 1 < argc) {
            topic = argv[++i];
        } else if (strcmp(argv[i], "--group") == 0 && i + 1 < argc) {
            group = argv[++i];
        } else if (strcmp(argv[i], "--count") == 0 && i + 1 < argc) {
            want = strtoll(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--timeout-s") == 0 && i + 1 < argc) {
            timeout_s = strtol(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "numtrust-bench-kafka: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (topic == NULL || want <= 0 || timeout_s <= 0) {
        usage(stderr);
        return 2;
    }
    if (group == NULL) {
        snprintf(group_buf, sizeof(group_buf), "bench-consume-%d", (int)getpid());
        group = group_buf;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);

    nt_err_clear(&err);
    if (nt_config_load(&cfg, NULL, &err) != NT_OK) {
        fprintf(stderr, "numtrust-bench-kafka: config: %s\n", err.msg);
        return 2;
    }
    cfg_loaded = true;
    int64_t t_start = nt_clock_mono_us();
    /* no rebalance callback: librdkafka assigns by itself */
    rk = nt_kafka_consumer_new(&cfg, group, NULL, NULL, NULL, &err);
    if (rk == NULL) {
        fprintf(stderr, "numtrust-bench-kafka: %s\n", err.msg);
        goto out;
    }
    rd_kafka_poll_set_consumer(rk);
    sub = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t kerr = rd_kafka_subscribe(rk, sub);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "numtrust-bench-kafka: subscribe: %s\n", rd_kafka_err2str(kerr));
        goto out;
    }

    long long got = 0, bytes = 0;
    int64_t t_first = 0, t_last = 0;
    int64_t deadline = t_start + (int64_t)timeout_s * 1000000;
    while (got < want && !stop_flag && nt_clock_mono_us() < deadline) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, 100);
        if (rkm == NULL)
            continue;
        if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                fprintf(stderr, "numtrust-bench-kafka: %s\n", rd_kafka_message_errstr(rkm));
            rd_kafka_message_destroy(rkm);
            continue;
        }
        if (got == 0)
            t_first = nt_clock_mono_us();
        got++;
        bytes += (long long)rkm->len + (long long)rkm->key_len;
        /* what the worker does once the result is written */
        rd_kafka_offset_store(rkm->rkt, rkm->partition, rkm->offset);
        rd_kafka_message_destroy(rkm);
    }
    t_last = nt_clock_mono_us();
    if (got < want) {
        fprintf(stderr, "numtrust-bench-kafka: %lld of %lld messages within %ld s\n", got, want,
                timeout_s);
        goto out;
    }
    double window_s = (double)(t_last - t_first) / 1e6;
    double total_s = (double)(t_last - t_start) / 1e6;
    printf("kafka_consume msgs=%lld bytes=%lld join_ms=%lld window_s=%.3f msgs_per_s=%.0f "
           "total_msgs_per_s=%.0f\n",
           got, bytes, (long long)((t_first - t_start) / 1000), window_s,
           window_s > 0 ? (double)(got - 1) / window_s : 0.0, total_s > 0 ? got / total_s : 0.0);
    rc = 0;
out:
    if (sub != NULL)
        rd_kafka_topic_partition_list_destroy(sub);
    if (rk != NULL) {
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
    }
    if (cfg_loaded)
        nt_config_free(&cfg);
    return rc;
}
