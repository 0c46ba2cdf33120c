/*
 * test_metrics.c — Prometheus text metrics (metrics.h): the series rendered
 * after a known set of job_done / call / gauge updates, histogram buckets
 * (cumulative, le in seconds), the exposition format's shape, and consumer
 * lag summed from librdkafka's statistics JSON while ignoring the internal
 * partition -1 and unknown (-1) lags.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "buf.h"
#include "check.h"
#include "metrics.h"

static int ncases;

static const char platforms_json[] =
    "{\"platforms\":["
    "{\"id\":\"baidu\",\"base_url\":\"http://h\",\"auth\":{\"type\":\"none\"},"
    "\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c\",\"result\":{}}}},"
    "{\"id\":\"tencent\",\"base_url\":\"http://h\",\"auth\":{\"type\":\"none\"},"
    "\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c\",\"result\":{}}}}]}";

/* True when text has a line exactly equal to line. */
static bool has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; p != NULL && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
            return true;
    return false;
}

static void test_render(void)
{
    nt_err_t err;
    nt_platforms_t *ps = nt_platforms_parse(platforms_json, strlen(platforms_json), "t", &err);
    CHECKF(ps != NULL, "platforms: %s", err.msg);
    nt_metrics_t *m = nt_metrics_new(ps, &err);
    CHECK(m != NULL);
    if (m == NULL) {
        nt_platforms_free(ps);
        return;
    }
    nt_metrics_job_done(m, NT_JOB_CHECK, NT_METRIC_OK, 3000);           /* 3 ms */
    nt_metrics_job_done(m, NT_JOB_CHECK, NT_METRIC_OK, 3000);           /* 3 ms */
    nt_metrics_job_done(m, NT_JOB_CHECK, NT_METRIC_RETRIED, 0);         /* no latency sample */
    nt_metrics_job_done(m, NT_JOB_TAG_UPDATE, NT_METRIC_FAILED, 20000); /* 20 ms */
    nt_metrics_job_done(m, NT_JOB_APPEAL, NT_METRIC_OK, 60000000);      /* 60 s: +Inf */
    nt_metrics_job_done(m, NT_JOB_NTYPES, NT_METRIC_DEAD, 0);           /* unknown type */
    nt_metrics_job_done(m, NT_JOB_APPEAL_STATUS, NT_METRIC_DUPLICATE, 0);
    nt_metrics_job_done(m, NT_JOB_CHECK, NT_METRIC_DEFERRED, 0);
    nt_metrics_job_done(m, 9, NT_METRIC_OK, 1);                       /* ignored */
    nt_metrics_job_done(m, -1, NT_METRIC_OK, 1);                      /* ignored */
    nt_metrics_job_done(m, NT_JOB_CHECK, (nt_metric_outcome_t)17, 1); /* ignored */
    nt_metrics_call(m, 0, NT_OUTCOME_OK, 3000);
    nt_metrics_call(m, 1, NT_OUTCOME_RATE_LIMITED, 2000000); /* 2 s */
    nt_metrics_call(m, 1, NT_OUTCOME_AUTH, 1000);            /* exactly 1 ms: le="0.001" */
    nt_metrics_call(m, 7, NT_OUTCOME_OK, 1);                 /* no such platform: ignored */
    nt_metrics_set_platform(m, 1, true, 2.5);
    nt_metrics_set_platform(m, 0, false, 0);
    nt_metrics_set_gauges(m, 7, 3, 2, true);
    nt_metrics_job_age(m, NT_JOB_CHECK, 800);              /* 0.8 s: le="1" */
    nt_metrics_job_age(m, NT_JOB_CHECK, 13 * 3600 * 1000); /* 13 h: past the 12 h bucket */
    nt_metrics_job_age(m, NT_JOB_APPEAL, -5);              /* clock skew: counted as 0 */
    nt_metrics_job_age(m, NT_JOB_NTYPES + 1, 1);           /* no such type: ignored */
    nt_metrics_set_writer(m, 12, 340, 1);

    nt_buf_t out;
    nt_buf_init(&out, 0);
    CHECK_INT(nt_metrics_render(m, &out), NT_OK);
    static const char *const lines[] = {
        "# TYPE numtrust_jobs_total counter",
        "numtrust_jobs_total{type=\"check\",outcome=\"ok\"} 2",
        "numtrust_jobs_total{type=\"check\",outcome=\"retried\"} 1",
        "numtrust_jobs_total{type=\"check\",outcome=\"deferred\"} 1",
        "numtrust_jobs_total{type=\"check\",outcome=\"failed\"} 0",
        "numtrust_jobs_total{type=\"tag_update\",outcome=\"failed\"} 1",
        "numtrust_jobs_total{type=\"appeal\",outcome=\"ok\"} 1",
        "numtrust_jobs_total{type=\"appeal_status\",outcome=\"duplicate\"} 1",
        "numtrust_jobs_total{type=\"unknown\",outcome=\"dead\"} 1",
        "numtrust_jobs_total{type=\"unknown\",outcome=\"ok\"} 0",
        "# TYPE numtrust_job_seconds histogram",
        "numtrust_job_seconds_bucket{type=\"check\",le=\"0.002\"} 0",
        "numtrust_job_seconds_bucket{type=\"check\",le=\"0.005\"} 2",
        "numtrust_job_seconds_bucket{type=\"check\",le=\"10\"} 2",
        "numtrust_job_seconds_bucket{type=\"check\",le=\"+Inf\"} 2",
        "numtrust_job_seconds_count{type=\"check\"} 2",
        "numtrust_job_seconds_sum{type=\"check\"} 0.006000",
        "numtrust_job_seconds_bucket{type=\"tag_update\",le=\"0.01\"} 0",
        "numtrust_job_seconds_bucket{type=\"tag_update\",le=\"0.025\"} 1",
        "numtrust_job_seconds_bucket{type=\"appeal\",le=\"10\"} 0",
        "numtrust_job_seconds_bucket{type=\"appeal\",le=\"+Inf\"} 1",
        "numtrust_job_seconds_sum{type=\"appeal\"} 60.000000",
        "# TYPE numtrust_platform_calls_total counter",
        "numtrust_platform_calls_total{platform=\"baidu\",outcome=\"ok\"} 1",
        "numtrust_platform_calls_total{platform=\"baidu\",outcome=\"retryable\"} 0",
        "numtrust_platform_calls_total{platform=\"tencent\",outcome=\"rate_limited\"} 1",
        "numtrust_platform_calls_total{platform=\"tencent\",outcome=\"auth\"} 1",
        "numtrust_platform_calls_total{platform=\"tencent\",outcome=\"ok\"} 0",
        "# TYPE numtrust_platform_call_seconds histogram",
        "numtrust_platform_call_seconds_bucket{platform=\"tencent\",le=\"0.001\"} 1",
        "numtrust_platform_call_seconds_bucket{platform=\"tencent\",le=\"1\"} 1",
        "numtrust_platform_call_seconds_bucket{platform=\"tencent\",le=\"2.5\"} 2",
        "numtrust_platform_call_seconds_count{platform=\"tencent\"} 2",
        "numtrust_platform_call_seconds_bucket{platform=\"baidu\",le=\"0.005\"} 1",
        "numtrust_breaker_open{platform=\"tencent\"} 1",
        "numtrust_breaker_open{platform=\"baidu\"} 0",
        "numtrust_platform_rate_limit_calls_per_second{platform=\"tencent\"} 2.5",
        "numtrust_platform_rate_limit_calls_per_second{platform=\"baidu\"} 0.0",
        "numtrust_jobs_in_flight 7",
        "numtrust_http_in_flight 3",
        "numtrust_writes_pending 2",
        "numtrust_pg_connected 1",
        "# TYPE numtrust_job_age_seconds histogram",
        "numtrust_job_age_seconds_bucket{type=\"check\",le=\"1\"} 1",
        "numtrust_job_age_seconds_bucket{type=\"check\",le=\"43200\"} 1",
        "numtrust_job_age_seconds_bucket{type=\"check\",le=\"86400\"} 2",
        "numtrust_job_age_seconds_bucket{type=\"check\",le=\"+Inf\"} 2",
        "numtrust_job_age_seconds_count{type=\"check\"} 2",
        "numtrust_job_age_seconds_sum{type=\"check\"} 46800.800000",
        "numtrust_job_age_seconds_bucket{type=\"appeal\",le=\"1\"} 1",
        "numtrust_job_age_seconds_count{type=\"unknown\"} 0",
        "numtrust_writer_statements_total 12",
        "numtrust_writer_rows_total 340",
        "numtrust_writer_failures_total 1",
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(lines); i++, ncases++)
        CHECKF(has_line(out.data, lines[i]), "render lacks the line: %s", lines[i]);
    /* before librdkafka's first statistics the lag is unknown: no sample */
    CHECK(strstr(out.data, "numtrust_consumer_lag") == NULL);
    ncases++;

    /* Exposition format: every sample's family was declared with # TYPE
     * before it, buckets are cumulative (non-decreasing), and sample lines
     * are "name{labels} value" or "name value". */
    char family[128] = "";
    int bad = 0;
    unsigned long long prev_bucket = 0;
    char prev_series[256] = "";
    for (char *line = out.data; line != NULL && *line;) {
        char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char l[512];
        snprintf(l, sizeof(l), "%.*s", (int)len, line);
        if (strncmp(l, "# TYPE ", 7) == 0) {
            snprintf(family, sizeof(family), "%.*s", (int)strcspn(l + 7, " "), l + 7);
            char help[160];
            snprintf(help, sizeof(help), "# HELP %s ", family);
            if (strstr(out.data, help) == NULL) {
                CHECKF(0, "no # HELP for %s", family);
                bad++;
            }
        } else if (l[0] != '#' && l[0] != '\0') {
            size_t name_len = strcspn(l, "{ ");
            if (strncmp(l, family, strlen(family)) != 0 || family[0] == '\0') {
                CHECKF(0, "sample before its # TYPE: %s", l);
                bad++;
            }
            const char *value = strrchr(l, ' ');
            char *end = NULL;
            double v = value ? strtod(value + 1, &end) : 0;
            if (value == NULL || end == value + 1 || *end != '\0') {
                CHECKF(0, "sample without a number: %s", l);
                bad++;
            }
            if (strstr(l, "_bucket{") != NULL) {
                char series[256];
                const char *le = strstr(l, ",le=");
                snprintf(series, sizeof(series), "%.*s", (int)(le ? le - l : (long)name_len), l);
                if (strcmp(series, prev_series) == 0 && (unsigned long long)v < prev_bucket) {
                    CHECKF(0, "bucket not cumulative: %s", l);
                    bad++;
                }
                snprintf(prev_series, sizeof(prev_series), "%s", series);
                prev_bucket = (unsigned long long)v;
            }
        }
        line = nl ? nl + 1 : NULL;
        if (bad > 5)
            break;
    }
    ncases++;
    nt_buf_free(&out);

    /* a capped buffer fails cleanly */
    nt_buf_init(&out, 100);
    ncases++;
    CHECK_INT(nt_metrics_render(m, &out), NT_ETOOBIG);
    nt_buf_free(&out);

    nt_metrics_free(m);
    nt_metrics_free(NULL);
    nt_platforms_free(ps);

    /* without platforms: no per-platform series */
    m = nt_metrics_new(NULL, &err);
    nt_buf_init(&out, 0);
    ncases++;
    CHECK(m != NULL && nt_metrics_render(m, &out) == NT_OK);
    CHECK(out.data != NULL && strstr(out.data, "platform=") == NULL);
    CHECK(out.data != NULL && has_line(out.data, "numtrust_pg_connected 0"));
    nt_buf_free(&out);
    nt_metrics_free(m);
}

