/*
 * writer.c — batched asynchronous PostgreSQL writes for the worker (see
 * writer.h).
 *
 * One connection in libpq's pipeline mode, driven from the event loop:
 * connect (PQconnectStart/PQconnectPoll), prepare the statements, then send
 * (PQsendQueryPrepared + PQpipelineSync + PQflush) up to PIPE_MAX statements
 * without waiting for the ones before, and read (PQconsumeInput +
 * PQgetResult) their answers in order. Each statement is one job kind's
 * batch followed by its own sync, so it still commits on its own (at the
 * sync, which is when its jobs are handed back) and one failing aborts no
 * other: a claim batch no longer waits for the result batch before it to
 * come back before it is sent. A job's result and its ledger row are written
 * by the same statement, so they commit together.
 */
#include "writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "clock.h"
#include "log.h"
#include "pg.h"
#include "strmap.h"
#include "writer_sql.h"

#define NARRAYS              15 /* the most columns of any kind (writer_new checks) */
#define RECONNECT_MAX_MS     5000
#define WRITE_BACKOFF_MS     200  /* first wait after a transient failure */
#define WRITE_BACKOFF_MAX_MS 2000 /* ... doubling up to this */
#define SPLIT_AFTER          3    /* transient failures of one batch before it is split */
#define ISOLATE_AFTER                                                                              \
    3                          /* transient failures of one row, while others of its               \
                                * kind are written, before it is failed */
#define WARN_INTERVAL_MS 10000 /* one warning per kind and interval while failing */
#define PIPE_MAX         4     /* statements in flight at once (pipeline mode) */

/* ---- batch kinds ---- */

/* Batch kinds: index 0 is the claim (WR_NONE has nothing to write), then the
 * wr_kind_t values. Each kind is one row of kinds[] (defined below its row
 * encoders and result handlers): adding a kind is a wr_kind_t value, its
 * statement in writer_sql.h, a row encoder and a row in the table. */
#define K_CLAIM   0
#define NK        WR_NKINDS
#define K_LEASE   NK       /* not a job list: the lease table */
#define NPREPARED (NK + 1) /* the kinds' statements and the lease */

typedef struct lease_s {
    char *id;
    double qps, burst, want;
    bool pending;  /* asked, not yet sent */
    bool inflight; /* in the statement being answered */
} lease_t;

typedef struct wlist_s {
    wjob_t *head, *tail;
    size_t n;
    int64_t since_ms;      /* when the list became non-empty */
    int64_t hold_until_ms; /* after a transient failure: nothing sent before */
    int fails;             /* transient failures in a row of what it sent */
} wlist_t;

/* A statement sent and not yet answered: its batch (or the leases). */
typedef struct stmt_s {
    int kind;         /* a batch kind, or K_LEASE */
    bool solo;        /* its jobs came from the kind's solo list */
    bool ended;       /* its results are in; its sync (the commit) is next */
    wlist_t jobs;     /* a batch's jobs (the writer's until answered) */
    int64_t since_us; /* sent */
    PGresult *res;    /* its last result so far */
} stmt_t;

typedef struct kind_s {
    const char *name; /* in logs */
    const char *stmt; /* prepared statement name */
    const char *sql;  /* writer_sql.h */
    int narrays;      /* $1..$narrays: one array per column */
    bool worker_arg;  /* $narrays+1: the worker id */
    /* appends one job's row to the arrays; 0 or a buf error */
    int (*add_row)(nt_pg_array_t *a, const wjob_t *job);
    /* the batch committed: hand its jobs back (the list is the caller's) */
    void (*done)(writer_t *wr, PGresult *res, wlist_t *batch);
    /* one job cannot be written: hand it back with the reason */
    void (*fail)(writer_t *wr, wjob_t *job, const char *error);
} kind_t;

static const kind_t kinds[NK];

struct writer_s {
    nt_loop_t *loop;
    writer_opts_t opts;
    char *conninfo;
    char *worker_id;
    writer_cbs_t cbs;

    PGconn *conn;
    int sock;
    bool connected;
    bool connecting;
    PostgresPollingStatusType poll_status;
    nt_timer_t reconnect_timer;
    int64_t backoff_ms;

    wlist_t lists[NK];
    wlist_t solo[NK];

    bool preparing; /* after a connect: statements being prepared, one at a time */
    bool prep_busy; /* ... and one of them sent */
    int prep_idx;
    PGresult *prep_res;
    stmt_t pipe[PIPE_MAX]; /* statements in flight, oldest first from pipe_head */
    int pipe_head, pipe_n;
    bool want_write;

    nt_timer_t linger_timer; /* the next batch due or hold over */
    nt_pg_array_t arrs[NARRAYS];
    lease_t *leases;
    size_t nleases;
    nt_strmap_t *idmap;
    wjob_t **snap; /* batch_max entries: a claim batch while calling back */

    uint64_t stat_statements, stat_rows, stat_failures;
    uint64_t ok_seq[NK];      /* statements of each kind committed */
    int64_t warned_ms[NK];    /* last failure warning per kind */
    uint64_t quiet_fails[NK]; /* failures not warned about since */
    int64_t last_ok_ms;       /* last statement committed */
    int64_t work_since_ms;    /* when the writer last went from idle to pending */
};

static void maybe_send(writer_t *wr);
static void finish_leases(writer_t *wr, PGresult *res, const char *error);
static void drop_connection(writer_t *wr, const char *why);
static void start_connect(writer_t *wr);

/* ---- lists ---- */

static void list_push(wlist_t *l, wjob_t *job, int64_t now)
{
    job->next = NULL;
    if (l->tail != NULL)
        l->tail->next = job;
    else {
        l->head = job;
        l->since_ms = now;
    }
    l->tail = job;
    l->n++;
}

/* Moves every job of src to the front of dst. */
static void list_prepend_all(wlist_t *dst, wlist_t *src)
{
    if (src->n == 0)
        return;
    src->tail->next = dst->head;
    dst->head = src->head;
    if (dst->tail == NULL)
        dst->tail = src->tail;
    dst->n += src->n;
    dst->since_ms = src->since_ms;
    memset(src, 0, sizeof(*src));
}

static wjob_t *list_pop(wlist_t *l)
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

/* ---- the pipeline: statements in flight, in the order they were sent ---- */

static stmt_t *pipe_at(writer_t *wr, int i)
{
    return &wr->pipe[(wr->pipe_head + i) % PIPE_MAX];
}

/* A new statement at the end of the pipeline (the caller checked pipe_n). */
static stmt_t *pipe_push(writer_t *wr, int kind, bool solo)
{
    stmt_t *st = pipe_at(wr, wr->pipe_n++);
    memset(st, 0, sizeof(*st));
    st->kind = kind;
    st->solo = solo;
    st->since_us = nt_clock_mono_us();
    return st;
}

