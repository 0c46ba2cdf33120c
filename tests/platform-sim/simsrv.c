/*
 * simsrv.c — the request pipeline (see simsrv.h).
 *
 * Order for a platform request, as docs/simulator.md defines it: route,
 * outage 503, authentication, rate limit, fault draw (500 / timeout /
 * malformed), idempotent replay or the dialect handler, latency. Faults and
 * latency come from one xoshiro stream seeded with the config seed, so a run
 * repeats given the same seed and request order.
 */
#include "simsrv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "clock.h"
#include "dialect.h"
#include "htab.h"
#include "log.h"
#include "notify.h"
#include "rng.h"

#define ARG_MAX      256
#define REQ_ID_MAX   128
#define CONTENT_JSON "application/json"

typedef struct bucket_s {
    double tokens;
    int64_t last_us;
    bool init;
} bucket_t;

typedef struct retry_s {
    uint64_t hash;
    int64_t deadline_ms; /* monotonic */
    char id[];
} retry_t;

struct nt_simsrv_s {
    nt_simconf_t conf;
    nt_sim_t *sim;
    nt_idem_t *idem;
    nt_rng_t rng;
    nt_buf_t body;
    bucket_t buckets[NT_SIM_MAX_SCOPES][NT_DIALECTS]; /* per scope and credential (dialect) */
    nt_notify_t *notify;
    nt_htab_t retries;
    int64_t outage_503_until;
    int64_t refuse_until;
    nt_loop_t *loop;
    nt_httpd_t *httpd;
    nt_timer_t pause_timer;
    nt_timer_t resume_timer;
    bool idem_full_logged;
    bool records_full_logged;
};

nt_simsrv_t *nt_simsrv_new(const nt_simconf_t *conf, nt_err_t *err)
{
    nt_simsrv_t *srv = calloc(1, sizeof(*srv));
    if (srv == NULL) {
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        return NULL;
    }
    srv->conf = *conf;
    nt_rng_seed(&srv->rng, conf->seed);
    nt_buf_init(&srv->body, 0);
    nt_htab_init(&srv->retries);
    nt_loop_timer_init(&srv->pause_timer);
    nt_loop_timer_init(&srv->resume_timer);
    srv->sim = nt_sim_new(&srv->conf, err);
    srv->idem = nt_idem_new((size_t)conf->max_records);
    srv->notify = srv->sim != NULL ? nt_notify_new(&srv->conf, srv->sim) : NULL;
    if (srv->sim == NULL || srv->idem == NULL || srv->notify == NULL) {
        if (srv->idem == NULL || (srv->sim != NULL && srv->notify == NULL))
            nt_err_set(err, NT_ENOMEM, false, "out of memory");
        nt_simsrv_free(srv);
        return NULL;
    }
    return srv;
}

void nt_simsrv_free(nt_simsrv_t *srv)
{
    if (srv == NULL)
        return;
    if (srv->loop != NULL) {
        nt_loop_timer_stop(srv->loop, &srv->pause_timer);
        nt_loop_timer_stop(srv->loop, &srv->resume_timer);
    }
    void *item;
    size_t it = 0;
    while ((item = nt_htab_next(&srv->retries, &it)) != NULL)
        free(item);
    nt_htab_free(&srv->retries);
    nt_notify_free(srv->notify);
    nt_idem_free(srv->idem);
    nt_sim_free(srv->sim);
    nt_buf_free(&srv->body);
    free(srv);
}

void nt_simsrv_attach(nt_simsrv_t *srv, nt_loop_t *loop, nt_httpd_t *httpd)
{
    nt_err_t err;
    srv->loop = loop;
    srv->httpd = httpd;
    if (loop != NULL && nt_notify_attach(srv->notify, loop, &err) != NT_OK)
        NT_ERROR("callbacks will not be sent: %s", err.msg);
}

nt_sim_t *nt_simsrv_sim(nt_simsrv_t *srv)
{
    return srv->sim;
}

nt_idem_t *nt_simsrv_idem(nt_simsrv_t *srv)
{
    return srv->idem;
}

nt_notify_t *nt_simsrv_notify(nt_simsrv_t *srv)
{
    return srv->notify;
}

