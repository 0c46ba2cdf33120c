/*
 * loadgen.c — numtrust-bench-loadgen: check jobs on Kafka at a fixed rate.
 *
 * Builds each job exactly as `numtrust-producer enqueue check` does (same
 * envelope, deterministic id from type, number, platform and period, same
 * producer configuration) but sends it at a steady, open-loop rate with
 * created_at = the moment it is produced, so that the benchmark can measure
 * per-job latency under a known offered load. No ledger row is written first:
 * the worker's claim creates it (INSERT ... ON CONFLICT). Also used with
 * --rate 0 to fill a topic for the Kafka consume ceiling.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <librdkafka/rdkafka.h>

#include "buf.h"
#include "clock.h"
#include "config.h"
#include "err.h"
#include "job.h"
#include "kafka.h"

#define PACE_TICK_US 1000

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

typedef struct lg_s {
    long long delivered, failed;
    int64_t first_dr_us; /* monotonic time of the first delivery report */
} lg_t;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    lg_t *lg = opaque;
    if (lg->first_dr_us == 0)
        lg->first_dr_us = nt_clock_mono_us();
    if (rkm->err == RD_KAFKA_RESP_ERR_NO_ERROR)
        lg->delivered++;
    else if (lg->failed++ < 5)
        fprintf(stderr, "numtrust-bench-loadgen: delivery failed: %s\n",
                rd_kafka_err2str(rkm->err));
}

static void usage(FILE *fp)
{
    fputs("usage: numtrust-bench-loadgen [--rate R] [--period P] [--ids FILE]\n"
          "                              [--synthetic N [--platforms a,b,c]]\n"
          "\n"
          "Produces one check job per input line \"number,platform,tenant[,period]\"\n"
          "(stdin) to <topics.prefix>.check, R jobs per second (default 0: as fast as\n"
          "possible), created_at = the time of producing. Ids: UUIDv5 of check, number,\n"
          "platform and period (the line's, else --period, default \"loadgen\"), as\n"
          "`numtrust-producer enqueue` makes them.\n"
          "--synthetic N: no input; N jobs for made-up numbers +865000000000.. over\n"
          "  --platforms (default baidu,tencent,qihoo360), tenant \"bench\".\n"
          "--ids FILE: writes \"job_id,created_at_ms\" per job produced.\n"
          "Settings: NUMTRUST_* environment (NUMTRUST_KAFKA_BOOTSTRAP_SERVERS,\n"
          "NUMTRUST_TOPICS_PREFIX, ...). Prints a summary on stderr; exit 1 if any job\n"
          "was not delivered.\n",
          fp);
}

/* Reads the next "number,platform,tenant[,period]" line into job and
 * period (empty when the line has none). 1 got one, 0 end. */
static int next_input(FILE *in, nt_job_t *job, char *period, size_t periodsz)
{
    char line[512];
    while (fgets(line, sizeof(line), in) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        char *p = line;
        char *number = p;
        if ((p = strchr(p, ',')) == NULL)
            continue;
        *p++ = '\0';
        char *platform = p;
        char *tenant = "", *own_period = "";
        if ((p = strchr(p, ',')) != NULL) {
            *p++ = '\0';
            tenant = p;
            if ((p = strchr(p, ',')) != NULL) {
                *p++ = '\0';
                own_period = p;
            }
        }
        nt_buf_copy_str(period, periodsz, own_period);
        nt_buf_copy_str(job->number, sizeof(job->number), number);
        nt_buf_copy_str(job->platform, sizeof(job->platform), platform);
        nt_buf_copy_str(job->tenant, sizeof(job->tenant), tenant);
        return 1;
    }
    return 0;
}

