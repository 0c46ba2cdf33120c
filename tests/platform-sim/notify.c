/*
 * notify.c — dialect D's signed callbacks (see notify.h).
 *
 * Events wait in one array until their simulated time comes. A due event
 * draws its fate once from the sender's own PRNG (seeded with the config
 * seed): lost, late (held callbacks.late_ms), reordered (held until the next
 * due event went first), duplicated (sent twice), and forged (a copy with
 * the opposite decision and a wrong signature is sent too). Each send is an
 * HTTP POST through nt_http on the simulator's loop; a transport failure or
 * a 5xx is retried after a second, up to callbacks.retries times, as
 * platforms do. Counters say what happened to every event.
 */
#include "notify.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "clock.h"
#include "dialect.h" /* NT_EMIT */
#include "hex.h"
#include "http.h"
#include "log.h"
#include "rng.h"
#include "xml.h"

#define TICK_MS      50
#define RETRY_MS     1000
#define REORDER_MS   400
#define MAX_EVENTS   1000000
#define CALL_TIMEOUT 5000

typedef enum { EV_WAITING, EV_HELD, EV_INFLIGHT, EV_DONE } ev_state_t;

typedef struct event_s {
    char scope[64];
    char ticket[32];
    char kind[16];
    char number[24];
    char state[16];
    int seq;
    int64_t at_ms;      /* simulated time it happens */
    int64_t send_after; /* monotonic ms, for held events and retries */
    int tries;
    int copies; /* sends still to make (2 for a duplicated event) */
    bool forged;
    bool decision; /* the ticket's verdict (its last event) */
    ev_state_t st;
} event_t;

typedef struct counters_s {
    uint64_t scheduled, sent, delivered, rejected, failed, lost, duplicated, reordered, late,
        forged, no_url, retries;
    uint64_t lost_decisions[2]; /* complaints, cards */
} counters_t;

struct nt_notify_s {
    const nt_simconf_t *conf;
    nt_sim_t *sim;
    nt_rng_t rng;
    event_t **evs;
    size_t n, cap;
    nt_loop_t *loop;
    nt_http_t *http;
    nt_timer_t timer;
    counters_t c;
};

/* One send in flight: what the HTTP callback needs. */
typedef struct send_s {
    nt_notify_t *n;
    event_t *ev; /* NULL for a forged copy (fire and forget) */
} send_t;

nt_notify_t *nt_notify_new(const nt_simconf_t *conf, nt_sim_t *sim)
{
    nt_notify_t *n = calloc(1, sizeof(*n));
    if (n == NULL)
        return NULL;
    n->conf = conf;
    n->sim = sim;
    nt_rng_seed(&n->rng, conf->seed ^ 0x6e6f74696679ULL);
    nt_loop_timer_init(&n->timer);
    return n;
}

void nt_notify_free(nt_notify_t *n)
{
    if (n == NULL)
        return;
    if (n->loop != NULL)
        nt_loop_timer_stop(n->loop, &n->timer);
    nt_http_free(n->http); /* cancels calls without their callbacks */
    for (size_t i = 0; i < n->n; i++)
        free(n->evs[i]);
    free(n->evs);
    free(n);
}

static void on_timer(nt_loop_t *loop, void *arg)
{
    nt_notify_t *n = arg;
    nt_notify_tick(n);
    if (nt_loop_timer_start(loop, &n->timer, TICK_MS, on_timer, n) != NT_OK)
        NT_ERROR("callbacks: cannot re-arm the timer; callbacks stop");
}

int nt_notify_attach(nt_notify_t *n, nt_loop_t *loop, nt_err_t *err)
{
    nt_http_opts_t opts = {.max_body = 65536, .max_host_conns = 16, .max_total_conns = 64};
    n->loop = loop;
    n->http = nt_http_new(loop, &opts, err);
    if (n->http == NULL)
        return NT_ENOMEM;
    if (nt_loop_timer_start(loop, &n->timer, TICK_MS, on_timer, n) != NT_OK)
        return nt_err_set(err, NT_ENOMEM, false, "callbacks: cannot arm the timer");
    return NT_OK;
}