/* Forgets the oldest statement (its jobs were moved out by the caller). */
static void pipe_pop(writer_t *wr)
{
    stmt_t *st = pipe_at(wr, 0);
    if (st->res != NULL)
        PQclear(st->res);
    memset(st, 0, sizeof(*st));
    wr->pipe_head = (wr->pipe_head + 1) % PIPE_MAX;
    wr->pipe_n--;
}

static bool lease_in_pipe(writer_t *wr)
{
    for (int i = 0; i < wr->pipe_n; i++)
        if (pipe_at(wr, i)->kind == K_LEASE)
            return true;
    return false;
}

/* ---- connection ---- */

static void on_socket(nt_loop_t *loop, int fd, unsigned events, void *arg);

static void watch_socket(writer_t *wr)
{
    unsigned ev = NT_LOOP_READ;
    if (wr->connecting && wr->poll_status == PGRES_POLLING_WRITING)
        ev = NT_LOOP_WRITE;
    else if (!wr->connecting && wr->want_write)
        ev |= NT_LOOP_WRITE;
    int fd = PQsocket(wr->conn);
    if (fd != wr->sock) {
        if (wr->sock >= 0)
            nt_loop_io_del(wr->loop, wr->sock);
        wr->sock = -1;
        if (fd >= 0 && nt_loop_io_add(wr->loop, fd, ev, on_socket, wr) == NT_OK)
            wr->sock = fd;
        return;
    }
    if (fd >= 0 && nt_loop_io_mod(wr->loop, fd, ev) != NT_OK)
        NT_ERROR("writer: cannot watch the PostgreSQL socket");
}

static void on_reconnect_timer(nt_loop_t *loop, void *arg)
{
    (void)loop;
    start_connect(arg);
}

static void drop_connection(writer_t *wr, const char *why)
{
    if (wr->sock >= 0)
        nt_loop_io_del(wr->loop, wr->sock);
    wr->sock = -1;
    if (wr->conn != NULL)
        PQfinish(wr->conn);
    wr->conn = NULL;
    bool was_connected = wr->connected;
    wr->connected = false;
    wr->connecting = false;
    wr->want_write = false;
    if (wr->prep_res != NULL) {
        PQclear(wr->prep_res);
        wr->prep_res = NULL;
    }
    wr->preparing = false;
    wr->prep_busy = false;
    /* the batches in flight are sent again after reconnecting, in the order
     * they had (the newest goes back to the front of its list first); leases
     * are answered with an error (the worker falls back to its partition
     * share). Whether a batch committed before the connection broke is not
     * known: its statement is idempotent, so it is simply written again. */
    for (int i = wr->pipe_n - 1; i >= 0; i--) {
        stmt_t *st = pipe_at(wr, i);
        if (st->kind == K_LEASE)
            finish_leases(wr, NULL, why);
        else
            list_prepend_all(st->solo ? &wr->solo[st->kind] : &wr->lists[st->kind], &st->jobs);
        if (st->res != NULL)
            PQclear(st->res);
        memset(st, 0, sizeof(*st));
    }
    wr->pipe_n = 0;
    wr->pipe_head = 0;
    if (was_connected)
        NT_WARN("writer: PostgreSQL connection lost (%s); reconnecting", why);
    if (nt_loop_timer_start(wr->loop, &wr->reconnect_timer, wr->backoff_ms, on_reconnect_timer,
                            wr) != NT_OK)
        NT_ERROR("writer: cannot arm the reconnect timer");
    wr->backoff_ms = wr->backoff_ms * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : wr->backoff_ms * 2;
}

/* Pushes a statement just queued by PQsend* towards the server; what the
 * socket does not take now is sent when it becomes writable. */
static void flush_sent(writer_t *wr)
{
    int f = PQflush(wr->conn);
    if (f < 0) {
        drop_connection(wr, "send failed");
        return;
    }
    wr->want_write = f == 1;
    watch_socket(wr);
}

/* A session setting sent before the statements are prepared. The batches
 * join arrays of hundreds of rows against tables that a run can grow from
 * empty to millions of rows: a generic plan, cached once it costs no more
 * than the first custom ones, keeps the row estimates of the moment it was
 * made (a few rows, sequential scans) until the next ANALYZE invalidates it.
 * With it, one result batch ran for 30 s and more while its tables grew
 * (the benchmark's intermittent 1,300 jobs/s runs). A custom plan per batch
 * costs well under a millisecond against hundreds of rows written. And no
 * JIT: a batch statement whose row estimates run high (a CTE over a table
 * never analyzed) crossed jit_above_cost, and compiling it took 1.9 s of each
 * 2 s statement (the benchmark fell to 50 jobs/s). And no sequential scan:
 * every statement here finds its rows by key (a batch's job ids, numbers and
 * platforms), but even custom plans hashed the whole jobs and
 * number_platforms tables for a batch of a few hundred rows while they held
 * less than a million or so (a hash join's cost beat 500 index probes at
 * random_page_cost 4): 60 of a 63 ms claim and 100 of a 150 ms check were
 * those scans at 50,000 registrations, growing with the table and with its
 * dead rows (once, on a stack full of earlier runs' deleted rows, check
 * batches took 3.4 s each). Tables without an
 * index (history_settings, one row) are still read sequentially: the
 * setting only makes such a plan the last resort. */
static const char sql_session[] =
    "SET plan_cache_mode = force_custom_plan; SET jit = off; SET enable_seqscan = off";

/* Parameters of a kind's statement: its arrays and maybe the worker id. */
static int nparams_of(const kind_t *kd)
{
    return kd->narrays + (kd->worker_arg ? 1 : 0);
}

/* Prepares the next statement (each is parsed once per connection and
 * planned per batch); after the last, normal sending starts. */
static void send_prepare(writer_t *wr)
{
    if (wr->prep_idx == NPREPARED) {
        wr->preparing = false;
        if (PQenterPipelineMode(wr->conn) != 1) {
            drop_connection(wr, "cannot enter pipeline mode");
            return;
        }
        maybe_send(wr);
        return;
    }
    int i = wr->prep_idx;
    wr->prep_busy = true;
    int sent;
    if (i < 0)
        sent = PQsendQuery(wr->conn, sql_session);
    else if (i == K_LEASE)
        sent = PQsendPrepare(wr->conn, "nt_lease", wsql_lease, WSQL_LEASE_NPARAMS, NULL);
    else
        sent = PQsendPrepare(wr->conn, kinds[i].stmt, kinds[i].sql, nparams_of(&kinds[i]), NULL);
    if (!sent) {
        drop_connection(wr, "cannot prepare a statement");
        return;
    }
    flush_sent(wr);
}

static void connect_step(writer_t *wr)
{
    wr->poll_status = PQconnectPoll(wr->conn);
    if (wr->poll_status == PGRES_POLLING_OK) {
        wr->connecting = false;
        wr->connected = true; /* backoff_ms is reset by the first statement committed: a
                               * server that takes connections but refuses every write
                               * (read-only) is not hammered */
        if (PQsetnonblocking(wr->conn, 1) != 0) {
            drop_connection(wr, "cannot make the connection non-blocking");
            return;
        }
        NT_INFO("writer: connected to PostgreSQL");
        watch_socket(wr);
        wr->preparing = true;
        wr->prep_idx = -1; /* the session settings first */
        send_prepare(wr);
        return;
    }
    if (wr->poll_status == PGRES_POLLING_FAILED) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(wr->conn));
        msg[strcspn(msg, "\n")] = '\0';
        drop_connection(wr, msg);
        return;
    }
    watch_socket(wr);
}