const nt_simconf_t *nt_simsrv_conf(const nt_simsrv_t *srv)
{
    return &srv->conf;
}

int nt_simsrv_reconfigure(nt_simsrv_t *srv, const cJSON *root, nt_err_t *err)
{
    double speed = srv->conf.clock_speed;
    int rc = nt_simconf_apply_json(&srv->conf, root, "POST /admin/config", true, err);
    if (rc != NT_OK)
        return rc;
    if (srv->conf.clock_speed != speed)
        nt_sim_set_speed(srv->sim, srv->conf.clock_speed);
    /* a new limit starts from full buckets */
    memset(srv->buckets, 0, sizeof(srv->buckets));
    return NT_OK;
}

/* ---- outages ---- */

static void on_resume(nt_loop_t *loop, void *arg)
{
    nt_simsrv_t *srv = arg;
    (void)loop;
    if (nt_httpd_resume(srv->httpd) != NT_OK) {
        NT_ERROR("outage: cannot listen again; retrying in 1 s");
        if (nt_loop_timer_start(srv->loop, &srv->resume_timer, 1000, on_resume, srv) != NT_OK)
            NT_ERROR("outage: cannot arm the retry timer; the listener stays closed");
        return;
    }
    NT_INFO("outage over: listening again");
}

static void on_pause(nt_loop_t *loop, void *arg)
{
    nt_simsrv_t *srv = arg;
    int64_t left = srv->refuse_until - nt_loop_update_now(loop);
    if (nt_httpd_pause(srv->httpd) != NT_OK ||
        nt_loop_timer_start(loop, &srv->resume_timer, left > 0 ? left : 0, on_resume, srv) !=
            NT_OK) {
        NT_ERROR("outage: cannot pause the server");
        return;
    }
    NT_INFO("outage: refusing connections for %lld ms", (long long)left);
}

int nt_simsrv_outage(nt_simsrv_t *srv, int64_t seconds, const char *mode, nt_err_t *err)
{
    int64_t now = nt_clock_mono_ms();
    if (seconds < 0 || seconds > 86400)
        return nt_err_set(err, NT_EINVAL, false, "\"seconds\": %lld is not in [0, 86400]",
                          (long long)seconds);
    if (strcmp(mode, "503") == 0) {
        srv->outage_503_until = seconds > 0 ? now + seconds * 1000 : 0;
        return NT_OK;
    }
    if (strcmp(mode, "refuse") != 0)
        return nt_err_set(err, NT_EINVAL, false, "\"mode\": \"%s\" is not \"refuse\" or \"503\"",
                          mode);
    srv->refuse_until = now + seconds * 1000;
    if (seconds > 0 && srv->loop != NULL && srv->httpd != NULL) {
        /* after this batch of events, so that the admin answer is written */
        if (nt_loop_timer_start(srv->loop, &srv->pause_timer, 0, on_pause, srv) != NT_OK)
            return nt_err_set(err, NT_ENOMEM, false, "cannot arm the outage timer");
    }
    return NT_OK;
}

void nt_simsrv_reset_counters(nt_simsrv_t *srv)
{
    memset(nt_sim_counters(srv->sim), 0, sizeof(nt_sim_counters_t));
    nt_idem_reset_counts(srv->idem);
    nt_notify_reset_counters(srv->notify);
}

/* ---- early retries ---- */

static bool retry_eq(const void *item, const void *key)
{
    return strcmp(((const retry_t *)item)->id, key) == 0;
}

/* Counts an early retry when id comes back before its Retry-After deadline;
 * forgets the deadline either way. */
static void retry_check(nt_simsrv_t *srv, const char *id, int64_t now)
{
    uint64_t h = nt_rng_hash_str(0, id);
    retry_t *r = nt_htab_del(&srv->retries, h, retry_eq, id);
    if (r == NULL)
        return;
    if (now < r->deadline_ms)
        nt_sim_counters(srv->sim)->early_retries++;
    free(r);
}

