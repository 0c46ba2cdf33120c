/*
 * metrics.c — counters, gauges and latency histograms in Prometheus text
 * form (see metrics.h).
 */
#include "metrics.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"

/* A histogram's bucket upper bounds, in units of 1/per_s seconds. */
typedef struct buckets_s {
    const double *le;
    size_t n;
    double per_s;
} buckets_t;

/* Latencies (receipt to result, platform calls), in milliseconds. */
static const double bucket_ms[] = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000};
static const buckets_t latency_buckets = {bucket_ms, NT_ARRAY_LEN(bucket_ms), 1000.0};

/* A job's age when its result is recorded (created -> result), in seconds:
 * a backlog, a retry tier or a held platform shows here; 12 h and 24 h are
 * the appeal and qualification service levels. */
static const double age_bucket_s[] = {1, 5, 15, 60, 300, 900, 3600, 14400, 43200, 86400, 604800};
static const buckets_t age_buckets = {age_bucket_s, NT_ARRAY_LEN(age_bucket_s), 1.0};

#define MAXBUCKETS 13 /* the longer of the two layouts */
_Static_assert(NT_ARRAY_LEN(bucket_ms) <= MAXBUCKETS, "latency buckets fit hist_t");
_Static_assert(NT_ARRAY_LEN(age_bucket_s) <= MAXBUCKETS, "age buckets fit hist_t");

typedef struct hist_s {
    uint64_t counts[MAXBUCKETS + 1]; /* past the layout's last bound: +Inf */
    double sum_s;
    uint64_t n;
} hist_t;

typedef struct plat_metrics_s {
    const char *id;
    uint64_t calls[NT_OUTCOME_N];
    hist_t latency;
    bool breaker_open;
    double rate;
} plat_metrics_t;

struct nt_metrics_s {
    uint64_t jobs[NT_JOB_NTYPES + 1][NT_METRIC_OUTCOMES];
    hist_t job_latency[NT_JOB_NTYPES + 1];
    plat_metrics_t *plats;
    size_t nplats;
    size_t jobs_in_flight, http_in_flight, writes_pending;
    size_t window; /* the in-flight window now; 0: not set (no sample) */
    bool pg_connected;
    int64_t consumer_lag;
    hist_t job_age[NT_JOB_NTYPES + 1];
    uint64_t writer_statements, writer_rows, writer_failures;
    bool writer_known;
};

static const char *const outcome_names[NT_METRIC_OUTCOMES] = {"ok",   "failed",    "retried",
                                                              "dead", "duplicate", "deferred"};
static const char *const type_names[NT_JOB_NTYPES + 1] = {
    "check", "tag_update", "appeal", "appeal_status", "tag_status", "renewal", "unknown"};

nt_metrics_t *nt_metrics_new(const nt_platforms_t *platforms, nt_err_t *err)
{
    nt_metrics_t *m = calloc(1, sizeof(*m));
    if (m == NULL)
        goto oom;
    m->consumer_lag = -1;
    if (platforms != NULL) {
        m->nplats = nt_platforms_count(platforms);
        m->plats = calloc(m->nplats ? m->nplats : 1, sizeof(*m->plats));
        if (m->plats == NULL)
            goto oom;
        for (size_t i = 0; i < m->nplats; i++)
            m->plats[i].id = nt_platform_id(nt_platforms_at(platforms, i));
    }
    return m;
oom:
    free(m);
    nt_err_set(err, NT_ENOMEM, false, "out of memory");
    return NULL;
}

void nt_metrics_free(nt_metrics_t *m)
{
    if (m == NULL)
        return;
    free(m->plats);
    free(m);
}

/* v in the layout's unit (b->per_s of them a second) */
static void hist_add(hist_t *h, const buckets_t *b, double v)
{
    size_t i = 0;
    while (i < b->n && v > b->le[i])
        i++;
    h->counts[i]++;
    h->sum_s += v / b->per_s;
    h->n++;
}