static void start_connect(writer_t *wr)
{
    if (wr->conn != NULL)
        return;
    wr->conn = PQconnectStart(wr->conninfo);
    if (wr->conn == NULL || PQstatus(wr->conn) == CONNECTION_BAD) {
        drop_connection(wr, "cannot start a connection");
        return;
    }
    wr->connecting = true;
    wr->poll_status = PGRES_POLLING_WRITING;
    connect_step(wr);
}

/* ---- building statements ---- */

static int add_time(nt_pg_array_t *a, int64_t ms)
{
    char ts[NT_RFC3339_LEN];
    nt_clock_format(ms, ts);
    return nt_pg_array_add_str(a, ts);
}

static int marks_json(const nt_check_state_t *st, char *out, size_t outsz)
{
    size_t o = 0;
    int n = snprintf(out, outsz, "[");
    if (n < 0 || (size_t)n >= outsz)
        return NT_ETOOBIG;
    o = (size_t)n;
    for (size_t i = 0; i < st->nmarks; i++) {
        n = snprintf(out + o, outsz - o, "%s{\"type\":\"%s\",\"count\":%d}", i ? "," : "",
                     st->marks[i].type, st->marks[i].count);
        if (n < 0 || (size_t)n >= outsz - o)
            return NT_ETOOBIG;
        o += (size_t)n;
    }
    n = snprintf(out + o, outsz - o, "]");
    return n < 0 || (size_t)n >= outsz - o ? NT_ETOOBIG : NT_OK;
}

/* Row encoders, one per kind: each appends one job's row to the arrays of
 * its statement (writer_sql.h gives the column order). */
#define ADD(expr)                                                                                  \
    do {                                                                                           \
        if (rc == NT_OK)                                                                           \
            rc = (expr);                                                                           \
    } while (0)

static const char *tenant_of(const nt_job_t *j)
{
    return j->tenant[0] ? j->tenant : NULL;
}

static int row_claim(nt_pg_array_t *a, const wjob_t *job)
{
    const nt_job_t *j = &job->job;
    int rc = NT_OK;
    ADD(nt_pg_array_add_str(&a[0], j->id));
    ADD(nt_pg_array_add_str(&a[1], nt_job_type_name(j->type)));
    ADD(nt_pg_array_add_str(&a[2], j->number));
    ADD(nt_pg_array_add_str(&a[3], j->platform));
    ADD(nt_pg_array_add_str(&a[4], tenant_of(j)));
    return rc;
}

static int row_check(nt_pg_array_t *a, const wjob_t *job)
{
    const nt_job_t *j = &job->job;
    const nt_check_state_t *st = &job->check;
    char marks[512];
    int rc = NT_OK;
    ADD(marks_json(st, marks, sizeof(marks)));
    ADD(nt_pg_array_add_str(&a[0], j->id));
    ADD(nt_pg_array_add_str(&a[1], j->number));
    ADD(nt_pg_array_add_str(&a[2], j->platform));
    ADD(add_time(&a[3], job->result_ms));
    ADD(nt_pg_array_add_str(&a[4], st->has_cert ? st->cert_status : NULL));
    ADD(st->has_score ? nt_pg_array_add_int(&a[5], st->trust_score) : nt_pg_array_add_null(&a[5]));
    for (int s = 0; s < NT_SURFACES; s++)
        ADD(nt_pg_array_add_str(&a[6 + s], st->has_label[s] ? st->label[s] : NULL));
    ADD(nt_pg_array_add_str(&a[9], marks));
    ADD(nt_pg_array_add_str(&a[10], tenant_of(j)));
    ADD(st->has_cert_expires ? add_time(&a[11], st->cert_expires_ms)
                             : nt_pg_array_add_null(&a[11]));
    return rc;
}

static int row_tag(nt_pg_array_t *a, const wjob_t *job)
{
    const nt_job_t *j = &job->job;
    int rc = NT_OK;
    ADD(nt_pg_array_add_str(&a[0], j->id));
    ADD(nt_pg_array_add_str(&a[1], j->number));
    ADD(nt_pg_array_add_str(&a[2], j->platform));
    ADD(nt_pg_array_add_str(&a[3], j->label));
    ADD(nt_pg_array_add_str(&a[4], job->ticket.ticket[0] ? job->ticket.ticket : NULL));
    ADD(nt_pg_array_add_str(&a[5], job->ticket.state));
    ADD(add_time(&a[6], job->result_ms));
    ADD(nt_pg_array_add_str(&a[7], tenant_of(j)));
    ADD(nt_pg_array_add_str(&a[8], job->ticket.reason[0] ? job->ticket.reason : NULL));
    return rc;
}

static int row_appeal(nt_pg_array_t *a, const wjob_t *job)
{
    const nt_job_t *j = &job->job;
    int rc = NT_OK;
    ADD(nt_pg_array_add_str(&a[0], j->id));
    ADD(nt_pg_array_add_str(&a[1], j->number));
    ADD(nt_pg_array_add_str(&a[2], j->platform));
    ADD(nt_pg_array_add_str(&a[3], j->mark_type));
    ADD(nt_pg_array_add_str(&a[4], job->ticket.ticket));
    ADD(nt_pg_array_add_str(&a[5], job->ticket.state));
    ADD(nt_pg_array_add_str(&a[6], nt_job_evidence(j)));
    ADD(add_time(&a[7], job->result_ms));
    ADD(nt_pg_array_add_str(&a[8], tenant_of(j)));
    return rc;
}

static int row_appeal_status(nt_pg_array_t *a, const wjob_t *job)
{
    const nt_job_t *j = &job->job;
    int rc = NT_OK;
    ADD(nt_pg_array_add_str(&a[0], j->id));
    ADD(nt_pg_array_add_str(&a[1], j->number));
    ADD(nt_pg_array_add_str(&a[2], j->platform));
    ADD(nt_pg_array_add_str(&a[3], j->ticket));
    ADD(nt_pg_array_add_str(&a[4], job->ticket.state));
    ADD(add_time(&a[5], job->result_ms));
    ADD(nt_pg_array_add_str(&a[6], tenant_of(j)));
    return rc;
}

static int row_tag_status(nt_pg_array_t *a, const wjob_t *job)
{
    const nt_job_t *j = &job->job;
    int rc = NT_OK;
    ADD(nt_pg_array_add_str(&a[0], j->id));
    ADD(nt_pg_array_add_str(&a[1], j->number));
    ADD(nt_pg_array_add_str(&a[2], j->platform));
    ADD(nt_pg_array_add_str(&a[3], j->ticket));
    ADD(nt_pg_array_add_str(&a[4], job->ticket.state));
    ADD(nt_pg_array_add_str(&a[5], job->ticket.reason[0] ? job->ticket.reason : NULL));
    ADD(add_time(&a[6], job->result_ms));
    ADD(nt_pg_array_add_str(&a[7], tenant_of(j)));
    return rc;
}

