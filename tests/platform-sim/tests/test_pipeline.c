/*
 * test_pipeline.c — the request pipeline (simsrv.h) and the admin API,
 * driven through nt_simsrv_dispatch without sockets: wire answers of every
 * dialect, auth, idempotent replays, rate limits with Retry-After and early
 * retries, outages, faults, latency, scope binding, the appeal flow with
 * clock advance, and the admin endpoints and counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "clock.h"
#include "dialect.h"
#include "simsrv.h"

typedef struct hdrs_s {
    const char *name[8];
    const char *value[8];
    int n;
} hdrs_t;

static const char *hdr_get(const void *hctx, const char *name)
{
    const hdrs_t *h = hctx;
    for (int i = 0; h != NULL && i < h->n; i++) {
        if (strcasecmp(h->name[i], name) == 0)
            return h->value[i];
    }
    return NULL;
}

typedef struct answer_s {
    nt_simsrv_resp_t resp;
    char body[8192];
} answer_t;

/* Dispatches method target (path and query) with body and headers. */
static void call(nt_simsrv_t *srv, const char *method, const char *target, const char *body,
                 const hdrs_t *h, answer_t *a)
{
    char path[512];
    const char *q = strchr(target, '?');
    snprintf(path, sizeof(path), "%.*s", (int)(q ? q - target : (long)strlen(target)), target);
    nt_simsrv_req_t req = {method, path, q ? q + 1 : "", body, body ? strlen(body) : 0, hdr_get, h};
    nt_simsrv_dispatch(srv, &req, &a->resp);
    snprintf(a->body, sizeof(a->body), "%.*s", (int)a->resp.body_len, a->resp.body);
}

static const hdrs_t bearer = {{"Authorization"}, {"Bearer sim-token"}, 1};

static nt_simsrv_t *new_srv(void)
{
    nt_simconf_t conf;
    nt_err_t err;
    nt_simconf_defaults(&conf);
    conf.clock_speed = 0;
    conf.marks_initial_share = 0;
    conf.marks_weekly_maintained = 0;
    conf.marks_weekly_unmaintained = 0;
    conf.max_batch = 3;
    nt_simsrv_t *srv = nt_simsrv_new(&conf, &err);
    CHECK(srv != NULL);
    return srv;
}

static cJSON *json(const answer_t *a)
{
    cJSON *root = cJSON_Parse(a->body);
    if (root == NULL)
        fprintf(stderr, "not JSON: %s\n", a->body);
    return root;
}

/* Signs a dialect A request now and fills h. */
static void sign_a(const char *method, const char *path, const char *body, hdrs_t *h, char ts[24],
                   char sig[65])
{
    snprintf(ts, 24, "%lld", (long long)(nt_clock_wall_ms() / 1000));
    CHECK_INT(nt_dialect_a_sign("sim-secret", method, path, ts, "n0nce0123456789AB", body,
                                body ? strlen(body) : 0, sig),
              0);
    h->n = 4;
    h->name[0] = "X-Nt-Key";
    h->value[0] = "sim-key";
    h->name[1] = "X-Nt-Timestamp";
    h->value[1] = ts;
    h->name[2] = "X-Nt-Nonce";
    h->value[2] = "n0nce0123456789AB";
    h->name[3] = "X-Nt-Signature";
    h->value[3] = sig;
}

