/*
 * worker.c — the worker's event loop: Kafka in, platform calls out, results
 * to PostgreSQL, offsets stored only behind committed results.
 *
 * Everything runs on one nt_loop: librdkafka's consumer and producer queues
 * wake it through pipes (rd_kafka_queue_io_event_enable), curl's sockets and
 * timers are watched by nt_http, libpq's socket by the writer. Sections:
 *   partitions & offsets — per-partition trackers, store after commit
 *   key locks           — at most one job per number in flight
 *   platforms           — rate limit, circuit breaker, batching, calls
 *   outcomes            — results, retry tiers, dead letters
 *   kafka               — messages, delivery reports, rebalances, window
 *   lifecycle           — new / run / drain / free
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <openssl/evp.h>

#include "breaker.h"
#include "buf.h"
#include "clock.h"
#include "hex.h"
#include "http.h"
#include "kafka.h"
#include "log.h"
#include "metrics.h"
#include "offsets.h"
#include "ops.h"
#include "pg.h"
#include "phone.h"
#include "ratelimit.h"
#include "redact.h"
#include "strmap.h"
#include "window.h"
#include "wjob.h"
#include "writer.h"

#define MAX_TOPICS          (3 + NT_KAFKA_MAX_TIERS)
#define BREAKER_THRESHOLD   10
#define BREAKER_OPEN_MS     5000
#define BREAKER_OPEN_MAX_MS 60000
#define BATCH_LINGER_MS     5
#define REPRODUCE_DELAY_MS  1000
/* a dead letter PostgreSQL refused is written again after this */
#define REWRITE_DELAY_MS 5000
/* bytes a dead letter's key and headers may take */
#define DEAD_HEADROOM 8192
/* a platform held longer than this (Retry-After): its jobs leave the window */
#define HELD_MS              2000
#define AUTH_LOG_INTERVAL_MS 60000
#define RATE_LIMIT_FACTOR    4       /* deliveries allowed = this x job.max_attempts */
#define LEASE_SECONDS        0.2     /* tokens asked per lease: this many seconds of qps */
#define FULL_PAUSE_MS        5000    /* window full this long: pause partitions, keep polling */
#define LEASE_TIMEOUT_MS     5000    /* then fall back to the partition share */
#define LEASE_TTL_US         1000000 /* leased tokens not spent by then are dropped */

/* The platform operation of each job type (the dispatch table). */
static const nt_op_t job_ops[NT_JOB_NTYPES] = {
    [NT_JOB_CHECK] = NT_OP_CHECK,           [NT_JOB_TAG_UPDATE] = NT_OP_TAG_UPDATE,
    [NT_JOB_APPEAL] = NT_OP_APPEAL_SUBMIT,  [NT_JOB_APPEAL_STATUS] = NT_OP_APPEAL_STATUS,
    [NT_JOB_TAG_STATUS] = NT_OP_TAG_STATUS, [NT_JOB_RENEWAL] = NT_OP_RENEWAL,
};

/* ---- types ---- */

struct tpart_s {
    nt_worker_t *w;
    int topic_idx;
    int32_t partition;
    bool active;      /* assigned to us; false once revoked (jobs then abandoned) */
    size_t refs;      /* jobs alive from this partition, +1 while active */
    nt_offsets_t trk; /* offsets handed out, and the next one to store */
    int64_t last_seen;
    /* retry tiers: messages not due yet, in order; the partition is paused */
    wjob_t *hold_head, *hold_tail;
    bool hold_paused;
    nt_timer_t hold_timer;
};

typedef struct jlist_s {
    wjob_t *head, *tail;
    size_t n;
} jlist_t;

typedef struct plat_s {
    nt_worker_t *w;
    const nt_platform_t *p;
    nt_ratelimit_t rl;
    int batch_max;
    jlist_t q_check; /* claimed checks waiting for a call */
    jlist_t q_other; /* claimed tag/appeal jobs waiting for a call */
    int64_t q_check_since_ms;
    nt_timer_t timer;
    /* cluster-wide rate: tokens leased from PostgreSQL (qps > 0 only) */
    bool leased;
    bool lease_out; /* a lease request is unanswered */
    int64_t lease_asked_ms;
    int64_t lease_next_ms;    /* no new request before this (bucket was empty) */
    int64_t fallback_next_ms; /* next local grant while a lease is unanswered */
    bool lease_warned;
    nt_breaker_t br; /* closed, open, half-open (common/breaker.h) */
    int64_t last_auth_log_ms;
    int64_t last_cap_log_ms;
} plat_t;

typedef struct call_s {
    struct call_s *next; /* pool */
    plat_t *ps;
    nt_op_t op;
    bool probe; /* the breaker's half-open probe */
    size_t njobs;
    wjob_t **jobs;
    const char **numbers;
    nt_buf_t url, body;
} call_t;

typedef struct wstats_s {
    uint64_t received;
    uint64_t outcome[NT_JOB_NTYPES + 1][NT_METRIC_OUTCOMES];
    uint64_t calls, call_retryable, call_rate_limited, call_permanent, call_auth, timeouts;
    uint64_t appeals_fast_path;
    uint64_t conflicts; /* appeals whose ticket another job holds */
    uint64_t keyless;   /* messages without a key */
    uint64_t produce_errors;
} wstats_t;

struct nt_worker_s {
    const nt_config_t *cfg;
    const nt_platforms_t *platforms;
    volatile sig_atomic_t *stop;
    char worker_id[128];
    nt_loop_t *loop;
    nt_http_t *http;
    writer_t *writer;  /* results */
    writer_t *claimer; /* claims and token leases, on their own connection so
                        * they never wait behind a result batch */
    nt_metrics_t *metrics;
    nt_ops_t *ops; /* /metrics, /healthz, /readyz; NULL when off */

    rd_kafka_t *consumer;
    rd_kafka_t *producer;
    rd_kafka_queue_t *cq;
    rd_kafka_queue_t *pq;
    int cq_pipe[2];
    int pq_pipe[2];

    nt_kafka_topics_t topics;
    const char *topic_names[MAX_TOPICS];
    int ntopics;
    tpart_t **tps[MAX_TOPICS]; /* [topic][partition] -> current partition state */
    int32_t ntps[MAX_TOPICS];

    nt_strmap_t *keys; /* number -> wjob holding the number's lock */
    plat_t *plats;
    size_t nplats;
    call_t *call_pool;

    size_t dead_cap;            /* most bytes of a message a dead letter carries */
    int64_t retry_after_cap_ms; /* the longest Retry-After obeyed */
    size_t outstanding;         /* jobs alive */
    nt_window_t win;            /* how many may be alive: Little's law (common/window.h) */
    double rate_cap;            /* the platforms' allowed calls/s in total; 0: unlimited */
    bool window_full;           /* not taking messages from librdkafka's queue */
    int64_t full_since_ms;
    bool window_paused; /* ... and, full for long, partitions paused */
    bool in_rebalance;
    bool draining;
    bool fatal;

    jlist_t reproduce; /* jobs whose produce must be retried */
    jlist_t rewrite;   /* dead letters whose row must be written again */
    nt_timer_t rewrite_timer;
    wjob_t *free_jobs; /* finished jobs kept for reuse (at most max_inflight) */
    size_t nfree_jobs;
    nt_timer_t reproduce_timer;

    wstats_t st;
    int64_t last_progress_ms;
    int64_t keyless_log_ms;
};

static void dispatch(nt_worker_t *w, wjob_t *job);
static void start_job(nt_worker_t *w, wjob_t *job);
static void finish(nt_worker_t *w, wjob_t *job);
static void fail_job(nt_worker_t *w, wjob_t *job, const char *eclass, const char *reason);
static void dead_path(nt_worker_t *w, wjob_t *job, const char *eclass, const char *reason);
static void plat_pump(nt_worker_t *w, plat_t *ps);
static void produce_job(nt_worker_t *w, wjob_t *job);
static bool kafka_fatal(nt_worker_t *w);

static void jl_push(jlist_t *l, wjob_t *job)
{
    job->next = NULL;
    if (l->tail != NULL)
        l->tail->next = job;
    else
        l->head = job;
    l->tail = job;
    l->n++;
}

static wjob_t *jl_pop(jlist_t *l)
{
    wjob_t *job = l->head;
    if (job == NULL)
        return NULL;
    l->head = job->next;
    if (l->head == NULL)
        l->tail = NULL;
    l->n--;
    job->next = NULL;
    return job;
}

static void job_ctx(const wjob_t *job, nt_log_ctx_t *ctx)
{
    ctx->topic = job->topic;
    ctx->partition = job->partition;
    ctx->offset = job->offset;
    ctx->job_id = job->job.id[0] ? job->job.id : NULL;
    ctx->platform = job->job.platform[0] ? job->job.platform : NULL;
    ctx->number = job->job.number[0] ? job->job.number : NULL;
}

static int type_index(const wjob_t *job)
{
    return (unsigned)job->job.type < NT_JOB_NTYPES ? (int)job->job.type : NT_JOB_NTYPES;
}

static void count_outcome(nt_worker_t *w, const wjob_t *job, nt_metric_outcome_t o)
{
    w->st.outcome[type_index(job)][o]++;
    nt_metrics_job_done(w->metrics, type_index(job), o, nt_clock_mono_us() - job->t0_us);
    if ((o == NT_METRIC_OK || o == NT_METRIC_FAILED || o == NT_METRIC_DEAD) &&
        job->job.created_at_ms > 0)
        nt_metrics_job_age(w->metrics, type_index(job),
                           nt_clock_wall_ms() - job->job.created_at_ms);
}

/* ---- partitions & offsets ---- */

static tpart_t *tp_get(nt_worker_t *w, int topic_idx, int32_t partition)
{
    if (partition < 0 || partition >= w->ntps[topic_idx])
        return NULL;
    return w->tps[topic_idx][partition];
}

static void tp_unref(nt_worker_t *w, tpart_t *tp)
{
    (void)w;
    if (--tp->refs > 0)
        return;
    nt_offsets_free(&tp->trk);
    free(tp);
}

static tpart_t *tp_create(nt_worker_t *w, int topic_idx, int32_t partition)
{
    if (partition >= w->ntps[topic_idx]) {
        int32_t n = partition + 16;
        tpart_t **arr = realloc(w->tps[topic_idx], (size_t)n * sizeof(*arr));
        if (arr == NULL)
            return NULL;
        memset(arr + w->ntps[topic_idx], 0, (size_t)(n - w->ntps[topic_idx]) * sizeof(*arr));
        w->tps[topic_idx] = arr;
        w->ntps[topic_idx] = n;
    }
    tpart_t *old = w->tps[topic_idx][partition];
    if (old != NULL) {
        /* a previous assignment's state: its jobs are abandoned */
        w->tps[topic_idx][partition] = NULL;
        if (old->active) {
            old->active = false;
            tp_unref(w, old);
        }
    }
    tpart_t *tp = calloc(1, sizeof(*tp));
    if (tp == NULL)
        return NULL;
    tp->w = w;
    tp->topic_idx = topic_idx;
    tp->partition = partition;
    tp->active = true;
    tp->refs = 1;
    nt_offsets_init(&tp->trk);
    tp->last_seen = -1;
    nt_loop_timer_init(&tp->hold_timer);
    w->tps[topic_idx][partition] = tp;
    return tp;
}

/* Stores the committable offsets of every dirty active partition. */
static void store_offsets(nt_worker_t *w)
{
    rd_kafka_topic_partition_list_t *list = NULL;
    for (int t = 0; t < w->ntopics; t++) {
        for (int32_t p = 0; p < w->ntps[t]; p++) {
            tpart_t *tp = w->tps[t][p];
            int64_t off;
            if (tp == NULL || !tp->active || !nt_offsets_take(&tp->trk, &off))
                continue;
            if (list == NULL)
                list = rd_kafka_topic_partition_list_new(16);
            rd_kafka_topic_partition_list_add(list, w->topic_names[t], p)->offset = off;
        }
    }
    if (list == NULL)
        return;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(w->consumer, list);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__STATE)
        NT_WARN("kafka: offsets_store: %s", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(list);
}