static int row_renewal(nt_pg_array_t *a, const wjob_t *job)
{
    const nt_job_t *j = &job->job;
    int rc = NT_OK;
    ADD(nt_pg_array_add_str(&a[0], j->id));
    ADD(nt_pg_array_add_str(&a[1], j->number));
    ADD(nt_pg_array_add_str(&a[2], j->platform));
    ADD(nt_pg_array_add_str(&a[3], job->ticket.ticket[0] ? job->ticket.ticket : NULL));
    ADD(nt_pg_array_add_str(&a[4], job->ticket.state));
    ADD(nt_pg_array_add_str(&a[5], job->ticket.reason[0] ? job->ticket.reason : NULL));
    ADD(add_time(&a[6], job->result_ms));
    ADD(job->ticket.has_expires ? add_time(&a[7], job->ticket.expires_ms)
                                : nt_pg_array_add_null(&a[7]));
    ADD(nt_pg_array_add_str(&a[8], tenant_of(j)));
    return rc;
}

/* A failed or dead job's envelope (for `numtrust-producer retry`), NULL when
 * its message could not be decoded into a job or it only waits for a
 * retry. */
static int add_envelope(nt_pg_array_t *a, const wjob_t *job)
{
    if (job->eclass == NULL || job->verdict != NT_JOB_VERDICT_OK)
        return nt_pg_array_add_null(a);
    nt_buf_t env;
    nt_buf_init(&env, 0);
    nt_job_t j = job->job;
    j.attempt = 0;
    j.not_before_ms = 0;
    int rc = nt_job_encode(&j, &env);
    if (rc == NT_OK)
        rc = nt_pg_array_add(a, env.data, env.len);
    nt_buf_free(&env);
    return rc;
}

static int row_ledger(nt_pg_array_t *a, const wjob_t *job)
{
    const nt_job_t *j = &job->job;
    int rc = NT_OK;
    ADD(nt_pg_array_add_str(&a[0], j->id));
    ADD(nt_pg_array_add_str(&a[1], nt_job_type_name(j->type)));
    ADD(nt_pg_array_add_str(&a[2], j->number));
    ADD(nt_pg_array_add_str(&a[3], j->platform));
    ADD(nt_pg_array_add_str(&a[4], tenant_of(j)));
    ADD(nt_pg_array_add_str(&a[5], job->ledger_state));
    ADD(nt_pg_array_add_str(&a[6], job->error));
    ADD(nt_pg_array_add_int(&a[7], job->refund));
    ADD(nt_pg_array_add_str(&a[8], job->eclass));
    ADD(add_envelope(&a[9], job));
    return rc;
}

static int row_dead(nt_pg_array_t *a, const wjob_t *job)
{
    const nt_job_t *j = &job->job;
    int rc = NT_OK;
    ADD(nt_pg_array_add_str(&a[0], job->topic));
    ADD(nt_pg_array_add_int(&a[1], job->partition));
    ADD(nt_pg_array_add_int(&a[2], job->offset));
    ADD(nt_pg_array_add_str(&a[3], job->verdict == NT_JOB_VERDICT_POISON ? NULL : j->id));
    ADD(nt_pg_array_add_str(&a[4], job->error));
    ADD(nt_pg_array_add_int(&a[5], job->attempts));
    ADD(nt_pg_array_add_bytea(&a[6], job->raw ? job->raw : "", job->raw ? job->raw_len : 0));
    ADD(nt_pg_array_add_str(&a[7], nt_job_type_name(j->type)));
    ADD(nt_pg_array_add_str(&a[8], j->number));
    ADD(nt_pg_array_add_str(&a[9], j->platform));
    ADD(nt_pg_array_add_str(&a[10], tenant_of(j)));
    ADD(nt_pg_array_add_str(&a[11], job->eclass));
    ADD(add_envelope(&a[12], job));
    ADD(nt_pg_array_add_int(&a[13], (long long)job->raw_size));
    ADD(nt_pg_array_add_str(&a[14], job->raw_sha256[0] ? job->raw_sha256 : NULL));
    return rc;
}
#undef ADD

/* ---- sending ---- */

static bool list_held(const wlist_t *l, int64_t now)
{
    return l->hold_until_ms > now;
}

static bool list_due(const writer_t *wr, const wlist_t *l, int64_t now)
{
    return l->n > 0 && !list_held(l, now) &&
           (l->n >= (size_t)wr->opts.batch_max || now - l->since_ms >= wr->opts.linger_ms);
}

/* When l can be sent: ms from now (0: now), -1 when empty. */
static int64_t list_wait(const writer_t *wr, const wlist_t *l, int64_t now, bool solo)
{
    if (l->n == 0)
        return -1;
    int64_t at = solo ? now : l->since_ms + wr->opts.linger_ms;
    if (l->hold_until_ms > at)
        at = l->hold_until_ms;
    return at > now ? at - now : 0;
}

static void on_linger(nt_loop_t *loop, void *arg)
{
    (void)loop;
    maybe_send(arg);
}

/* Sends the next batch of a kind as the last statement of the pipeline, and
 * its sync: it commits on its own. */
static void send_batch(writer_t *wr, int kind, bool solo)
{
    const kind_t *kd = &kinds[kind];
    wlist_t *src = solo ? &wr->solo[kind] : &wr->lists[kind];
    int np = nparams_of(kd);
    const char *params[NARRAYS + 1] = {0};
    size_t max = solo ? 1 : (size_t)wr->opts.batch_max;

    for (int i = 0; i < NARRAYS; i++)
        nt_pg_array_reset(&wr->arrs[i]);
    stmt_t *st = pipe_push(wr, kind, solo);
    while (st->jobs.n < max && src->n > 0) {
        wjob_t *job = list_pop(src);
        if (kd->add_row(wr->arrs, job) != NT_OK) {
            /* cannot happen short of memory exhaustion: give the job back
             * as a failure so it is recorded another way */
            NT_ERROR("writer: cannot encode a %s row", kd->name);
            kd->fail(wr, job, "cannot encode the row");
            continue;
        }
        list_push(&st->jobs, job, nt_loop_now(wr->loop));
    }
    if (src->n > 0)
        src->since_ms = nt_loop_now(wr->loop);
    if (st->jobs.n == 0) {
        wr->pipe_n--; /* nothing to send after all */
        return;
    }
    for (int i = 0; i < kd->narrays; i++)
        params[i] = nt_pg_array_text(&wr->arrs[i]);
    if (kd->worker_arg)
        params[kd->narrays] = wr->worker_id;
    /* libpq copies the parameters into its output buffer: the arrays are
     * free for the next statement at once */
    if (!PQsendQueryPrepared(wr->conn, kd->stmt, np, params, NULL, NULL, 0) ||
        PQpipelineSync(wr->conn) != 1) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(wr->conn));
        msg[strcspn(msg, "\n")] = '\0';
        drop_connection(wr, msg);
        return;
    }
    wr->stat_statements++;
    flush_sent(wr);
}