/* Wire answers per dialect: status and a piece of the body. */
static void test_wire(void)
{
    nt_simsrv_t *srv = new_srv();
    answer_t a;
    hdrs_t h;
    char ts[24], sig[65];
    static const struct {
        const char *method, *target, *body;
        bool auth_b;
        int status;
        const char *contains;
    } cases[] = {
        {"POST", "/p/tencent/b/api/v2/query", "{\"phone\":\"8613800138000\"}", true, 200,
         "{\"ret\":0,\"msg\":\"ok\",\"result\":{\"phone\":\"8613800138000\",\"auth_state\":"},
        {"POST", "/p/tencent/b/api/v2/query", "{\"phone\":8613800138000}", true, 200,
         "\"phone\":\"8613800138000\""},
        {"POST", "/p/tencent/b/api/v2/query", "{\"phone\":\"+8613800138000\"}", true, 200,
         "{\"ret\":2001,"},
        {"POST", "/p/tencent/b/api/v2/query", "{\"phone\":\"0123456789\"}", true, 200,
         "{\"ret\":2001,"},
        {"POST", "/p/tencent/b/api/v2/query", "not json", true, 200, "{\"ret\":2002,"},
        {"POST", "/p/tencent/b/api/v2/query", "{}", true, 200, "{\"ret\":2002,"},
        {"POST", "/p/tencent/b/api/v2/query", "{\"phone\":\"8613800138000\"}", false, 401,
         "{\"ret\":4010,\"msg\":\"invalid token\"}"},
        {"POST", "/p/tencent/b/api/v2/label", "{\"phone\":\"8613800138000\",\"name\":\"\"}", true,
         200, "{\"ret\":2003,"},
        {"POST", "/p/tencent/b/api/v2/complaint",
         "{\"phone\":\"8613800138000\",\"code\":51,\"reason\":\"r\"}", true, 200, "{\"ret\":2009,"},
        {"POST", "/p/tencent/b/api/v2/complaint", "{\"phone\":\"8613800138000\",\"code\":7}", true,
         200, "{\"ret\":2002,"},
        {"POST", "/p/tencent/b/api/v2/complaint/query", "{\"complaint_id\":\"nope\"}", true, 200,
         "{\"ret\":2004,"},
        {"GET", "/p/tencent/b/api/v2/query", NULL, true, 404, "{\"ret\":4040,"},
        {"POST", "/p/agg/c/batch/query", "{\"numbers\":[\"+8613800138000\",\"123\",5]}", false, 200,
         "{\"number\":\"123\",\"error\":\"BAD_NUMBER\"},{\"number\":\"5\",\"error\":"},
        {"POST", "/p/agg/c/batch/query", "{\"numbers\":[]}", false, 400,
         "\"error_code\":\"BAD_REQUEST\""},
        {"POST", "/p/agg/c/batch/query", "{\"numbers\":[\"+1\",\"+2\",\"+3\",\"+4\"]}", false, 400,
         "\"error_code\":\"BAD_REQUEST\""},
        {"POST", "/p/agg/c/label/submit", "{\"number\":\"+8613800138000\",\"show_name\":\"Acme\"}",
         false, 200, "{\"status\":\"ok\",\"data\":{\"id\":\""},
        {"POST", "/p/agg/c/appeal/submit", "{\"number\":\"+8613800138000\",\"tag_name\":\"骚扰\"}",
         false, 409, "\"error_code\":\"NO_MARK\""},
        {"GET", "/p/agg/c/appeal/zzz", NULL, false, 404, "\"error_code\":\"NOT_FOUND\""},
        {"GET", "/p/baidu/a/v1/numbers/%2B8613800138000/status", NULL, false, 401,
         "{\"code\":40103,"},
        {"GET", "/p/baidu/x/v1/numbers", NULL, false, 404, "{\"error\":\"not found\"}"},
        {"GET", "/p/bad%2Fscope/a/v1/appeals/x", NULL, false, 404, "{\"code\":40400,"},
        {"GET", "/nowhere", NULL, false, 404, "{\"error\":\"not found\"}"},
        /* tencent is bound to dialect B by its first request */
        {"POST", "/p/tencent/c/batch/query", "{\"numbers\":[\"+8613800138000\"]}", false, 404,
         "\"message\":\"scope uses dialect b\""},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        call(srv, cases[i].method, cases[i].target, cases[i].body, cases[i].auth_b ? &bearer : NULL,
             &a);
        if (a.resp.status != cases[i].status || strstr(a.body, cases[i].contains) == NULL)
            fprintf(stderr, "case %zu %s: %d %s\n", i, cases[i].target, a.resp.status, a.body);
        CHECK_INT(a.resp.status, cases[i].status);
        CHECK(strstr(a.body, cases[i].contains) != NULL);
        CHECK_INT(a.resp.action, NT_SIMSRV_ANSWER);
        CHECK_INT(a.resp.delay_ms, 0);
    }

    /* dialect A, signed: the number in the path is percent-decoded */
    const char *path = "/p/baidu/a/v1/numbers/%2B8613800138000/status";
    sign_a("GET", path, "", &h, ts, sig);
    call(srv, "GET", path, NULL, &h, &a);
    CHECK_INT(a.resp.status, 200);
    CHECK(strstr(a.body, "{\"code\":0,\"data\":{\"number\":\"+8613800138000\",\"certified\":") ==
          a.body);
    path = "/p/baidu/a/v1/numbers/%2B0123/status";
    sign_a("GET", path, "", &h, ts, sig);
    call(srv, "GET", path, NULL, &h, &a);
    CHECK_INT(a.resp.status, 400);
    CHECK_STR(a.body, "{\"code\":40001,\"message\":\"invalid number\"}");
    path = "/p/baidu/a/v1/numbers/%2B8613800138000/label";
    const char *body =
        "{\"label\":\"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三\"}";
    sign_a("POST", path, body, &h, ts, sig);
    call(srv, "POST", path, body, &h, &a);
    CHECK_INT(a.resp.status, 400);
    CHECK_STR(a.body, "{\"code\":40010,\"message\":\"label rejected\"}");
    body = "{\"label\":\"Acme\",\"surfaces\":[\"android\",\"tv\"]}";
    sign_a("POST", path, body, &h, ts, sig);
    call(srv, "POST", path, body, &h, &a);
    CHECK_INT(a.resp.status, 400);
    CHECK_STR(a.body, "{\"code\":40002,\"message\":\"bad request body\"}");

    const nt_sim_counters_t *c = nt_sim_counters(nt_simsrv_sim(srv));
    CHECK_INT(c->auth_failures, 2);
    CHECK_INT(c->batch_numbers, 3);
    CHECK_INT(c->by_endpoint[1][NT_SIM_EP_CHECK], 7);
    nt_simsrv_free(srv);
}