static void synthetic(long long i, const char *platforms, nt_job_t *job)
{
    /* platforms "a,b,c": job i gets number i / nplat and platform i % nplat */
    int nplat = 1;
    for (const char *c = platforms; *c; c++)
        nplat += *c == ',';
    int k = (int)(i % nplat);
    const char *p = platforms;
    for (int j = 0; j < k; j++)
        p = strchr(p, ',') + 1;
    size_t len = strcspn(p, ",");
    snprintf(job->number, sizeof(job->number), "+865%010lld", 0LL + i / nplat);
    snprintf(job->platform, sizeof(job->platform), "%.*s", (int)len, p);
    snprintf(job->tenant, sizeof(job->tenant), "bench");
}

/* Waits until the producer knows topic's partition leaders and has a
 * connection up to each leader, up to 10 s. */
static int warm_up(rd_kafka_t *rk, const char *topic)
{
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    const struct rd_kafka_metadata *md = NULL;
    int rc = NT_ERR;
    if (rkt == NULL) {
        fprintf(stderr, "numtrust-bench-loadgen: topic %s: %s\n", topic,
                rd_kafka_err2str(rd_kafka_last_error()));
        return NT_ERR;
    }
    int64_t deadline = nt_clock_mono_us() + 10000000;
    while (nt_clock_mono_us() < deadline) {
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 2000);
        bool ready = err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 &&
                     md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR &&
                     md->topics[0].partition_cnt > 0;
        for (int i = 0; ready && i < md->topics[0].partition_cnt; i++)
            ready = md->topics[0].partitions[i].leader >= 0;
        if (md != NULL)
            rd_kafka_metadata_destroy(md);
        md = NULL;
        if (ready) {
            rc = NT_OK;
            break;
        }
        rd_kafka_poll(rk, 100);
    }
    if (rc != NT_OK)
        fprintf(stderr, "numtrust-bench-loadgen: topic %s has no leaders after 10 s\n", topic);
    rd_kafka_topic_destroy(rkt);
    return rc;
}