static void send_leases(writer_t *wr)
{
    const char *params[4];
    for (int i = 0; i < 4; i++)
        nt_pg_array_reset(&wr->arrs[i]);
    int rc = NT_OK;
    for (size_t i = 0; i < wr->nleases && rc == NT_OK; i++) {
        lease_t *l = &wr->leases[i];
        if (!l->pending)
            continue;
        char q[32], b[32], w[32];
        snprintf(q, sizeof(q), "%.3f", l->qps);
        snprintf(b, sizeof(b), "%.3f", l->burst);
        snprintf(w, sizeof(w), "%.0f", l->want);
        if ((rc = nt_pg_array_add_str(&wr->arrs[0], l->id)) == NT_OK &&
            (rc = nt_pg_array_add_str(&wr->arrs[1], q)) == NT_OK &&
            (rc = nt_pg_array_add_str(&wr->arrs[2], b)) == NT_OK)
            rc = nt_pg_array_add_str(&wr->arrs[3], w);
        l->pending = false;
        l->inflight = true;
    }
    for (int i = 0; i < 4; i++)
        params[i] = nt_pg_array_text(&wr->arrs[i]);
    pipe_push(wr, K_LEASE, false);
    if (rc != NT_OK ||
        !PQsendQueryPrepared(wr->conn, "nt_lease", WSQL_LEASE_NPARAMS, params, NULL, NULL, 0) ||
        PQpipelineSync(wr->conn) != 1) {
        drop_connection(wr, "cannot send a lease");
        return;
    }
    wr->stat_statements++;
    flush_sent(wr);
}

/* Answers every lease in flight: from the result rows, or with an error. */
static void finish_leases(writer_t *wr, PGresult *res, const char *error)
{
    for (int r = 0; res != NULL && r < PQntuples(res); r++) {
        for (size_t i = 0; i < wr->nleases; i++) {
            lease_t *l = &wr->leases[i];
            if (l->inflight && strcmp(l->id, PQgetvalue(res, r, 0)) == 0) {
                l->inflight = false;
                wr->cbs.on_leased(wr->cbs.arg, i, strtod(PQgetvalue(res, r, 1), NULL), NULL);
            }
        }
    }
    for (size_t i = 0; i < wr->nleases; i++) {
        if (wr->leases[i].inflight) {
            wr->leases[i].inflight = false;
            wr->cbs.on_leased(wr->cbs.arg, i, 0, error ? error : "no rate_buckets row");
        }
    }
}

/* Sends what is due, one statement after another, while the pipeline has
 * room: leases first, then solo retries, then claims (they gate platform
 * calls), then results in kind order; a list held after a transient failure
 * waits. What is not due yet arms the linger timer. */
static void maybe_send(writer_t *wr)
{
    while (wr->connected && !wr->preparing && wr->conn != NULL && wr->pipe_n < PIPE_MAX) {
        int64_t now = nt_loop_now(wr->loop);
        bool leases = false;
        for (size_t i = 0; i < wr->nleases && !lease_in_pipe(wr); i++)
            leases = leases || wr->leases[i].pending;
        if (leases) {
            send_leases(wr);
            continue;
        }
        int solo = -1;
        for (int k = 0; k < NK && solo < 0; k++)
            if (wr->solo[k].n > 0 && !list_held(&wr->solo[k], now))
                solo = k;
        if (solo >= 0) {
            send_batch(wr, solo, true);
            continue;
        }
        int due = -1;
        int64_t next_due = -1;
        for (int k = 0; k < NK && due < 0; k++) {
            if (list_due(wr, &wr->lists[k], now)) {
                due = k;
                break;
            }
            int64_t d = list_wait(wr, &wr->lists[k], now, false);
            if (d >= 0 && (next_due < 0 || d < next_due))
                next_due = d;
            d = list_wait(wr, &wr->solo[k], now, true);
            if (d >= 0 && (next_due < 0 || d < next_due))
                next_due = d;
        }
        if (due >= 0) {
            send_batch(wr, due, false);
            continue;
        }
        if (next_due < 0)
            return;
        if (nt_loop_timer_is_armed(&wr->linger_timer) && wr->linger_timer.due_ms <= now + next_due)
            return;
        if (nt_loop_timer_start(wr->loop, &wr->linger_timer, next_due, on_linger, wr) != NT_OK)
            NT_ERROR("writer: cannot arm the linger timer");
        return;
    }
}

/* ---- results ---- */

/* claim: match rows to jobs first, then call back: a callback may free its
 * job or queue it elsewhere, so the batch list is not walked after the
 * first callback. */
static void done_claim(writer_t *wr, PGresult *res, wlist_t *batch)
{
    size_t n = 0;
    for (wjob_t *j = batch->head; j != NULL; j = j->next) {
        wr->snap[n++] = j;
        j->claim_attempts = -1;
        if (nt_strmap_put(wr->idmap, j->job.id, j) != NT_OK)
            NT_ERROR("writer: out of memory");
    }
    int rows = PQntuples(res);
    /* numtrust time's offset, for the domain times this worker stamps */
    if (rows > 0 && PQnfields(res) > 3)
        nt_clock_set_offset_ms(strtoll(PQgetvalue(res, 0, 3), NULL, 10));
    for (int r = 0; r < rows; r++) {
        wjob_t *job = nt_strmap_del(wr->idmap, PQgetvalue(res, r, 0));
        if (job == NULL)
            continue;
        job->claim_attempts = (int)strtol(PQgetvalue(res, r, 1), NULL, 10);
        nt_buf_copy_str(job->claim_state, sizeof(job->claim_state), PQgetvalue(res, r, 2));
        job->claim_cert[0] = '\0';
        if (PQnfields(res) > 4 && !PQgetisnull(res, r, 4))
            nt_buf_copy_str(job->claim_cert, sizeof(job->claim_cert), PQgetvalue(res, r, 4));
    }
    for (size_t i = 0; i < n; i++)
        nt_strmap_del(wr->idmap, wr->snap[i]->job.id);
    for (size_t i = 0; i < n; i++) {
        wjob_t *job = wr->snap[i];
        if (job->claim_attempts < 0)
            wr->cbs.on_claimed(wr->cbs.arg, job, -1, NULL, "claim returned no row");
        else
            wr->cbs.on_claimed(wr->cbs.arg, job, job->claim_attempts, job->claim_state, NULL);
    }
}

static void fail_claim(writer_t *wr, wjob_t *job, const char *error)
{
    wr->cbs.on_claimed(wr->cbs.arg, job, -1, NULL, error);
}

/* results: every job of the batch is written */
static void done_written(writer_t *wr, PGresult *res, wlist_t *batch)
{
    (void)res;
    wjob_t *job = batch->head;
    while (job != NULL) {
        wjob_t *next = job->next;
        wr->cbs.on_written(wr->cbs.arg, job, NULL, NULL);
        job = next;
    }
}

