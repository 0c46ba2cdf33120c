/*
 * test_dialect_d.c — dialect D (XML, decisions by signed callbacks), as
 * docs/simulator.md describes it: the check rendering and every error shape
 * written out in full, its routes, the request pipeline's answers for each
 * operation (driven through nt_simsrv_dispatch without sockets), the events
 * each accepted card and complaint schedules, and the callbacks themselves:
 * sent over HTTP to a receiver on this test's loop, signed, in order, and
 * forged or lost when the fault knobs say so.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "clock.h"
#include "dialect.h"
#include "hex.h"
#include "httpd.h"
#include "json.h"
#include "loop.h"
#include "notify.h"
#include "simsrv.h"
#include "xml.h"

#define XMLDECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

static void test_render_check(void)
{
    nt_sim_state_t marked, bare;
    memset(&marked, 0, sizeof(marked));
    marked.cert = NT_CERT_CERTIFIED;
    marked.trust = 87;
    snprintf(marked.label, sizeof(marked.label), "Acme <客服> & co");
    marked.marks[0] = (nt_sim_mark_t){NT_MARK_HARASSMENT, 12};
    marked.marks[1] = (nt_sim_mark_t){NT_MARK_FRAUD, 3};
    marked.nmarks = 2;
    memset(&bare, 0, sizeof(bare));
    bare.cert = NT_CERT_NONE;
    const struct {
        const nt_sim_state_t *st;
        const char *want;
    } cases[] = {
        {&marked, XMLDECL "<response><code>0</code><message>ok</message><card>"
                          "<android>Acme &lt;客服&gt; &amp; co</android>"
                          "<ios>Acme &lt;客服&gt; &amp; co</ios>"
                          "<search>Acme &lt;客服&gt; &amp; co</search></card>"
                          "<number>+8613800138000</number><cert>VALID</cert><score>87</score>"
                          "<marks><mark><type>HARASS</type><count>12</count></mark>"
                          "<mark><type>FRAUD</type><count>3</count></mark></marks></response>"},
        {&bare, XMLDECL "<response><code>0</code><message>ok</message><card><android/><ios/>"
                        "<search/></card><number>+8613800138000</number><cert>NONE</cert>"
                        "<score>0</score><marks/></response>"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        nt_buf_t out;
        nt_buf_init(&out, 0);
        CHECK_INT(nt_dialect_d.render_check(&out, "cmcc", "+8613800138000", cases[i].st), 0);
        CHECK(nt_buf_putc(&out, '\0') == NT_OK);
        CHECK_STR(out.data, cases[i].want);
        nt_buf_free(&out);
    }
    CHECK_STR(nt_dialect_d.content_type, "application/xml");
    CHECK(!nt_dialect_d.top_mark_only);
}

static void test_errors(void)
{
    static const struct {
        nt_derr_t e;
        int http, code;
        const char *msg;
    } cases[] = {
        {NT_DERR_BAD_NUMBER, 400, 1001, "invalid number"},
        {NT_DERR_BAD_BODY, 400, 1002, "bad request body"},
        {NT_DERR_LABEL, 400, 1003, "card name rejected"},
        {NT_DERR_AUTH_SIG, 401, 2001, "unauthorized"},
        {NT_DERR_AUTH_SKEW, 401, 2001, "unauthorized"},
        {NT_DERR_AUTH_KEY, 401, 2001, "unauthorized"},
        {NT_DERR_NO_TICKET, 404, 1004, "unknown complaint"},
        {NT_DERR_NO_MARK, 409, 1005, "no such mark"},
        {NT_DERR_RATE, 429, 3001, "too many requests"},
        {NT_DERR_INTERNAL, 500, 5001, "internal error"},
        {NT_DERR_UNAVAILABLE, 503, 5003, "unavailable"},
        {NT_DERR_NOT_FOUND, 404, 4040, "no such endpoint"},
    };
    nt_buf_t out;
    char want[256];
    nt_buf_init(&out, 0);
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        CHECK_INT(nt_dialect_error(&nt_dialect_d, &out, cases[i].e, NULL), cases[i].http);
        snprintf(want, sizeof(want),
                 XMLDECL "<response><code>%d</code><message>%s</message></response>", cases[i].code,
                 cases[i].msg);
        CHECK(nt_buf_putc(&out, '\0') == NT_OK);
        CHECK_STR(out.data, want);
    }
    /* every kind parses back, a message with markup in it escaped */
    for (int e = 0; e < NT_DERR__COUNT; e++) {
        nt_err_t err;
        int http = nt_dialect_error(&nt_dialect_d, &out, (nt_derr_t)e, "a <b> & \"c\"");
        cJSON *root = nt_xml_parse(out.data, out.len, &err);
        const cJSON *m = nt_json_pointer(root, "/response/message");
        CHECKF(cJSON_IsString(m) && strcmp(m->valuestring, "a <b> & \"c\"") == 0, "error %d: %.*s",
               e, (int)out.len, out.data);
        CHECK(http >= 400 && http < 600);
        cJSON_Delete(root);
    }
    nt_buf_free(&out);
}