static void retry_remember(nt_simsrv_t *srv, const char *id, int64_t deadline)
{
    uint64_t h = nt_rng_hash_str(0, id);
    if (srv->retries.len >= (size_t)srv->conf.max_records) {
        /* sweep deadlines that have passed */
        int64_t now = nt_clock_mono_ms();
        retry_t *r;
        size_t it = 0;
        while ((r = nt_htab_next(&srv->retries, &it)) != NULL) {
            if (r->deadline_ms <= now) {
                nt_htab_del_at(&srv->retries, it);
                free(r);
            }
        }
        if (srv->retries.len >= (size_t)srv->conf.max_records)
            return;
    }
    size_t n = strlen(id);
    retry_t *r = malloc(sizeof(*r) + n + 1);
    if (r == NULL)
        return;
    r->hash = h;
    r->deadline_ms = deadline;
    memcpy(r->id, id, n + 1);
    if (nt_htab_put(&srv->retries, h, r) != NT_OK)
        free(r);
}

/* ---- rate limit ---- */

static bool rate_take(nt_simsrv_t *srv, int scope, int cred)
{
    double qps = srv->conf.rate_qps;
    if (qps <= 0)
        return true;
    double burst = srv->conf.rate_burst > 0 ? srv->conf.rate_burst : fmax(1.0, ceil(qps));
    bucket_t *b = &srv->buckets[scope][cred];
    int64_t now = nt_clock_mono_us();
    if (!b->init) {
        b->tokens = burst;
        b->init = true;
    } else {
        b->tokens = fmin(burst, b->tokens + (double)(now - b->last_us) * qps / 1e6);
    }
    b->last_us = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return true;
    }
    return false;
}

/* ---- the platform pipeline ---- */

/* Splits "/p/{scope}/{d}/{rest}". Returns 0 or NT_EINVAL. */
static int split_platform_path(const char *path, char *scope, size_t scopesz, char *dialect,
                               const char **rest)
{
    const char *s = path + 3; /* after "/p/" */
    const char *slash = strchr(s, '/');
    if (slash == NULL || slash == s)
        return NT_EINVAL;
    if (nt_dialect_pct_decode(s, (size_t)(slash - s), scope, scopesz) < 0)
        return NT_EINVAL;
    const char *d = slash + 1;
    if (d[0] == '\0' || d[1] != '/')
        return NT_EINVAL;
    *dialect = d[0];
    *rest = d + 2;
    return NT_OK;
}

static void answer_error(const nt_dialect_t *d, nt_simsrv_t *srv, nt_simsrv_resp_t *resp,
                         nt_derr_t e, const char *msg)
{
    resp->status = nt_dialect_error(d, &srv->body, e, msg);
}

static void generic_404(nt_simsrv_t *srv, nt_simsrv_resp_t *resp)
{
    nt_buf_reset(&srv->body);
    resp->status = 404;
    if (nt_buf_puts(&srv->body, "{\"error\":\"not found\"}") != NT_OK)
        resp->status = 500;
}

static int64_t draw_latency(nt_simsrv_t *srv)
{
    const nt_simconf_t *conf = &srv->conf;
    int64_t ms = conf->latency_base_ms;
    if (conf->latency_jitter_ms > 0)
        ms += (int64_t)nt_rng_below(&srv->rng, (uint64_t)conf->latency_jitter_ms);
    if (conf->latency_tail_rate > 0 && nt_rng_next_unit(&srv->rng) < conf->latency_tail_rate)
        ms += conf->latency_tail_ms;
    return ms;
}