/* check: the marks the batch opened first (follow-up appeals), then the
 * jobs; the row without a number is the statement's cost count */
static void done_check(writer_t *wr, PGresult *res, wlist_t *batch)
{
    if (wr->cbs.on_new_mark != NULL) {
        int rows = PQntuples(res);
        for (int r = 0; r < rows; r++)
            if (!PQgetisnull(res, r, 0))
                wr->cbs.on_new_mark(wr->cbs.arg, PQgetvalue(res, r, 0), PQgetvalue(res, r, 1),
                                    PQgetvalue(res, r, 2), strtoll(PQgetvalue(res, r, 3), NULL, 10),
                                    PQgetisnull(res, r, 4) ? "" : PQgetvalue(res, r, 4),
                                    PQgetisnull(res, r, 5) ? "" : PQgetvalue(res, r, 5));
    }
    done_written(wr, res, batch);
}

/* appeal: the rows the statement returned are tickets another appeal job
 * holds; those jobs are handed back failed (class conflict), the others
 * written. Matched first, called back after (a callback may free its job). */
static void done_appeal(writer_t *wr, PGresult *res, wlist_t *batch)
{
    int rows = PQntuples(res);
    if (rows == 0) {
        done_written(wr, res, batch);
        return;
    }
    size_t n = 0;
    for (wjob_t *j = batch->head; j != NULL; j = j->next) {
        wr->snap[n++] = j;
        j->claim_attempts = 0; /* scratch: 1 = its ticket clashes */
        if (nt_strmap_put(wr->idmap, j->job.id, j) != NT_OK)
            NT_ERROR("writer: out of memory");
    }
    for (int r = 0; r < rows; r++) {
        wjob_t *job = nt_strmap_get(wr->idmap, PQgetvalue(res, r, 0));
        if (job == NULL)
            continue;
        job->claim_attempts = 1;
        snprintf(job->error, sizeof(job->error),
                 "ticket conflict: platform %s answered ticket \"%.64s\", which appeal job %s "
                 "already holds; not recorded",
                 job->job.platform, PQgetvalue(res, r, 2), PQgetvalue(res, r, 1));
    }
    for (size_t i = 0; i < n; i++)
        nt_strmap_del(wr->idmap, wr->snap[i]->job.id);
    for (size_t i = 0; i < n; i++) {
        wjob_t *job = wr->snap[i];
        if (job->claim_attempts == 1) {
            char why[256];
            nt_buf_copy_str(why, sizeof(why), job->error);
            wr->cbs.on_written(wr->cbs.arg, job, WJ_EC_CONFLICT, why);
        } else {
            wr->cbs.on_written(wr->cbs.arg, job, NULL, NULL);
        }
    }
}

static void fail_written(writer_t *wr, wjob_t *job, const char *error)
{
    wr->cbs.on_written(wr->cbs.arg, job, WJ_EC_UNWRITABLE, error);
}

/* The batch kinds, one row each (see kind_t). */
static const kind_t kinds[NK] = {
    [K_CLAIM] = {"claim", "nt_claim", wsql_claim, WSQL_CLAIM_NPARAMS, false, row_claim, done_claim,
                 fail_claim},
    [WR_CHECK] = {"check", "nt_check", wsql_check, WSQL_CHECK_NARRAYS, true, row_check, done_check,
                  fail_written},
    [WR_TAG] = {"tag", "nt_tag", wsql_tag, WSQL_TAG_NPARAMS, false, row_tag, done_written,
                fail_written},
    [WR_APPEAL] = {"appeal", "nt_appeal", wsql_appeal, WSQL_APPEAL_NPARAMS, false, row_appeal,
                   done_appeal, fail_written},
    [WR_APPEAL_STATUS] = {"appeal_status", "nt_appeal_status", wsql_appeal_status,
                          WSQL_APPEAL_STATUS_NPARAMS, false, row_appeal_status, done_written,
                          fail_written},
    [WR_LEDGER] = {"ledger", "nt_ledger", wsql_ledger, WSQL_LEDGER_NPARAMS, false, row_ledger,
                   done_written, fail_written},
    [WR_DEAD] = {"dead", "nt_dead", wsql_dead, WSQL_DEAD_NPARAMS, false, row_dead, done_written,
                 fail_written},
    [WR_TAG_STATUS] = {"tag_status", "nt_tag_status", wsql_tag_status, WSQL_TAG_STATUS_NPARAMS,
                       false, row_tag_status, done_written, fail_written},
    [WR_RENEWAL] = {"renewal", "nt_renewal", wsql_renewal, WSQL_RENEWAL_NPARAMS, false, row_renewal,
                    done_written, fail_written},
};

/* A batch committed: its jobs (done, the caller's list) are handed back. */
static void finish_ok(writer_t *wr, int kind, bool solo, wlist_t *done, int64_t since_us,
                      PGresult *res)
{
    const kind_t *kd = &kinds[kind];
    wlist_t *src = solo ? &wr->solo[kind] : &wr->lists[kind];
    wr->stat_rows += done->n;
    wr->ok_seq[kind]++;
    wr->last_ok_ms = nt_loop_now(wr->loop);
    wr->backoff_ms = 100;
    src->fails = 0;
    src->hold_until_ms = 0;
    if (wr->quiet_fails[kind] > 0) {
        NT_INFO("writer: %s statements commit again (%llu failures since the last warning)",
                kd->name, (unsigned long long)wr->quiet_fails[kind]);
        wr->quiet_fails[kind] = 0;
        wr->warned_ms[kind] = 0;
    }
    NT_DEBUG("writer: %s batch of %zu in %lld us", kd->name, done->n,
             (long long)(nt_clock_mono_us() - since_us));
    kd->done(wr, res, done);
}

/* One warning per kind and WARN_INTERVAL_MS while its statements fail; the
 * failures in between are counted and reported with the next line. */
static void warn_failure(writer_t *wr, int kind, nt_pg_class_t cls, size_t n, const char *text,
                         const char *action)
{
    int64_t now = nt_loop_now(wr->loop);
    if (wr->warned_ms[kind] != 0 && now - wr->warned_ms[kind] < WARN_INTERVAL_MS) {
        wr->quiet_fails[kind]++;
        return;
    }
    nt_log_level_t level = cls == NT_PG_SCHEMA ? NT_LOG_ERROR : NT_LOG_WARN;
    NT_LOG(level, NULL,
           "writer: %s batch of %zu: %s (%s error; %llu more failures since the last "
           "warning); %s",
           kinds[kind].name, n, text, nt_pg_class_name(cls),
           (unsigned long long)wr->quiet_fails[kind], action);
    wr->warned_ms[kind] = now;
    wr->quiet_fails[kind] = 0;
}

/* Holds l after its statement failed transiently: 200 ms, doubling up to
 * WRITE_BACKOFF_MAX_MS while it keeps failing. */