static void test_idempotency(void)
{
    nt_simsrv_t *srv = new_srv();
    answer_t a1, a2, a3;
    hdrs_t h = {{"Authorization", "Idempotency-Key"}, {"Bearer sim-token", "job-1"}, 2};
    const char *label = "{\"phone\":\"8613800138000\",\"name\":\"Acme\"}";
    call(srv, "POST", "/p/tencent/b/api/v2/label", label, &h, &a1);
    call(srv, "POST", "/p/tencent/b/api/v2/label", label, &h, &a2);
    CHECK_INT(a1.resp.status, 200);
    CHECK_STR(a2.body, a1.body); /* the first answer, byte for byte */
    /* the same key with another body still replays the first answer */
    call(srv, "POST", "/p/tencent/b/api/v2/label",
         "{\"phone\":\"8613800138000\",\"name\":\"Other\"}", &h, &a3);
    CHECK_STR(a3.body, a1.body);
    const nt_sim_counters_t *c = nt_sim_counters(nt_simsrv_sim(srv));
    CHECK_INT(c->tag_updates, 1);
    CHECK_INT(c->duplicate_side_effects, 0);
    /* without a key: a new side effect each time, and a duplicate */
    call(srv, "POST", "/p/tencent/b/api/v2/label", label, &bearer, &a2);
    call(srv, "POST", "/p/tencent/b/api/v2/label", label, &bearer, &a3);
    CHECK(strcmp(a2.body, a3.body) != 0);
    CHECK_INT(c->tag_updates, 3);
    CHECK_INT(c->duplicate_side_effects, 2);

    call(srv, "GET", "/admin/idempotency?key=job-1", NULL, NULL, &a1);
    CHECK_STR(a1.body, "{\"key\":\"job-1\",\"calls\":3}");
    call(srv, "GET", "/admin/idempotency?key=unseen", NULL, NULL, &a1);
    CHECK_STR(a1.body, "{\"key\":\"unseen\",\"calls\":0}");
    call(srv, "GET", "/admin/counters", NULL, NULL, &a1);
    CHECK(strstr(a1.body, "\"idempotency\":{\"keys\":1,\"repeats\":2,\"max_calls_per_key\":3}") !=
          NULL);
    nt_simsrv_free(srv);
}