static void test_kafka_stats(void)
{
    static const struct {
        const char *name;
        const char *json; /* NULL: tests/unit/data/kafka_stats.json */
        long long want;
    } rows[] = {
        {"librdkafka statistics (data/kafka_stats.json)", NULL, 47},
        {"two partitions",
         "{\"topics\":{\"t\":{\"partitions\":{\"0\":{\"partition\":0,\"consumer_lag\":5},"
         "\"1\":{\"partition\":1,\"consumer_lag\":7}}}}}",
         12},
        {"partition -1 ignored",
         "{\"topics\":{\"t\":{\"partitions\":{\"0\":{\"partition\":0,\"consumer_lag\":5},"
         "\"-1\":{\"partition\":-1,\"consumer_lag\":1000}}}}}",
         5},
        {"unknown lag ignored",
         "{\"topics\":{\"t\":{\"partitions\":{\"0\":{\"partition\":0,\"consumer_lag\":5},"
         "\"1\":{\"partition\":1,\"consumer_lag\":-1}}}}}",
         5},
        {"several topics",
         "{\"topics\":{\"a\":{\"partitions\":{\"0\":{\"partition\":0,\"consumer_lag\":1}}},"
         "\"b\":{\"partitions\":{\"3\":{\"partition\":3,\"consumer_lag\":2}}},"
         "\"c\":{\"partitions\":{}}}}",
         3},
        {"zero lag",
         "{\"topics\":{\"t\":{\"partitions\":{\"0\":{\"partition\":0,\"consumer_lag\":0}}}}}", 0},
        {"no lag known yet",
         "{\"topics\":{\"t\":{\"partitions\":{\"-1\":{\"partition\":-1,"
         "\"consumer_lag\":-1}}}}}",
         -1},
        {"no topics", "{\"name\":\"rdkafka#consumer-1\"}", -1},
        {"not JSON", "{\"topics\":", -1},
        {"empty", "", -1},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_err_t err;
        nt_metrics_t *m = nt_metrics_new(NULL, &err);
        nt_buf_t text;
        nt_buf_init(&text, 0);
        if (m == NULL) {
            CHECKF(0, "nt_metrics_new: %s", err.msg);
            return;
        }
        if (rows[i].json == NULL) {
            FILE *fp = fopen(NT_TEST_DATA_DIR "/kafka_stats.json", "rb");
            char chunk[4096];
            size_t n;
            CHECK(fp != NULL);
            while (fp != NULL && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
                if (nt_buf_append(&text, chunk, n) != NT_OK)
                    break;
            if (fp != NULL)
                fclose(fp);
        } else if (nt_buf_puts(&text, rows[i].json) != NT_OK) {
            CHECKF(0, "out of memory");
        }
        nt_metrics_kafka_stats(m, text.data ? text.data : "", text.len);
        CHECKF(nt_metrics_consumer_lag(m) == rows[i].want, "%s: lag %lld, want %lld", rows[i].name,
               (long long)nt_metrics_consumer_lag(m), rows[i].want);
        /* and /metrics shows it */
        nt_buf_t out;
        char line[64];
        nt_buf_init(&out, 0);
        snprintf(line, sizeof(line), "numtrust_consumer_lag %lld", rows[i].want);
        CHECK(nt_metrics_render(m, &out) == NT_OK);
        if (rows[i].want >= 0)
            CHECKF(has_line(out.data, line), "%s: no line %s", rows[i].name, line);
        else /* unknown: no sample at all, never a made-up -1 */
            CHECKF(strstr(out.data, "numtrust_consumer_lag") == NULL, "%s: a lag sample",
                   rows[i].name);
        nt_buf_free(&out);
        nt_buf_free(&text);
        nt_metrics_free(m);
    }

    /* a later statistics document replaces the sum; a bad one keeps it */
    nt_err_t err;
    nt_metrics_t *m = nt_metrics_new(NULL, &err);
    if (m == NULL)
        return;
    static const char a[] =
        "{\"topics\":{\"t\":{\"partitions\":{\"0\":{\"partition\":0,\"consumer_lag\":40}}}}}";
    static const char b[] =
        "{\"topics\":{\"t\":{\"partitions\":{\"0\":{\"partition\":0,\"consumer_lag\":3}}}}}";
    nt_metrics_kafka_stats(m, a, strlen(a));
    ncases += 3;
    CHECK_INT(nt_metrics_consumer_lag(m), 40);
    nt_metrics_kafka_stats(m, b, strlen(b));
    CHECK_INT(nt_metrics_consumer_lag(m), 3);
    nt_metrics_kafka_stats(m, "garbage", 7);
    CHECK_INT(nt_metrics_consumer_lag(m), 3);
    nt_metrics_free(m);
}

int main(void)
{
    test_render();
    test_kafka_stats();
    printf("test_metrics: %d cases\n", ncases);
    CHECK_DONE();
}