static void hold_list(writer_t *wr, wlist_t *l)
{
    int64_t wait = WRITE_BACKOFF_MS;
    for (int i = 1; i < l->fails && wait < WRITE_BACKOFF_MAX_MS; i++)
        wait *= 2;
    if (wait > WRITE_BACKOFF_MAX_MS)
        wait = WRITE_BACKOFF_MAX_MS;
    l->hold_until_ms = nt_loop_now(wr->loop) + wait;
}

/* A statement failed with the connection still up. DATA errors are the
 * rows': a batch is split into single-row statements and a single row is
 * handed back as failed. Anything else (TRANSIENT, SCHEMA) is the
 * database's: the rows wait, with backoff, and are sent again — after 25006
 * on a new connection. A batch that keeps failing is split too, so that one
 * row cannot hold up the others, and a single row that keeps failing while
 * other rows of its kind commit is the guilty one: it is handed back as
 * failed with its reason. When nothing of its kind commits, nothing is
 * failed: the database, not the row, is what fails. */
static void finish_error(writer_t *wr, int kind, bool solo, wlist_t *batch, PGresult *res)
{
    const kind_t *kd = &kinds[kind];
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char text[256];
    bool reconnect = false;
    nt_pg_class_t cls = nt_pg_sqlstate_class(state, &reconnect);
    snprintf(text, sizeof(text), "postgres %s: %s", state ? state : "?",
             msg ? msg : PQerrorMessage(wr->conn));
    text[strcspn(text, "\n")] = '\0';
    wr->stat_failures++;

    wlist_t *src = solo ? &wr->solo[kind] : &wr->lists[kind];
    if (PQstatus(wr->conn) != CONNECTION_OK || (cls != NT_PG_DATA && reconnect)) {
        src->fails++;
        warn_failure(wr, kind, cls, batch->n, text, "reconnecting");
        /* the statements sent after it go back to their lists first, then
         * this batch in front of them: all are sent again, in their order,
         * on the new connection */
        drop_connection(wr, text);
        list_prepend_all(src, batch);
        hold_list(wr, src);
        return;
    }
    wlist_t failed = *batch;
    memset(batch, 0, sizeof(*batch));
    if (failed.n == 0)
        return;
    if (cls == NT_PG_DATA && failed.n > 1) {
        warn_failure(wr, kind, cls, failed.n, text, "writing its rows one by one");
        for (wjob_t *j = failed.head; j != NULL; j = j->next)
            j->solo = true;
        list_prepend_all(&wr->solo[kind], &failed);
        return;
    }
    if (cls == NT_PG_DATA) {
        wjob_t *job = failed.head;
        nt_log_ctx_t ctx = {NULL, -1, job->offset, job->job.id, job->job.platform, job->job.number};
        NT_LOG(NT_LOG_WARN, &ctx, "writer: %s row rejected: %s", kd->name, text);
        kd->fail(wr, job, text);
        return;
    }
    /* TRANSIENT or SCHEMA */
    src->fails++;
    if (failed.n > 1) {
        if (src->fails >= SPLIT_AFTER) {
            warn_failure(wr, kind, cls, failed.n, text, "splitting it into single rows");
            for (wjob_t *j = failed.head; j != NULL; j = j->next) {
                j->solo = true;
                j->write_fails = 0;
                j->write_seq = wr->ok_seq[kind];
            }
            src->fails = 0;
            src->hold_until_ms = 0;
            list_prepend_all(&wr->solo[kind], &failed);
            hold_list(wr, &wr->solo[kind]);
            return;
        }
        warn_failure(wr, kind, cls, failed.n, text, "waiting to send it again");
        list_prepend_all(src, &failed);
        hold_list(wr, src);
        return;
    }
    wjob_t *job = failed.head;
    if (job->write_fails >= ISOLATE_AFTER && wr->ok_seq[kind] != job->write_seq) {
        nt_log_ctx_t ctx = {NULL, -1, job->offset, job->job.id, job->job.platform, job->job.number};
        NT_LOG(NT_LOG_WARN, &ctx,
               "writer: %s row failed %d times while other rows of its kind were written: %s; "
               "failing it",
               kd->name, job->write_fails + 1, text);
        src->fails = 0;
        kd->fail(wr, job, text);
        return;
    }
    job->write_fails++;
    job->write_seq = wr->ok_seq[kind];
    warn_failure(wr, kind, cls, 1, text, "waiting to send it again");
    /* to the back of its list: the other single rows go first, and their
     * fate tells the database's failure from this row's */
    list_push(src, job, nt_loop_now(wr->loop));
    hold_list(wr, src);
}

/* The oldest statement's sync came back: it committed (or failed). Its jobs
 * are handed back only now, after the commit. */
static void finish_stmt(writer_t *wr)
{
    stmt_t *st = pipe_at(wr, 0);
    PGresult *res = st->res;
    int kind = st->kind;
    bool solo = st->solo;
    int64_t since_us = st->since_us;
    wlist_t jobs = st->jobs;
    st->res = NULL;
    memset(&st->jobs, 0, sizeof(st->jobs));
    pipe_pop(wr); /* before the callbacks: they may queue more */
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    bool ok = status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK;
    if (kind == K_LEASE)
        finish_leases(wr, ok ? res : NULL,
                      ok    ? NULL
                      : res ? PQresultErrorMessage(res)
                            : "no result");
    else if (ok)
        finish_ok(wr, kind, solo, &jobs, since_us, res);
    else
        finish_error(wr, kind, solo, &jobs, res);
    PQclear(res);
}

/* A statement of the preparation (one at a time, before pipeline mode) is
 * complete: the next one, or the end of it. */
static void finish_prepare(writer_t *wr)
{
    PGresult *last = wr->prep_res;
    wr->prep_res = NULL;
    wr->prep_busy = false;
    ExecStatusType st = last ? PQresultStatus(last) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        /* a statement that does not prepare is a schema mismatch: say so
         * loudly, and keep trying (migrations may be running) */
        NT_ERROR("writer: cannot prepare %s: %s",
                 wr->prep_idx < 0          ? sql_session
                 : wr->prep_idx == K_LEASE ? "nt_lease"
                                           : kinds[wr->prep_idx].stmt,
                 last ? PQresultErrorMessage(last) : "no result");
        PQclear(last);
        drop_connection(wr, "statement preparation failed");
        return;
    }
    PQclear(last);
    wr->prep_idx++;
    send_prepare(wr);
}

/* Reads what the server answered. In pipeline mode each statement gives its
 * results, then NULL (no more results for it), then PGRES_PIPELINE_SYNC for
 * its sync, which is its commit. */