int nt_notify_add(nt_notify_t *n, const char *scope, const char *ticket, const char *kind,
                  const char *number, int seq, const char *state, bool decision, int64_t at_ms)
{
    if (n->n >= MAX_EVENTS)
        return NT_ETOOBIG;
    if (n->n == n->cap) {
        size_t cap = n->cap ? n->cap * 2 : 256;
        event_t **evs = realloc(n->evs, cap * sizeof(*evs));
        if (evs == NULL)
            return NT_ENOMEM;
        n->evs = evs;
        n->cap = cap;
    }
    event_t *ev = calloc(1, sizeof(*ev));
    if (ev == NULL)
        return NT_ENOMEM;
    snprintf(ev->scope, sizeof(ev->scope), "%s", scope);
    snprintf(ev->ticket, sizeof(ev->ticket), "%s", ticket);
    snprintf(ev->kind, sizeof(ev->kind), "%s", kind);
    snprintf(ev->number, sizeof(ev->number), "%s", number);
    snprintf(ev->state, sizeof(ev->state), "%s", state);
    ev->seq = seq;
    ev->decision = decision;
    ev->at_ms = at_ms;
    ev->st = EV_WAITING;
    n->evs[n->n++] = ev;
    n->c.scheduled++;
    return NT_OK;
}

int nt_notify_body(nt_buf_t *out, const char *ticket, const char *kind, const char *number, int seq,
                   const char *state, int64_t at_ms)
{
    char ts[NT_RFC3339_LEN];
    nt_err_t err;
    int rc = NT_ENOMEM;
    cJSON *root = cJSON_CreateObject();
    cJSON *nt = cJSON_AddObjectToObject(root, "notify");
    nt_clock_format(at_ms, ts);
    if (nt != NULL && cJSON_AddNumberToObject(nt, "seq", seq) &&
        cJSON_AddStringToObject(nt, "kind", kind) &&
        cJSON_AddStringToObject(nt, "ticket", ticket) &&
        cJSON_AddStringToObject(nt, "number", number) &&
        cJSON_AddStringToObject(nt, "state", state) && cJSON_AddStringToObject(nt, "time", ts))
        rc = nt_xml_render(root, out, &err);
    cJSON_Delete(root);
    return rc;
}