static void pause_tp(nt_worker_t *w, tpart_t *tp, bool pause)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, w->topic_names[tp->topic_idx], tp->partition);
    rd_kafka_resp_err_t err = pause ? rd_kafka_pause_partitions(w->consumer, l)
                                    : rd_kafka_resume_partitions(w->consumer, l);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        NT_WARN("kafka: %s %s [%d]: %s", pause ? "pause" : "resume", w->topic_names[tp->topic_idx],
                (int)tp->partition, rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(l);
}

static void pause_all(nt_worker_t *w, bool pause)
{
    for (int t = 0; t < w->ntopics; t++)
        for (int32_t p = 0; p < w->ntps[t]; p++) {
            tpart_t *tp = w->tps[t][p];
            if (tp != NULL && tp->active && !tp->hold_paused)
                pause_tp(w, tp, pause);
        }
}

/* Backpressure. When the worker holds as many jobs as its window allows it
 * stops taking messages from librdkafka's queue (which stops fetching at its
 * own cap), and takes them again below 90%. The window is sized every 250 ms
 * from the jobs finished and their service time (common/window.h), between
 * worker.min_inflight and worker.max_inflight. Pausing partitions would make
 * librdkafka drop what it prefetched and fetch it again, so that happens
 * only when the window stays full for FULL_PAUSE_MS: then polling must go on
 * (rebalances, max.poll.interval.ms) without receiving messages. */
static void window_check(nt_worker_t *w)
{
    int64_t now_us = nt_loop_now(w->loop) * 1000;
    int before = w->win.size;
    size_t max = (size_t)nt_window_tick(&w->win, w->rate_cap, now_us);
    if ((size_t)before != max)
        NT_DEBUG("window %d -> %zu jobs (%.0f jobs/s, %.1f ms a job)", before, max, w->win.rate,
                 w->win.service_avg / 1000);
    if (w->consumer == NULL)
        return;
    if (!w->window_full && w->outstanding >= max) {
        w->window_full = true;
        nt_window_full(&w->win, true, now_us);
        w->full_since_ms = nt_loop_now(w->loop);
        NT_DEBUG("window full at %zu jobs: not consuming", w->outstanding);
        return;
    }
    if (w->window_full && w->outstanding <= max - max / 10) {
        w->window_full = false;
        nt_window_full(&w->win, false, now_us);
        if (w->window_paused) {
            w->window_paused = false;
            pause_all(w, false);
        }
        NT_DEBUG("window open at %zu jobs", w->outstanding);
        return;
    }
    if (w->window_full && !w->window_paused &&
        nt_loop_now(w->loop) - w->full_since_ms >= FULL_PAUSE_MS) {
        w->window_paused = true;
        NT_INFO("window full for %d ms (%zu jobs): pausing partitions until it drains",
                FULL_PAUSE_MS, w->outstanding);
        pause_all(w, true);
    }
}

/* ---- key locks ---- */

/* Takes the number's lock, or queues job behind the holder. True if taken. */
static bool key_acquire(nt_worker_t *w, wjob_t *job)
{
    wjob_t *holder = nt_strmap_get(w->keys, job->job.number);
    if (holder == NULL) {
        if (nt_strmap_put(w->keys, job->job.number, job) != NT_OK) {
            NT_ERROR("out of memory in the key map");
            return false;
        }
        job->key_held = true;
        job->key_next = NULL;
        return true;
    }
    /* append to the holder's chain */
    wjob_t *last = holder;
    while (last->key_next != NULL)
        last = last->key_next;
    last->key_next = job;
    job->key_next = NULL;
    job->state = WJ_WAIT_KEY;
    return false;
}

static void key_release(nt_worker_t *w, wjob_t *job)
{
    if (!job->key_held)
        return;
    job->key_held = false;
    wjob_t *next = job->key_next;
    job->key_next = NULL;
    if (next == NULL) {
        nt_strmap_del(w->keys, job->job.number);
        return;
    }
    if (nt_strmap_put(w->keys, next->job.number, next) != NT_OK)
        NT_ERROR("out of memory in the key map");
    next->key_held = true;
    start_job(w, next);
}

/* ---- lifecycle of one job ---- */

static void job_free(wjob_t *job)
{
    free(job->job.evidence);
    free(job->raw);
    free(job);
}

/* A job struct from the free list, zeroed but keeping its raw buffer; a
 * fresh allocation only when the list is empty. Jobs are 6.5 KB: allocating
 * and freeing one per message cost as much as all of numtrust's own code
 * (glibc consolidates its fast bins on every such large request). */
static wjob_t *job_alloc(nt_worker_t *w)
{
    wjob_t *job = w->free_jobs;
    if (job == NULL)
        return calloc(1, sizeof(*job));
    w->free_jobs = job->next;
    w->nfree_jobs--;
    char *raw = job->raw;
    size_t cap = job->raw_cap;
    memset(job, 0, sizeof(*job));
    job->raw = raw;
    job->raw_cap = cap;
    return job;
}

static void job_release(nt_worker_t *w, wjob_t *job)
{
    free(job->job.evidence); /* an appeal's, on the heap (common/job.h) */
    job->job.evidence = NULL;
    if (w->nfree_jobs >= (size_t)w->win.size) { /* a window shrunk gives its memory back */
        job_free(job);
        return;
    }
    job->next = w->free_jobs;
    w->free_jobs = job;
    w->nfree_jobs++;
}

/* The job is over: its result is committed, or it was a duplicate, or its
 * partition was revoked. Releases its number and records its offset. */
static void finish(nt_worker_t *w, wjob_t *job)
{
    job->state = WJ_DONE;
    tpart_t *tp = job->tp;
    if (tp != NULL) {
        if (tp->active && !job->abandoned)
            nt_offsets_done(&tp->trk, job->offset);
        tp_unref(w, tp);
        job->tp = NULL;
    }
    key_release(w, job);
    if (job->call_us > 0)
        nt_window_done(&w->win, job->call_us);
    w->outstanding--;
    job_release(w, job);
    window_check(w);
}

/* The reason a job failed, retries or died, as it is stored and logged:
 * whatever a platform said passes through nt_redact (our credentials out,
 * numbers masked, printable UTF-8). reason may be job->error itself. */
static void set_error(wjob_t *job, const char *reason)
{
    char clean[sizeof(job->error)];
    const char *secrets[4];
    size_t n = job->platform != NULL ? nt_platform_secrets(job->platform, secrets, 4) : 0;
    nt_redact(reason, secrets, n, clean, sizeof(clean));
    memcpy(job->error, clean, sizeof(job->error));
}

/* Records job as failed: eclass (WJ_EC_*) says why, for `retry --class`. */
static void fail_job(nt_worker_t *w, wjob_t *job, const char *eclass, const char *reason)
{
    nt_log_ctx_t ctx;
    job_ctx(job, &ctx);
    set_error(job, reason);
    /* a platform refusing a job is routine; our side refusing its result is not */
    bool ours = strcmp(eclass, WJ_EC_CONFLICT) == 0 || strcmp(eclass, WJ_EC_UNWRITABLE) == 0;
    NT_LOG(ours ? NT_LOG_WARN : NT_LOG_INFO, &ctx, "job failed (%s): %s", eclass, job->error);
    job->wkind = WR_LEDGER;
    job->eclass = eclass;
    snprintf(job->ledger_state, sizeof(job->ledger_state), "failed");
    count_outcome(w, job, NT_METRIC_FAILED);
    writer_result(w->writer, job);
}

static plat_t *plat_of(nt_worker_t *w, const wjob_t *job)
{
    return &w->plats[nt_platform_index(job->platform)];
}

/* Open or half-open: the platform is suspected down. While open, new jobs
 * for it are deferred without spending an attempt; when half-open, one call
 * (the probe) decides, and the other queued jobs wait for its answer. */
static bool breaker_tripped(const plat_t *ps)
{
    return nt_breaker_tripped(&ps->br);
}

static bool breaker_open(const plat_t *ps, int64_t now)
{
    return nt_breaker_open(&ps->br, now);
}

/* Sends job to the first retry tier without spending an attempt. */
/* The retry tier for a job that spent `spent` attempts and must wait
 * delay_ms: its attempt's tier, or the first later one whose delay covers
 * the wait. A tier partition holds its messages in order, so a message that
 * waited longer than its tier's delay would hold up every message behind it
 * (other numbers, other platforms); the Retry-After cap keeps every wait
 * within the last tier's delay. */
static const nt_kafka_tier_t *tier_for(nt_worker_t *w, int spent, int64_t delay_ms)
{
    const nt_kafka_tier_t *t = nt_kafka_tier_for(&w->topics, spent > 0 ? spent : 1);
    for (size_t i = 0; i < w->topics.ntiers && t->delay_ms < delay_ms; i++)
        if (w->topics.tiers[i].delay_ms >= delay_ms || i + 1 == w->topics.ntiers)
            t = &w->topics.tiers[i];
    return t;
}

/* A platform that may not be called for more than HELD_MS (a Retry-After
 * hold): milliseconds it is held, else 0. */
static int64_t plat_held_ms(const plat_t *ps)
{
    int64_t ms = (ps->rl.hold_until_us - nt_clock_mono_us()) / 1000;
    return ms > HELD_MS ? ms : 0;
}

static void defer_job(nt_worker_t *w, wjob_t *job, int64_t delay_ms)
{
    if (delay_ms < w->topics.tiers[0].delay_ms)
        delay_ms = w->topics.tiers[0].delay_ms;
    job->tier = tier_for(w, 1, delay_ms);
    job->job.not_before_ms = nt_clock_wall_ms() + delay_ms;
    job->wkind = WR_NONE; /* deferral writes nothing: no attempt was spent */
    job->ledger_state[0] = '\0';
    count_outcome(w, job, NT_METRIC_DEFERRED);
    produce_job(w, job);
}

/* A claimed job of a held platform leaves the window: to the retry tier
 * that covers the hold, its claim's attempt given back, its envelope's
 * delivery count unchanged (it was never called), its number released. */
static void release_claimed(nt_worker_t *w, wjob_t *job, int64_t delay_ms)
{
    char why[160];
    snprintf(why, sizeof(why), "platform %s held for %lld ms (Retry-After)", job->job.platform,
             (long long)delay_ms);
    job->refund = 1;
    job->no_bump = true;
    job->wkind = WR_LEDGER;
    job->eclass = NULL;
    snprintf(job->ledger_state, sizeof(job->ledger_state), "retrying");
    nt_buf_copy_str(job->error, sizeof(job->error), why);
    job->tier = tier_for(w, job->attempts - job->refund, delay_ms);
    job->job.not_before_ms = nt_clock_wall_ms() + delay_ms;
    count_outcome(w, job, NT_METRIC_DEFERRED);
    produce_job(w, job);
}

/* Job holds its number: claim it, unless its platform's breaker is open or
 * the platform is held (Retry-After): then it waits in a retry tier, not in
 * the window. */
static void start_job(nt_worker_t *w, wjob_t *job)
{
    plat_t *ps = plat_of(w, job);
    int64_t now = nt_loop_now(w->loop);
    if (breaker_open(ps, now)) {
        defer_job(w, job, ps->br.open_until_ms - now);
        return;
    }
    int64_t held = plat_held_ms(ps);
    if (held > 0) {
        defer_job(w, job, held);
        return;
    }
    /* closed, or half-open: then this job may be the probe (a half-open
     * platform with nothing queued would otherwise never be probed) */
    writer_claim(w->claimer, job);
}