static void test_routes(void)
{
    static const struct {
        const char *method, *rest;
        int ep; /* -1: no route */
        const char *arg;
    } cases[] = {
        {"GET", "v1/numbers/%2B8613800138000", NT_SIM_EP_CHECK, "%2B8613800138000"},
        {"POST", "v1/cards", NT_SIM_EP_TAG, NULL},
        {"POST", "v1/complaints", NT_SIM_EP_APPEAL, NULL},
        {"GET", "v1/complaints/D7F3A1", NT_SIM_EP_APPEAL_STATUS, "D7F3A1"},
        {"GET", "v1/cards/C0FFEE", NT_SIM_EP_TAG_STATUS, "C0FFEE"},
        {"POST", "v1/numbers/%2B86", -1, NULL},
        {"GET", "v1/cards", -1, NULL},
        {"GET", "v1/complaints", -1, NULL},
        {"GET", "v1/complaints/a/b", -1, NULL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        const char *arg = NULL;
        size_t arglen = 0;
        char argbuf[64] = "";
        const nt_dialect_route_t *r =
            nt_dialect_route(&nt_dialect_d, cases[i].method, cases[i].rest, &arg, &arglen);
        CHECKF((r ? (int)r->ep : -1) == cases[i].ep, "route %s %s", cases[i].method, cases[i].rest);
        if (r != NULL && cases[i].arg != NULL) {
            snprintf(argbuf, sizeof(argbuf), "%.*s", (int)arglen, arg);
            CHECK_STR(argbuf, cases[i].arg);
        }
    }
    CHECK(nt_dialect_find('d') == &nt_dialect_d);
}

/* ---- the pipeline ---- */

typedef struct hdrs_s {
    const char *name[2];
    const char *value[2];
    int n;
} hdrs_t;

static const char *hdr_get(const void *hctx, const char *name)
{
    const hdrs_t *h = hctx;
    for (int i = 0; h != NULL && i < h->n; i++)
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    return NULL;
}

static const hdrs_t bearer = {{"Authorization"}, {"Bearer sim-token"}, 1};

typedef struct answer_s {
    nt_simsrv_resp_t resp;
    char body[8192];
    cJSON *doc; /* the body parsed (XML or JSON), or NULL */
} answer_t;

static void call(nt_simsrv_t *srv, const char *method, const char *target, const char *body,
                 const hdrs_t *h, answer_t *a)
{
    char path[512];
    nt_err_t err;
    const char *q = strchr(target, '?');
    snprintf(path, sizeof(path), "%.*s", (int)(q ? q - target : (long)strlen(target)), target);
    nt_simsrv_req_t req = {method, path, q ? q + 1 : "", body, body ? strlen(body) : 0, hdr_get, h};
    nt_simsrv_dispatch(srv, &req, &a->resp);
    snprintf(a->body, sizeof(a->body), "%.*s", (int)a->resp.body_len, a->resp.body);
    cJSON_Delete(a->doc);
    a->doc = strncmp(a->body, "<?xml", 5) == 0 ? nt_xml_parse(a->body, strlen(a->body), &err)
                                               : cJSON_Parse(a->body);
}

/* The text at pointer in a's body, "" when absent. */
static const char *at(const answer_t *a, const char *pointer)
{
    static char text[256];
    const cJSON *it = nt_json_pointer(a->doc, pointer);
    if (it == NULL || nt_json_scalar_text(it, text, sizeof(text)) != NT_OK)
        return "";
    return text;
}

static long long counter(nt_simsrv_t *srv, const char *name)
{
    answer_t a = {0};
    call(srv, "GET", "/admin/callbacks", NULL, NULL, &a);
    const cJSON *it = nt_json_pointer(a.doc, name);
    long long v = cJSON_IsNumber(it) ? (long long)it->valuedouble : -1;
    cJSON_Delete(a.doc);
    return v;
}

static nt_simsrv_t *new_srv(void)
{
    nt_simconf_t conf;
    nt_err_t err;
    nt_simconf_defaults(&conf);
    conf.clock_speed = 0;
    conf.marks_initial_share = 0;
    conf.marks_weekly_maintained = 0;
    conf.marks_weekly_unmaintained = 0;
    nt_simsrv_t *srv = nt_simsrv_new(&conf, &err);
    CHECKF(srv != NULL, "simsrv: %s", err.msg);
    return srv;
}

#define CARD(number, name) "<card><number>" number "</number><name>" name "</name></card>"
#define COMPLAINT(number, mark)                                                                    \
    "<complaint><number>" number "</number><mark>" mark "</mark><reason>ours</reason></complaint>"

static void test_pipeline(void)
{
    static const struct {
        const char *name, *method, *target, *body;
        int status;
        const char *code;  /* /response/code */
        const char *state; /* /response/state, or NULL */
    } rows[] = {
        {"card", "POST", "/p/cmcc/d/v1/cards", CARD("+8613800138000", "Acme 客服"), 200, "0",
         "REVIEWING"},
        {"card, number not E.164", "POST", "/p/cmcc/d/v1/cards", CARD("13800138000", "Acme"), 400,
         "1001", NULL},
        {"card, name too long", "POST", "/p/cmcc/d/v1/cards",
         CARD("+8613800138000", "0123456789012345678901234567890123"), 400, "1003", NULL},
        {"card, no name", "POST", "/p/cmcc/d/v1/cards",
         "<card><number>+8613800138000</number></card>", 400, "1002", NULL},
        {"card as JSON", "POST", "/p/cmcc/d/v1/cards",
         "{\"card\":{\"number\":\"+8613800138000\",\"name\":\"x\"}}", 400, "1002", NULL},
        {"card with a DTD", "POST", "/p/cmcc/d/v1/cards",
         "<!DOCTYPE card [<!ENTITY n \"Acme\">]>" CARD("+8613800138000", "&n;"), 400, "1002", NULL},
        {"complaint", "POST", "/p/cmcc/d/v1/complaints", COMPLAINT("+8613800138000", "FRAUD"), 200,
         "0", "ACCEPTED"},
        {"complaint by taxonomy name", "POST", "/p/cmcc/d/v1/complaints",
         COMPLAINT("+8613800138001", "fraud"), 200, "0", "ACCEPTED"},
        {"complaint, no such mark", "POST", "/p/cmcc/d/v1/complaints",
         COMPLAINT("+8613800138000", "TAXI"), 409, "1005", NULL},
        {"complaint, unknown mark code", "POST", "/p/cmcc/d/v1/complaints",
         COMPLAINT("+8613800138000", "SPAM"), 400, "1002", NULL},
        {"complaint status, unknown", "GET", "/p/cmcc/d/v1/complaints/NOPE", NULL, 404, "1004",
         NULL},
        {"card status, unknown", "GET", "/p/cmcc/d/v1/cards/NOPE", NULL, 404, "1004", NULL},
        {"no such endpoint", "GET", "/p/cmcc/d/v1/cards", NULL, 404, "4040", NULL},
    };
    nt_simsrv_t *srv = new_srv();
    if (srv == NULL)
        return;
    answer_t a = {0};
    const char *marks[] = {"{\"platform\":\"cmcc\",\"number\":\"+8613800138000\","
                           "\"type\":\"fraud\",\"count\":5}",
                           "{\"platform\":\"cmcc\",\"number\":\"+8613800138001\","
                           "\"type\":\"fraud\",\"count\":2}"};
    for (size_t i = 0; i < NT_ARRAY_LEN(marks); i++) {
        call(srv, "POST", "/admin/marks", marks[i], NULL, &a);
        CHECK_INT(a.resp.status, 200);
    }
    call(srv, "GET", "/p/cmcc/d/v1/numbers/%2B8613800138000", NULL, NULL, &a);
    CHECKF(a.resp.status == 401 && strcmp(at(&a, "/response/code"), "2001") == 0, "no token: %d %s",
           a.resp.status, a.body);
    call(srv, "GET", "/p/cmcc/d/v1/numbers/%2B8613800138000", NULL, &bearer, &a);
    CHECK_INT(a.resp.status, 200);
    CHECK_STR(a.resp.content_type, "application/xml");
    CHECK_STR(at(&a, "/response/marks/mark/type"), "FRAUD");
    CHECK_STR(at(&a, "/response/marks/mark/count"), "5");
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        call(srv, rows[i].method, rows[i].target, rows[i].body, &bearer, &a);
        CHECKF(a.resp.status == rows[i].status, "%s: HTTP %d, want %d: %s", rows[i].name,
               a.resp.status, rows[i].status, a.body);
        CHECKF(strcmp(at(&a, "/response/code"), rows[i].code) == 0, "%s: code %s, want %s",
               rows[i].name, at(&a, "/response/code"), rows[i].code);
        if (rows[i].state != NULL)
            CHECKF(strcmp(at(&a, "/response/state"), rows[i].state) == 0 &&
                       at(&a, "/response/ticket")[0] != '\0',
                   "%s: %s", rows[i].name, a.body);
    }
    /* one card and two complaints accepted: two events each */
    CHECK_INT(counter(srv, "/scheduled"), 6);

    /* a card's life: in review, then shown; the same Idempotency-Key is one card */
    char ticket[64], query[160];
    call(srv, "POST", "/p/cmcc/d/v1/cards", CARD("+8613800138002", "Acme 门店"), NULL, &a);
    CHECK_INT(a.resp.status, 401);
    hdrs_t both = {{"Authorization", "Idempotency-Key"}, {"Bearer sim-token", "k-1"}, 2};
    call(srv, "POST", "/p/cmcc/d/v1/cards", CARD("+8613800138002", "Acme 门店"), &both, &a);
    CHECK_INT(a.resp.status, 200);
    nt_buf_copy_str(ticket, sizeof(ticket), at(&a, "/response/ticket"));
    call(srv, "POST", "/p/cmcc/d/v1/cards", CARD("+8613800138002", "Acme 门店"), &both, &a);
    CHECK_STR(at(&a, "/response/ticket"), ticket);
    CHECK_INT(counter(srv, "/scheduled"), 8);
    snprintf(query, sizeof(query), "/admin/ticket?platform=cmcc&ticket=%s", ticket);
    call(srv, "GET", query, NULL, NULL, &a);
    CHECK_STR(at(&a, "/kind"), "tag");
    CHECK_STR(at(&a, "/state"), "pending_review");
    char poll[160]; /* the same review, as the platform answers a poll */
    snprintf(poll, sizeof(poll), "/p/cmcc/d/v1/cards/%s", ticket);
    call(srv, "GET", poll, NULL, &bearer, &a);
    CHECK_INT(a.resp.status, 200);
    CHECK_STR(at(&a, "/response/state"), "REVIEWING");
    CHECK_STR(at(&a, "/response/ticket"), ticket);
    call(srv, "POST", "/admin/clock", "{\"advance_s\":3600}", NULL, &a);
    call(srv, "GET", query, NULL, NULL, &a);
    CHECK_STR(at(&a, "/state"), "applied");
    call(srv, "GET", poll, NULL, &bearer, &a);
    CHECK_STR(at(&a, "/response/state"), "ACTIVE");
    call(srv, "GET", "/p/cmcc/d/v1/numbers/%2B8613800138002", NULL, &bearer, &a);
    CHECK_STR(at(&a, "/response/card/android"), "Acme 门店");

    /* a complaint's life: accepted, processing, then passed or refused */
    call(srv, "POST", "/admin/clock", "{\"advance_s\":1}", NULL, &a);
    call(srv, "POST", "/p/ctcc/d/v1/complaints", COMPLAINT("+8613800138003", "FRAUD"), &bearer, &a);
    CHECK_INT(a.resp.status, 409); /* no mark on ctcc yet */
    call(srv, "POST", "/admin/marks",
         "{\"platform\":\"ctcc\",\"number\":\"+8613800138003\",\"type\":\"agency\",\"count\":4}",
         NULL, &a);
    call(srv, "POST", "/p/ctcc/d/v1/complaints", COMPLAINT("+8613800138003", "AGENT"), &bearer, &a);
    CHECK_INT(a.resp.status, 200);
    nt_buf_copy_str(ticket, sizeof(ticket), at(&a, "/response/ticket"));
    snprintf(query, sizeof(query), "/p/ctcc/d/v1/complaints/%s", ticket);
    static const struct {
        const char *advance, *state;
    } steps[] = {{"{\"advance_s\":0}", "ACCEPTED"},
                 {"{\"advance_s\":600}", "PROCESSING"},
                 {"{\"advance_s\":42600}", NULL}};
    for (size_t i = 0; i < NT_ARRAY_LEN(steps); i++) {
        call(srv, "POST", "/admin/clock", steps[i].advance, NULL, &a);
        call(srv, "GET", query, NULL, &bearer, &a);
        CHECK_INT(a.resp.status, 200);
        const char *st = at(&a, "/response/state");
        CHECKF(steps[i].state ? strcmp(st, steps[i].state) == 0
                              : strcmp(st, "PASSED") == 0 || strcmp(st, "REFUSED") == 0,
               "complaint step %zu: %s", i, st);
    }
    cJSON_Delete(a.doc);
    nt_simsrv_free(srv);
}