static void platform(nt_simsrv_t *srv, const nt_simsrv_req_t *req, nt_simsrv_resp_t *resp)
{
    nt_sim_counters_t *c = nt_sim_counters(srv->sim);
    char scope_name[NT_SIMCONF_NAME_MAX];
    char argbuf[ARG_MAX];
    char dialect_id;
    const char *rest = NULL;
    const char *raw_arg = NULL;
    size_t raw_arglen = 0;
    bool timeout = false, malformed = false;

    if (split_platform_path(req->path, scope_name, sizeof(scope_name), &dialect_id, &rest) !=
        NT_OK) {
        generic_404(srv, resp);
        return;
    }
    const nt_dialect_t *d = nt_dialect_find(dialect_id);
    if (d == NULL) {
        generic_404(srv, resp);
        return;
    }
    if (d->content_type != NULL)
        resp->content_type = d->content_type;
    int di = dialect_id - 'a';
    int scope = nt_sim_scope(srv->sim, scope_name);
    if (scope < 0) {
        answer_error(d, srv, resp, NT_DERR_NOT_FOUND, "unknown scope");
        return;
    }
    char bound = nt_sim_scope_dialect(srv->sim, scope);
    if (bound != 0 && bound != dialect_id) {
        char msg[96];
        snprintf(msg, sizeof(msg), "scope uses dialect %c", bound);
        answer_error(d, srv, resp, NT_DERR_NOT_FOUND, msg);
        return;
    }
    const nt_dialect_route_t *route = nt_dialect_route(d, req->method, rest, &raw_arg, &raw_arglen);
    if (route == NULL) {
        answer_error(d, srv, resp, NT_DERR_NOT_FOUND, NULL);
        return;
    }
    if (bound == 0)
        nt_sim_scope_bind(srv->sim, scope, dialect_id);
    c->by_endpoint[di][route->ep]++;

    int64_t now = nt_clock_mono_ms();
    const char *key = req->header(req->hctx, "Idempotency-Key");
    const char *req_id = req->header(req->hctx, "X-Request-Id");
    if (key != NULL && (key[0] == '\0' || strlen(key) > NT_IDEM_KEY_MAX)) {
        answer_error(d, srv, resp, NT_DERR_BAD_BODY, "bad Idempotency-Key");
        goto finish;
    }
    if (key != NULL)
        nt_idem_count_call(srv->idem, key);
    if (req_id != NULL && strlen(req_id) > REQ_ID_MAX)
        req_id = NULL;
    if (req_id != NULL)
        retry_check(srv, req_id, now);

    if (srv->outage_503_until > now) {
        int64_t secs = (srv->outage_503_until - now + 999) / 1000;
        answer_error(d, srv, resp, NT_DERR_UNAVAILABLE, NULL);
        snprintf(resp->headers, sizeof(resp->headers), "Retry-After: %lld\r\n", (long long)secs);
        if (req_id != NULL)
            retry_remember(srv, req_id, now + secs * 1000);
        goto finish;
    }
    if (d->auth != NULL) {
        nt_dialect_auth_t in = {req->method, req->path, req->body,  req->body_len,
                                req->header, req->hctx, &srv->conf, nt_clock_wall_ms() / 1000};
        int e = d->auth(&in);
        if (e != NT_DERR_NONE) {
            c->auth_failures++;
            answer_error(d, srv, resp, (nt_derr_t)e, NULL);
            goto finish;
        }
    }
    if (!rate_take(srv, scope, di)) {
        c->rate_limited++;
        answer_error(d, srv, resp, NT_DERR_RATE, NULL);
        snprintf(resp->headers, sizeof(resp->headers), "Retry-After: %d\r\n",
                 srv->conf.rate_retry_after_s);
        if (req_id != NULL)
            retry_remember(srv, req_id, now + (int64_t)srv->conf.rate_retry_after_s * 1000);
        goto finish;
    }
    double u = nt_rng_next_unit(&srv->rng);
    double r5 = srv->conf.faults_rate_5xx, rt = srv->conf.faults_rate_timeout;
    if (u < r5) {
        c->faults_5xx++;
        answer_error(d, srv, resp, NT_DERR_INTERNAL, NULL);
        goto finish;
    }
    timeout = u < r5 + rt;
    malformed = !timeout && u < r5 + rt + srv->conf.faults_rate_malformed;

    if (raw_arg != NULL && nt_dialect_pct_decode(raw_arg, raw_arglen, argbuf, sizeof(argbuf)) < 0) {
        answer_error(d, srv, resp,
                     route->ep == NT_SIM_EP_APPEAL_STATUS || route->ep == NT_SIM_EP_TAG_STATUS
                         ? NT_DERR_NO_TICKET
                         : NT_DERR_BAD_NUMBER,
                     NULL);
        goto finish;
    }
    bool mutating = route->ep == NT_SIM_EP_TAG || route->ep == NT_SIM_EP_APPEAL ||
                    route->ep == NT_SIM_EP_RENEWAL;
    const nt_idem_rec_t *rec = mutating && key ? nt_idem_find(srv->idem, scope, key) : NULL;
    nt_buf_reset(&srv->body);
    if (rec != NULL) {
        resp->status = rec->status;
        if (nt_buf_append(&srv->body, rec->body, rec->body_len) != NT_OK)
            answer_error(d, srv, resp, NT_DERR_INTERNAL, NULL);
    } else {
        nt_dialect_call_t call = {
            .sim = srv->sim,
            .scope = scope,
            .scope_name = scope_name,
            .arg = raw_arg != NULL ? argbuf : NULL,
            .body = req->body,
            .body_len = req->body_len,
            .idem_key = key,
            .max_batch = srv->conf.max_batch,
            .out = &srv->body,
            .status = 500,
            .notify = srv->notify,
        };
        if (route->fn(&call) != NT_OK) {
            if (!srv->records_full_logged) {
                NT_WARN("state tables full (max_records=%d) or out of memory: answering 500",
                        srv->conf.max_records);
                srv->records_full_logged = true;
            }
            answer_error(d, srv, resp, NT_DERR_INTERNAL, NULL);
            goto finish;
        }
        resp->status = call.status;
        c->batch_numbers += call.batch_numbers;
        if (mutating && key != NULL) {
            int rc =
                nt_idem_store(srv->idem, scope, key, resp->status, srv->body.data, srv->body.len);
            if (rc != NT_OK && !srv->idem_full_logged) {
                NT_WARN("idempotency store full (max_records=%d): new keys are not remembered",
                        srv->conf.max_records);
                srv->idem_full_logged = true;
            }
        }
    }
    if (timeout) {
        /* the side effect happened, the answer is lost: what a client that
         * times out and retries without a key would duplicate */
        c->faults_timeout++;
        resp->action = NT_SIMSRV_HOLD;
        return;
    }
    if (malformed) {
        c->faults_malformed++;
        resp->status = 200;
        srv->body.len = srv->body.len > 1 ? srv->body.len / 2 : 0;
    }
finish:
    resp->delay_ms = draw_latency(srv);
}