/* A decoded job enters the pipeline. */
static void dispatch(nt_worker_t *w, wjob_t *job)
{
    nt_err_t err;
    nt_err_clear(&err);
    if (job->verdict == NT_JOB_VERDICT_POISON) {
        dead_path(w, job, WJ_EC_POISON, job->error);
        return;
    }
    if (job->verdict == NT_JOB_VERDICT_INVALID) {
        /* Not a job we can trust, so not the job whose id it claims: it is
         * recorded under an id of its own (its place on Kafka), and a valid
         * job with that id is not suppressed by it. */
        char claimed[NT_UUID_STRLEN], part[16], off[24], reason[400];
        snprintf(claimed, sizeof(claimed), "%s", job->job.id);
        snprintf(part, sizeof(part), "%d", (int)job->partition);
        snprintf(off, sizeof(off), "%lld", (long long)job->offset);
        const char *fields[] = {"invalid", job->topic, part, off};
        nt_uuid_v5_fields(job->job.id, fields, NT_ARRAY_LEN(fields));
        snprintf(reason, sizeof(reason), "%s (the message claimed job id %s)", job->error, claimed);
        fail_job(w, job, WJ_EC_INVALID, reason);
        return;
    }
    if (job->key_mismatch) {
        /* a message keyed with another number sits in another number's
         * partition: processing it would break that number's order.
         * `numtrust-producer dead replay` produces it again keyed by its
         * number. */
        dead_path(w, job, WJ_EC_INVALID, job->error);
        return;
    }
    job->platform = nt_platforms_find(w->platforms, job->job.platform);
    if (job->platform == NULL) {
        char reason[160];
        snprintf(reason, sizeof(reason), "field platform: \"%s\" is not a configured platform",
                 job->job.platform);
        fail_job(w, job, WJ_EC_CONFIG, reason);
        return;
    }
    if (!nt_platform_has_op(job->platform, job_ops[job->job.type])) {
        char reason[160];
        snprintf(reason, sizeof(reason), "platform %s has no %s operation", job->job.platform,
                 nt_op_name(job_ops[job->job.type]));
        fail_job(w, job, WJ_EC_CONFIG, reason);
        return;
    }
    if (key_acquire(w, job))
        start_job(w, job);
}

/* ---- platforms ---- */

static void on_plat_timer(nt_loop_t *loop, void *arg)
{
    (void)loop;
    plat_t *ps = arg;
    plat_pump(ps->w, ps);
}

static void arm_plat_timer(nt_worker_t *w, plat_t *ps, int64_t ms)
{
    if (nt_loop_timer_is_armed(&ps->timer) && ps->timer.due_ms <= nt_clock_mono_ms() + ms)
        return;
    if (nt_loop_timer_start(w->loop, &ps->timer, ms, on_plat_timer, ps) != NT_OK)
        NT_ERROR("cannot arm a platform timer");
}

static call_t *call_get(nt_worker_t *w)
{
    call_t *c = w->call_pool;
    if (c != NULL) {
        w->call_pool = c->next;
        return c;
    }
    int maxn = 1;
    for (size_t i = 0; i < w->nplats; i++)
        if (w->plats[i].batch_max > maxn)
            maxn = w->plats[i].batch_max;
    c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->jobs = calloc((size_t)maxn, sizeof(*c->jobs));
    c->numbers = calloc((size_t)maxn, sizeof(*c->numbers));
    if (c->jobs == NULL || c->numbers == NULL) {
        free(c->jobs);
        free(c->numbers);
        free(c);
        return NULL;
    }
    nt_buf_init(&c->url, 8192);
    nt_buf_init(&c->body, 1024 * 1024);
    return c;
}

static void call_put(nt_worker_t *w, call_t *c)
{
    c->next = w->call_pool;
    w->call_pool = c;
}

static void retry_path(nt_worker_t *w, wjob_t *job, const char *reason, int64_t retry_after_ms,
                       bool refund);

static void on_answer(nt_worker_t *w, wjob_t *job, nt_op_t op, const nt_answer_t *ans,
                      const cJSON *root, const nt_check_state_t *batch_state)
{
    nt_err_t err;
    nt_err_clear(&err);
    job->result_ms = nt_clock_domain_ms(); /* numtrust time: checked_at, pushed_at, filed_at */
    switch (ans->outcome) {
    case NT_OUTCOME_OK:
        break;
    case NT_OUTCOME_RETRYABLE:
    case NT_OUTCOME_RATE_LIMITED:
        retry_path(w, job, ans->reason, ans->retry_after_ms,
                   ans->outcome == NT_OUTCOME_RATE_LIMITED);
        return;
    case NT_OUTCOME_AUTH:
    case NT_OUTCOME_PERMANENT:
        fail_job(w, job, ans->outcome == NT_OUTCOME_AUTH ? WJ_EC_AUTH : WJ_EC_REJECTED,
                 ans->reason);
        return;
    case NT_OUTCOME_REJECTED:
        if (op != NT_OP_TAG_UPDATE && op != NT_OP_RENEWAL) {
            fail_job(w, job, WJ_EC_REJECTED, ans->reason);
            return;
        }
        /* a label (or renewal) the platform refuses at submission: the
         * request's answer, recorded with the platform's reason (never
         * retried blindly) */
        memset(&job->ticket, 0, sizeof(job->ticket));
        nt_buf_copy_str(job->ticket.state, sizeof(job->ticket.state), "rejected");
        nt_buf_copy_str(job->ticket.reason, sizeof(job->ticket.reason), ans->reason);
        job->wkind = op == NT_OP_TAG_UPDATE ? WR_TAG : WR_RENEWAL;
        count_outcome(w, job, NT_METRIC_OK);
        writer_result(w->writer, job);
        return;
    }
    int rc = NT_OK;
    switch (op) {
    case NT_OP_CHECK:
        snprintf(job->check.number, sizeof(job->check.number), "%s", job->job.number);
        rc = nt_adapter_map_check(job->platform, root, &job->check, &err);
        job->wkind = WR_CHECK;
        break;
    case NT_OP_CHECK_BATCH:
        job->check = *batch_state;
        job->wkind = WR_CHECK;
        break;
    case NT_OP_TAG_UPDATE:
        rc = nt_adapter_map_ticket(job->platform, op, root, &job->ticket, &err);
        job->wkind = WR_TAG;
        break;
    case NT_OP_APPEAL_SUBMIT:
        rc = nt_adapter_map_ticket(job->platform, op, root, &job->ticket, &err);
        job->wkind = WR_APPEAL;
        break;
    case NT_OP_APPEAL_STATUS:
        rc = nt_adapter_map_ticket(job->platform, op, root, &job->ticket, &err);
        job->wkind = WR_APPEAL_STATUS;
        break;
    case NT_OP_TAG_STATUS:
        rc = nt_adapter_map_ticket(job->platform, op, root, &job->ticket, &err);
        job->wkind = WR_TAG_STATUS;
        break;
    case NT_OP_RENEWAL:
        rc = nt_adapter_map_ticket(job->platform, op, root, &job->ticket, &err);
        job->wkind = WR_RENEWAL;
        break;
    }
    if (rc != NT_OK) {
        char reason[300];
        snprintf(reason, sizeof(reason), "mapping: %s", err.msg);
        fail_job(w, job, WJ_EC_MAPPING, reason);
        return;
    }
    count_outcome(w, job, NT_METRIC_OK);
    writer_result(w->writer, job);
}

/* probe: this call was the half-open probe. */
static void breaker_record(nt_worker_t *w, plat_t *ps, const nt_answer_t *ans, bool probe)
{
    int64_t open_for = 0;
    bool failure = ans->outcome == NT_OUTCOME_RETRYABLE;
    switch (nt_breaker_record(&ps->br, nt_loop_now(w->loop), failure, probe, &open_for)) {
    case NT_BREAKER_OPENED:
        if (probe)
            NT_WARN("platform %s: the probe call failed (%s); circuit open for %lld ms",
                    nt_platform_id(ps->p), ans->reason, (long long)open_for);
        else
            NT_WARN("platform %s: %d failures in a row (%s); circuit open for %lld ms",
                    nt_platform_id(ps->p), ps->br.fails, ans->reason, (long long)open_for);
        break;
    case NT_BREAKER_CLOSED:
        NT_INFO("platform %s: answering again, circuit closed", nt_platform_id(ps->p));
        break;
    case NT_BREAKER_SAME:
        break;
    }
}

static void on_call_done(const nt_http_result_t *res, void *arg)
{
    call_t *c = arg;
    plat_t *ps = c->ps;
    nt_worker_t *w = ps->w;
    nt_answer_t ans;
    cJSON *root = NULL;
    int64_t now_us = nt_clock_mono_us();

    nt_adapter_answer(ps->p, res, &ans, &root);
    for (size_t i = 0; i < c->njobs; i++)
        c->jobs[i]->call_us = res->elapsed_us > 0 ? res->elapsed_us : 1;
    {
        /* the platform's words, before any log line or record sees them */
        const char *secrets[4];
        size_t ns = nt_platform_secrets(ps->p, secrets, 4);
        char clean[sizeof(ans.reason)];
        nt_redact(ans.reason, secrets, ns, clean, sizeof(clean));
        memcpy(ans.reason, clean, sizeof(ans.reason));
    }
    if (ans.retry_after_ms > w->retry_after_cap_ms) {
        if (nt_loop_now(w->loop) - ps->last_cap_log_ms > AUTH_LOG_INTERVAL_MS) {
            ps->last_cap_log_ms = nt_loop_now(w->loop);
            NT_WARN("platform %s asks to wait %lld s (Retry-After); waiting %lld s "
                    "(worker.retry_after_max_s, at most the last retry tier's delay)",
                    nt_platform_id(ps->p), (long long)(ans.retry_after_ms / 1000),
                    (long long)(w->retry_after_cap_ms / 1000));
        }
        ans.retry_after_ms = w->retry_after_cap_ms;
    }
    nt_metrics_call(w->metrics, nt_platform_index(ps->p), ans.outcome, res->elapsed_us);
    switch (ans.outcome) {
    case NT_OUTCOME_OK:
        nt_ratelimit_on_success(&ps->rl, now_us);
        break;
    case NT_OUTCOME_RATE_LIMITED:
        w->st.call_rate_limited++;
        nt_ratelimit_on_throttle(&ps->rl, now_us, ans.retry_after_ms);
        break;
    case NT_OUTCOME_RETRYABLE:
        w->st.call_retryable++;
        if (ans.timed_out) {
            w->st.timeouts++;
            nt_ratelimit_on_timeout(&ps->rl, now_us);
        } else if (ans.retry_after_ms >= 0) {
            nt_ratelimit_on_throttle(&ps->rl, now_us, ans.retry_after_ms);
        }
        break;
    case NT_OUTCOME_AUTH:
        w->st.call_auth++;
        if (nt_loop_now(w->loop) - ps->last_auth_log_ms > AUTH_LOG_INTERVAL_MS) {
            ps->last_auth_log_ms = nt_loop_now(w->loop);
            NT_ERROR("platform %s rejects our credentials (%s): jobs fail until the "
                     "credentials are fixed; replay them afterwards",
                     nt_platform_id(ps->p), ans.reason);
        }
        break;
    case NT_OUTCOME_PERMANENT:
    case NT_OUTCOME_REJECTED: /* an answer about the request, not the platform's health */
        w->st.call_permanent++;
        break;
    }
    breaker_record(w, ps, &ans, c->probe);

    if (c->op == NT_OP_CHECK_BATCH && ans.outcome == NT_OUTCOME_OK) {
        nt_check_state_t *sts = calloc(c->njobs, sizeof(*sts));
        nt_err_t err;
        nt_err_clear(&err);
        if (sts == NULL ||
            nt_adapter_map_batch(ps->p, root, c->numbers, c->njobs, sts, &err) != NT_OK) {
            for (size_t i = 0; i < c->njobs; i++)
                fail_job(w, c->jobs[i], WJ_EC_MAPPING, sts == NULL ? "out of memory" : err.msg);
        } else {
            for (size_t i = 0; i < c->njobs; i++) {
                nt_answer_t item = ans;
                item.outcome = sts[i].item_outcome;
                if (item.outcome != NT_OUTCOME_OK)
                    nt_buf_copy_str(item.reason, sizeof(item.reason), sts[i].item_error);
                on_answer(w, c->jobs[i], NT_OP_CHECK_BATCH, &item, root, &sts[i]);
            }
        }
        free(sts);
    } else {
        for (size_t i = 0; i < c->njobs; i++)
            on_answer(w, c->jobs[i], c->op, &ans, root, NULL);
    }
    cJSON_Delete(root);
    call_put(w, c);
    plat_pump(w, ps);
}