/* ---- callbacks over HTTP ---- */

typedef struct got_s {
    int n;
    char path[8][128];
    char body[8][1024];
    bool signed_ok[8];
} got_t;

static void on_callback(nt_httpd_t *httpd, nt_httpd_req_t *req, void *arg)
{
    got_t *g = arg;
    size_t len = 0;
    (void)httpd;
    const char *body = nt_httpd_req_body(req, &len);
    const char *ts = nt_httpd_req_header(req, "X-Nt-Callback-Timestamp");
    const char *sig = nt_httpd_req_header(req, "X-Nt-Callback-Signature");
    if (g->n < 8) {
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;
        char want[2 * EVP_MAX_MD_SIZE + 1] = "";
        nt_buf_t msg;
        nt_buf_init(&msg, 0);
        if (ts != NULL && nt_buf_printf(&msg, "%s\n", ts) == NT_OK &&
            nt_buf_append(&msg, body, len) == NT_OK &&
            HMAC(EVP_sha256(), "sim-callback-secret", 19, (const unsigned char *)msg.data, msg.len,
                 mac, &maclen) != NULL)
            nt_hex_encode(mac, maclen, want);
        nt_buf_free(&msg);
        g->signed_ok[g->n] = sig != NULL && want[0] != '\0' && strcmp(sig, want) == 0;
        snprintf(g->path[g->n], sizeof(g->path[0]), "%s", nt_httpd_req_path(req));
        snprintf(g->body[g->n], sizeof(g->body[0]), "%.*s", (int)len, body);
    }
    g->n++;
    (void)nt_httpd_respond(req, 200, "application/json", NULL, "{\"result\":\"applied\"}", 20);
}