void nt_metrics_job_done(nt_metrics_t *m, int type, nt_metric_outcome_t outcome, int64_t latency_us)
{
    if (m == NULL || type < 0 || type > NT_JOB_NTYPES || (unsigned)outcome >= NT_METRIC_OUTCOMES)
        return;
    m->jobs[type][outcome]++;
    if (outcome == NT_METRIC_OK || outcome == NT_METRIC_FAILED)
        hist_add(&m->job_latency[type], &latency_buckets, (double)latency_us / 1000.0);
}

void nt_metrics_job_age(nt_metrics_t *m, int type, int64_t age_ms)
{
    if (m == NULL || type < 0 || type > NT_JOB_NTYPES)
        return;
    if (age_ms < 0)
        age_ms = 0; /* clocks of two machines */
    hist_add(&m->job_age[type], &age_buckets, (double)age_ms / 1000.0);
}

void nt_metrics_set_writer(nt_metrics_t *m, uint64_t statements, uint64_t rows, uint64_t failures)
{
    if (m == NULL)
        return;
    m->writer_statements = statements;
    m->writer_rows = rows;
    m->writer_failures = failures;
    m->writer_known = true;
}

void nt_metrics_call(nt_metrics_t *m, size_t platform, nt_outcome_t outcome, int64_t elapsed_us)
{
    if (m == NULL || platform >= m->nplats || (unsigned)outcome >= NT_OUTCOME_N)
        return;
    m->plats[platform].calls[outcome]++;
    hist_add(&m->plats[platform].latency, &latency_buckets, (double)elapsed_us / 1000.0);
}

void nt_metrics_set_platform(nt_metrics_t *m, size_t platform, bool breaker_open, double rate)
{
    if (m == NULL || platform >= m->nplats)
        return;
    m->plats[platform].breaker_open = breaker_open;
    m->plats[platform].rate = rate;
}

void nt_metrics_set_gauges(nt_metrics_t *m, size_t jobs_in_flight, size_t http_in_flight,
                           size_t writes_pending, bool pg_connected)
{
    if (m == NULL)
        return;
    m->jobs_in_flight = jobs_in_flight;
    m->http_in_flight = http_in_flight;
    m->writes_pending = writes_pending;
    m->pg_connected = pg_connected;
}

void nt_metrics_set_window(nt_metrics_t *m, size_t jobs)
{
    if (m != NULL)
        m->window = jobs;
}

void nt_metrics_kafka_stats(nt_metrics_t *m, const char *json, size_t len)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (root == NULL)
        return;
    int64_t lag = 0;
    bool known = false;
    const cJSON *topics = cJSON_GetObjectItemCaseSensitive(root, "topics");
    for (const cJSON *t = topics ? topics->child : NULL; t != NULL; t = t->next) {
        const cJSON *parts = cJSON_GetObjectItemCaseSensitive(t, "partitions");
        for (const cJSON *p = parts ? parts->child : NULL; p != NULL; p = p->next) {
            const cJSON *l = cJSON_GetObjectItemCaseSensitive(p, "consumer_lag");
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "partition");
            if (cJSON_IsNumber(id) && id->valuedouble < 0)
                continue; /* the internal UA partition */
            if (cJSON_IsNumber(l) && l->valuedouble >= 0) {
                lag += (int64_t)l->valuedouble;
                known = true;
            }
        }
    }
    if (known)
        m->consumer_lag = lag;
    cJSON_Delete(root);
}

int64_t nt_metrics_consumer_lag(const nt_metrics_t *m)
{
    return m->consumer_lag;
}