/* A probe call that never went out: the next call is the probe. */
static void probe_abandoned(plat_t *ps, const call_t *c)
{
    if (c->probe)
        nt_breaker_probe_lost(&ps->br);
}

static void start_call(nt_worker_t *w, plat_t *ps, nt_op_t op, wjob_t **jobs, size_t n)
{
    nt_err_t err;
    nt_http_call_t hc;
    call_t *c = call_get(w);
    nt_err_clear(&err);
    if (c == NULL) {
        for (size_t i = 0; i < n; i++)
            retry_path(w, jobs[i], "out of memory", -1, false);
        return;
    }
    c->ps = ps;
    c->op = op;
    /* closed: an ordinary call; half-open: the one probe call */
    bool probe = false;
    (void)nt_breaker_allow(&ps->br, nt_loop_now(w->loop), &probe);
    c->probe = probe;
    c->njobs = n;
    for (size_t i = 0; i < n; i++) {
        c->jobs[i] = jobs[i];
        c->numbers[i] = jobs[i]->job.number;
        jobs[i]->state = WJ_CALLING;
    }
    const nt_job_t *j = &jobs[0]->job;
    nt_adapter_req_t req = {
        .job_id = j->id,
        .idempotency_key = nt_job_idempotency_key(j),
        .number = op == NT_OP_CHECK_BATCH ? NULL : j->number,
        .numbers = op == NT_OP_CHECK_BATCH ? c->numbers : NULL,
        .nnumbers = op == NT_OP_CHECK_BATCH ? n : 0,
        .label = j->label,
        .mark_type = j->mark_type[0] ? j->mark_type : NULL,
        .evidence = j->evidence,
        .ticket = j->ticket[0] ? j->ticket : NULL,
    };
    if (nt_adapter_build(ps->p, op, &req, nt_clock_wall_ms() / 1000, &hc, &c->url, &c->body,
                         &err) != NT_OK) {
        for (size_t i = 0; i < n; i++)
            fail_job(w, jobs[i], WJ_EC_REQUEST, err.msg);
        probe_abandoned(ps, c);
        call_put(w, c);
        return;
    }
    w->st.calls++;
    if (nt_http_submit(w->http, &hc, on_call_done, c, &err) != NT_OK) {
        for (size_t i = 0; i < n; i++)
            retry_path(w, jobs[i], err.msg, -1, false);
        probe_abandoned(ps, c);
        call_put(w, c);
    }
}

/* This worker's share of the cluster: assigned partitions of the check
 * topic over all of them (at least one partition's worth). */
static double partition_share(nt_worker_t *w)
{
    int32_t mine = 0;
    for (int32_t p = 0; p < w->ntps[0]; p++)
        if (w->tps[0][p] != NULL && w->tps[0][p]->active)
            mine++;
    if (mine == 0)
        mine = 1;
    return (double)mine / (double)w->cfg->topics_partitions;
}

/* Tokens asked per lease: LEASE_SECONDS of the rate, but no more than the
 * bucket holds (its burst), so a lease can be granted in full. */
static double lease_want(const plat_t *ps)
{
    double want = nt_platform_qps(ps->p) * LEASE_SECONDS;
    double burst = nt_platform_burst(ps->p);
    if (want > burst)
        want = burst;
    return want < 1 ? 1 : want;
}

/* When lease_refill may act next: ask for a lease (none out), or grant the
 * partition share locally (a lease unanswered for LEASE_TIMEOUT_MS, then
 * every LEASE_SECONDS). plat_pump waits until then. */
static int64_t lease_due_ms(const plat_t *ps)
{
    if (!ps->lease_out)
        return ps->lease_next_ms;
    int64_t timeout = ps->lease_asked_ms + LEASE_TIMEOUT_MS;
    return ps->fallback_next_ms > timeout ? ps->fallback_next_ms : timeout;
}

/* Keeps a leased platform supplied with tokens from the shared bucket, and
 * falls back to the partition share when PostgreSQL does not answer. */
static void lease_refill(nt_worker_t *w, plat_t *ps, int64_t now)
{
    double want = lease_want(ps);
    int64_t now_us = nt_clock_mono_us();
    if (now < lease_due_ms(ps))
        return;
    if (ps->lease_out) {
        /* no answer: spend our share of the rate locally, a lease's worth at
         * a time, until it answers */
        double grant = nt_platform_qps(ps->p) * partition_share(w) * LEASE_SECONDS;
        if (!ps->lease_warned) {
            NT_WARN("platform %s: no token lease from PostgreSQL in %d ms; using this worker's "
                    "partition share (%.1f calls/s) until it answers",
                    nt_platform_id(ps->p), LEASE_TIMEOUT_MS,
                    nt_platform_qps(ps->p) * partition_share(w));
            ps->lease_warned = true;
        }
        nt_ratelimit_grant(&ps->rl, grant < 1 ? 1 : grant, now_us, LEASE_TTL_US);
        ps->fallback_next_ms = now + (int64_t)(LEASE_SECONDS * 1000);
        return;
    }
    if (nt_ratelimit_leased_left(&ps->rl, now_us) >= 1)
        return;
    ps->lease_out = true;
    ps->lease_asked_ms = now;
    ps->fallback_next_ms = 0;
    writer_lease(w->claimer, nt_platform_index(ps->p), nt_platform_id(ps->p),
                 nt_platform_qps(ps->p), nt_platform_burst(ps->p), want);
}

static void on_leased(void *arg, size_t platform, double granted, const char *error)
{
    nt_worker_t *w = arg;
    plat_t *ps = &w->plats[platform];
    int64_t now = nt_loop_now(w->loop);
    ps->lease_out = false;
    if (error != NULL) {
        if (!ps->lease_warned) {
            NT_WARN("platform %s: token lease failed (%s); using this worker's partition share",
                    nt_platform_id(ps->p), error);
            ps->lease_warned = true;
        }
        granted = nt_platform_qps(ps->p) * partition_share(w) * LEASE_SECONDS;
        if (granted < 1)
            granted = 1;
        ps->lease_next_ms = now + (int64_t)(LEASE_SECONDS * 1000);
    } else {
        ps->lease_warned = false;
        /* ask again when the bucket has refilled what we did not get */
        double missing = lease_want(ps) - granted;
        ps->lease_next_ms =
            missing > 0 ? now + (int64_t)(missing / nt_platform_qps(ps->p) * 1000) : now;
    }
    /* a grant of 0 still replaces what a fallback grant left */
    nt_ratelimit_grant(&ps->rl, granted, nt_clock_mono_us(), LEASE_TTL_US);
    plat_pump(w, ps);
}

static void plat_pump(nt_worker_t *w, plat_t *ps)
{
    int64_t now = nt_loop_now(w->loop);
    int64_t held = plat_held_ms(ps);
    if (held > 0 && ps->q_other.n + ps->q_check.n > 0) {
        /* held by a Retry-After: its claimed jobs leave the window and free
         * their numbers, so that other platforms are not starved */
        size_t n = ps->q_other.n + ps->q_check.n;
        wjob_t *job;
        while ((job = jl_pop(&ps->q_other)) != NULL || (job = jl_pop(&ps->q_check)) != NULL)
            release_claimed(w, job, held);
        NT_INFO("platform %s held for %lld ms (Retry-After): %zu claimed jobs to the retry tiers",
                nt_platform_id(ps->p), (long long)held, n);
        return;
    }
    if (ps->leased && ps->q_other.n + ps->q_check.n > 0)
        lease_refill(w, ps, now);
    if (breaker_open(ps, now)) {
        if (ps->q_other.n + ps->q_check.n > 0)
            arm_plat_timer(w, ps, ps->br.open_until_ms - now);
        return;
    }
    /* half-open: one probe call; the rest wait for its answer */
    while (ps->q_other.n + ps->q_check.n > 0 && nt_breaker_allow(&ps->br, now, NULL)) {
        bool batch = ps->batch_max > 0 && ps->q_other.n == 0;
        if (batch && ps->q_check.n < (size_t)ps->batch_max && !w->draining) {
            int64_t waited = now - ps->q_check_since_ms;
            if (waited < BATCH_LINGER_MS) {
                arm_plat_timer(w, ps, BATCH_LINGER_MS - waited);
                return;
            }
        }
        int64_t now_us = nt_clock_mono_us();
        if (!nt_ratelimit_take(&ps->rl, now_us)) {
            int64_t wait_ms = nt_ratelimit_wait_us(&ps->rl, now_us) / 1000 + 1;
            if (ps->leased && nt_ratelimit_leased_left(&ps->rl, now_us) < 1) {
                /* waiting for a lease answer, for the bucket to refill, or
                 * for the fallback */
                lease_refill(w, ps, now);
                int64_t until = lease_due_ms(ps);
                wait_ms = until > now ? until - now : 10;
                if (wait_ms > 50)
                    wait_ms = 50;
            }
            arm_plat_timer(w, ps, wait_ms);
            return;
        }
        if (ps->q_other.n > 0) {
            wjob_t *job = jl_pop(&ps->q_other);
            start_call(w, ps, job_ops[job->job.type], &job, 1);
            continue;
        }
        if (ps->batch_max > 0) {
            wjob_t *jobs[10000];
            size_t n = 0;
            while (n < (size_t)ps->batch_max && ps->q_check.n > 0)
                jobs[n++] = jl_pop(&ps->q_check);
            ps->q_check_since_ms = now;
            start_call(w, ps, NT_OP_CHECK_BATCH, jobs, n);
        } else {
            wjob_t *job = jl_pop(&ps->q_check);
            start_call(w, ps, NT_OP_CHECK, &job, 1);
        }
    }
}

static void plat_enqueue(nt_worker_t *w, wjob_t *job)
{
    plat_t *ps = plat_of(w, job);
    job->state = WJ_WAIT_CALL;
    if (job->job.type == NT_JOB_CHECK) {
        if (ps->q_check.n == 0)
            ps->q_check_since_ms = nt_loop_now(w->loop);
        jl_push(&ps->q_check, job);
    } else {
        jl_push(&ps->q_other, job);
    }
    plat_pump(w, ps);
}

/* ---- outcomes: retry tiers and dead letters ---- */

static void on_reproduce_timer(nt_loop_t *loop, void *arg)
{
    (void)loop;
    nt_worker_t *w = arg;
    jlist_t l = w->reproduce;
    memset(&w->reproduce, 0, sizeof(w->reproduce));
    wjob_t *job;
    while ((job = jl_pop(&l)) != NULL)
        produce_job(w, job);
}

static void reproduce_later(nt_worker_t *w, wjob_t *job)
{
    jl_push(&w->reproduce, job);
    if (!nt_loop_timer_is_armed(&w->reproduce_timer) &&
        nt_loop_timer_start(w->loop, &w->reproduce_timer, REPRODUCE_DELAY_MS, on_reproduce_timer,
                            w) != NT_OK)
        NT_ERROR("cannot arm the re-produce timer");
}

static void on_rewrite_timer(nt_loop_t *loop, void *arg)
{
    (void)loop;
    nt_worker_t *w = arg;
    jlist_t l = w->rewrite;
    memset(&w->rewrite, 0, sizeof(w->rewrite));
    wjob_t *job;
    while ((job = jl_pop(&l)) != NULL)
        writer_result(w->writer, job);
}