static void test_rate_limit_and_early_retry(void)
{
    nt_simsrv_t *srv = new_srv();
    answer_t a;
    nt_err_t err;
    cJSON *cfg = cJSON_Parse("{\"rate_limit\":{\"qps\":0.001,\"burst\":2,\"retry_after_s\":3}}");
    CHECK_INT(nt_simsrv_reconfigure(srv, cfg, &err), 0);
    cJSON_Delete(cfg);
    hdrs_t h = {{"Authorization", "X-Request-Id"}, {"Bearer sim-token", "job-7"}, 2};
    const char *q = "{\"phone\":\"8613800138000\"}";
    call(srv, "POST", "/p/tencent/b/api/v2/query", q, &bearer, &a);
    CHECK_INT(a.resp.status, 200);
    call(srv, "POST", "/p/tencent/b/api/v2/query", q, &bearer, &a);
    CHECK_INT(a.resp.status, 200);
    call(srv, "POST", "/p/tencent/b/api/v2/query", q, &h, &a);
    CHECK_INT(a.resp.status, 429);
    CHECK_STR(a.resp.headers, "Retry-After: 3\r\n");
    CHECK_STR(a.body, "{\"ret\":1001,\"msg\":\"frequency limit\"}");
    /* a bucket per scope: another scope still has tokens */
    call(srv, "POST", "/p/other/b/api/v2/query", q, &bearer, &a);
    CHECK_INT(a.resp.status, 200);
    /* the same request id back before the deadline: an early retry */
    call(srv, "POST", "/p/tencent/b/api/v2/query", q, &h, &a);
    CHECK_INT(a.resp.status, 429);
    const nt_sim_counters_t *c = nt_sim_counters(nt_simsrv_sim(srv));
    CHECK_INT(c->early_retries, 1);
    CHECK_INT(c->rate_limited, 2);
    CHECK_INT(c->by_status[429], 2);
    nt_simsrv_free(srv);
}

static void test_outage_503(void)
{
    nt_simsrv_t *srv = new_srv();
    answer_t a;
    nt_err_t err;
    call(srv, "POST", "/admin/outage", "{\"seconds\":10,\"mode\":\"503\"}", NULL, &a);
    CHECK_INT(a.resp.status, 200);
    call(srv, "POST", "/p/agg/c/batch/query", "{\"numbers\":[\"+8613800138000\"]}", NULL, &a);
    CHECK_INT(a.resp.status, 503);
    CHECK_STR(a.resp.headers, "Retry-After: 10\r\n");
    CHECK(strstr(a.body, "\"error_code\":\"UNAVAILABLE\"") != NULL);
    call(srv, "GET", "/admin/health", NULL, NULL, &a); /* admin is not affected */
    CHECK_STR(a.body, "{\"ok\":true}");
    CHECK_INT(nt_simsrv_outage(srv, 0, "503", &err), 0);
    call(srv, "POST", "/p/agg/c/batch/query", "{\"numbers\":[\"+8613800138000\"]}", NULL, &a);
    CHECK_INT(a.resp.status, 200);
    call(srv, "POST", "/admin/outage", "{\"seconds\":10,\"mode\":\"maybe\"}", NULL, &a);
    CHECK_INT(a.resp.status, 400);
    /* refuse without a server attached is only recorded */
    call(srv, "POST", "/admin/outage", "{\"seconds\":1,\"mode\":\"refuse\"}", NULL, &a);
    CHECK_INT(a.resp.status, 200);
    nt_simsrv_free(srv);
}