static void read_results(writer_t *wr)
{
    if (!PQconsumeInput(wr->conn)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(wr->conn));
        msg[strcspn(msg, "\n")] = '\0';
        drop_connection(wr, msg);
        return;
    }
    while (wr->conn != NULL && !PQisBusy(wr->conn)) {
        if (wr->preparing) {
            PGresult *res = PQgetResult(wr->conn);
            if (res != NULL) {
                if (wr->prep_res != NULL)
                    PQclear(wr->prep_res);
                wr->prep_res = res;
                continue;
            }
            if (wr->prep_busy)
                finish_prepare(wr);
            return;
        }
        if (wr->pipe_n == 0)
            break;
        stmt_t *st = pipe_at(wr, 0);
        PGresult *res = PQgetResult(wr->conn);
        if (res == NULL) {
            if (st->ended)
                break; /* its sync is not here yet */
            st->ended = true;
            continue;
        }
        if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
            PQclear(res);
            finish_stmt(wr);
            continue;
        }
        /* keep the last result of the statement */
        if (st->res != NULL)
            PQclear(st->res);
        st->res = res;
    }
    if (wr->conn != NULL && PQstatus(wr->conn) == CONNECTION_BAD) {
        drop_connection(wr, "connection closed");
        return;
    }
    maybe_send(wr);
}

static void on_socket(nt_loop_t *loop, int fd, unsigned events, void *arg)
{
    (void)loop;
    (void)fd;
    writer_t *wr = arg;
    if (wr->connecting) {
        connect_step(wr);
        return;
    }
    if (wr->conn == NULL)
        return;
    if (events & NT_LOOP_WRITE) {
        int f = PQflush(wr->conn);
        if (f < 0) {
            drop_connection(wr, "send failed");
            return;
        }
        bool want = f == 1;
        if (want != wr->want_write) {
            wr->want_write = want;
            watch_socket(wr);
        }
    }
    if (events & NT_LOOP_READ)
        read_results(wr);
}

/* ---- public ---- */

writer_t *writer_new(nt_loop_t *loop, const writer_opts_t *opts, const writer_cbs_t *cbs,
                     nt_err_t *err)
{
    writer_t *wr = calloc(1, sizeof(*wr));
    if (wr == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        return NULL;
    }
    wr->loop = loop;
    wr->opts = *opts;
    wr->cbs = *cbs;
    wr->sock = -1;
    wr->backoff_ms = 100;
    wr->last_ok_ms = nt_loop_now(loop);
    wr->conninfo = strdup(opts->conninfo);
    wr->worker_id = strdup(opts->worker_id);
    wr->idmap = nt_strmap_new();
    wr->snap = calloc((size_t)opts->batch_max, sizeof(*wr->snap));
    wr->nleases = opts->max_platforms;
    wr->leases = calloc(wr->nleases ? wr->nleases : 1, sizeof(*wr->leases));
    for (int i = 0; i < NARRAYS; i++)
        nt_pg_array_init(&wr->arrs[i]);
    for (int k = 0; k < NK; k++)
        if (kinds[k].narrays > NARRAYS || kinds[k].add_row == NULL) {
            nt_err_set(err, NT_EINVAL, false, "writer: batch kind %d is not in the table", k);
            writer_free(wr);
            return NULL;
        }
    if (wr->conninfo == NULL || wr->worker_id == NULL || wr->idmap == NULL || wr->snap == NULL ||
        wr->leases == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        writer_free(wr);
        return NULL;
    }
    /* The first connection is made synchronously so that a wrong conninfo
     * stops the worker at start-up with a clear message. */
    nt_pg_t *probe = nt_pg_connect(opts->conninfo, opts->connect_timeout_s, err);
    if (probe == NULL) {
        writer_free(wr);
        return NULL;
    }
    nt_pg_free(probe);
    start_connect(wr);
    return wr;
}

void writer_free(writer_t *wr)
{
    if (wr == NULL)
        return;
    nt_loop_timer_stop(wr->loop, &wr->linger_timer);
    nt_loop_timer_stop(wr->loop, &wr->reconnect_timer);
    if (wr->sock >= 0)
        nt_loop_io_del(wr->loop, wr->sock);
    if (wr->prep_res != NULL)
        PQclear(wr->prep_res);
    for (int i = 0; i < wr->pipe_n; i++)
        if (pipe_at(wr, i)->res != NULL)
            PQclear(pipe_at(wr, i)->res);
    if (wr->conn != NULL)
        PQfinish(wr->conn);
    for (int i = 0; i < NARRAYS; i++)
        nt_pg_array_free(&wr->arrs[i]);
    nt_strmap_free(wr->idmap);
    free(wr->snap);
    for (size_t i = 0; wr->leases != NULL && i < wr->nleases; i++)
        free(wr->leases[i].id);
    free(wr->leases);
    free(wr->conninfo);
    free(wr->worker_id);
    free(wr);
}

/* Starts the stall clock when the writer goes from idle to pending. */
static void note_work(writer_t *wr)
{
    if (writer_pending(wr) == 0)
        wr->work_since_ms = nt_loop_now(wr->loop);
}

void writer_claim(writer_t *wr, wjob_t *job)
{
    note_work(wr);
    job->state = WJ_CLAIM;
    job->write_fails = 0;
    list_push(job->solo ? &wr->solo[K_CLAIM] : &wr->lists[K_CLAIM], job, nt_loop_now(wr->loop));
    maybe_send(wr);
}

void writer_result(writer_t *wr, wjob_t *job)
{
    note_work(wr);
    job->state = WJ_WRITE;
    job->write_fails = 0;
    int k = (int)job->wkind;
    if (k <= 0 || k >= NK) {
        wr->cbs.on_written(wr->cbs.arg, job, WJ_EC_UNWRITABLE, "nothing to write");
        return;
    }
    list_push(job->solo ? &wr->solo[k] : &wr->lists[k], job, nt_loop_now(wr->loop));
    maybe_send(wr);
}

void writer_lease(writer_t *wr, size_t platform, const char *id, double qps, double burst,
                  double want)
{
    if (platform >= wr->nleases)
        return;
    lease_t *l = &wr->leases[platform];
    if (l->pending || l->inflight)
        return;
    if (l->id == NULL && (l->id = strdup(id)) == NULL)
        return;
    l->qps = qps;
    l->burst = burst;
    l->want = want;
    l->pending = true;
    maybe_send(wr);
}

size_t writer_pending(const writer_t *wr)
{
    size_t n = 0;
    for (int i = 0; i < wr->pipe_n; i++)
        n += wr->pipe[(wr->pipe_head + i) % PIPE_MAX].jobs.n;
    for (int k = 0; k < NK; k++)
        n += wr->lists[k].n + wr->solo[k].n;
    return n;
}

bool writer_is_connected(const writer_t *wr)
{
    return wr->connected;
}

int64_t writer_stalled_ms(const writer_t *wr)
{
    if (writer_pending(wr) == 0)
        return 0;
    int64_t since = wr->last_ok_ms > wr->work_since_ms ? wr->last_ok_ms : wr->work_since_ms;
    int64_t now = nt_loop_now(wr->loop);
    return now > since ? now - since : 0;
}

void writer_stats(const writer_t *wr, uint64_t *statements, uint64_t *rows, uint64_t *failures)
{
    *statements = wr->stat_statements;
    *rows = wr->stat_rows;
    *failures = wr->stat_failures;
}