static void rewrite_later(nt_worker_t *w, wjob_t *job)
{
    job->solo = true;
    jl_push(&w->rewrite, job);
    if (!nt_loop_timer_is_armed(&w->rewrite_timer) &&
        nt_loop_timer_start(w->loop, &w->rewrite_timer, REWRITE_DELAY_MS, on_rewrite_timer, w) !=
            NT_OK)
        NT_ERROR("cannot arm the rewrite timer");
}

/* SHA-256 of len bytes at p, as 64 hex digits (out: 65 bytes). */
static void sha256_hex(const void *p, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (EVP_Digest(p, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32) {
        out[0] = '\0';
        return;
    }
    nt_hex_encode(md, mdlen, out);
}

/* A dead letter the producer or the broker refused as too large (a topic
 * whose max.message.bytes is below the cap): keep half of its bytes, so
 * that it fits eventually; size and hash still say what it was. */
static void shrink_dead_letter(wjob_t *job, rd_kafka_resp_err_t err)
{
    if (err != RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE || job->raw_len == 0)
        return;
    if (job->raw_len == job->raw_size && job->raw_sha256[0] == '\0')
        sha256_hex(job->raw ? job->raw : "", job->raw_len, job->raw_sha256);
    job->raw_len /= 2;
}

/* Produces job to its destination: the dead-letter topic (ledger_state
 * "dead"), a retry tier ("retrying"), or tier 1 for a deferral (no ledger
 * state). The delivery report continues the job. */
static void produce_job(nt_worker_t *w, wjob_t *job)
{
    const char *topic;
    nt_buf_t value;
    rd_kafka_headers_t *hdrs = NULL;
    bool dead = strcmp(job->ledger_state, "dead") == 0;
    nt_buf_init(&value, 0);
    job->state = WJ_PRODUCE;

    if (dead) {
        char part[16], off[24], att[16], size[24];
        topic = w->topics.dead;
        if (job->raw_sha256[0] == '\0')
            sha256_hex(job->raw ? job->raw : "", job->raw_len, job->raw_sha256);
        snprintf(part, sizeof(part), "%d", (int)job->partition);
        snprintf(off, sizeof(off), "%lld", (long long)job->offset);
        snprintf(att, sizeof(att), "%d", job->attempts);
        snprintf(size, sizeof(size), "%zu", job->raw_size);
        hdrs = rd_kafka_headers_new(9);
        rd_kafka_header_add(hdrs, "source_topic", -1, job->topic, -1);
        rd_kafka_header_add(hdrs, "source_partition", -1, part, -1);
        rd_kafka_header_add(hdrs, "source_offset", -1, off, -1);
        rd_kafka_header_add(hdrs, "attempts", -1, att, -1);
        rd_kafka_header_add(hdrs, "error", -1, job->error, -1);
        rd_kafka_header_add(hdrs, "trace_id", -1, job->job.trace_id, -1);
        rd_kafka_header_add(hdrs, "raw_size", -1, size, -1);
        rd_kafka_header_add(hdrs, "raw_sha256", -1, job->raw_sha256, -1);
        if (job->raw_len < job->raw_size)
            rd_kafka_header_add(hdrs, "raw_truncated", -1, "true", -1);
    } else {
        nt_job_t next = job->job;
        if ((job->wkind != WR_NONE || job->ledger_state[0] != '\0') && !job->no_bump)
            next.attempt = job->job.attempt + 1;
        int spent = job->attempts - job->refund;
        const nt_kafka_tier_t *tier =
            job->tier != NULL ? job->tier : nt_kafka_tier_for(&w->topics, spent > 0 ? spent : 1);
        topic = tier->topic;
        if (nt_job_encode(&next, &value) != NT_OK) {
            nt_buf_free(&value);
            dead_path(w, job, WJ_EC_REQUEST, "cannot encode the retry envelope");
            return;
        }
    }
    const void *payload =
        dead ? (const void *)(job->raw ? job->raw : "") : (const void *)value.data;
    size_t len = dead ? (job->raw ? job->raw_len : 0) : value.len;
    const char *key = job->job.number[0] ? job->job.number : NULL;
    rd_kafka_resp_err_t err = rd_kafka_producev(
        w->producer, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(key, key ? strlen(key) : 0), RD_KAFKA_V_VALUE((void *)payload, len),
        RD_KAFKA_V_OPAQUE(job), RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
    nt_buf_free(&value);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (hdrs != NULL)
            rd_kafka_headers_destroy(hdrs);
        w->st.produce_errors++;
        nt_log_ctx_t ctx;
        job_ctx(job, &ctx);
        NT_LOG(NT_LOG_WARN, &ctx, "produce to %s: %s; trying again", topic, rd_kafka_err2str(err));
        if (dead)
            shrink_dead_letter(job, err);
        reproduce_later(w, job);
    }
}

/* A retryable outcome: to the retry tier of the job's attempt count, not
 * before Retry-After. refund: the platform only paced us (429), so the
 * attempt is given back; the envelope's own counter still grows, and a job
 * throttled RATE_LIMIT_FACTOR times max_attempts is dead all the same. */
static void retry_path(nt_worker_t *w, wjob_t *job, const char *reason, int64_t retry_after_ms,
                       bool refund)
{
    nt_log_ctx_t ctx;
    job_ctx(job, &ctx);
    job->refund = refund ? 1 : 0;
    int spent = job->attempts - job->refund;
    if (spent >= w->cfg->job_max_attempts ||
        job->job.attempt + 1 >= RATE_LIMIT_FACTOR * w->cfg->job_max_attempts) {
        char why[300];
        snprintf(why, sizeof(why), "max attempts (%d) reached after %d deliveries; last error: %s",
                 w->cfg->job_max_attempts, job->job.attempt + 1, reason);
        job->refund = 0;
        dead_path(w, job, WJ_EC_ATTEMPTS, why);
        return;
    }
    int64_t delay = nt_kafka_tier_for(&w->topics, spent > 0 ? spent : 1)->delay_ms;
    if (retry_after_ms > delay)
        delay = retry_after_ms;
    const nt_kafka_tier_t *tier = tier_for(w, spent, delay);
    job->tier = tier;
    job->job.not_before_ms = nt_clock_wall_ms() + delay;
    set_error(job, reason);
    NT_LOG(NT_LOG_DEBUG, &ctx, "retry in %lld ms via %s: %s", (long long)delay, tier->topic,
           job->error);
    job->wkind = WR_LEDGER;
    job->eclass = NULL;
    snprintf(job->ledger_state, sizeof(job->ledger_state), "retrying");
    count_outcome(w, job, NT_METRIC_RETRIED);
    produce_job(w, job);
}

static void dead_path(nt_worker_t *w, wjob_t *job, const char *eclass, const char *reason)
{
    nt_log_ctx_t ctx;
    job_ctx(job, &ctx);
    set_error(job, reason);
    NT_LOG(NT_LOG_WARN, &ctx, "dead letter: %s", job->error);
    job->wkind = WR_DEAD;
    job->eclass = eclass;
    snprintf(job->ledger_state, sizeof(job->ledger_state), "dead");
    count_outcome(w, job, NT_METRIC_DEAD);
    produce_job(w, job);
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
    (void)rk;
    nt_worker_t *w = opaque;
    wjob_t *job = rkm->_private;
    if (job == NULL) {
        /* a follow-up appeal: the reconciler is its safety net */
        if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            w->st.produce_errors++;
            NT_WARN("follow-up appeal not delivered (%s); the reconciler will enqueue it",
                    rd_kafka_err2str(rkm->err));
        }
        return;
    }
    if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        w->st.produce_errors++;
        nt_log_ctx_t ctx;
        job_ctx(job, &ctx);
        NT_LOG(NT_LOG_WARN, &ctx, "delivery to %s failed: %s; trying again",
               rd_kafka_topic_name(rkm->rkt), rd_kafka_err2str(rkm->err));
        if (strcmp(job->ledger_state, "dead") == 0)
            shrink_dead_letter(job, rkm->err);
        reproduce_later(w, job);
        return;
    }
    if (job->wkind == WR_NONE) {
        finish(w, job); /* deferred: nothing to record */
        return;
    }
    writer_result(w->writer, job);
}

/* ---- writer callbacks ---- */

static void on_claimed(void *arg, wjob_t *job, int attempts, const char *state, const char *error)
{
    nt_worker_t *w = arg;
    if (attempts < 0) {
        /* the ledger refused this job's row for good (a transient fault of
         * the database never gets here: the writer waits it out). Not a
         * reason to kill the job: record it as failed, with why, so that
         * `numtrust-producer retry` can run it again once fixed. */
        char reason[300];
        snprintf(reason, sizeof(reason), "claim not writable: %s", error);
        job->solo = true;
        fail_job(w, job, WJ_EC_UNWRITABLE, reason);
        return;
    }
    job->attempts = attempts;
    if (strcmp(state, "running") != 0) {
        /* finished by an earlier delivery of the same job */
        count_outcome(w, job, NT_METRIC_DUPLICATE);
        finish(w, job);
        return;
    }
    if (attempts > w->cfg->job_max_attempts) {
        char why[200];
        snprintf(why, sizeof(why), "max attempts (%d) reached before this call (attempt %d)",
                 w->cfg->job_max_attempts, attempts);
        dead_path(w, job, WJ_EC_ATTEMPTS, why);
        return;
    }
    if (job->job.type == NT_JOB_TAG_UPDATE && !w->cfg->loop_push_uncertified &&
        job->attempts == 1 && job->job.origin[0] == '\0' && job->claim_cert[0] != '\0' &&
        strcmp(job->claim_cert, "certified") != 0) {
        /* A check after the tag pass chose this push saw the certification
         * expire (or be revoked): no label goes to an uncertified
         * registration. Done, with nothing pushed and no attempt spent; the
         * tag pass chooses it again once a check sees it certified. Only on
         * the first attempt of a job that is not a re-run: a later one may
         * follow a push that reached the platform (a crash before its result
         * was written, a timeout), and is finished under the same
         * Idempotency-Key instead, so that the platform's side effect gets
         * its result row. */
        nt_log_ctx_t ctx;
        job_ctx(job, &ctx);
        NT_LOG(NT_LOG_INFO, &ctx, "label not pushed: the registration's certification is %s",
               job->claim_cert);
        job->wkind = WR_LEDGER;
        job->eclass = WJ_RESULT_SKIPPED_UNCERTIFIED;
        job->refund = 1;
        snprintf(job->ledger_state, sizeof(job->ledger_state), "done");
        count_outcome(w, job, NT_METRIC_OK);
        writer_result(w->writer, job);
        return;
    }
    plat_enqueue(w, job);
}

static void on_written(void *arg, wjob_t *job, const char *eclass, const char *error)
{
    nt_worker_t *w = arg;
    if (error == NULL) {
        finish(w, job);
        return;
    }
    if (job->wkind == WR_DEAD) {
        /* The message is on the dead-letter topic already; its row in
         * PostgreSQL is what `dead replay` and the ledger need, so the offset
         * is not committed past it: write it again later, as long as it
         * takes (the partition's commits wait; the log says why). */
        nt_log_ctx_t ctx;
        job_ctx(job, &ctx);
        NT_LOG(NT_LOG_ERROR, &ctx,
               "dead letter not recorded in PostgreSQL: %s; writing it again in %d ms (its "
               "partition's offsets are not committed past it until then)",
               error, REWRITE_DELAY_MS);
        rewrite_later(w, job);
        return;
    }
    if (job->wkind == WR_LEDGER && strcmp(job->ledger_state, "failed") == 0) {
        dead_path(w, job, WJ_EC_UNWRITABLE, error);
        return;
    }
    if (eclass != NULL && strcmp(eclass, WJ_EC_CONFLICT) == 0) {
        /* the platform's answer cannot be recorded as this job's: surface it */
        w->st.conflicts++;
        fail_job(w, job, WJ_EC_CONFLICT, error);
        return;
    }
    /* record the failure instead of the result */
    char reason[300];
    snprintf(reason, sizeof(reason), "result not writable: %s", error);
    job->solo = true;
    fail_job(w, job, WJ_EC_UNWRITABLE, reason);
}