void nt_simsrv_dispatch(nt_simsrv_t *srv, const nt_simsrv_req_t *req, nt_simsrv_resp_t *resp)
{
    nt_sim_counters_t *c = nt_sim_counters(srv->sim);
    resp->action = NT_SIMSRV_ANSWER;
    resp->status = 500;
    resp->delay_ms = 0;
    resp->headers[0] = '\0';
    resp->content_type = CONTENT_JSON;
    c->requests++;
    if (strncmp(req->path, "/p/", 3) == 0) {
        platform(srv, req, resp);
    } else if (strncmp(req->path, "/admin/", 7) == 0) {
        c->admin++;
        resp->status = nt_admin_dispatch(srv, req, &srv->body);
    } else {
        generic_404(srv, resp);
    }
    if (resp->action == NT_SIMSRV_ANSWER && resp->status >= 100 && resp->status < 600)
        c->by_status[resp->status]++;
    resp->body = srv->body.data != NULL ? srv->body.data : "";
    resp->body_len = srv->body.len;
}

static const char *httpd_header(const void *hctx, const char *name)
{
    return nt_httpd_req_header(hctx, name);
}

void nt_simsrv_handle(nt_httpd_t *httpd, nt_httpd_req_t *hreq, void *arg)
{
    nt_simsrv_t *srv = arg;
    nt_simsrv_resp_t resp;
    nt_simsrv_req_t req;
    (void)httpd;

    req.method = nt_httpd_req_method(hreq);
    req.path = nt_httpd_req_path(hreq);
    req.query = nt_httpd_req_query(hreq);
    req.body = nt_httpd_req_body(hreq, &req.body_len);
    req.header = httpd_header;
    req.hctx = hreq;
    nt_simsrv_dispatch(srv, &req, &resp);
    if (resp.action == NT_SIMSRV_HOLD) {
        nt_httpd_respond_never(hreq);
        return;
    }
    const char *extra = resp.headers[0] ? resp.headers : NULL;
    int rc = resp.delay_ms > 0
                 ? nt_httpd_respond_after(hreq, resp.delay_ms, resp.status, resp.content_type,
                                          extra, resp.body, resp.body_len)
                 : nt_httpd_respond(hreq, resp.status, resp.content_type, extra, resp.body,
                                    resp.body_len);
    if (rc != NT_OK)
        NT_DEBUG("answer to %s %s not sent: %d", req.method, req.path, rc);
}