static int render_hist(nt_buf_t *out, const char *name, const char *labels, const hist_t *h,
                       const buckets_t *b)
{
    uint64_t cum = 0;
    int rc = NT_OK;
    for (size_t i = 0; rc == NT_OK && i <= b->n; i++) {
        cum += h->counts[i];
        if (i < b->n)
            rc = nt_buf_printf(out, "%s_bucket{%s,le=\"%g\"} %llu\n", name, labels,
                               b->le[i] / b->per_s, (unsigned long long)cum);
        else
            rc = nt_buf_printf(out, "%s_bucket{%s,le=\"+Inf\"} %llu\n", name, labels,
                               (unsigned long long)cum);
    }
    if (rc == NT_OK)
        rc = nt_buf_printf(out, "%s_sum{%s} %.6f\n%s_count{%s} %llu\n", name, labels, h->sum_s,
                           name, labels, (unsigned long long)h->n);
    return rc;
}

int nt_metrics_render(const nt_metrics_t *m, nt_buf_t *out)
{
    char labels[160];
    int rc = nt_buf_puts(
        out, "# HELP numtrust_build_info The program's version (always 1).\n"
             "# TYPE numtrust_build_info gauge\n"
             "numtrust_build_info{program=\"numtrust-worker\",version=\"" NT_VERSION "\"} 1\n"
             "# HELP numtrust_jobs_total Jobs finished, by type and outcome.\n"
             "# TYPE numtrust_jobs_total counter\n");
    for (int t = 0; rc == NT_OK && t <= NT_JOB_NTYPES; t++)
        for (int o = 0; rc == NT_OK && o < NT_METRIC_OUTCOMES; o++)
            rc = nt_buf_printf(out, "numtrust_jobs_total{type=\"%s\",outcome=\"%s\"} %llu\n",
                               type_names[t], outcome_names[o], (unsigned long long)m->jobs[t][o]);
    if (rc == NT_OK)
        rc = nt_buf_puts(out, "# HELP numtrust_job_seconds Time from receipt to result.\n"
                              "# TYPE numtrust_job_seconds histogram\n");
    for (int t = 0; rc == NT_OK && t <= NT_JOB_NTYPES; t++) {
        snprintf(labels, sizeof(labels), "type=\"%s\"", type_names[t]);
        rc = render_hist(out, "numtrust_job_seconds", labels, &m->job_latency[t], &latency_buckets);
    }
    if (rc == NT_OK)
        rc = nt_buf_puts(out, "# HELP numtrust_platform_calls_total Platform calls by outcome.\n"
                              "# TYPE numtrust_platform_calls_total counter\n");
    for (size_t p = 0; rc == NT_OK && p < m->nplats; p++)
        for (int o = 0; rc == NT_OK && o < NT_OUTCOME_N; o++)
            rc = nt_buf_printf(out,
                               "numtrust_platform_calls_total{platform=\"%s\",outcome=\"%s\"} "
                               "%llu\n",
                               m->plats[p].id, nt_outcome_name((nt_outcome_t)o),
                               (unsigned long long)m->plats[p].calls[o]);
    if (rc == NT_OK)
        rc = nt_buf_puts(out, "# HELP numtrust_platform_call_seconds Platform call latency.\n"
                              "# TYPE numtrust_platform_call_seconds histogram\n");
    for (size_t p = 0; rc == NT_OK && p < m->nplats; p++) {
        snprintf(labels, sizeof(labels), "platform=\"%s\"", m->plats[p].id);
        rc = render_hist(out, "numtrust_platform_call_seconds", labels, &m->plats[p].latency,
                         &latency_buckets);
    }
    if (rc == NT_OK)
        rc = nt_buf_puts(out, "# HELP numtrust_breaker_open 1 while a platform's circuit is "
                              "open.\n# TYPE numtrust_breaker_open gauge\n");
    for (size_t p = 0; rc == NT_OK && p < m->nplats; p++)
        rc = nt_buf_printf(out, "numtrust_breaker_open{platform=\"%s\"} %d\n", m->plats[p].id,
                           m->plats[p].breaker_open ? 1 : 0);
    if (rc == NT_OK)
        rc = nt_buf_puts(out, "# HELP numtrust_platform_rate_limit_calls_per_second Current call "
                              "rate limit (AIMD); 0 = unlimited.\n"
                              "# TYPE numtrust_platform_rate_limit_calls_per_second gauge\n");
    for (size_t p = 0; rc == NT_OK && p < m->nplats; p++)
        rc = nt_buf_printf(out,
                           "numtrust_platform_rate_limit_calls_per_second{platform=\"%s\"} %.1f\n",
                           m->plats[p].id, m->plats[p].rate);
    if (rc == NT_OK)
        rc = nt_buf_puts(out, "# HELP numtrust_job_age_seconds A job's age when its result was "
                              "recorded: from its creation (enqueue) to its result, retries and "
                              "queueing included.\n"
                              "# TYPE numtrust_job_age_seconds histogram\n");
    for (int t = 0; rc == NT_OK && t <= NT_JOB_NTYPES; t++) {
        snprintf(labels, sizeof(labels), "type=\"%s\"", type_names[t]);
        rc = render_hist(out, "numtrust_job_age_seconds", labels, &m->job_age[t], &age_buckets);
    }
    if (rc == NT_OK && m->writer_known)
        rc = nt_buf_printf(out,
                           "# HELP numtrust_writer_statements_total Statements the writer "
                           "committed to PostgreSQL (each writes a batch of jobs).\n"
                           "# TYPE numtrust_writer_statements_total counter\n"
                           "numtrust_writer_statements_total %llu\n"
                           "# HELP numtrust_writer_rows_total Job rows those statements wrote.\n"
                           "# TYPE numtrust_writer_rows_total counter\n"
                           "numtrust_writer_rows_total %llu\n"
                           "# HELP numtrust_writer_failures_total Statements that failed (and were "
                           "sent again or split).\n"
                           "# TYPE numtrust_writer_failures_total counter\n"
                           "numtrust_writer_failures_total %llu\n",
                           (unsigned long long)m->writer_statements,
                           (unsigned long long)m->writer_rows,
                           (unsigned long long)m->writer_failures);
    if (rc == NT_OK)
        rc = nt_buf_printf(out,
                           "# HELP numtrust_jobs_in_flight Jobs received and not yet recorded.\n"
                           "# TYPE numtrust_jobs_in_flight gauge\nnumtrust_jobs_in_flight %zu\n"
                           "# HELP numtrust_http_in_flight Platform calls under way.\n"
                           "# TYPE numtrust_http_in_flight gauge\nnumtrust_http_in_flight %zu\n"
                           "# HELP numtrust_writes_pending Results and claims waiting for "
                           "PostgreSQL.\n"
                           "# TYPE numtrust_writes_pending gauge\nnumtrust_writes_pending %zu\n"
                           "# HELP numtrust_pg_connected 1 while both PostgreSQL connections "
                           "are up.\n"
                           "# TYPE numtrust_pg_connected gauge\nnumtrust_pg_connected %d\n",
                           m->jobs_in_flight, m->http_in_flight, m->writes_pending,
                           m->pg_connected ? 1 : 0);
    if (rc == NT_OK && m->window > 0)
        rc = nt_buf_printf(out,
                           "# HELP numtrust_window_jobs The in-flight window: most jobs the worker "
                           "takes at once now (sized by throughput and service time).\n"
                           "# TYPE numtrust_window_jobs gauge\nnumtrust_window_jobs %zu\n",
                           m->window);
    /* unknown before librdkafka's first statistics: no sample rather than a
     * made-up value */
    if (rc == NT_OK && m->consumer_lag >= 0)
        rc = nt_buf_printf(out,
                           "# HELP numtrust_consumer_lag Messages behind the log end, summed "
                           "over assigned partitions.\n"
                           "# TYPE numtrust_consumer_lag gauge\nnumtrust_consumer_lag %lld\n",
                           (long long)m->consumer_lag);
    return rc;
}