static void on_new_mark(void *arg, const char *number, const char *platform, const char *type,
                        int64_t opened_ms, const char *tenant, const char *extra_evidence)
{
    nt_worker_t *w = arg;
    if (!w->cfg->worker_appeal_fast_path)
        return;
    /* is this type appealed automatically? */
    const char *list = w->cfg->worker_appeal_marks;
    size_t tl = strlen(type);
    bool wanted = false;
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == tl && strncmp(p, type, n) == 0)
            wanted = true;
        p += n + (p[n] == ',');
    }
    if (!wanted)
        return;
    /* a platform without an appeal API (a manual one) gets no appeal job */
    const nt_platform_t *p = nt_platforms_find(w->platforms, platform);
    if (p == NULL || !nt_platform_has_op(p, NT_OP_APPEAL_SUBMIT))
        return;
    nt_job_t job;
    nt_buf_t value;
    nt_appeal_spec_t spec = {number,         platform,          tenant, type, opened_ms,
                             extra_evidence, nt_clock_wall_ms()};
    if (nt_job_build_appeal(&job, &spec, NULL) != NT_OK) {
        nt_job_clear(&job);
        return;
    }
    nt_buf_init(&value, 0);
    if (nt_job_encode(&job, &value) != NT_OK) {
        nt_buf_free(&value);
        nt_job_clear(&job);
        return;
    }
    rd_kafka_resp_err_t err = rd_kafka_producev(
        w->producer, RD_KAFKA_V_TOPIC(w->topics.appeal), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(job.number, strlen(job.number)), RD_KAFKA_V_VALUE(value.data, value.len),
        RD_KAFKA_V_OPAQUE(NULL), RD_KAFKA_V_END);
    nt_buf_free(&value);
    nt_job_clear(&job);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        NT_WARN("follow-up appeal not produced (%s); the reconciler will enqueue it",
                rd_kafka_err2str(err));
    else
        w->st.appeals_fast_path++;
}

/* ---- kafka: messages ---- */

static int topic_index(nt_worker_t *w, const char *name)
{
    for (int i = 0; i < w->ntopics; i++)
        if (strcmp(w->topic_names[i], name) == 0)
            return i;
    return -1;
}

static bool is_tier(int topic_idx)
{
    return topic_idx >= 3;
}

static void on_hold_timer(nt_loop_t *loop, void *arg);

static void hold_arm(nt_worker_t *w, tpart_t *tp)
{
    int64_t delay = tp->hold_head->job.not_before_ms - nt_clock_wall_ms();
    if (nt_loop_timer_start(w->loop, &tp->hold_timer, delay > 0 ? delay : 0, on_hold_timer, tp) !=
        NT_OK)
        NT_ERROR("cannot arm a retry-tier timer");
}

static void on_hold_timer(nt_loop_t *loop, void *arg)
{
    (void)loop;
    tpart_t *tp = arg;
    nt_worker_t *w = tp->w;
    int64_t now = nt_clock_wall_ms();
    while (tp->hold_head != NULL && tp->hold_head->job.not_before_ms <= now) {
        wjob_t *job = tp->hold_head;
        tp->hold_head = job->next;
        if (tp->hold_head == NULL)
            tp->hold_tail = NULL;
        job->next = NULL;
        dispatch(w, job);
    }
    if (tp->hold_head != NULL) {
        hold_arm(w, tp);
        return;
    }
    if (tp->hold_paused) {
        tp->hold_paused = false;
        if (tp->active && !w->window_paused)
            pause_tp(w, tp, false);
    }
}

/* Every message is keyed by its job's number (one partition per number,
 * the order of its jobs kept). A key that names another number marks the
 * job for the dead-letter topic; a message without a key is counted and
 * logged (once a minute), and processed. */
static void check_key(nt_worker_t *w, wjob_t *job, const rd_kafka_message_t *rkm)
{
    size_t n = strlen(job->job.number);
    if (rkm->key_len == 0 || rkm->key == NULL) {
        w->st.keyless++;
        int64_t now = nt_loop_now(w->loop);
        if (now - w->keyless_log_ms > AUTH_LOG_INTERVAL_MS) {
            w->keyless_log_ms = now;
            nt_log_ctx_t ctx;
            job_ctx(job, &ctx);
            NT_LOG(NT_LOG_WARN, &ctx,
                   "message without a key (%llu so far): its number's jobs may run out of order",
                   (unsigned long long)w->st.keyless);
        }
        return;
    }
    if (rkm->key_len == n && memcmp(rkm->key, job->job.number, n) == 0)
        return;
    char key[NT_JOB_NUMBER_MAX], masked[64];
    size_t kl = rkm->key_len < sizeof(key) - 1 ? rkm->key_len : sizeof(key) - 1;
    memcpy(key, rkm->key, kl);
    key[kl] = '\0';
    nt_phone_mask_text(key, masked, sizeof(masked));
    job->key_mismatch = true;
    snprintf(job->error, sizeof(job->error),
             "message key \"%s\" is not the job's number: it would break that number's order "
             "(dead replay produces it keyed by its number)",
             masked);
}

static void handle_message(nt_worker_t *w, rd_kafka_message_t *rkm)
{
    const char *tname = rd_kafka_topic_name(rkm->rkt);
    int tidx = topic_index(w, tname);
    tpart_t *tp = tidx >= 0 ? tp_get(w, tidx, rkm->partition) : NULL;
    if (tp == NULL || !tp->active) {
        NT_WARN("kafka: message from %s [%d] which is not assigned to us; ignored", tname,
                (int)rkm->partition);
        return;
    }
    if (rkm->offset <= tp->last_seen)
        return; /* already received (re-fetched after a pause) */
    tp->last_seen = rkm->offset;
    wjob_t *job = job_alloc(w);
    if (job == NULL || nt_offsets_push(&tp->trk, rkm->offset) != NT_OK) {
        /* without memory (or with an offset that went backwards) the
         * message cannot be tracked: stop so that it is redelivered rather
         * than skipped */
        if (job != NULL)
            job_free(job);
        NT_ERROR("cannot track offset %lld of %s [%d] (out of memory); stopping",
                 (long long)rkm->offset, tname, (int)rkm->partition);
        w->fatal = true;
        return;
    }
    w->st.received++;
    w->outstanding++;
    tp->refs++;
    job->tp = tp;
    job->topic_idx = tidx;
    job->topic = w->topic_names[tidx];
    job->partition = rkm->partition;
    job->offset = rkm->offset;
    job->t0_us = nt_clock_mono_us();
    /* the bytes a dead letter would carry: at most dead_cap of them, and
     * the hash of all of them when that is fewer */
    size_t keep = rkm->len <= w->dead_cap ? rkm->len : w->dead_cap;
    if (job->raw_cap < keep || job->raw == NULL) {
        size_t cap = keep > 512 ? keep : 512;
        char *raw = realloc(job->raw, cap);
        if (raw != NULL) {
            job->raw = raw;
            job->raw_cap = cap;
        }
    }
    if (job->raw != NULL && job->raw_cap >= keep) {
        if (keep > 0)
            memcpy(job->raw, rkm->payload, keep);
        job->raw_len = keep;
    }
    job->raw_size = rkm->len;
    if (keep < rkm->len)
        sha256_hex(rkm->payload, rkm->len, job->raw_sha256);
    nt_err_t err;
    nt_err_clear(&err);
    job->verdict =
        nt_job_decode(rkm->payload, rkm->len, (size_t)w->cfg->job_max_bytes, &job->job, &err);
    if (job->verdict != NT_JOB_VERDICT_OK)
        nt_buf_copy_str(job->error, sizeof(job->error), err.msg);
    if (job->verdict == NT_JOB_VERDICT_POISON && job->job.number[0] == '\0' && rkm->key_len > 0 &&
        rkm->key_len < sizeof(job->job.number)) {
        memcpy(job->job.number, rkm->key, rkm->key_len);
        job->job.number[rkm->key_len] = '\0';
        if (!nt_buf_is_utf8(job->job.number, rkm->key_len))
            job->job.number[0] = '\0';
    }
    if (job->verdict == NT_JOB_VERDICT_OK)
        check_key(w, job, rkm);
    window_check(w);

    if (is_tier(tidx) && job->verdict == NT_JOB_VERDICT_OK &&
        (tp->hold_head != NULL || job->job.not_before_ms > nt_clock_wall_ms())) {
        job->state = WJ_HELD;
        job->next = NULL;
        if (tp->hold_tail != NULL)
            tp->hold_tail->next = job;
        else
            tp->hold_head = job;
        tp->hold_tail = job;
        if (!tp->hold_paused) {
            tp->hold_paused = true;
            pause_tp(w, tp, true);
            hold_arm(w, tp);
        }
        return;
    }
    dispatch(w, job);
}

static void poll_consumer(nt_worker_t *w)
{
    if (w->in_rebalance || w->consumer == NULL)
        return;
    window_check(w);
    if (w->window_full && !w->window_paused)
        return; /* backpressure: leave the messages in librdkafka's queue */
    for (int i = 0; i < 10000; i++) {
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(w->consumer, 0);
        if (rkm == NULL)
            return;
        if (rkm->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            if (rkm->err == RD_KAFKA_RESP_ERR__FATAL) {
                char reason[256];
                rd_kafka_fatal_error(w->consumer, reason, sizeof(reason));
                NT_ERROR("kafka: fatal error: %s", reason);
                w->fatal = true;
            } else if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                NT_WARN("kafka: consumer: %s", rd_kafka_message_errstr(rkm));
            }
            rd_kafka_message_destroy(rkm);
            continue;
        }
        handle_message(w, rkm);
        rd_kafka_message_destroy(rkm);
        if (w->fatal || w->in_rebalance || (w->window_full && !w->window_paused))
            return;
    }
}

static void drain_pipe(int fd)
{
    char buf[64];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
}

static void on_consumer_fd(nt_loop_t *loop, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)events;
    drain_pipe(fd);
    poll_consumer(arg);
}

static void on_producer_fd(nt_loop_t *loop, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)events;
    nt_worker_t *w = arg;
    drain_pipe(fd);
    rd_kafka_poll(w->producer, 0);
}

/* ---- kafka: rebalances ---- */

/* Jobs alive from partitions that are being revoked. */
static size_t revoking_jobs(nt_worker_t *w, rd_kafka_topic_partition_list_t *parts)
{
    size_t n = 0;
    for (int i = 0; i < parts->cnt; i++) {
        int t = topic_index(w, parts->elems[i].topic);
        tpart_t *tp = t >= 0 ? tp_get(w, t, parts->elems[i].partition) : NULL;
        if (tp != NULL && tp->active)
            n += tp->refs - 1;
    }
    return n;
}

static void abandon_held(nt_worker_t *w, tpart_t *tp)
{
    nt_loop_timer_stop(w->loop, &tp->hold_timer);
    while (tp->hold_head != NULL) {
        wjob_t *job = tp->hold_head;
        tp->hold_head = job->next;
        job->abandoned = true;
        finish(w, job);
    }
    tp->hold_tail = NULL;
    tp->hold_paused = false;
}