/* Runs loop until g has n callbacks (or 5 s passed), then 200 ms more:
 * nothing else should come. */
static void wait_for(nt_loop_t *loop, const got_t *g, int n)
{
    int64_t until = nt_clock_mono_ms() + 5000;
    while (g->n < n && nt_clock_mono_ms() < until)
        nt_loop_run_once(loop, 20);
    int64_t settle = nt_clock_mono_ms() + 200;
    while (nt_clock_mono_ms() < settle)
        nt_loop_run_once(loop, 20);
}

static const char *xml_at(const char *body, const char *pointer, char *out, size_t outsz)
{
    nt_err_t err;
    cJSON *doc = nt_xml_parse(body, strlen(body), &err);
    const cJSON *it = nt_json_pointer(doc, pointer);
    out[0] = '\0';
    if (it != NULL && nt_json_scalar_text(it, out, outsz) != NT_OK)
        out[0] = '\0';
    cJSON_Delete(doc);
    return out;
}

static void test_callbacks(void)
{
    static const struct {
        const char *name;
        const char *faults;
        int sent;       /* callbacks the receiver gets */
        int genuine;    /* of them correctly signed */
        int lost_cards; /* decisions lost */
    } rows[] = {
        {"clean", "", 2, 2, 0},
        {"forged", ",\"rate_forged\":1", 4, 2, 0},
        {"duplicated", ",\"rate_duplicate\":1", 4, 4, 0},
        {"lost", ",\"rate_lost\":1", 0, 0, 1},
    };
    nt_err_t err;
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        got_t got;
        memset(&got, 0, sizeof(got));
        nt_loop_t *loop = nt_loop_new(&err);
        nt_simsrv_t *srv = new_srv();
        nt_httpd_opts_t o = {.host = "127.0.0.1", .port = 0};
        nt_httpd_t *rx = loop ? nt_httpd_new(loop, &o, on_callback, &got, &err) : NULL;
        CHECKF(rx != NULL && srv != NULL, "%s: %s", rows[i].name, err.msg);
        if (rx == NULL || srv == NULL) {
            nt_httpd_free(rx);
            nt_simsrv_free(srv);
            nt_loop_free(loop);
            continue;
        }
        nt_simsrv_attach(srv, loop, NULL);
        char conf[512];
        snprintf(conf, sizeof(conf),
                 "{\"callbacks\":{\"url\":\"http://127.0.0.1:%d/v1/callbacks/{platform}\"%s}}",
                 nt_httpd_port(rx), rows[i].faults);
        answer_t a = {0};
        call(srv, "POST", "/admin/config", conf, NULL, &a);
        CHECKF(a.resp.status == 200, "%s: config %s", rows[i].name, a.body);
        call(srv, "POST", "/p/huawei/d/v1/cards", CARD("+8613800138000", "Acme 客服"), &bearer, &a);
        char ticket[64];
        nt_buf_copy_str(ticket, sizeof(ticket), at(&a, "/response/ticket"));
        wait_for(loop, &got, 0);
        CHECKF(got.n == 0, "%s: a callback before its time", rows[i].name);
        call(srv, "POST", "/admin/clock", "{\"advance_s\":3600}", NULL, &a);
        wait_for(loop, &got, rows[i].sent);
        CHECKF(got.n == rows[i].sent, "%s: %d callbacks, want %d", rows[i].name, got.n,
               rows[i].sent);
        int genuine = 0, reviewing = 0, active = 0;
        for (int c = 0; c < got.n && c < 8; c++) {
            char kind[16], tk[64], state[16], seq[8];
            CHECK_STR(got.path[c], "/v1/callbacks/huawei");
            xml_at(got.body[c], "/notify/kind", kind, sizeof(kind));
            xml_at(got.body[c], "/notify/ticket", tk, sizeof(tk));
            xml_at(got.body[c], "/notify/state", state, sizeof(state));
            xml_at(got.body[c], "/notify/seq", seq, sizeof(seq));
            CHECK_STR(kind, "card");
            CHECK_STR(tk, ticket);
            if (!got.signed_ok[c]) {
                /* a forgery says the opposite */
                CHECKF(strcmp(state, "ACTIVE") == 0 || strcmp(state, "REJECTED") == 0,
                       "%s: forged %s", rows[i].name, state);
                continue;
            }
            genuine++;
            if (strcmp(state, "REVIEWING") == 0) {
                CHECK_STR(seq, "1");
                reviewing++;
            } else {
                CHECK_STR(state, "ACTIVE");
                CHECK_STR(seq, "2");
                active++;
            }
        }
        CHECKF(genuine == rows[i].genuine, "%s: %d genuine, want %d", rows[i].name, genuine,
               rows[i].genuine);
        CHECKF(reviewing == active, "%s: %d in review, %d active", rows[i].name, reviewing, active);
        CHECK_INT(counter(srv, "/lost_decisions/card"), rows[i].lost_cards);
        CHECK_INT(counter(srv, "/queued"), 0);
        cJSON_Delete(a.doc);
        nt_simsrv_free(srv);
        nt_httpd_free(rx);
        nt_loop_free(loop);
    }
}

static void test_notify_body(void)
{
    nt_buf_t out;
    nt_buf_init(&out, 0);
    CHECK_INT(nt_notify_body(&out, "T&1", "complaint", "+8613800138000", 2, "PASSED",
                             nt_clock_days_from_civil(2026, 1, 2) * 86400000LL + 43200000LL),
              0);
    CHECK(nt_buf_putc(&out, '\0') == NT_OK);
    CHECK_STR(out.data, XMLDECL "<notify><seq>2</seq><kind>complaint</kind><ticket>T&amp;1</ticket>"
                                "<number>+8613800138000</number><state>PASSED</state>"
                                "<time>2026-01-02T12:00:00.000Z</time></notify>");
    nt_buf_free(&out);
}

int main(void)
{
    test_render_check();
    test_errors();
    test_routes();
    test_pipeline();
    test_notify_body();
    test_callbacks();
    CHECK_DONE();
}