static void test_faults_and_latency(void)
{
    static const struct {
        const char *config;
        int status;
        nt_simsrv_action_t action;
        bool json_ok;
    } cases[] = {
        {"{\"faults\":{\"rate_5xx\":1}}", 500, NT_SIMSRV_ANSWER, true},
        {"{\"faults\":{\"rate_5xx\":0,\"rate_timeout\":1}}", 0, NT_SIMSRV_HOLD, true},
        {"{\"faults\":{\"rate_timeout\":0,\"rate_malformed\":1}}", 200, NT_SIMSRV_ANSWER, false},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        nt_simsrv_t *srv = new_srv();
        answer_t a;
        call(srv, "POST", "/admin/config", cases[i].config, NULL, &a);
        CHECK_INT(a.resp.status, 200);
        call(srv, "POST", "/p/tencent/b/api/v2/label",
             "{\"phone\":\"8613800138000\",\"name\":\"Acme\"}", &bearer, &a);
        CHECK_INT(a.resp.action, cases[i].action);
        if (cases[i].action == NT_SIMSRV_ANSWER) {
            CHECK_INT(a.resp.status, cases[i].status);
            cJSON *root = cJSON_Parse(a.body);
            CHECK((root != NULL) == cases[i].json_ok);
            cJSON_Delete(root);
        }
        const nt_sim_counters_t *c = nt_sim_counters(nt_simsrv_sim(srv));
        CHECK_INT(c->faults_5xx + c->faults_timeout + c->faults_malformed, 1);
        /* a 500 happens before the handler; a timeout or garbled answer after it */
        CHECK_INT(c->tag_updates, cases[i].status == 500 ? 0 : 1);
        nt_simsrv_free(srv);
    }
    nt_simsrv_t *srv = new_srv();
    answer_t a;
    call(srv, "POST", "/admin/config", "{\"latency\":{\"base_ms\":50,\"jitter_ms\":10}}", NULL, &a);
    CHECK_INT(a.resp.status, 200);
    for (int i = 0; i < 20; i++) {
        call(srv, "POST", "/p/agg/c/batch/query", "{\"numbers\":[\"+8613800138000\"]}", NULL, &a);
        CHECK(a.resp.delay_ms >= 50 && a.resp.delay_ms < 60);
    }
    call(srv, "GET", "/admin/health", NULL, NULL, &a);
    CHECK_INT(a.resp.delay_ms, 0); /* admin answers are never delayed */
    nt_simsrv_free(srv);
}