static void revoke_partitions(nt_worker_t *w, rd_kafka_topic_partition_list_t *parts, bool lost)
{
    int64_t deadline = nt_clock_mono_ms() + w->cfg->worker_drain_timeout_ms;
    w->in_rebalance = true;
    for (int i = 0; i < parts->cnt; i++) {
        int t = topic_index(w, parts->elems[i].topic);
        tpart_t *tp = t >= 0 ? tp_get(w, t, parts->elems[i].partition) : NULL;
        if (tp != NULL && tp->active)
            abandon_held(w, tp);
    }
    size_t left = revoking_jobs(w, parts);
    if (left > 0 && !lost) {
        NT_INFO("rebalance: finishing %zu in-flight jobs of %d revoked partitions", left,
                parts->cnt);
        bool was_draining = w->draining;
        w->draining = true; /* no batch linger while draining */
        while (left > 0 && nt_clock_mono_ms() < deadline && !w->fatal) {
            nt_loop_run_once(w->loop, 20);
            rd_kafka_poll(w->producer, 0);
            left = revoking_jobs(w, parts);
        }
        w->draining = was_draining;
    }
    if (left > 0)
        NT_WARN("rebalance: %zu jobs not finished in time; their offsets are not committed and "
                "they will be redelivered",
                left);
    if (!lost) {
        store_offsets(w);
        rd_kafka_topic_partition_list_t *commit = rd_kafka_topic_partition_list_new(parts->cnt);
        for (int i = 0; i < parts->cnt; i++) {
            int t = topic_index(w, parts->elems[i].topic);
            tpart_t *tp = t >= 0 ? tp_get(w, t, parts->elems[i].partition) : NULL;
            if (tp != NULL && tp->active && tp->trk.committable >= 0)
                rd_kafka_topic_partition_list_add(commit, parts->elems[i].topic,
                                                  parts->elems[i].partition)
                    ->offset = tp->trk.committable;
        }
        if (commit->cnt > 0) {
            rd_kafka_resp_err_t err = rd_kafka_commit(w->consumer, commit, 0);
            if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                NT_WARN("rebalance: commit: %s", rd_kafka_err2str(err));
        }
        rd_kafka_topic_partition_list_destroy(commit);
    }
    for (int i = 0; i < parts->cnt; i++) {
        int t = topic_index(w, parts->elems[i].topic);
        tpart_t *tp = t >= 0 ? tp_get(w, t, parts->elems[i].partition) : NULL;
        if (tp == NULL)
            continue;
        w->tps[t][parts->elems[i].partition] = NULL;
        if (tp->active) {
            tp->active = false;
            tp_unref(w, tp);
        }
    }
    w->in_rebalance = false;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    nt_worker_t *w = opaque;
    bool coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        for (int i = 0; i < parts->cnt; i++) {
            int t = topic_index(w, parts->elems[i].topic);
            if (t < 0 || tp_create(w, t, parts->elems[i].partition) == NULL)
                NT_ERROR("rebalance: cannot track %s [%d]", parts->elems[i].topic,
                         (int)parts->elems[i].partition);
        }
        rd_kafka_error_t *error = NULL;
        rd_kafka_resp_err_t aerr = RD_KAFKA_RESP_ERR_NO_ERROR;
        if (coop)
            error = rd_kafka_incremental_assign(rk, parts);
        else
            aerr = rd_kafka_assign(rk, parts);
        if (error != NULL) {
            NT_ERROR("rebalance: assign: %s", rd_kafka_error_string(error));
            rd_kafka_error_destroy(error);
        } else if (aerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
            NT_ERROR("rebalance: assign: %s", rd_kafka_err2str(aerr));
        }
        /* a partition paused in an earlier assignment stays paused */
        if (w->window_paused)
            rd_kafka_pause_partitions(rk, parts);
        else
            rd_kafka_resume_partitions(rk, parts);
        NT_INFO("rebalance: %d partitions assigned (%s)", parts->cnt,
                coop ? "cooperative" : "eager");
        return;
    }
    if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        bool lost = rd_kafka_assignment_lost(rk);
        NT_INFO("rebalance: %d partitions %s", parts->cnt, lost ? "lost" : "revoked");
        revoke_partitions(w, parts, lost);
        if (coop) {
            rd_kafka_error_t *error = rd_kafka_incremental_unassign(rk, parts);
            if (error != NULL) {
                NT_ERROR("rebalance: unassign: %s", rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
            }
        } else {
            rd_kafka_assign(rk, NULL);
        }
        return;
    }
    NT_ERROR("rebalance: %s", rd_kafka_err2str(err));
    rd_kafka_assign(rk, NULL);
}

static int stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk;
    nt_worker_t *w = opaque;
    nt_metrics_kafka_stats(w->metrics, json, len);
    return 0; /* librdkafka frees json */
}

/* ---- operations: /metrics, /healthz, /readyz ---- */

static size_t assigned_partitions(nt_worker_t *w)
{
    size_t n = 0;
    for (int t = 0; t < w->ntopics; t++)
        for (int32_t p = 0; p < w->ntps[t]; p++)
            if (w->tps[t][p] != NULL && w->tps[t][p]->active)
                n++;
    return n;
}

/* /readyz: not ready after a fatal Kafka error, while draining, while
 * PostgreSQL is not connected or commits nothing (worker.ready_stall_s), and
 * before any partition is assigned. */
static bool worker_not_ready(void *arg, char *why, size_t whysz)
{
    nt_worker_t *w = arg;
    int64_t stall_ms = writer_stalled_ms(w->writer);
    int64_t cstall_ms = writer_stalled_ms(w->claimer);
    if (cstall_ms > stall_ms)
        stall_ms = cstall_ms;
    const char *reason = kafka_fatal(w) ? "Kafka fatal error: restarting"
                         : w->draining  ? "draining"
                         : !writer_is_connected(w->writer) || !writer_is_connected(w->claimer)
                             ? "PostgreSQL not connected"
                         : stall_ms >= (int64_t)w->cfg->worker_ready_stall_s * 1000
                             ? "PostgreSQL commits nothing"
                         : assigned_partitions(w) == 0 ? "no partitions assigned"
                                                       : NULL;
    if (reason == NULL)
        return false;
    if (stall_ms > 0)
        snprintf(why, whysz, "%s (writes waiting for %lld ms)", reason, (long long)stall_ms);
    else
        snprintf(why, whysz, "%s", reason);
    return true;
}

static int worker_metrics(void *arg, nt_buf_t *out)
{
    nt_worker_t *w = arg;
    for (size_t i = 0; i < w->nplats; i++)
        nt_metrics_set_platform(
            w->metrics, i, breaker_tripped(&w->plats[i]),
            w->plats[i].rl.max_rate > 0 || w->plats[i].rl.adaptive ? w->plats[i].rl.rate : 0);
    return nt_metrics_render(w->metrics, out);
}

static int start_ops(nt_worker_t *w, nt_err_t *err)
{
    if (w->cfg->worker_metrics_listen[0] == '\0')
        return NT_OK;
    w->ops = nt_ops_new(w->loop, w->cfg->worker_metrics_listen, "worker.metrics_listen",
                        worker_not_ready, worker_metrics, w, err);
    return w->ops != NULL ? NT_OK : (err ? err->code : NT_ERR);
}

/* ---- lifecycle ---- */

static int pipe_nonblock(int fds[2])
{
    if (pipe(fds) != 0)
        return NT_EIO;
    for (int i = 0; i < 2; i++) {
        int fl = fcntl(fds[i], F_GETFL);
        if (fl < 0 || fcntl(fds[i], F_SETFL, fl | O_NONBLOCK) != 0 ||
            fcntl(fds[i], F_SETFD, FD_CLOEXEC) != 0)
            return NT_EIO;
    }
    return NT_OK;
}

/* Platforms with a configured rate share one token bucket in PostgreSQL:
 * make sure each has its row, and put their limiters in leased mode. */
static int ensure_buckets(nt_worker_t *w, nt_err_t *err)
{
    nt_pg_t *pg = NULL;
    int rc = NT_OK;
    for (size_t i = 0; i < w->nplats && rc == NT_OK; i++) {
        plat_t *ps = &w->plats[i];
        double qps = nt_platform_qps(ps->p);
        if (qps <= 0)
            continue;
        if (pg == NULL &&
            (pg = nt_pg_connect(w->cfg->pg_conninfo, w->cfg->pg_connect_timeout_s, err)) == NULL)
            return NT_EIO;
        char q[32], b[32];
        snprintf(q, sizeof(q), "%.3f", qps);
        snprintf(b, sizeof(b), "%d", nt_platform_burst(ps->p) > 0 ? nt_platform_burst(ps->p) : 1);
        const char *params[] = {nt_platform_id(ps->p), q, b};
        rc = nt_pg_run(pg,
                       "INSERT INTO rate_buckets (platform, qps, burst, tokens)"
                       " VALUES ($1, $2::float8, $3::float8, $3::float8)"
                       " ON CONFLICT (platform) DO UPDATE SET qps = EXCLUDED.qps,"
                       " burst = EXCLUDED.burst",
                       3, params, err);
        ps->leased = true;
        nt_ratelimit_grant(&ps->rl, 0, nt_clock_mono_us(), 0);
    }
    nt_pg_free(pg);
    return rc;
}

/* A dead letter always fits: at most job.max_bytes of the message (anything
 * longer was poison for its size alone), and room for the headers under the
 * producer's message.max.bytes (librdkafka's default 1,000,000). */
static size_t dead_letter_cap(const nt_config_t *cfg)
{
    long max_msg = 1000000;
    const char *v = nt_config_kafka_get(cfg, "message.max.bytes");
    if (v != NULL && strtol(v, NULL, 10) > 0)
        max_msg = strtol(v, NULL, 10);
    long cap = max_msg - DEAD_HEADROOM;
    if (cap > cfg->job_max_bytes)
        cap = cfg->job_max_bytes;
    return cap < 1024 ? 1024 : (size_t)cap;
}

