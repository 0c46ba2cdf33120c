/*
 * test_dialects.c — each dialect's rendering of known states, every error
 * shape, route matching, percent-decoding and label validation. Expected
 * strings are the wire formats of docs/simulator.md, written out in full.
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "check.h"
#include "dialect.h"

static nt_sim_state_t marked_state(void)
{
    nt_sim_state_t st;
    memset(&st, 0, sizeof(st));
    st.cert = NT_CERT_CERTIFIED;
    st.cert_expires_ms = 1803859200000LL; /* 2027-03-01 */
    st.trust = 87;
    snprintf(st.label, sizeof(st.label), "Acme 客服");
    st.marks[0] = (nt_sim_mark_t){NT_MARK_HARASSMENT, 12};
    st.marks[1] = (nt_sim_mark_t){NT_MARK_FRAUD, 3};
    st.nmarks = 2;
    return st;
}

static nt_sim_state_t bare_state(void)
{
    nt_sim_state_t st;
    memset(&st, 0, sizeof(st));
    st.cert = NT_CERT_NONE;
    st.trust = 0;
    return st;
}

static void test_render_check(void)
{
    nt_sim_state_t marked = marked_state(), bare = bare_state(), revoked = bare_state();
    revoked.cert = NT_CERT_REVOKED;
    revoked.trust = 61;
    revoked.marks[0] = (nt_sim_mark_t){NT_MARK_OTHER, 1};
    revoked.nmarks = 1;
    static const char *const num = "+8613800138000";
    const struct {
        const nt_dialect_t *d;
        const nt_sim_state_t *st;
        const char *want;
    } cases[] = {
        {&nt_dialect_a, &marked,
         "{\"code\":0,\"data\":{\"number\":\"+8613800138000\",\"certified\":true,"
         "\"cert_state\":\"valid\",\"cert_expires\":\"2027-03-01\",\"trust_score\":87,\"display\":{"
         "\"android\":\"Acme 客服\","
         "\"ios\":\"Acme 客服\",\"search\":\"Acme 客服\"},\"marks\":[{\"tag\":\"骚扰电话\","
         "\"count\":12},{\"tag\":\"诈骗电话\",\"count\":3}]}}"},
        {&nt_dialect_a, &bare,
         "{\"code\":0,\"data\":{\"number\":\"+8613800138000\",\"certified\":false,"
         "\"cert_state\":\"unregistered\",\"cert_expires\":\"\",\"trust_score\":0,\"display\":{"
         "\"android\":\"\","
         "\"ios\":\"\",\"search\":\"\"},\"marks\":[]}}"},
        {&nt_dialect_a, &revoked,
         "{\"code\":0,\"data\":{\"number\":\"+8613800138000\",\"certified\":false,"
         "\"cert_state\":\"revoked\",\"cert_expires\":\"\",\"trust_score\":61,\"display\":{"
         "\"android\":\"\","
         "\"ios\":\"\",\"search\":\"\"},\"marks\":[{\"tag\":\"其他\",\"count\":1}]}}"},
        {&nt_dialect_b, &marked,
         "{\"ret\":0,\"msg\":\"ok\",\"result\":{\"phone\":\"8613800138000\",\"auth_state\":1,"
         "\"expire_time\":1803859200,\"score\":870,\"show\":{\"android_name\":\"Acme "
         "客服\",\"ios_name\":\"Acme 客服\","
         "\"web_name\":\"Acme 客服\"},\"marks\":[{\"code\":50,\"cnt\":12},{\"code\":51,"
         "\"cnt\":3}]}}"},
        {&nt_dialect_b, &revoked,
         "{\"ret\":0,\"msg\":\"ok\",\"result\":{\"phone\":\"8613800138000\",\"auth_state\":3,"
         "\"expire_time\":0,\"score\":610,\"show\":{\"android_name\":\"\",\"ios_name\":\"\",\"web_"
         "name\":\"\"},"
         "\"marks\":[{\"code\":99,\"cnt\":1}]}}"},
        {&nt_dialect_c, &marked,
         "{\"number\":\"+8613800138000\",\"verified_state\":\"verified\","
         "\"verified_until\":\"2027-03-01\",\"score\":87,"
         "\"platforms\":{\"agg\":{\"count\":12,\"show_name\":\"Acme "
         "客服\",\"tag_name\":\"骚扰\"}}}"},
        {&nt_dialect_c, &bare,
         "{\"number\":\"+8613800138000\",\"verified_state\":\"unverified\","
         "\"verified_until\":\"\",\"score\":0,"
         "\"platforms\":{\"agg\":{\"count\":0,\"show_name\":\"\",\"tag_name\":\"\"}}}"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        nt_buf_t out;
        nt_buf_init(&out, 0);
        CHECK_INT(cases[i].d->render_check(&out, "agg", num, cases[i].st), 0);
        CHECK_STR(out.data, cases[i].want);
        nt_buf_free(&out);
    }
}

static void test_error_shapes(void)
{
    static const struct {
        char dialect;
        nt_derr_t e;
        int http;
        const char *body;
    } cases[] = {
        {'a', NT_DERR_BAD_NUMBER, 400, "{\"code\":40001,\"message\":\"invalid number\"}"},
        {'a', NT_DERR_BAD_BODY, 400, "{\"code\":40002,\"message\":\"bad request body\"}"},
        {'a', NT_DERR_LABEL, 400, "{\"code\":40010,\"message\":\"label rejected\"}"},
        {'a', NT_DERR_AUTH_SIG, 401, "{\"code\":40101,\"message\":\"bad signature\"}"},
        {'a', NT_DERR_AUTH_SKEW, 401, "{\"code\":40102,\"message\":\"timestamp skew\"}"},
        {'a', NT_DERR_AUTH_KEY, 401, "{\"code\":40103,\"message\":\"missing or unknown key\"}"},
        {'a', NT_DERR_NO_TICKET, 404, "{\"code\":40401,\"message\":\"unknown ticket\"}"},
        {'a', NT_DERR_NO_MARK, 409, "{\"code\":40901,\"message\":\"no such mark\"}"},
        {'a', NT_DERR_RATE, 429, "{\"code\":42901,\"message\":\"rate limited\"}"},
        {'a', NT_DERR_INTERNAL, 500, "{\"code\":50001,\"message\":\"internal error\"}"},
        {'a', NT_DERR_UNAVAILABLE, 503, "{\"code\":50301,\"message\":\"unavailable\"}"},
        {'a', NT_DERR_NOT_ELIGIBLE, 409,
         "{\"code\":40902,\"message\":\"not eligible for renewal\"}"},
        {'b', NT_DERR_BAD_NUMBER, 200, "{\"ret\":2001,\"msg\":\"invalid phone\"}"},
        {'b', NT_DERR_BAD_BODY, 200, "{\"ret\":2002,\"msg\":\"bad request body\"}"},
        {'b', NT_DERR_LABEL, 200, "{\"ret\":2003,\"msg\":\"label rejected\"}"},
        {'b', NT_DERR_NO_TICKET, 200, "{\"ret\":2004,\"msg\":\"unknown complaint\"}"},
        {'b', NT_DERR_NO_MARK, 200, "{\"ret\":2009,\"msg\":\"no such mark\"}"},
        {'b', NT_DERR_AUTH_KEY, 401, "{\"ret\":4010,\"msg\":\"invalid token\"}"},
        {'b', NT_DERR_RATE, 429, "{\"ret\":1001,\"msg\":\"frequency limit\"}"},
        {'b', NT_DERR_INTERNAL, 500, "{\"ret\":5000,\"msg\":\"internal error\"}"},
        {'b', NT_DERR_UNAVAILABLE, 503, "{\"ret\":5003,\"msg\":\"unavailable\"}"},
        {'b', NT_DERR_NOT_ELIGIBLE, 200, "{\"ret\":2010,\"msg\":\"not eligible for renewal\"}"},
        {'c', NT_DERR_BAD_NUMBER, 400,
         "{\"status\":\"error\",\"error_code\":\"BAD_REQUEST\",\"message\":\"invalid number\"}"},
        {'c', NT_DERR_BAD_BODY, 400,
         "{\"status\":\"error\",\"error_code\":\"BAD_REQUEST\",\"message\":\"bad request body\"}"},
        {'c', NT_DERR_LABEL, 400,
         "{\"status\":\"error\",\"error_code\":\"LABEL_REJECTED\",\"message\":\"label rejected\"}"},
        {'c', NT_DERR_NO_TICKET, 404,
         "{\"status\":\"error\",\"error_code\":\"NOT_FOUND\",\"message\":\"unknown appeal\"}"},
        {'c', NT_DERR_NO_MARK, 409,
         "{\"status\":\"error\",\"error_code\":\"NO_MARK\",\"message\":\"no such mark\"}"},
        {'c', NT_DERR_RATE, 429,
         "{\"status\":\"error\",\"error_code\":\"RATE_LIMIT\",\"message\":\"rate limited\"}"},
        {'c', NT_DERR_INTERNAL, 500,
         "{\"status\":\"error\",\"error_code\":\"INTERNAL\",\"message\":\"internal error\"}"},
        {'c', NT_DERR_UNAVAILABLE, 503,
         "{\"status\":\"error\",\"error_code\":\"UNAVAILABLE\",\"message\":\"unavailable\"}"},
    };
    nt_buf_t out;
    nt_buf_init(&out, 0);
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        const nt_dialect_t *d = nt_dialect_find(cases[i].dialect);
        CHECK(d != NULL);
        CHECK_INT(nt_dialect_error(d, &out, cases[i].e, NULL), cases[i].http);
        CHECK_STR(out.data, cases[i].body);
    }
    /* every kind of every dialect renders valid JSON, messages escaped */
    for (char id = 'a'; id <= 'c'; id++) {
        for (int e = 0; e < NT_DERR__COUNT; e++) {
            int http = nt_dialect_error(nt_dialect_find(id), &out, (nt_derr_t)e, "a \"quoted\"\n");
            cJSON *root = cJSON_Parse(out.data);
            CHECK(root != NULL);
            CHECK(http >= 200 && http < 600);
            cJSON_Delete(root);
        }
    }
    CHECK(nt_dialect_find('e') == NULL);
    nt_buf_free(&out);
}