static void test_appeal_flow(void)
{
    nt_simsrv_t *srv = new_srv();
    answer_t a;
    call(srv, "POST", "/admin/config", "{\"clock\":{\"speed\":0}}", NULL, &a);
    CHECK_INT(a.resp.status, 200);
    call(srv, "POST", "/admin/marks",
         "{\"platform\":\"tencent\",\"number\":\"+8613800138000\",\"type\":\"fraud\",\"count\":5}",
         NULL, &a);
    CHECK_INT(a.resp.status, 200);
    call(srv, "POST", "/p/tencent/b/api/v2/query", "{\"phone\":\"8613800138000\"}", &bearer, &a);
    CHECK(strstr(a.body, "\"marks\":[{\"code\":51,\"cnt\":5}]") != NULL);
    call(srv, "POST", "/p/tencent/b/api/v2/complaint",
         "{\"phone\":\"8613800138000\",\"code\":51,\"reason\":\"ours\"}", &bearer, &a);
    CHECK_INT(a.resp.status, 200);
    cJSON *root = json(&a);
    const cJSON *id = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "result"), "complaint_id");
    char query[128];
    snprintf(query, sizeof(query), "{\"complaint_id\":\"%s\"}",
             cJSON_IsString(id) ? id->valuestring : "?");
    cJSON_Delete(root);
    static const struct {
        const char *advance;
        const char *state;
    } steps[] = {
        {"{\"advance_s\":0}", "\"state\":0}"},
        {"{\"advance_s\":600}", "\"state\":1}"},
        {"{\"advance_s\":42600}", "\"state\":"}, /* 2 or 3: decided */
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(steps); i++) {
        call(srv, "POST", "/admin/clock", steps[i].advance, NULL, &a);
        CHECK_INT(a.resp.status, 200);
        CHECK(strstr(a.body, "{\"sim_time\":\"2026-01-01T") == a.body);
        call(srv, "POST", "/p/tencent/b/api/v2/complaint/query", query, &bearer, &a);
        CHECK_INT(a.resp.status, 200);
        CHECK(strstr(a.body, steps[i].state) != NULL);
    }
    CHECK(strstr(a.body, "\"state\":2}") != NULL || strstr(a.body, "\"state\":3}") != NULL);
    bool approved = strstr(a.body, "\"state\":2}") != NULL;
    call(srv, "GET", "/admin/truth?platform=tencent&number=%2B8613800138000", NULL, NULL, &a);
    CHECK_INT(a.resp.status, 200);
    CHECK((strstr(a.body, "\"fraud\"") == NULL) == approved);
    nt_simsrv_free(srv);
}