/* The opposite decision, for a forged copy. */
static const char *forged_state(const char *state)
{
    static const char *const swap[][2] = {
        {"PASSED", "REFUSED"},  {"REFUSED", "PASSED"},  {"PROCESSING", "PASSED"},
        {"ACTIVE", "REJECTED"}, {"REJECTED", "ACTIVE"}, {"REVIEWING", "ACTIVE"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(swap); i++)
        if (strcmp(swap[i][0], state) == 0)
            return swap[i][1];
    return "PASSED";
}

static void on_answer(const nt_http_result_t *res, void *arg)
{
    send_t *s = arg;
    nt_notify_t *n = s->n;
    event_t *ev = s->ev;
    free(s);
    bool ok = res->code == CURLE_OK && res->status >= 200 && res->status < 300;
    bool refused = res->code == CURLE_OK && res->status >= 400 && res->status < 500;
    if (ev == NULL) { /* a forged copy: the receiver should refuse it */
        n->c.rejected += refused;
        n->c.delivered += ok;
        return;
    }
    if (ok) {
        n->c.delivered++;
    } else if (refused) {
        n->c.rejected++; /* the receiver said no: a platform does not insist */
    } else if (ev->tries <= n->conf->cb_retries) {
        n->c.retries++;
        ev->copies++;
        ev->send_after = nt_clock_mono_ms() + RETRY_MS;
        ev->st = EV_HELD;
        return;
    } else {
        n->c.failed++;
        NT_DEBUG("callback %s/%s seq %d not delivered: %s (HTTP %ld)", ev->scope, ev->ticket,
                 ev->seq, res->code != CURLE_OK ? res->error : "status", res->status);
    }
    ev->st = ev->copies > 0 ? EV_HELD : EV_DONE;
}

/* Sends one copy of ev (forged: the opposite state under a wrong key). */
static void send_one(nt_notify_t *n, event_t *ev, bool forged)
{
    const nt_simconf_t *conf = n->conf;
    nt_buf_t body, url;
    char ts[24], sig[2 * EVP_MAX_MD_SIZE + 1], hdr[160];
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    struct curl_slist *headers = NULL;
    nt_err_t err;

    nt_buf_init(&body, 0);
    nt_buf_init(&url, 0);
    const char *state = forged ? forged_state(ev->state) : ev->state;
    const char *t = strstr(conf->callback_url, "{platform}");
    int rc = nt_notify_body(&body, ev->ticket, ev->kind, ev->number, ev->seq, state, ev->at_ms);
    if (t != NULL) {
        NT_EMIT(rc, nt_buf_append(&url, conf->callback_url, (size_t)(t - conf->callback_url)));
        NT_EMIT(rc, nt_buf_puts(&url, ev->scope));
        NT_EMIT(rc, nt_buf_puts(&url, t + strlen("{platform}")));
    } else {
        NT_EMIT(rc, nt_buf_puts(&url, conf->callback_url));
    }
    NT_EMIT(rc, nt_buf_putc(&url, '\0'));
    snprintf(ts, sizeof(ts), "%lld", (long long)(nt_clock_wall_ms() / 1000));
    nt_buf_t sts;
    nt_buf_init(&sts, 0);
    NT_EMIT(rc, nt_buf_printf(&sts, "%s\n", ts));
    NT_EMIT(rc, nt_buf_append(&sts, body.data, body.len));
    char key[300];
    snprintf(key, sizeof(key), "%s%s", forged ? "forged-" : "", conf->callback_secret);
    if (rc == NT_OK && HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)sts.data,
                            sts.len, mac, &maclen) == NULL)
        rc = NT_ERR;
    nt_buf_free(&sts);
    if (rc == NT_OK)
        nt_hex_encode(mac, maclen, sig);
    struct curl_slist *l;
    static const char *const fixed[] = {"Content-Type: application/xml"};
    for (size_t i = 0; rc == NT_OK && i < NT_ARRAY_LEN(fixed); i++)
        rc = (l = curl_slist_append(headers, fixed[i])) ? (headers = l, NT_OK) : NT_ENOMEM;
    if (rc == NT_OK) {
        snprintf(hdr, sizeof(hdr), "X-Nt-Callback-Timestamp: %s", ts);
        rc = (l = curl_slist_append(headers, hdr)) ? (headers = l, NT_OK) : NT_ENOMEM;
    }
    if (rc == NT_OK) {
        snprintf(hdr, sizeof(hdr), "X-Nt-Callback-Signature: %s", sig);
        rc = (l = curl_slist_append(headers, hdr)) ? (headers = l, NT_OK) : NT_ENOMEM;
    }
    send_t *s = rc == NT_OK ? malloc(sizeof(*s)) : NULL;
    if (s == NULL) {
        curl_slist_free_all(headers);
        n->c.failed += !forged;
        if (!forged)
            ev->st = EV_DONE;
        goto out;
    }
    s->n = n;
    s->ev = forged ? NULL : ev;
    nt_http_call_t call = {.method = "POST",
                           .url = url.data,
                           .headers = headers,
                           .body = body.data,
                           .body_len = body.len,
                           .timeout_ms = CALL_TIMEOUT,
                           .connect_timeout_ms = 1000};
    if (nt_http_submit(n->http, &call, on_answer, s, &err) != NT_OK) {
        free(s);
        n->c.failed += !forged;
        if (!forged)
            ev->st = EV_DONE;
        goto out;
    }
    n->c.sent++;
    if (forged) {
        n->c.forged++;
    } else {
        ev->tries++;
        ev->copies--;
        ev->st = EV_INFLIGHT;
    }