static void test_routes(void)
{
    static const struct {
        char dialect;
        const char *method;
        const char *rest;
        int ep; /* -1: no route */
        const char *arg;
    } cases[] = {
        {'a', "GET", "v1/numbers/%2B8613800138000/status", NT_SIM_EP_CHECK, "%2B8613800138000"},
        {'a', "POST", "v1/numbers/%2B8613800138000/label", NT_SIM_EP_TAG, "%2B8613800138000"},
        {'a', "POST", "v1/appeals", NT_SIM_EP_APPEAL, NULL},
        {'a', "GET", "v1/appeals/abc123", NT_SIM_EP_APPEAL_STATUS, "abc123"},
        {'a', "GET", "v1/appeals", -1, NULL},
        {'a', "GET", "v1/appeals/", -1, NULL},
        {'a', "POST", "v1/numbers/%2B86/status", -1, NULL},
        {'a', "GET", "v1/numbers/%2B86/status/extra", -1, NULL},
        {'b', "POST", "api/v2/query", NT_SIM_EP_CHECK, NULL},
        {'b', "POST", "api/v2/label", NT_SIM_EP_TAG, NULL},
        {'b', "POST", "api/v2/complaint", NT_SIM_EP_APPEAL, NULL},
        {'b', "POST", "api/v2/complaint/query", NT_SIM_EP_APPEAL_STATUS, NULL},
        {'b', "GET", "api/v2/query", -1, NULL},
        {'c', "POST", "batch/query", NT_SIM_EP_CHECK, NULL},
        {'c', "POST", "label/submit", NT_SIM_EP_TAG, NULL},
        {'c', "POST", "appeal/submit", NT_SIM_EP_APPEAL, NULL},
        {'c', "GET", "appeal/T-1", NT_SIM_EP_APPEAL_STATUS, "T-1"},
        {'c', "GET", "batch/query", -1, NULL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        const char *arg = NULL;
        size_t arglen = 0;
        char argbuf[64] = "";
        const nt_dialect_route_t *r = nt_dialect_route(
            nt_dialect_find(cases[i].dialect), cases[i].method, cases[i].rest, &arg, &arglen);
        if ((r ? (int)r->ep : -1) != cases[i].ep)
            fprintf(stderr, "route case %zu (%s %s)\n", i, cases[i].method, cases[i].rest);
        CHECK_INT(r ? (int)r->ep : -1, cases[i].ep);
        if (r != NULL && cases[i].arg != NULL) {
            snprintf(argbuf, sizeof(argbuf), "%.*s", (int)arglen, arg);
            CHECK_STR(argbuf, cases[i].arg);
        }
        if (r != NULL && cases[i].arg == NULL)
            CHECK(arg == NULL);
    }
}

static void test_pct_decode(void)
{
    static const struct {
        const char *in;
        int len;
        const char *out;
    } cases[] = {
        {"%2B8613800138000", 14, "+8613800138000"},
        {"%2b86", 3, "+86"},
        {"plain", 5, "plain"},
        {"a%20b", 3, "a b"},
        {"%2", -1, NULL},
        {"%", -1, NULL},
        {"%zz", -1, NULL},
        {"%00", -1, NULL},
        {"%E4%B8%AD", 3, "中"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        char out[64];
        int n = nt_dialect_pct_decode(cases[i].in, strlen(cases[i].in), out, sizeof(out));
        CHECK_INT(n, cases[i].len);
        if (cases[i].out != NULL && n >= 0)
            CHECK_STR(out, cases[i].out);
    }
    char small[4];
    CHECK_INT(nt_dialect_pct_decode("abcd", 4, small, sizeof(small)), -1);
}

static void test_labels(void)
{
    static const struct {
        const char *label;
        bool ok;
    } cases[] = {
        {"", false},
        {"Acme", true},
        {"Acme 客服", true},
        {"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二", true}, /* 32 */
        {"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三", false},
        {"0123456789012345678901234567890123", false},
        {"a\nb", false},
        {"\xff\xfe", false},
        {"\xed\xa0\x80", false}, /* a UTF-16 surrogate */
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        if (nt_dialect_label_ok(cases[i].label) != cases[i].ok)
            fprintf(stderr, "label case %zu\n", i);
        CHECK(nt_dialect_label_ok(cases[i].label) == cases[i].ok);
    }
}

int main(void)
{
    test_render_check();
    test_error_shapes();
    test_routes();
    test_pct_decode();
    test_labels();
    CHECK_DONE();
}