static void test_admin(void)
{
    nt_simsrv_t *srv = new_srv();
    answer_t a;
    static const struct {
        const char *method, *target, *body;
        int status;
        const char *contains;
    } cases[] = {
        {"GET", "/admin/health", NULL, 200, "{\"ok\":true}"},
        {"POST", "/admin/health", NULL, 405, "{\"error\":"},
        {"GET", "/admin/nothing", NULL, 404, "{\"error\":"},
        {"GET", "/admin/truth?platform=agg&number=123", NULL, 400, "parameter \\\"number\\\""},
        {"GET", "/admin/truth?number=%2B8613800138000", NULL, 400, "parameter \\\"platform\\\""},
        {"POST", "/admin/marks", "{\"platform\":\"agg\",\"number\":\"+8613800138000\"}", 400,
         "\\\"type\\\": missing"},
        {"POST", "/admin/marks", "{\"platform\":\"agg\",\"number\":\"+86\",\"type\":\"fraud\"}",
         400, "\\\"number\\\": missing or not E.164"},
        {"POST", "/admin/marks", "[]", 400, "JSON object"},
        {"POST", "/admin/marks",
         "{\"platform\":\"agg\",\"number\":\"+8613800138000\",\"type\":\"fraud\",\"count\":2}", 200,
         "{\"ok\":true}"},
        {"POST", "/admin/marks",
         "{\"platform\":\"agg\",\"number\":\"+8613800138000\",\"type\":\"taxi\",\"count\":7}", 200,
         "{\"ok\":true}"},
        /* agg becomes a dialect C scope: truth shows the top mark only */
        {"POST", "/p/agg/c/batch/query", "{\"numbers\":[\"+8613800138000\"]}", 200,
         "\"count\":7,\"show_name\""},
        {"GET", "/admin/truth?platform=agg&number=+8613800138000", NULL, 200,
         "\"marks\":[{\"type\":\"taxi\",\"count\":7}],\"all_marks\":[{\"type\":\"taxi\","
         "\"count\":7},{\"type\":\"fraud\",\"count\":2}],\"sim_time\":\"2026-01-01T00:00:00."
         "000Z\"}"},
        {"POST", "/admin/marks/clear",
         "{\"platform\":\"agg\",\"number\":\"+8613800138000\",\"type\":\"taxi\"}", 200,
         "{\"ok\":true}"},
        {"GET", "/admin/truth?platform=agg&number=%2B8613800138000", NULL, 200,
         "\"marks\":[{\"type\":\"fraud\",\"count\":2}],\"all_marks\":[{\"type\":\"fraud\","},
        {"POST", "/admin/config", "{\"seed\":7}", 400,
         "key \\\"seed\\\" cannot be changed at run time"},
        {"POST", "/admin/config", "{\"faults\":{\"rate_5xx\":2}}", 400, "faults.rate_5xx"},
        {"POST", "/admin/config", "{\"latency\":{\"nope\":1}}", 400,
         "unknown key \\\"latency.nope\\\""},
        {"POST", "/admin/config", "{\"faults\":{\"rate_5xx\":0.6,\"rate_timeout\":0.6}}", 400,
         "at most 1"},
        {"POST", "/admin/clock", "{\"advance_s\":-1}", 400, "advance_s"},
        {"POST", "/admin/clock", "{\"advance_s\":86400}", 200,
         "{\"sim_time\":\"2026-01-02T00:00:00.000Z\"}"},
        {"GET", "/admin/idempotency", NULL, 400, "parameter \\\"key\\\""},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        call(srv, cases[i].method, cases[i].target, cases[i].body, NULL, &a);
        if (a.resp.status != cases[i].status || strstr(a.body, cases[i].contains) == NULL)
            fprintf(stderr, "admin case %zu %s: %d %s\n", i, cases[i].target, a.resp.status,
                    a.body);
        CHECK_INT(a.resp.status, cases[i].status);
        CHECK(strstr(a.body, cases[i].contains) != NULL);
        cJSON *root = json(&a);
        CHECK(root != NULL);
        cJSON_Delete(root);
    }

    /* the counters object has the documented shape */
    call(srv, "GET", "/admin/counters", NULL, NULL, &a);
    cJSON *root = json(&a);
    static const char *const top[] = {
        "requests",     "by_endpoint",   "by_status",   "rate_limited", "auth_failures",
        "faults",       "batch_numbers", "idempotency", "side_effects", "duplicate_side_effects",
        "early_retries"};
    for (size_t i = 0; i < NT_ARRAY_LEN(top); i++)
        CHECK(cJSON_GetObjectItemCaseSensitive(root, top[i]) != NULL);
    static const char *const eps[] = {"a.check", "a.tag", "a.appeal", "a.appeal_status",
                                      "b.check", "b.tag", "b.appeal", "b.appeal_status",
                                      "c.batch", "c.tag", "c.appeal", "c.appeal_status",
                                      "admin"};
    const cJSON *by_ep = cJSON_GetObjectItemCaseSensitive(root, "by_endpoint");
    for (size_t i = 0; i < NT_ARRAY_LEN(eps); i++)
        CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(by_ep, eps[i])));
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(by_ep, "c.batch")->valueint, 1);
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(by_ep, "admin")->valueint,
              (int)NT_ARRAY_LEN(cases) - 1 + 1);
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(root, "requests")->valueint,
              (int)NT_ARRAY_LEN(cases) + 1);
    const cJSON *by_status = cJSON_GetObjectItemCaseSensitive(root, "by_status");
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(by_status, "400")));
    CHECK(cJSON_IsNumber(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "faults"), "5xx")));
    CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(root, "side_effects"), "tag_updates")));
    cJSON_Delete(root);

    call(srv, "POST", "/admin/counters/reset", NULL, NULL, &a);
    CHECK_STR(a.body, "{\"ok\":true}");
    call(srv, "GET", "/admin/counters", NULL, NULL, &a);
    CHECK(strstr(a.body, "{\"requests\":1,") == a.body);
    /* state is kept across a reset */
    call(srv, "GET", "/admin/truth?platform=agg&number=%2B8613800138000", NULL, NULL, &a);
    CHECK(strstr(a.body, "\"fraud\"") != NULL);
    nt_simsrv_free(srv);
}

int main(void)
{
    test_wire();
    test_idempotency();
    test_rate_limit_and_early_retry();
    test_outage_503();
    test_faults_and_latency();
    test_appeal_flow();
    test_admin();
    CHECK_DONE();
}