nt_worker_t *nt_worker_new(const nt_config_t *cfg, const nt_platforms_t *platforms,
                           volatile sig_atomic_t *stop, nt_err_t *err)
{
    nt_worker_t *w = calloc(1, sizeof(*w));
    if (w == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        return NULL;
    }
    w->cfg = cfg;
    w->platforms = platforms;
    w->stop = stop;
    w->cq_pipe[0] = w->cq_pipe[1] = w->pq_pipe[0] = w->pq_pipe[1] = -1;
    nt_loop_timer_init(&w->reproduce_timer);
    nt_loop_timer_init(&w->rewrite_timer);
    if (cfg->worker_id[0]) {
        snprintf(w->worker_id, sizeof(w->worker_id), "%s", cfg->worker_id);
    } else {
        char host[64] = "worker";
        gethostname(host, sizeof(host));
        host[sizeof(host) - 1] = '\0';
        snprintf(w->worker_id, sizeof(w->worker_id), "%s-%d", host, (int)getpid());
    }
    if (nt_kafka_topics_init(&w->topics, cfg, err) != NT_OK)
        goto fail;
    w->dead_cap = dead_letter_cap(cfg);
    w->retry_after_cap_ms = (int64_t)cfg->worker_retry_after_max_s * 1000;
    if (w->retry_after_cap_ms > w->topics.tiers[w->topics.ntiers - 1].delay_ms)
        w->retry_after_cap_ms = w->topics.tiers[w->topics.ntiers - 1].delay_ms;
    w->topic_names[w->ntopics++] = w->topics.check;
    w->topic_names[w->ntopics++] = w->topics.tag;
    w->topic_names[w->ntopics++] = w->topics.appeal;
    for (size_t i = 0; i < w->topics.ntiers; i++)
        w->topic_names[w->ntopics++] = w->topics.tiers[i].topic;

    if ((w->loop = nt_loop_new(err)) == NULL)
        goto fail;
    w->nplats = nt_platforms_count(platforms);
    w->plats = calloc(w->nplats, sizeof(*w->plats));
    w->keys = nt_strmap_new();
    if (w->plats == NULL || w->keys == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < w->nplats; i++) {
        plat_t *ps = &w->plats[i];
        ps->w = w;
        ps->p = nt_platforms_at(platforms, i);
        ps->batch_max = nt_platform_batch_max(ps->p);
        nt_breaker_init(&ps->br, BREAKER_THRESHOLD, BREAKER_OPEN_MS, BREAKER_OPEN_MAX_MS);
        nt_ratelimit_init(&ps->rl, nt_platform_qps(ps->p), nt_platform_burst(ps->p),
                          nt_clock_mono_us());
        nt_loop_timer_init(&ps->timer);
    }
    /* the jobs per second the platforms allow in total (a batched check
     * call carries up to batch_max jobs); unknown when one is unlimited */
    for (size_t i = 0; i < w->nplats; i++) {
        double qps = nt_platform_qps(w->plats[i].p);
        if (qps <= 0) {
            w->rate_cap = 0;
            break;
        }
        int per_call = w->plats[i].batch_max > 1 ? w->plats[i].batch_max : 1;
        w->rate_cap += qps * per_call;
    }
    int floor = cfg->worker_min_inflight < cfg->worker_max_inflight ? cfg->worker_min_inflight
                                                                    : cfg->worker_max_inflight;
    nt_window_init(&w->win, floor, cfg->worker_max_inflight, 1000, nt_loop_now(w->loop) * 1000);
    w->metrics = nt_metrics_new(platforms, err);
    if (w->metrics == NULL)
        goto fail;
    nt_http_opts_t hopts = {.max_body = (size_t)cfg->worker_http_max_body,
                            .max_host_conns = cfg->worker_http_max_conns,
                            .max_total_conns = cfg->worker_http_max_conns * (long)w->nplats};
    if ((w->http = nt_http_new(w->loop, &hopts, err)) == NULL)
        goto fail;
    writer_opts_t wopts = {.conninfo = cfg->pg_conninfo,
                           .worker_id = w->worker_id,
                           .batch_max = cfg->worker_batch_max,
                           .linger_ms = cfg->worker_batch_linger_ms,
                           .max_platforms = w->nplats,
                           .connect_timeout_s = cfg->pg_connect_timeout_s};
    writer_cbs_t wcbs = {.arg = w,
                         .on_claimed = on_claimed,
                         .on_written = on_written,
                         .on_new_mark = on_new_mark,
                         .on_leased = on_leased};
    if ((w->writer = writer_new(w->loop, &wopts, &wcbs, err)) == NULL ||
        (w->claimer = writer_new(w->loop, &wopts, &wcbs, err)) == NULL)
        goto fail;
    if (ensure_buckets(w, err) != NT_OK)
        goto fail;
    if (start_ops(w, err) != NT_OK)
        goto fail;

    if ((w->producer = nt_kafka_producer_new(cfg, dr_cb, w, err)) == NULL)
        goto fail;
    if ((w->consumer = nt_kafka_consumer_new(cfg, cfg->worker_group_id, rebalance_cb, stats_cb, w,
                                             err)) == NULL)
        goto fail;
    rd_kafka_poll_set_consumer(w->consumer);
    if (pipe_nonblock(w->cq_pipe) != NT_OK || pipe_nonblock(w->pq_pipe) != NT_OK) {
        nt_err_set(err, NT_EIO, false, "pipe: %s", strerror(errno));
        goto fail;
    }
    w->cq = rd_kafka_queue_get_consumer(w->consumer);
    w->pq = rd_kafka_queue_get_main(w->producer);
    rd_kafka_queue_io_event_enable(w->cq, w->cq_pipe[1], "1", 1);
    rd_kafka_queue_io_event_enable(w->pq, w->pq_pipe[1], "1", 1);
    if (nt_loop_io_add(w->loop, w->cq_pipe[0], NT_LOOP_READ, on_consumer_fd, w) != NT_OK ||
        nt_loop_io_add(w->loop, w->pq_pipe[0], NT_LOOP_READ, on_producer_fd, w) != NT_OK) {
        nt_err_set(err, NT_EIO, false, "cannot watch the Kafka queues");
        goto fail;
    }
    rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(w->ntopics);
    for (int i = 0; i < w->ntopics; i++)
        rd_kafka_topic_partition_list_add(sub, w->topic_names[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t kerr = rd_kafka_subscribe(w->consumer, sub);
    rd_kafka_topic_partition_list_destroy(sub);
    if (kerr != RD_KAFKA_RESP_ERR_NO_ERROR) {
        nt_err_set(err, NT_EIO, false, "kafka subscribe: %s", rd_kafka_err2str(kerr));
        goto fail;
    }
    NT_INFO("worker %s: group %s, %d topics, %zu platforms, assignor %s, librdkafka %s",
            w->worker_id, cfg->worker_group_id, w->ntopics, w->nplats, nt_kafka_assignor(),
            rd_kafka_version_str());
    return w;
fail:
    nt_worker_free(w);
    return NULL;
}

static void log_progress(nt_worker_t *w, bool force)
{
    int64_t now = nt_loop_now(w->loop);
    if (!force && now - w->last_progress_ms < 10000)
        return;
    w->last_progress_ms = now;
    uint64_t ok = 0, failed = 0, retried = 0, dead = 0, dup = 0;
    for (int t = 0; t <= NT_JOB_NTYPES; t++) {
        ok += w->st.outcome[t][NT_METRIC_OK];
        failed += w->st.outcome[t][NT_METRIC_FAILED];
        retried += w->st.outcome[t][NT_METRIC_RETRIED];
        dead += w->st.outcome[t][NT_METRIC_DEAD];
        dup += w->st.outcome[t][NT_METRIC_DUPLICATE];
    }
    NT_INFO("progress: received=%llu ok=%llu failed=%llu retried=%llu dead=%llu duplicate=%llu "
            "in_flight=%zu window=%d calls=%llu http_in_flight=%zu writes_pending=%zu "
            "ticket_conflicts=%llu",
            (unsigned long long)w->st.received, (unsigned long long)ok, (unsigned long long)failed,
            (unsigned long long)retried, (unsigned long long)dead, (unsigned long long)dup,
            w->outstanding, w->win.size, (unsigned long long)w->st.calls, nt_http_inflight(w->http),
            writer_pending(w->writer) + writer_pending(w->claimer),
            (unsigned long long)w->st.conflicts);
}

/* True once librdkafka raised a fatal error on either client: the worker
 * stops (readiness fails meanwhile) and exits non-zero. */
static bool kafka_fatal(nt_worker_t *w)
{
    if (!w->fatal && (nt_kafka_fatal(w->producer, NULL, 0) || nt_kafka_fatal(w->consumer, NULL, 0)))
        w->fatal = true;
    return w->fatal;
}

int nt_worker_run(nt_worker_t *w)
{
    while (!*w->stop && !w->fatal) {
        if (nt_loop_run_once(w->loop, 100) < 0) {
            NT_ERROR("event loop failed: %s", strerror(errno));
            w->fatal = true;
            break;
        }
        poll_consumer(w);
        rd_kafka_poll(w->producer, 0);
        if (kafka_fatal(w)) /* logged once by the error callback */
            break;
        store_offsets(w);
        nt_metrics_set_window(w->metrics, (size_t)w->win.size);
        nt_metrics_set_gauges(w->metrics, w->outstanding, nt_http_inflight(w->http),
                              writer_pending(w->writer) + writer_pending(w->claimer),
                              writer_is_connected(w->writer) && writer_is_connected(w->claimer));
        uint64_t stmts[2], rows[2], fails[2];
        writer_stats(w->writer, &stmts[0], &rows[0], &fails[0]);
        writer_stats(w->claimer, &stmts[1], &rows[1], &fails[1]);
        nt_metrics_set_writer(w->metrics, stmts[0] + stmts[1], rows[0] + rows[1],
                              fails[0] + fails[1]);
        log_progress(w, false);
    }
    if (w->fatal)
        NT_ERROR("stopping after a fatal error: %zu jobs in flight are abandoned (redelivered "
                 "to the next owner of their partitions)",
                 w->outstanding);
    else
        NT_INFO("stopping: %zu jobs in flight, draining for up to %d ms", w->outstanding,
                w->cfg->worker_drain_timeout_ms);
    w->draining = true;
    alarm((unsigned)(w->cfg->worker_drain_timeout_ms / 1000 + 30)); /* the watchdog */
    /* The shutdown order librdkafka requires (rdkafka.h): the consumer queue
     * handle taken with rd_kafka_queue_get_consumer() is destroyed before
     * rd_kafka_consumer_close(). Its wake-up pipe goes first. */
    nt_loop_io_del(w->loop, w->cq_pipe[0]);
    rd_kafka_queue_io_event_enable(w->cq, -1, NULL, 0);
    rd_kafka_queue_destroy(w->cq);
    w->cq = NULL;
    /* Closing the consumer revokes every partition: the rebalance callback
     * finishes in-flight jobs (or abandons them at the deadline; at once
     * after a fatal error), stores and commits offsets, and the member
     * leaves the group. */
    rd_kafka_resp_err_t err = rd_kafka_consumer_close(w->consumer);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
        NT_WARN("kafka: consumer close: %s", rd_kafka_err2str(err));
    /* follow-up appeals and anything else still being produced (not after
     * a fatal error: a fatal producer delivers nothing more) */
    int64_t deadline = nt_clock_mono_ms() + (w->fatal ? 0 : 5000);
    while (rd_kafka_outq_len(w->producer) > 0 && nt_clock_mono_ms() < deadline) {
        rd_kafka_poll(w->producer, 50);
        nt_loop_run_once(w->loop, 0);
    }
    log_progress(w, true);
    return w->fatal ? NT_ERR : NT_OK;
}

void nt_worker_free(nt_worker_t *w)
{
    if (w == NULL)
        return;
    if (w->consumer != NULL)
        rd_kafka_destroy(w->consumer);
    if (w->cq != NULL)
        rd_kafka_queue_destroy(w->cq);
    if (w->pq != NULL)
        rd_kafka_queue_destroy(w->pq);
    if (w->producer != NULL) {
        rd_kafka_flush(w->producer, 5000);
        rd_kafka_destroy(w->producer);
    }
    /* jobs still alive at this point were abandoned; nothing is stored */
    for (int t = 0; t < MAX_TOPICS; t++) {
        for (int32_t p = 0; p < w->ntps[t]; p++) {
            tpart_t *tp = w->tps[t][p];
            if (tp == NULL)
                continue;
            while (tp->hold_head != NULL) {
                wjob_t *job = tp->hold_head;
                tp->hold_head = job->next;
                job_free(job);
            }
            nt_offsets_free(&tp->trk);
            free(tp);
        }
        free(w->tps[t]);
    }
    nt_ops_free(w->ops);
    writer_free(w->claimer);
    writer_free(w->writer);
    nt_http_free(w->http);
    while (w->call_pool != NULL) {
        call_t *c = w->call_pool;
        w->call_pool = c->next;
        nt_buf_free(&c->url);
        nt_buf_free(&c->body);
        free(c->jobs);
        free(c->numbers);
        free(c);
    }
    if (w->plats != NULL && w->loop != NULL)
        for (size_t i = 0; i < w->nplats; i++)
            nt_loop_timer_stop(w->loop, &w->plats[i].timer);
    if (w->loop != NULL) {
        nt_loop_timer_stop(w->loop, &w->reproduce_timer);
        nt_loop_timer_stop(w->loop, &w->rewrite_timer);
    }
    free(w->plats);
    nt_strmap_free(w->keys);
    /* jobs waiting for a produce or a write again: abandoned too */
    jlist_t *waiting[] = {&w->reproduce, &w->rewrite};
    for (size_t i = 0; i < NT_ARRAY_LEN(waiting); i++) {
        wjob_t *job;
        while ((job = jl_pop(waiting[i])) != NULL)
            job_free(job);
    }
    while (w->free_jobs != NULL) {
        wjob_t *job = w->free_jobs;
        w->free_jobs = job->next;
        job_free(job);
    }
    nt_metrics_free(w->metrics);
    for (int i = 0; i < 2; i++) {
        if (w->cq_pipe[i] >= 0)
            close(w->cq_pipe[i]);
        if (w->pq_pipe[i] >= 0)
            close(w->pq_pipe[i]);
    }
    nt_loop_free(w->loop);
    free(w);
}