static void sleep_us(long us)
{
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    double rate = 0;
    const char *period = "loadgen", *ids_path = NULL, *platforms = "baidu,tencent,qihoo360";
    long long nsynth = -1;
    nt_config_t cfg;
    nt_err_t err;
    nt_kafka_topics_t topics;
    rd_kafka_t *rk = NULL;
    FILE *ids = NULL;
    nt_buf_t value;
    lg_t lg = {0, 0, 0};
    bool cfg_loaded = false;
    int rc = 1;

    nt_buf_init(&value, 0);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc) {
            rate = strtod(argv[++i], NULL);
        } else if (strcmp(argv[i], "--period") == 0 && i + 1 < argc) {
            period = argv[++i];
        } else if (strcmp(argv[i], "--ids") == 0 && i + 1 < argc) {
            ids_path = argv[++i];
        } else if (strcmp(argv[i], "--synthetic") == 0 && i + 1 < argc) {
            nsynth = strtoll(argv[++i], NULL, 10);
        } else if (strcmp(argv[i], "--platforms") == 0 && i + 1 < argc) {
            platforms = argv[++i];
        } else {
            fprintf(stderr, "numtrust-bench-loadgen: unknown argument \"%s\"\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (rate < 0 || (nsynth < 0 && nsynth != -1) || platforms[0] == '\0') {
        usage(stderr);
        return 2;
    }
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    nt_err_clear(&err);
    if (nt_config_load(&cfg, NULL, &err) != NT_OK) {
        fprintf(stderr, "numtrust-bench-loadgen: config: %s\n", err.msg);
        return 2;
    }
    cfg_loaded = true;
    if (nt_kafka_topics_init(&topics, &cfg, &err) != NT_OK) {
        fprintf(stderr, "numtrust-bench-loadgen: %s\n", err.msg);
        goto out;
    }
    if (ids_path != NULL && (ids = fopen(ids_path, "w")) == NULL) {
        fprintf(stderr, "numtrust-bench-loadgen: cannot write %s\n", ids_path);
        goto out;
    }
    rk = nt_kafka_producer_new(&cfg, dr_cb, &lg, &err);
    if (rk == NULL) {
        fprintf(stderr, "numtrust-bench-loadgen: %s\n", err.msg);
        goto out;
    }
    const char *topic = nt_kafka_topic_for(&topics, NT_JOB_CHECK);
    /* A new producer learns the topic's leader and connects to it within
     * about a second (librdkafka's metadata timer); waiting for that here
     * keeps the start-up out of the first jobs' latency. */
    if (warm_up(rk, topic) != NT_OK)
        goto out;

    long long sent = 0, skipped = 0;
    int64_t t0 = nt_clock_mono_us();
    for (;;) {
        if (stop_flag)
            break;
        if (rate > 0) {
            /* open loop: job k is due at t0 + k / rate, whatever happened before */
            int64_t due = t0 + (int64_t)((double)sent * 1e6 / rate);
            int64_t now = nt_clock_mono_us();
            if (due > now) {
                rd_kafka_poll(rk, 0);
                sleep_us(due - now < PACE_TICK_US ? (long)(due - now) : PACE_TICK_US);
                continue;
            }
        }
        nt_job_t job;
        char line_period[128] = "";
        nt_job_init(&job);
        job.type = NT_JOB_CHECK;
        if (nsynth >= 0) {
            if (sent + skipped >= nsynth)
                break;
            synthetic(sent + skipped, platforms, &job);
        } else if (!next_input(stdin, &job, line_period, sizeof(line_period))) {
            break;
        }
        nt_job_make_id(&job, NULL, line_period[0] ? line_period : period);
        job.created_at_ms = nt_clock_wall_ms();
        if (nt_job_validate(&job, &err) != NT_OK) {
            fprintf(stderr, "numtrust-bench-loadgen: skipping %s: %s\n", job.number, err.msg);
            skipped++;
            continue;
        }
        nt_buf_reset(&value);
        if (nt_job_encode(&job, &value) != NT_OK) {
            fprintf(stderr, "numtrust-bench-loadgen: cannot encode a job\n");
            goto out;
        }
        for (;;) {
            rd_kafka_resp_err_t kerr = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                RD_KAFKA_V_KEY(job.number, strlen(job.number)),
                RD_KAFKA_V_VALUE(value.data, value.len), RD_KAFKA_V_END);
            if (kerr == RD_KAFKA_RESP_ERR_NO_ERROR)
                break;
            if (kerr != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
                fprintf(stderr, "numtrust-bench-loadgen: produce: %s\n", rd_kafka_err2str(kerr));
                goto out;
            }
            rd_kafka_poll(rk, 100);
        }
        if (ids != NULL)
            fprintf(ids, "%s,%lld\n", job.id, (long long)job.created_at_ms);
        sent++;
        rd_kafka_poll(rk, 0);
    }
    double produce_s = (double)(nt_clock_mono_us() - t0) / 1e6;
    rd_kafka_resp_err_t ferr = rd_kafka_flush(rk, 60000);
    double total_s = (double)(nt_clock_mono_us() - t0) / 1e6;
    fprintf(stderr,
            "loadgen: %lld jobs produced in %.3f s (%.0f/s, asked %.0f/s), %lld delivered in "
            "%.3f s (first after %lld ms), %lld failed, %lld skipped; topic %s\n",
            sent, produce_s, produce_s > 0 ? sent / produce_s : 0.0, rate, lg.delivered, total_s,
            lg.first_dr_us ? (long long)(lg.first_dr_us - t0) / 1000 : -1LL, lg.failed, skipped,
            topic);
    if (ferr != RD_KAFKA_RESP_ERR_NO_ERROR || lg.failed > 0 || lg.delivered != sent) {
        fprintf(stderr, "numtrust-bench-loadgen: not every job was delivered\n");
        goto out;
    }
    rc = 0;
out:
    if (ids != NULL && fclose(ids) != 0)
        rc = 1;
    if (rk != NULL)
        rd_kafka_destroy(rk);
    nt_buf_free(&value);
    if (cfg_loaded)
        nt_config_free(&cfg);
    return rc;
}