out:
    nt_buf_free(&body);
    nt_buf_free(&url);
}

/* Draws a due event's fate. Returns false when it is lost. */
static bool draw_fate(nt_notify_t *n, event_t *ev, int64_t mono)
{
    const nt_simconf_t *conf = n->conf;
    double u = nt_rng_next_unit(&n->rng);
    ev->copies = 1;
    ev->send_after = mono;
    if (u < conf->cb_rate_lost) {
        n->c.lost++;
        if (ev->decision)
            n->c.lost_decisions[strcmp(ev->kind, "card") == 0]++;
        return false;
    }
    if (nt_rng_next_unit(&n->rng) < conf->cb_rate_duplicate) {
        ev->copies = 2;
        n->c.duplicated++;
    }
    if (nt_rng_next_unit(&n->rng) < conf->cb_rate_late) {
        ev->send_after = mono + conf->cb_late_ms;
        n->c.late++;
    } else if (nt_rng_next_unit(&n->rng) < conf->cb_rate_reorder) {
        ev->send_after = mono + REORDER_MS; /* what is due next goes first */
        n->c.reordered++;
    }
    ev->forged = nt_rng_next_unit(&n->rng) < conf->cb_rate_forged;
    return true;
}

void nt_notify_tick(nt_notify_t *n)
{
    int64_t now = nt_sim_now(n->sim);
    int64_t mono = nt_clock_mono_ms();
    bool have_url = n->conf->callback_url[0] != '\0';
    size_t keep = 0;
    for (size_t i = 0; i < n->n; i++) {
        event_t *ev = n->evs[i];
        if (ev->st == EV_WAITING && ev->at_ms <= now) {
            if (!have_url || n->http == NULL) {
                n->c.no_url += have_url ? 0 : 1;
                ev->st = have_url ? EV_WAITING : EV_DONE;
            } else {
                ev->st = draw_fate(n, ev, mono) ? EV_HELD : EV_DONE;
            }
        }
        if (ev->st == EV_HELD && ev->send_after <= mono && n->http != NULL) {
            if (ev->forged && ev->tries == 0)
                send_one(n, ev, true);
            send_one(n, ev, false);
        }
        if (ev->st == EV_DONE) {
            free(ev);
            continue;
        }
        n->evs[keep++] = ev;
    }
    n->n = keep;
}

int nt_notify_stats(const nt_notify_t *n, nt_buf_t *out)
{
    size_t waiting = 0;
    for (size_t i = 0; i < n->n; i++)
        waiting += n->evs[i]->st == EV_WAITING;
    const counters_t *c = &n->c;
    return nt_buf_printf(
        out,
        "{\"url\":\"%s\",\"scheduled\":%llu,\"waiting\":%zu,\"queued\":%zu,\"sent\":%llu,"
        "\"delivered\":%llu,\"rejected\":%llu,\"failed\":%llu,\"retries\":%llu,\"lost\":%llu,"
        "\"duplicated\":%llu,\"reordered\":%llu,\"late\":%llu,\"forged\":%llu,\"no_url\":%llu,"
        "\"lost_decisions\":{\"complaint\":%llu,\"card\":%llu}}",
        n->conf->callback_url[0] ? "set" : "", (unsigned long long)c->scheduled, waiting, n->n,
        (unsigned long long)c->sent, (unsigned long long)c->delivered,
        (unsigned long long)c->rejected, (unsigned long long)c->failed,
        (unsigned long long)c->retries, (unsigned long long)c->lost,
        (unsigned long long)c->duplicated, (unsigned long long)c->reordered,
        (unsigned long long)c->late, (unsigned long long)c->forged, (unsigned long long)c->no_url,
        (unsigned long long)c->lost_decisions[0], (unsigned long long)c->lost_decisions[1]);
}

void nt_notify_reset_counters(nt_notify_t *n)
{
    memset(&n->c, 0, sizeof(n->c));
}
