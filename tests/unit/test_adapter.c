/*
 * test_adapter.c — the declarative platform adapters (adapter.h) on
 * deploy/local/platforms.json and recorded answers of each simulator dialect
 * (tests/unit/data/dialect_*.json, written from docs/simulator.md):
 *
 *   - answer classification: HTTP status, business codes inside HTTP 200,
 *     malformed bodies, transport errors, Retry-After;
 *   - check mapping: cert status, trust score (dialect B's scale 0.1), labels,
 *     marks through the taxonomy, sorted by count; dialect C's single mark
 *     per platform and count 0 = no mark; batch matching by number;
 *   - ticket mapping for tag update / appeal / appeal status;
 *   - request building: URLs, bodies, the auth and idempotency headers, and
 *     the HMAC signature recomputed here from docs/platforms.md's formula;
 *   - signature vectors computed independently with Python.
 *
 * Loading platforms.json and its errors: test_platforms.c.
 */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapter.h"
#include "buf.h"
#include "check.h"

static int ncases;

#define PLATFORMS_FILE NT_TEST_DATA_DIR "/../../../deploy/local/platforms.json"
#define SIM_URL        "http://127.0.0.1:28080"
#define JOB_ID         "0a9321d4-f68a-5081-9fcd-d0123a4c3167"
#define NOW_S          1764288000

static nt_platforms_t *ps;

/* ---- helpers ---- */

/* Reads tests/unit/data/<name> into b. 0 or -1. */
static int read_data(const char *name, nt_buf_t *b)
{
    char path[512];
    char chunk[4096];
    size_t n;
    snprintf(path, sizeof(path), "%s/%s", NT_TEST_DATA_DIR, name);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        CHECKF(0, "cannot open %s", path);
        return -1;
    }
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (nt_buf_append(b, chunk, n) != NT_OK)
            rc = -1;
    fclose(fp);
    return rc;
}

static const nt_platform_t *plat(const char *id)
{
    const nt_platform_t *p = ps ? nt_platforms_find(ps, id) : NULL;
    CHECKF(p != NULL, "platform %s not loaded", id);
    return p;
}

/* Parses exactly len bytes as one JSON value (then only whitespace); NULL
 * otherwise. */
static cJSON *parse_exact(const char *data, size_t len)
{
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    while (root != NULL && end < data + len && (*end == ' ' || *end == '\n' || *end == '\t'))
        end++;
    if (root != NULL && end != data + len) {
        cJSON_Delete(root);
        root = NULL;
    }
    return root;
}

static void marks_text(const nt_check_state_t *st, char *out, size_t outsz)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < st->nmarks && o < outsz; i++) {
        int n = snprintf(out + o, outsz - o, "%s%s:%d", i ? "," : "", st->marks[i].type,
                         st->marks[i].count);
        if (n < 0)
            break;
        o += (size_t)n;
    }
}

/* The value of header `name` in a curl list, or NULL. */
static const char *header_value(const struct curl_slist *h, const char *name)
{
    size_t n = strlen(name);
    for (; h != NULL; h = h->next)
        if (strncasecmp(h->data, name, n) == 0 && h->data[n] == ':')
            return h->data[n + 1] == ' ' ? h->data + n + 2 : h->data + n + 1;
    return NULL;
}

static size_t header_count(const struct curl_slist *h)
{
    size_t n = 0;
    for (; h != NULL; h = h->next)
        n++;
    return n;
}

/* docs/platforms.md's signature, computed here without nt_adapter_sign:
 * hex(HMAC-SHA256(secret, METHOD\nPATH\nTIMESTAMP\nNONCE\nhex(SHA256(body)))) */
static void ref_sign(const char *secret, const char *method, const char *path, const char *ts,
                     const char *nonce, const char *body, size_t body_len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char bhex[65], msg[4096];
    EVP_Digest(body, body_len, md, &mdlen, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++)
        snprintf(bhex + 2 * i, 3, "%02x", md[i]);
    int n = snprintf(msg, sizeof(msg), "%s\n%s\n%s\n%s\n%s", method, path, ts, nonce, bhex);
    HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg, (size_t)n, md,
         &mdlen);
    for (unsigned i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void load(void)
{
    nt_err_t err;
    ps = nt_platforms_load(PLATFORMS_FILE, &err);
    CHECKF(ps != NULL, "load %s: %s", PLATFORMS_FILE, err.msg);
}

/* ---- answer classification ---- */

typedef struct answer_row_s {
    const char *name;
    const char *platform;
    long status;
    CURLcode code;
    const char *file; /* body from tests/unit/data; NULL: inline body */
    const char *body;
    bool truncate; /* send only the first half of the body */
    int64_t retry_after_ms;
    nt_outcome_t outcome;
    bool timed_out;
    const char *reason; /* substring of ans.reason for non-ok answers */
} answer_row_t;

static const answer_row_t answer_rows[] = {
    /* dialect A: HTTP status carries the class, code 0 is ok */
    {"A 200 check", "baidu", 200, CURLE_OK, "dialect_a_check.json", NULL, false, -1, NT_OUTCOME_OK,
     false, NULL},
    {"A 401 bad signature", "baidu", 401, CURLE_OK, "dialect_a_error_401.json", NULL, false, -1,
     NT_OUTCOME_AUTH, false, "bad signature"},
    {"A 403", "baidu", 403, CURLE_OK, NULL, "{\"code\":40300,\"message\":\"forbidden\"}", false, -1,
     NT_OUTCOME_AUTH, false, "forbidden"},
    {"A 429 with Retry-After", "baidu", 429, CURLE_OK, "dialect_a_error_429.json", NULL, false,
     2000, NT_OUTCOME_RATE_LIMITED, false, "rate limited"},
    {"A 500", "baidu", 500, CURLE_OK, "dialect_a_error_500.json", NULL, false, -1,
     NT_OUTCOME_RETRYABLE, false, "internal error"},
    {"A 503 with Retry-After", "baidu", 503, CURLE_OK, "dialect_a_error_503.json", NULL, false,
     5000, NT_OUTCOME_RETRYABLE, false, "unavailable"},
    {"A 502 without a body", "baidu", 502, CURLE_OK, NULL, "", false, -1, NT_OUTCOME_RETRYABLE,
     false, "baidu"},
    {"A 408", "baidu", 408, CURLE_OK, NULL, "", false, -1, NT_OUTCOME_RETRYABLE, false, "baidu"},
    {"A 400 invalid number", "baidu", 400, CURLE_OK, "dialect_a_error_400.json", NULL, false, -1,
     NT_OUTCOME_PERMANENT, false, "invalid number"},
    {"A 404 unknown ticket", "baidu", 404, CURLE_OK, "dialect_a_error_404.json", NULL, false, -1,
     NT_OUTCOME_PERMANENT, false, "unknown ticket"},
    {"A 200 with code 42901", "baidu", 200, CURLE_OK, "dialect_a_error_429.json", NULL, false, -1,
     NT_OUTCOME_RATE_LIMITED, false, "42901"},
    {"A 200 with code 50001", "baidu", 200, CURLE_OK, "dialect_a_error_500.json", NULL, false, -1,
     NT_OUTCOME_RETRYABLE, false, "50001"},
    {"A 200 with an unknown code", "baidu", 200, CURLE_OK, NULL,
     "{\"code\":12345,\"message\":\"new error\"}", false, -1, NT_OUTCOME_PERMANENT, false, "12345"},
    {"A 200 truncated body", "baidu", 200, CURLE_OK, "dialect_a_check.json", NULL, true, -1,
     NT_OUTCOME_RETRYABLE, false, "baidu"},
    {"A 200 empty body", "baidu", 200, CURLE_OK, NULL, "", false, -1, NT_OUTCOME_RETRYABLE, false,
     "baidu"},
    {"A 200 HTML body", "baidu", 200, CURLE_OK, NULL, "<html>busy</html>", false, -1,
     NT_OUTCOME_RETRYABLE, false, "baidu"},
    {"A timeout", "baidu", 0, CURLE_OPERATION_TIMEDOUT, NULL, NULL, false, -1, NT_OUTCOME_RETRYABLE,
     true, "baidu"},
    {"A connection refused", "baidu", 0, CURLE_COULDNT_CONNECT, NULL, NULL, false, -1,
     NT_OUTCOME_RETRYABLE, false, "baidu"},
    {"A reset mid-answer", "baidu", 200, CURLE_RECV_ERROR, NULL, "{\"code\":0,", false, -1,
     NT_OUTCOME_RETRYABLE, false, "baidu"},
    /* dialect B: business errors inside HTTP 200 */
    {"B 200 check", "tencent", 200, CURLE_OK, "dialect_b_check.json", NULL, false, -1,
     NT_OUTCOME_OK, false, NULL},
    {"B 200 ret 2001 invalid phone", "tencent", 200, CURLE_OK, "dialect_b_error_2001.json", NULL,
     false, -1, NT_OUTCOME_PERMANENT, false, "invalid phone"},
    {"B 200 ret 1001 frequency limit", "tencent", 200, CURLE_OK, "dialect_b_error_1001.json", NULL,
     false, -1, NT_OUTCOME_RATE_LIMITED, false, "frequency limit"},
    {"B 429 ret 1001 with Retry-After", "tencent", 429, CURLE_OK, "dialect_b_error_1001.json", NULL,
     false, 1000, NT_OUTCOME_RATE_LIMITED, false, "frequency limit"},
    {"B 200 ret 5003", "tencent", 200, CURLE_OK, NULL, "{\"ret\":5003,\"msg\":\"unavailable\"}",
     false, -1, NT_OUTCOME_RETRYABLE, false, "unavailable"},
    {"B 401 invalid token", "tencent", 401, CURLE_OK, "dialect_b_error_4010.json", NULL, false, -1,
     NT_OUTCOME_AUTH, false, "invalid token"},
    {"B 500", "tencent", 500, CURLE_OK, "dialect_b_error_5000.json", NULL, false, -1,
     NT_OUTCOME_RETRYABLE, false, "internal error"},
    {"B 200 truncated body", "tencent", 200, CURLE_OK, "dialect_b_check.json", NULL, true, -1,
     NT_OUTCOME_RETRYABLE, false, "tencent"},
    /* dialect C: error_code strings */
    {"C 200 batch", "qihoo360", 200, CURLE_OK, "dialect_c_batch.json", NULL, false, -1,
     NT_OUTCOME_OK, false, NULL},
    {"C 400 BAD_REQUEST", "qihoo360", 400, CURLE_OK, "dialect_c_error_400.json", NULL, false, -1,
     NT_OUTCOME_PERMANENT, false, "more than 100 numbers"},
    {"C 429 RATE_LIMIT", "qihoo360", 429, CURLE_OK, "dialect_c_error_429.json", NULL, false, 3000,
     NT_OUTCOME_RATE_LIMITED, false, "slow down"},
    {"C 500 INTERNAL", "qihoo360", 500, CURLE_OK, "dialect_c_error_500.json", NULL, false, -1,
     NT_OUTCOME_RETRYABLE, false, "internal error"},
    {"C 503 UNAVAILABLE", "qihoo360", 503, CURLE_OK, "dialect_c_error_503.json", NULL, false, 7000,
     NT_OUTCOME_RETRYABLE, false, "unavailable"},
    {"C 401 (no auth class: 4xx)", "qihoo360", 401, CURLE_OK, NULL, "", false, -1,
     NT_OUTCOME_PERMANENT, false, "qihoo360"},
    {"C 200 with error_code INTERNAL", "qihoo360", 200, CURLE_OK, "dialect_c_error_500.json", NULL,
     false, -1, NT_OUTCOME_RETRYABLE, false, "INTERNAL"},
    {"C 200 truncated batch", "qihoo360", 200, CURLE_OK, "dialect_c_batch.json", NULL, true, -1,
     NT_OUTCOME_RETRYABLE, false, "qihoo360"},
    /* the reason never carries a full phone number */
    {"A 400 echoing the number", "baidu", 400, CURLE_OK, NULL,
     "{\"code\":40001,\"message\":\"invalid number +8613800138000\"}", false, -1,
     NT_OUTCOME_PERMANENT, false, "invalid number"},
    {"B 200 echoing the number", "tencent", 200, CURLE_OK, NULL,
     "{\"ret\":2001,\"msg\":\"invalid phone 8613800138000\"}", false, -1, NT_OUTCOME_PERMANENT,
     false, "invalid phone"},
};

static void test_answers(void)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(answer_rows); i++, ncases++) {
        const answer_row_t *r = &answer_rows[i];
        const nt_platform_t *p = plat(r->platform);
        if (p == NULL)
            continue;
        nt_buf_t body;
        nt_buf_init(&body, 0);
        if (r->file != NULL && read_data(r->file, &body) != 0) {
            nt_buf_free(&body);
            continue;
        }
        if (r->file == NULL && r->body != NULL && nt_buf_puts(&body, r->body) != NT_OK)
            CHECKF(0, "%s: out of memory", r->name);
        nt_http_result_t res = {
            .code = r->code,
            .status = r->status,
            .body = body.data ? body.data : "",
            .body_len = r->truncate ? body.len / 2 : body.len,
            .retry_after_ms = r->retry_after_ms,
            .elapsed_us = 1234,
            .error = r->code != CURLE_OK ? curl_easy_strerror(r->code) : NULL,
        };
        nt_answer_t ans;
        cJSON *root = (cJSON *)&ans; /* must be reset */
        nt_adapter_answer(p, &res, &ans, &root);
        CHECKF(ans.outcome == r->outcome, "%s: outcome %s, want %s (reason: %s)", r->name,
               nt_outcome_name(ans.outcome), nt_outcome_name(r->outcome), ans.reason);
        CHECKF(ans.status == r->status, "%s: status %ld", r->name, ans.status);
        CHECKF(ans.retry_after_ms == r->retry_after_ms, "%s: retry_after_ms %lld, want %lld",
               r->name, (long long)ans.retry_after_ms, (long long)r->retry_after_ms);
        CHECKF(ans.timed_out == r->timed_out, "%s: timed_out %d", r->name, ans.timed_out);
        if (r->outcome == NT_OUTCOME_OK) {
            CHECKF(root != NULL, "%s: ok without a parsed body", r->name);
        } else {
            CHECKF(root == NULL, "%s: a non-ok answer hands out a body", r->name);
            CHECKF(ans.reason[0] != '\0', "%s: no reason", r->name);
            if (r->reason != NULL)
                CHECK_CONTAINS(r->name, ans.reason, r->reason);
            CHECK_CONTAINS(r->name, ans.reason, r->platform);
            CHECK_LACKS(r->name, ans.reason, "8613800138000");
            CHECK_LACKS(r->name, ans.reason, "sim-secret");
            CHECK_LACKS(r->name, ans.reason, "sim-token");
        }
        if (root != NULL && root != (cJSON *)&ans)
            cJSON_Delete(root);
        nt_buf_free(&body);
    }

    /* a body larger than the cap is not retried forever */
    nt_http_result_t res = {.code = CURLE_WRITE_ERROR,
                            .status = 200,
                            .body = "",
                            .body_too_big = true,
                            .retry_after_ms = -1,
                            .error = "Failure writing output to destination"};
    nt_answer_t ans;
    cJSON *root = NULL;
    const nt_platform_t *p = plat("baidu");
    ncases++;
    if (p != NULL) {
        nt_adapter_answer(p, &res, &ans, &root);
        CHECK_INT(ans.outcome, NT_OUTCOME_PERMANENT);
        CHECK(root == NULL);
    }
}

/* ---- check mapping ---- */

typedef struct check_row_s {
    const char *name;
    const char *platform;
    const char *file;
    int rc;
    const char *cert; /* NULL: has_cert false */
    int score;        /* -1: has_score false */
    const char *labels[NT_SURFACES];
    const char *marks;
    const char *err; /* substring of err.msg when rc != 0 */
} check_row_t;

static const check_row_t check_rows[] = {
    {"A check",
     "baidu",
     "dialect_a_check.json",
     NT_OK,
     "certified",
     87,
     {"某某科技客服", "某某科技客服", "某某科技"},
     "fraud:12,harassment:3,other:3",
     NULL},
    {"A unregistered, no marks",
     "baidu",
     "dialect_a_check_unregistered.json",
     NT_OK,
     "none",
     0,
     {"", "", ""},
     "",
     NULL},
    {"A check without cert_state",
     "baidu",
     "dialect_a_check_missing_cert.json",
     NT_EINVAL,
     NULL,
     -1,
     {NULL, NULL, NULL},
     "",
     "cert_status"},
    {"A check with an unmapped cert_state",
     "baidu",
     "dialect_a_check_bad_cert.json",
     NT_EINVAL,
     NULL,
     -1,
     {NULL, NULL, NULL},
     "",
     "golden"},
    {"B check, score x0.1",
     "tencent",
     "dialect_b_check.json",
     NT_OK,
     "certified",
     87,
     {"某某科技", "某某科技", "某某科技官网"},
     "fraud:30,harassment:12,agency:12",
     NULL},
    {"B expired, score 1000, unknown code, count 0",
     "tencent",
     "dialect_b_check_expired.json",
     NT_OK,
     "expired",
     100,
     {"", "", ""},
     "other:3",
     NULL},
    {"C single check, one mark",
     "qihoo360",
     "dialect_c_check.json",
     NT_OK,
     "certified",
     87,
     {"某某科技", "某某科技", "某某科技"},
     "agency:12",
     NULL},
    {"C count 0 is no mark",
     "qihoo360",
     "dialect_c_check_nomark.json",
     NT_OK,
     "pending",
     61,
     {"", "", ""},
     "",
     NULL},
    {"A error body is not a check",
     "baidu",
     "dialect_a_error_400.json",
     NT_EINVAL,
     NULL,
     -1,
     {NULL, NULL, NULL},
     "",
     "cert_status"},
};

static void expect_state(const char *name, const nt_check_state_t *st, const char *cert, int score,
                         const char *const labels[NT_SURFACES], const char *marks)
{
    char got[256];
    CHECKF(st->has_cert == (cert != NULL), "%s: has_cert %d", name, st->has_cert);
    if (cert != NULL)
        CHECKF(strcmp(st->cert_status, cert) == 0, "%s: cert_status \"%s\", want \"%s\"", name,
               st->cert_status, cert);
    CHECKF(st->has_score == (score >= 0), "%s: has_score %d", name, st->has_score);
    if (score >= 0)
        CHECKF(st->trust_score == score, "%s: trust_score %d, want %d", name, st->trust_score,
               score);
    for (int s = 0; s < NT_SURFACES; s++) {
        CHECKF(st->has_label[s] == (labels[s] != NULL), "%s: has_label[%d] %d", name, s,
               st->has_label[s]);
        if (labels[s] != NULL)
            CHECKF(strcmp(st->label[s], labels[s]) == 0, "%s: label[%d] \"%s\", want \"%s\"", name,
                   s, st->label[s], labels[s]);
    }
    marks_text(st, got, sizeof(got));
    CHECKF(strcmp(got, marks) == 0, "%s: marks \"%s\", want \"%s\"", name, got, marks);
}

static void test_map_check(void)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(check_rows); i++, ncases++) {
        const check_row_t *r = &check_rows[i];
        const nt_platform_t *p = plat(r->platform);
        nt_buf_t body;
        nt_buf_init(&body, 0);
        if (p == NULL || read_data(r->file, &body) != 0) {
            nt_buf_free(&body);
            continue;
        }
        /* the whole path: the answer must classify ok before mapping */
        nt_http_result_t res = {.code = CURLE_OK,
                                .status = 200,
                                .body = body.data,
                                .body_len = body.len,
                                .retry_after_ms = -1};
        nt_answer_t ans;
        cJSON *root = NULL;
        nt_adapter_answer(p, &res, &ans, &root);
        if (strstr(r->file, "error") != NULL) {
            /* an error body on a 200 classifies by its code; map it anyway */
            cJSON_Delete(root);
            root = cJSON_Parse(body.data);
        } else {
            CHECKF(ans.outcome == NT_OUTCOME_OK && root != NULL, "%s: answer %s (%s)", r->name,
                   nt_outcome_name(ans.outcome), ans.reason);
        }
        nt_check_state_t st;
        nt_err_t err;
        memset(&st, 0, sizeof(st));
        snprintf(st.number, sizeof(st.number), "+8613800138000");
        nt_err_clear(&err);
        int rc = nt_adapter_map_check(p, root, &st, &err);
        CHECKF(rc == r->rc, "%s: map_check rc %d (%s), want %d", r->name, rc, err.msg, r->rc);
        if (rc == NT_OK && r->rc == NT_OK) {
            expect_state(r->name, &st, r->cert, r->score, r->labels, r->marks);
            CHECK_STR(st.number, "+8613800138000");
        }
        if (r->err != NULL) {
            CHECK_CONTAINS(r->name, err.msg, r->err);
            CHECK_CONTAINS(r->name, err.msg, r->platform);
        }
        cJSON_Delete(root);
        nt_buf_free(&body);
    }
}

/* Copies fmt into out with the first "@V@" replaced by value. */
static void subst(const char *fmt, const char *value, char *out, size_t outsz)
{
    const char *at = strstr(fmt, "@V@");
    if (at == NULL)
        snprintf(out, outsz, "%s", fmt);
    else
        snprintf(out, outsz, "%.*s%s%s", (int)(at - fmt), fmt, value, at + 3);
}

/* Answers with one value ("@V@") to vary, per dialect. */
#define A_MARK                                                                                     \
    "{\"code\":0,\"data\":{\"cert_state\":\"valid\",\"trust_score\":50,\"display\":{\"android\":"  \
    "\"\",\"ios\":\"\",\"search\":\"\"},\"marks\":[{\"tag\":\"@V@\",\"count\":4}]}}"
#define B_MARK                                                                                     \
    "{\"ret\":0,\"result\":{\"auth_state\":1,\"score\":500,\"show\":{\"android_name\":\"\","       \
    "\"ios_name\":\"\",\"web_name\":\"\"},\"marks\":[{\"code\":@V@,\"cnt\":4}]}}"
#define C_MARK                                                                                     \
    "{\"status\":\"ok\",\"items\":[{\"number\":\"+8613800138000\",\"verified_state\":"             \
    "\"verified\","                                                                                \
    "\"score\":50,\"platforms\":{\"qihoo360\":{\"count\":4,\"show_name\":\"\",\"tag_name\":"       \
    "\"@V@\"}}}]}"
#define A_CERT                                                                                     \
    "{\"code\":0,\"data\":{\"cert_state\":\"@V@\",\"trust_score\":50,\"display\":{\"android\":"    \
    "\"\",\"ios\":\"\",\"search\":\"\"},\"marks\":[]}}"
#define B_CERT                                                                                     \
    "{\"ret\":0,\"result\":{\"auth_state\":@V@,\"score\":500,\"show\":{\"android_name\":\"\","     \
    "\"ios_name\":\"\",\"web_name\":\"\"},\"marks\":[]}}"
#define C_CERT                                                                                     \
    "{\"status\":\"ok\",\"items\":[{\"number\":\"+8613800138000\",\"verified_state\":\"@V@\","     \
    "\"score\":50,\"platforms\":{\"qihoo360\":{\"count\":0,\"show_name\":\"\",\"tag_name\":"       \
    "\"\"}}}]}"

/* Every value of each dialect's maps, one inline answer per row. */
static void test_value_maps(void)
{
    static const struct {
        const char *platform;
        const char *fmt; /* answer with one @V@ */
        const char *value;
        const char *want_cert; /* for cert rows */
        const char *want_marks;
        int rc;
    } rows[] = {
        {"baidu", A_MARK, "骚扰电话", "certified", "harassment:4", NT_OK},
        {"baidu", A_MARK, "诈骗电话", "certified", "fraud:4", NT_OK},
        {"baidu", A_MARK, "房产中介", "certified", "agency:4", NT_OK},
        {"baidu", A_MARK, "保险理财", "certified", "finance:4", NT_OK},
        {"baidu", A_MARK, "广告推销", "certified", "advertising:4", NT_OK},
        {"baidu", A_MARK, "快递送餐", "certified", "delivery:4", NT_OK},
        {"baidu", A_MARK, "出租车", "certified", "taxi:4", NT_OK},
        {"baidu", A_MARK, "其他", "certified", "other:4", NT_OK},
        {"baidu", A_MARK, "推销", "certified", "other:4", NT_OK}, /* unknown tag */
        {"baidu", A_MARK, "", "certified", "", NT_OK},            /* empty tag: no mark */
        {"tencent", B_MARK, "50", "certified", "harassment:4", NT_OK},
        {"tencent", B_MARK, "51", "certified", "fraud:4", NT_OK},
        {"tencent", B_MARK, "52", "certified", "agency:4", NT_OK},
        {"tencent", B_MARK, "53", "certified", "finance:4", NT_OK},
        {"tencent", B_MARK, "54", "certified", "advertising:4", NT_OK},
        {"tencent", B_MARK, "55", "certified", "delivery:4", NT_OK},
        {"tencent", B_MARK, "56", "certified", "taxi:4", NT_OK},
        {"tencent", B_MARK, "99", "certified", "other:4", NT_OK},
        {"tencent", B_MARK, "57", "certified", "other:4", NT_OK},
        {"tencent", B_MARK, "\"51\"", "certified", "fraud:4", NT_OK}, /* code as a string */
        {"qihoo360", C_MARK, "骚扰", "certified", "harassment:4", NT_OK},
        {"qihoo360", C_MARK, "诈骗", "certified", "fraud:4", NT_OK},
        {"qihoo360", C_MARK, "中介", "certified", "agency:4", NT_OK},
        {"qihoo360", C_MARK, "理财", "certified", "finance:4", NT_OK},
        {"qihoo360", C_MARK, "广告", "certified", "advertising:4", NT_OK},
        {"qihoo360", C_MARK, "快递", "certified", "delivery:4", NT_OK},
        {"qihoo360", C_MARK, "出租车", "certified", "taxi:4", NT_OK},
        {"qihoo360", C_MARK, "其它", "certified", "other:4", NT_OK},
        {"qihoo360", C_MARK, "未知", "certified", "other:4", NT_OK},
        {"baidu", A_CERT, "valid", "certified", "", NT_OK},
        {"baidu", A_CERT, "reviewing", "pending", "", NT_OK},
        {"baidu", A_CERT, "expired", "expired", "", NT_OK},
        {"baidu", A_CERT, "revoked", "revoked", "", NT_OK},
        {"baidu", A_CERT, "unregistered", "none", "", NT_OK},
        {"baidu", A_CERT, "certified", NULL, "", NT_EINVAL}, /* not the platform's word */
        {"tencent", B_CERT, "0", "none", "", NT_OK},
        {"tencent", B_CERT, "1", "certified", "", NT_OK},
        {"tencent", B_CERT, "2", "expired", "", NT_OK},
        {"tencent", B_CERT, "3", "revoked", "", NT_OK},
        {"tencent", B_CERT, "4", "pending", "", NT_OK},
        {"tencent", B_CERT, "5", NULL, "", NT_EINVAL},
        {"qihoo360", C_CERT, "verified", "certified", "", NT_OK},
        {"qihoo360", C_CERT, "pending", "pending", "", NT_OK},
        {"qihoo360", C_CERT, "expired", "expired", "", NT_OK},
        {"qihoo360", C_CERT, "revoked", "revoked", "", NT_OK},
        {"qihoo360", C_CERT, "unverified", "none", "", NT_OK},
        {"qihoo360", C_CERT, "valid", NULL, "", NT_EINVAL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        const nt_platform_t *p = plat(rows[i].platform);
        char text[1024], name[96];
        if (p == NULL)
            continue;
        snprintf(name, sizeof(name), "%s value \"%s\"", rows[i].platform, rows[i].value);
        subst(rows[i].fmt, rows[i].value, text, sizeof(text));
        cJSON *root = cJSON_Parse(text);
        CHECKF(root != NULL, "%s: test JSON does not parse", name);
        nt_check_state_t st;
        nt_err_t err;
        memset(&st, 0, sizeof(st));
        nt_err_clear(&err);
        int rc = nt_adapter_map_check(p, root, &st, &err);
        CHECKF(rc == rows[i].rc, "%s: rc %d (%s), want %d", name, rc, err.msg, rows[i].rc);
        if (rc == NT_OK && rows[i].rc == NT_OK) {
            char got[128];
            marks_text(&st, got, sizeof(got));
            CHECKF(strcmp(got, rows[i].want_marks) == 0, "%s: marks \"%s\", want \"%s\"", name, got,
                   rows[i].want_marks);
            CHECKF(strcmp(st.cert_status, rows[i].want_cert) == 0,
                   "%s: cert_status \"%s\", want \"%s\"", name, st.cert_status, rows[i].want_cert);
            CHECKF(st.trust_score == 50, "%s: trust_score %d, want 50", name, st.trust_score);
        }
        if (rows[i].rc != NT_OK)
            CHECK_CONTAINS(name, err.msg, rows[i].value);
        cJSON_Delete(root);
    }
}

static void test_map_batch(void)
{
    const nt_platform_t *p = plat("qihoo360");
    nt_buf_t body;
    nt_buf_init(&body, 0);
    if (p == NULL || read_data("dialect_c_batch.json", &body) != 0) {
        nt_buf_free(&body);
        return;
    }
    static const char *const numbers[] = {"+8613800138000", "+8613800138001", "+86bad",
                                          "+8613800138003", "+8613800138004"};
    static const struct {
        nt_outcome_t outcome;
        const char *cert;
        int score;
        const char *label;
        const char *marks;
        const char *error; /* substring of item_error */
    } want[] = {
        {NT_OUTCOME_OK, "certified", 87, "某某科技", "harassment:12", NULL},
        {NT_OUTCOME_OK, "pending", 60, "", "", NULL},
        {NT_OUTCOME_PERMANENT, NULL, -1, NULL, "", "BAD_NUMBER"},
        {NT_OUTCOME_RETRYABLE, NULL, -1, NULL, "", "missing"},
        {NT_OUTCOME_OK, "revoked", 5, "", "other:3", NULL},
    };
    cJSON *root = parse_exact(body.data, body.len);
    CHECK(root != NULL);
    nt_check_state_t sts[NT_ARRAY_LEN(numbers)];
    nt_err_t err;
    memset(sts, 0x5a, sizeof(sts));
    int rc = nt_adapter_map_batch(p, root, numbers, NT_ARRAY_LEN(numbers), sts, &err);
    CHECKF(rc == NT_OK, "map_batch: %s", err.msg);
    for (size_t i = 0; rc == NT_OK && i < NT_ARRAY_LEN(numbers); i++, ncases++) {
        char name[64];
        snprintf(name, sizeof(name), "batch item %zu (%s)", i, numbers[i]);
        CHECK_STR(sts[i].number, numbers[i]);
        CHECKF(sts[i].item_outcome == want[i].outcome, "%s: outcome %s, want %s (%s)", name,
               nt_outcome_name(sts[i].item_outcome), nt_outcome_name(want[i].outcome),
               sts[i].item_error);
        if (want[i].outcome == NT_OUTCOME_OK) {
            const char *labels[NT_SURFACES] = {want[i].label, want[i].label, want[i].label};
            expect_state(name, &sts[i], want[i].cert, want[i].score, labels, want[i].marks);
        } else {
            CHECK_CONTAINS(name, sts[i].item_error, want[i].error);
            CHECK_CONTAINS(name, sts[i].item_error, "qihoo360");
        }
    }
    cJSON_Delete(root);

    /* an answer without the item array is a mapping error for the whole batch */
    root = cJSON_Parse("{\"status\":\"ok\"}");
    ncases++;
    CHECK_INT(nt_adapter_map_batch(p, root, numbers, 2, sts, &err), NT_EINVAL);
    CHECK_CONTAINS("batch without items", err.msg, "items");
    cJSON_Delete(root);
    /* an empty item array: every number is retried */
    root = cJSON_Parse("{\"status\":\"ok\",\"items\":[]}");
    ncases++;
    CHECK_INT(nt_adapter_map_batch(p, root, numbers, 2, sts, &err), NT_OK);
    CHECK_INT(sts[0].item_outcome, NT_OUTCOME_RETRYABLE);
    CHECK_INT(sts[1].item_outcome, NT_OUTCOME_RETRYABLE);
    cJSON_Delete(root);
    /* one number asked twice is answered twice */
    static const char *const twice[] = {"+8613800138000", "+8613800138000"};
    root = cJSON_Parse(body.data);
    ncases++;
    CHECK_INT(nt_adapter_map_batch(p, root, twice, 2, sts, &err), NT_OK);
    CHECK_INT(sts[0].item_outcome, NT_OUTCOME_OK);
    CHECK_INT(sts[1].item_outcome, NT_OUTCOME_RETRYABLE);
    cJSON_Delete(root);
    /* a platform without batches */
    root = cJSON_Parse(body.data);
    ncases++;
    if (plat("baidu") != NULL)
        CHECK_INT(nt_adapter_map_batch(plat("baidu"), root, numbers, 1, sts, &err), NT_EINVAL);
    cJSON_Delete(root);
    nt_buf_free(&body);
}

/* ---- tickets ---- */

/* The closed loop's answers: refusals classified `rejected` (a label or a
 * renewal the platform will not take), review states with their reasons,
 * renewals, and certification expiry dates in the three dialects' shapes. */
static void test_closed_loop_answers(void)
{
    static const struct {
        const char *name, *platform;
        long status;
        const char *body;
        nt_outcome_t outcome;
        const char *reason;
    } answers[] = {
        {"A 400 label rejected", "baidu", 400, "{\"code\":40010,\"message\":\"label rejected\"}",
         NT_OUTCOME_REJECTED, "label rejected"},
        {"A 409 not eligible", "baidu", 409,
         "{\"code\":40902,\"message\":\"not eligible for renewal\"}", NT_OUTCOME_REJECTED,
         "not eligible"},
        {"A 400 invalid number stays permanent", "baidu", 400,
         "{\"code\":40001,\"message\":\"invalid number\"}", NT_OUTCOME_PERMANENT, "invalid"},
        {"B 200 label rejected", "tencent", 200, "{\"ret\":2003,\"msg\":\"label rejected\"}",
         NT_OUTCOME_REJECTED, "label rejected"},
        {"B 200 not eligible", "tencent", 200, "{\"ret\":2010,\"msg\":\"not eligible\"}",
         NT_OUTCOME_REJECTED, "2010"},
        {"C 400 label rejected", "qihoo360", 400,
         "{\"status\":\"error\",\"error_code\":\"LABEL_REJECTED\",\"message\":\"too long\"}",
         NT_OUTCOME_REJECTED, "too long"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(answers); i++, ncases++) {
        const nt_platform_t *p = plat(answers[i].platform);
        if (p == NULL)
            continue;
        nt_http_result_t res = {.code = CURLE_OK,
                                .status = answers[i].status,
                                .body = answers[i].body,
                                .body_len = strlen(answers[i].body),
                                .retry_after_ms = -1};
        nt_answer_t ans;
        cJSON *root = NULL;
        nt_adapter_answer(p, &res, &ans, &root);
        CHECKF(ans.outcome == answers[i].outcome, "%s: outcome %s, want %s", answers[i].name,
               nt_outcome_name(ans.outcome), nt_outcome_name(answers[i].outcome));
        CHECK_CONTAINS(answers[i].name, ans.reason, answers[i].reason);
        CHECK(root == NULL);
    }

    static const struct {
        const char *platform;
        nt_op_t op;
        const char *body;
        int rc;
        const char *ticket, *state, *reason;
    } tickets[] = {
        {"baidu", NT_OP_TAG_STATUS,
         "{\"code\":0,\"data\":{\"ticket\":\"t\",\"state\":\"pending_review\",\"reason\":\"\"}}",
         NT_OK, "", "pending_review", ""},
        {"baidu", NT_OP_TAG_STATUS, "{\"code\":0,\"data\":{\"ticket\":\"t\",\"state\":\"active\"}}",
         NT_OK, "", "applied", ""},
        {"baidu", NT_OP_TAG_STATUS,
         "{\"code\":0,\"data\":{\"state\":\"rejected\",\"reason\":\"forbidden word: 最 "
         "(+8613800138000)\"}}",
         NT_OK, "", "rejected", "forbidden word: 最 (+86138****8000)"},
        {"baidu", NT_OP_TAG_STATUS, "{\"code\":0,\"data\":{}}", NT_EINVAL, NULL, NULL, NULL},
        {"tencent", NT_OP_TAG_STATUS,
         "{\"ret\":0,\"result\":{\"order_id\":\"o\",\"state\":3,\"reject_reason\":\"qualification "
         "not verified: 医师\"}}",
         NT_OK, "", "rejected", "qualification not verified: 医师"},
        {"qihoo360", NT_OP_TAG_STATUS,
         "{\"status\":\"ok\",\"data\":{\"id\":\"i\",\"state\":\"done\",\"reason\":\"\"}}", NT_OK,
         "", "applied", ""},
        {"baidu", NT_OP_RENEWAL, "{\"code\":0,\"data\":{\"ticket\":\"r1\",\"state\":\"accepted\"}}",
         NT_OK, "r1", "submitted", ""},
        {"tencent", NT_OP_RENEWAL, "{\"ret\":0,\"result\":{\"renew_id\":\"r2\",\"state\":1}}",
         NT_OK, "r2", "renewed", ""},
        {"tencent", NT_OP_RENEWAL, "{\"ret\":0,\"result\":{\"renew_id\":\"r2\",\"state\":7}}",
         NT_EINVAL, NULL, NULL, NULL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(tickets); i++, ncases++) {
        const nt_platform_t *p = plat(tickets[i].platform);
        if (p == NULL)
            continue;
        cJSON *root = cJSON_Parse(tickets[i].body);
        nt_ticket_t tk;
        nt_err_t err;
        nt_err_clear(&err);
        int rc = nt_adapter_map_ticket(p, tickets[i].op, root, &tk, &err);
        CHECKF(rc == tickets[i].rc, "%s %s %s: rc %d (%s)", tickets[i].platform,
               nt_op_name(tickets[i].op), tickets[i].body, rc, err.msg);
        if (rc == NT_OK && tickets[i].rc == NT_OK) {
            CHECK_STR(tk.ticket, tickets[i].ticket);
            CHECK_STR(tk.state, tickets[i].state);
            CHECK_STR(tk.reason, tickets[i].reason);
        }
        cJSON_Delete(root);
    }

    /* expiry dates: a date, a Unix time, none, garbage */
    static const struct {
        const char *platform;
        const char *body;
        int rc;
        bool has;
        int64_t ms;
    } expiries[] = {
        {"baidu",
         "{\"code\":0,\"data\":{\"cert_state\":\"valid\",\"trust_score\":80,\"cert_expires\":"
         "\"2027-03-01\",\"display\":{\"android\":\"a\",\"ios\":\"a\",\"search\":\"a\"},"
         "\"marks\":[]}}",
         NT_OK, true, 1803859200000LL},
        {"baidu",
         "{\"code\":0,\"data\":{\"cert_state\":\"revoked\",\"trust_score\":80,\"cert_expires\":"
         "\"\",\"display\":{\"android\":\"a\",\"ios\":\"a\",\"search\":\"a\"},\"marks\":[]}}",
         NT_OK, false, 0},
        {"baidu",
         "{\"code\":0,\"data\":{\"cert_state\":\"valid\",\"trust_score\":80,\"cert_expires\":"
         "\"soon\",\"display\":{\"android\":\"a\",\"ios\":\"a\",\"search\":\"a\"},\"marks\":[]}}",
         NT_EINVAL, false, 0},
        {"baidu", /* optional: an older answer without it */
         "{\"code\":0,\"data\":{\"cert_state\":\"valid\",\"trust_score\":80,"
         "\"display\":{\"android\":\"a\",\"ios\":\"a\",\"search\":\"a\"},\"marks\":[]}}",
         NT_OK, false, 0},
        {"tencent",
         "{\"ret\":0,\"result\":{\"auth_state\":1,\"expire_time\":1803859200,\"score\":800,"
         "\"show\":{\"android_name\":\"a\",\"ios_name\":\"a\",\"web_name\":\"a\"},\"marks\":[]}}",
         NT_OK, true, 1803859200000LL},
        {"tencent",
         "{\"ret\":0,\"result\":{\"auth_state\":0,\"expire_time\":0,\"score\":800,"
         "\"show\":{\"android_name\":\"a\",\"ios_name\":\"a\",\"web_name\":\"a\"},\"marks\":[]}}",
         NT_OK, false, 0},
        {"tencent",
         "{\"ret\":0,\"result\":{\"auth_state\":1,\"expire_time\":-5,\"score\":800,"
         "\"show\":{\"android_name\":\"a\",\"ios_name\":\"a\",\"web_name\":\"a\"},\"marks\":[]}}",
         NT_EINVAL, false, 0},
        {"qihoo360",
         "{\"status\":\"ok\",\"items\":[{\"number\":\"+8613800138000\",\"verified_state\":"
         "\"verified\",\"verified_until\":\"2027-03-01T08:00:00+08:00\",\"score\":80,"
         "\"platforms\":{\"qihoo360\":{\"count\":0,\"show_name\":\"a\",\"tag_name\":\"\"}}}]}",
         NT_OK, true, 1803859200000LL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(expiries); i++, ncases++) {
        const nt_platform_t *p = plat(expiries[i].platform);
        if (p == NULL)
            continue;
        cJSON *root = cJSON_Parse(expiries[i].body);
        nt_check_state_t st;
        nt_err_t err;
        memset(&st, 0, sizeof(st));
        nt_err_clear(&err);
        int rc = nt_adapter_map_check(p, root, &st, &err);
        CHECKF(rc == expiries[i].rc, "expiry row %zu: rc %d (%s)", i, rc, err.msg);
        if (rc == NT_OK) {
            CHECKF(st.has_cert_expires == expiries[i].has, "expiry row %zu: has %d", i,
                   st.has_cert_expires);
            if (expiries[i].has)
                CHECK_INT(st.cert_expires_ms, expiries[i].ms);
        } else {
            CHECK_CONTAINS("expiry error", err.msg, "cert_expires");
        }
        cJSON_Delete(root);
    }
}

static void test_map_ticket(void)
{
    static const struct {
        const char *platform;
        nt_op_t op;
        const char *file; /* or inline JSON when it starts with '{' */
        int rc;
        const char *ticket, *state;
    } rows[] = {
        {"baidu", NT_OP_TAG_UPDATE, "dialect_a_tag.json", NT_OK, "9f2c4e1a7b3d5e6f",
         "pending_review"},
        {"baidu", NT_OP_APPEAL_SUBMIT, "dialect_a_appeal.json", NT_OK, "0123456789abcdef",
         "submitted"},
        {"baidu", NT_OP_APPEAL_STATUS, "dialect_a_appeal_status.json", NT_OK, "", "in_review"},
        {"baidu", NT_OP_TAG_UPDATE, "{\"code\":0,\"data\":{\"ticket\":\"t\",\"state\":\"active\"}}",
         NT_OK, "t", "applied"},
        {"baidu", NT_OP_TAG_UPDATE,
         "{\"code\":0,\"data\":{\"ticket\":\"t\",\"state\":\"rejected\"}}", NT_OK, "t", "rejected"},
        {"baidu", NT_OP_TAG_UPDATE, "{\"code\":0,\"data\":{\"ticket\":\"t\",\"state\":\"odd\"}}",
         NT_EINVAL, NULL, NULL},
        {"baidu", NT_OP_TAG_UPDATE, "{\"code\":0,\"data\":{\"state\":\"active\"}}", NT_EINVAL, NULL,
         NULL},
        {"baidu", NT_OP_TAG_UPDATE, "{\"code\":0,\"data\":{\"ticket\":\"\",\"state\":\"active\"}}",
         NT_EINVAL, NULL, NULL},
        {"baidu", NT_OP_APPEAL_STATUS, "{\"code\":0,\"data\":{\"status\":\"approved\"}}", NT_OK, "",
         "approved"},
        {"baidu", NT_OP_APPEAL_STATUS, "{\"code\":0,\"data\":{\"status\":\"rejected\"}}", NT_OK, "",
         "rejected"},
        {"baidu", NT_OP_APPEAL_STATUS, "{\"code\":0,\"data\":{}}", NT_EINVAL, NULL, NULL},
        {"tencent", NT_OP_TAG_UPDATE, "dialect_b_tag.json", NT_OK, "a1b2c3d4e5f60718",
         "pending_review"},
        {"tencent", NT_OP_TAG_UPDATE, "{\"ret\":0,\"result\":{\"order_id\":\"o\",\"state\":2}}",
         NT_OK, "o", "applied"},
        {"tencent", NT_OP_TAG_UPDATE, "{\"ret\":0,\"result\":{\"order_id\":\"o\",\"state\":3}}",
         NT_OK, "o", "rejected"},
        {"tencent", NT_OP_TAG_UPDATE, "{\"ret\":0,\"result\":{\"order_id\":987654,\"state\":1}}",
         NT_OK, "987654", "pending_review"}, /* a numeric ticket */
        {"tencent", NT_OP_APPEAL_SUBMIT, "dialect_b_appeal.json", NT_OK, "c0ffee0123456789",
         "submitted"},
        {"tencent", NT_OP_APPEAL_STATUS, "dialect_b_appeal_status.json", NT_OK, "", "approved"},
        {"tencent", NT_OP_APPEAL_STATUS, "{\"ret\":0,\"result\":{\"state\":1}}", NT_OK, "",
         "in_review"},
        {"tencent", NT_OP_APPEAL_STATUS, "{\"ret\":0,\"result\":{\"state\":3}}", NT_OK, "",
         "rejected"},
        {"tencent", NT_OP_APPEAL_STATUS, "{\"ret\":0,\"result\":{\"state\":9}}", NT_EINVAL, NULL,
         NULL},
        {"qihoo360", NT_OP_TAG_UPDATE, "dialect_c_tag.json", NT_OK, "00000000000000ab",
         "pending_review"},
        {"qihoo360", NT_OP_TAG_UPDATE,
         "{\"status\":\"ok\",\"data\":{\"id\":\"i\",\"state\":\"done\"}}", NT_OK, "i", "applied"},
        {"qihoo360", NT_OP_APPEAL_SUBMIT, "dialect_c_appeal.json", NT_OK, "00000000000000cd",
         "submitted"},
        {"qihoo360", NT_OP_APPEAL_STATUS, "dialect_c_appeal_status.json", NT_OK, "", "approved"},
        {"qihoo360", NT_OP_APPEAL_STATUS,
         "{\"status\":\"ok\",\"data\":{\"id\":\"i\",\"state\":\"reviewing\"}}", NT_OK, "",
         "in_review"},
        {"qihoo360", NT_OP_APPEAL_STATUS,
         "{\"status\":\"ok\",\"data\":{\"id\":\"i\",\"state\":\"queued\"}}", NT_OK, "",
         "submitted"},
        {"qihoo360", NT_OP_CHECK, "dialect_c_tag.json", NT_EINVAL, NULL,
         NULL}, /* not a ticket op */
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        const nt_platform_t *p = plat(rows[i].platform);
        nt_buf_t body;
        char name[160];
        nt_buf_init(&body, 0);
        snprintf(name, sizeof(name), "%s %s %.60s", rows[i].platform, nt_op_name(rows[i].op),
                 rows[i].file);
        if (p == NULL)
            continue;
        if (rows[i].file[0] == '{') {
            if (nt_buf_puts(&body, rows[i].file) != NT_OK)
                continue;
        } else if (read_data(rows[i].file, &body) != 0) {
            nt_buf_free(&body);
            continue;
        }
        nt_http_result_t res = {.code = CURLE_OK,
                                .status = 200,
                                .body = body.data,
                                .body_len = body.len,
                                .retry_after_ms = -1};
        nt_answer_t ans;
        cJSON *root = NULL;
        nt_adapter_answer(p, &res, &ans, &root);
        CHECKF(ans.outcome == NT_OUTCOME_OK, "%s: answer %s (%s)", name,
               nt_outcome_name(ans.outcome), ans.reason);
        nt_ticket_t t;
        nt_err_t err;
        nt_err_clear(&err);
        int rc = nt_adapter_map_ticket(p, rows[i].op, root, &t, &err);
        CHECKF(rc == rows[i].rc, "%s: rc %d (%s), want %d", name, rc, err.msg, rows[i].rc);
        if (rc == NT_OK && rows[i].rc == NT_OK) {
            CHECKF(strcmp(t.ticket, rows[i].ticket) == 0, "%s: ticket \"%s\", want \"%s\"", name,
                   t.ticket, rows[i].ticket);
            CHECKF(strcmp(t.state, rows[i].state) == 0, "%s: state \"%s\", want \"%s\"", name,
                   t.state, rows[i].state);
        }
        if (rows[i].rc != NT_OK)
            CHECKF(err.msg[0] != '\0', "%s: failed without a message", name);
        cJSON_Delete(root);
        nt_buf_free(&body);
    }
}

/* ---- request building ---- */

typedef struct build_row_s {
    const char *name;
    const char *platform;
    nt_op_t op;
    nt_adapter_req_t req;
    int rc;
    const char *method;
    const char *url;
    const char *body;          /* exact; NULL: no body */
    const char *headers[6];    /* "Name: value" exact, or "Name" present */
    const char *no_headers[4]; /* names that must be absent */
    size_t nheaders;           /* exact header count, 0: not checked */
    const char *err;           /* substring of err.msg when rc != 0 */
} build_row_t;

static const char *const batch3[] = {"+8613800138000", "+8613800138001", "+14155552671"};

static const build_row_t build_rows[] = {
    {"A tag status",
     "baidu",
     NT_OP_TAG_STATUS,
     {.job_id = JOB_ID, .number = "+8613800138000", .ticket = "9f2c/4e1a"},
     NT_OK,
     "GET",
     SIM_URL "/p/baidu/a/v1/labels/9f2c%2F4e1a",
     NULL,
     {"X-Request-Id: " JOB_ID, "X-Nt-Key: sim-key", "X-Nt-Signature", NULL},
     {"Idempotency-Key", "Content-Type", NULL},
     5,
     NULL},
    {"A renewal",
     "baidu",
     NT_OP_RENEWAL,
     {.job_id = JOB_ID, .number = "+8613800138000"},
     NT_OK,
     "POST",
     SIM_URL "/p/baidu/a/v1/numbers/%2B8613800138000/renewal",
     "{}",
     {"Idempotency-Key: " JOB_ID, "X-Request-Id: " JOB_ID, "Content-Type: application/json",
      "X-Nt-Signature", NULL},
     {"Authorization", NULL},
     7,
     NULL},
    {"B tag status",
     "tencent",
     NT_OP_TAG_STATUS,
     {.job_id = JOB_ID, .number = "+8613800138000", .ticket = "a1b2c3d4e5f60718"},
     NT_OK,
     "POST",
     SIM_URL "/p/tencent/b/api/v2/label/query",
     "{\"order_id\":\"a1b2c3d4e5f60718\"}",
     {"Authorization: Bearer sim-token", "X-Request-Id: " JOB_ID, NULL},
     {"Idempotency-Key", NULL},
     3,
     NULL},
    {"B renewal",
     "tencent",
     NT_OP_RENEWAL,
     {.job_id = JOB_ID, .number = "+8613800138000"},
     NT_OK,
     "POST",
     SIM_URL "/p/tencent/b/api/v2/cert/renew",
     "{\"phone\":\"8613800138000\"}",
     {"Idempotency-Key: " JOB_ID, "Authorization: Bearer sim-token", NULL},
     {NULL},
     4,
     NULL},
    {"C tag status",
     "qihoo360",
     NT_OP_TAG_STATUS,
     {.job_id = JOB_ID, .number = "+8613800138000", .ticket = "00000000000000ab"},
     NT_OK,
     "GET",
     SIM_URL "/p/qihoo360/c/label/00000000000000ab",
     NULL,
     {"X-Request-Id: " JOB_ID, NULL},
     {"Idempotency-Key", "Authorization", NULL},
     1,
     NULL},
    {"C has no renewal",
     "qihoo360",
     NT_OP_RENEWAL,
     {.job_id = JOB_ID, .number = "+8613800138000"},
     NT_EINVAL,
     NULL,
     NULL,
     NULL,
     {NULL},
     {NULL},
     0,
     "no renewal operation"},
    {"A check",
     "baidu",
     NT_OP_CHECK,
     {.job_id = JOB_ID, .number = "+8613800138000"},
     NT_OK,
     "GET",
     SIM_URL "/p/baidu/a/v1/numbers/%2B8613800138000/status",
     NULL,
     {"X-Request-Id: " JOB_ID, "X-Nt-Key: sim-key", "X-Nt-Timestamp: 1764288000", "X-Nt-Nonce",
      "X-Nt-Signature", NULL},
     {"Idempotency-Key", "Authorization", "Content-Type", NULL},
     5,
     NULL},
    {"A tag update",
     "baidu",
     NT_OP_TAG_UPDATE,
     {.job_id = JOB_ID, .number = "+8613800138000", .label = "某某科技 \"官方\"\\"},
     NT_OK,
     "POST",
     SIM_URL "/p/baidu/a/v1/numbers/%2B8613800138000/label",
     "{\"label\":\"某某科技 \\\"官方\\\"\\\\\",\"surfaces\":[\"android\",\"ios\",\"search\"]}",
     {"Idempotency-Key: " JOB_ID, "X-Request-Id: " JOB_ID, "Content-Type: application/json",
      "X-Nt-Signature", "X-Nt-Key: sim-key", NULL},
     {"Authorization", NULL},
     7,
     NULL},
    {"A appeal submit",
     "baidu",
     NT_OP_APPEAL_SUBMIT,
     {.job_id = JOB_ID,
      .number = "+8613800138000",
      .mark_type = "harassment",
      .evidence = "line 1\nline 2 '; DROP TABLE appeals; --"},
     NT_OK,
     "POST",
     SIM_URL "/p/baidu/a/v1/appeals",
     "{\"number\":\"+8613800138000\",\"mark\":\"骚扰电话\",\"evidence\":\"line 1\\nline 2 '; DROP "
     "TABLE appeals; --\"}",
     {"Idempotency-Key: " JOB_ID, "X-Nt-Nonce", NULL},
     {NULL},
     7,
     NULL},
    {"A appeal status, ticket percent-encoded",
     "baidu",
     NT_OP_APPEAL_STATUS,
     {.job_id = JOB_ID, .ticket = "t/1 2"},
     NT_OK,
     "GET",
     SIM_URL "/p/baidu/a/v1/appeals/t%2F1%202",
     NULL,
     {"X-Nt-Signature", NULL},
     {"Idempotency-Key", "Content-Type", NULL},
     5,
     NULL},
    {"B check",
     "tencent",
     NT_OP_CHECK,
     {.job_id = JOB_ID, .number = "+8613800138000"},
     NT_OK,
     "POST",
     SIM_URL "/p/tencent/b/api/v2/query",
     "{\"phone\":\"8613800138000\"}",
     {"Authorization: Bearer sim-token", "Content-Type: application/json", "X-Request-Id: " JOB_ID,
      NULL},
     {"X-Nt-Signature", "X-Nt-Key", "Idempotency-Key", NULL},
     3,
     NULL},
    {"B tag update",
     "tencent",
     NT_OP_TAG_UPDATE,
     {.job_id = JOB_ID, .number = "+8613800138000", .label = "某某科技"},
     NT_OK,
     "POST",
     SIM_URL "/p/tencent/b/api/v2/label",
     "{\"phone\":\"8613800138000\",\"name\":\"某某科技\"}",
     {"Idempotency-Key: " JOB_ID, "X-Request-Id: " JOB_ID, "Authorization: Bearer sim-token", NULL},
     {NULL},
     4,
     NULL},
    {"B appeal submit, {mark:int} is a JSON number",
     "tencent",
     NT_OP_APPEAL_SUBMIT,
     {.job_id = JOB_ID, .number = "+8613800138000", .mark_type = "harassment", .evidence = "e"},
     NT_OK,
     "POST",
     SIM_URL "/p/tencent/b/api/v2/complaint",
     "{\"phone\":\"8613800138000\",\"code\":50,\"reason\":\"e\"}",
     {"Idempotency-Key: " JOB_ID, NULL},
     {NULL},
     4,
     NULL},
    {"B appeal submit fraud, no evidence",
     "tencent",
     NT_OP_APPEAL_SUBMIT,
     {.job_id = JOB_ID, .number = "+8613800138000", .mark_type = "fraud"},
     NT_OK,
     "POST",
     SIM_URL "/p/tencent/b/api/v2/complaint",
     "{\"phone\":\"8613800138000\",\"code\":51,\"reason\":\"\"}",
     {NULL},
     {NULL},
     0,
     NULL},
    {"B appeal status",
     "tencent",
     NT_OP_APPEAL_STATUS,
     {.job_id = JOB_ID, .ticket = "c0ffee0123456789"},
     NT_OK,
     "POST",
     SIM_URL "/p/tencent/b/api/v2/complaint/query",
     "{\"complaint_id\":\"c0ffee0123456789\"}",
     {"Authorization: Bearer sim-token", NULL},
     {"Idempotency-Key", NULL},
     3,
     NULL},
    {"C single check",
     "qihoo360",
     NT_OP_CHECK,
     {.job_id = JOB_ID, .number = "+8613800138000"},
     NT_OK,
     "POST",
     SIM_URL "/p/qihoo360/c/batch/query",
     "{\"numbers\":[\"+8613800138000\"]}",
     {"X-Request-Id: " JOB_ID, "Content-Type: application/json", NULL},
     {"Authorization", "X-Nt-Signature", "Idempotency-Key", NULL},
     2,
     NULL},
    {"C batch",
     "qihoo360",
     NT_OP_CHECK_BATCH,
     {.job_id = JOB_ID, .numbers = batch3, .nnumbers = 3},
     NT_OK,
     "POST",
     SIM_URL "/p/qihoo360/c/batch/query",
     "{\"numbers\":[\"+8613800138000\",\"+8613800138001\",\"+14155552671\"]}",
     {"X-Request-Id: " JOB_ID, NULL},
     {"Idempotency-Key", NULL},
     2,
     NULL},
    {"C tag update",
     "qihoo360",
     NT_OP_TAG_UPDATE,
     {.job_id = JOB_ID, .number = "+8613800138000", .label = "标签"},
     NT_OK,
     "POST",
     SIM_URL "/p/qihoo360/c/label/submit",
     "{\"number\":\"+8613800138000\",\"show_name\":\"标签\"}",
     {"Idempotency-Key: " JOB_ID, "X-Request-Id: " JOB_ID, NULL},
     {"Authorization", NULL},
     3,
     NULL},
    {"C appeal submit agency",
     "qihoo360",
     NT_OP_APPEAL_SUBMIT,
     {.job_id = JOB_ID, .number = "+8613800138000", .mark_type = "agency", .evidence = "ok"},
     NT_OK,
     "POST",
     SIM_URL "/p/qihoo360/c/appeal/submit",
     "{\"number\":\"+8613800138000\",\"tag_name\":\"中介\",\"reason\":\"ok\"}",
     {"Idempotency-Key: " JOB_ID, NULL},
     {NULL},
     3,
     NULL},
    {"C appeal status",
     "qihoo360",
     NT_OP_APPEAL_STATUS,
     {.job_id = JOB_ID, .ticket = "00000000000000cd"},
     NT_OK,
     "GET",
     SIM_URL "/p/qihoo360/c/appeal/00000000000000cd",
     NULL,
     {"X-Request-Id: " JOB_ID, NULL},
     {"Content-Type", "Idempotency-Key", NULL},
     1,
     NULL},
    /* failures */
    {"A check without a number",
     "baidu",
     NT_OP_CHECK,
     {.job_id = JOB_ID},
     NT_EINVAL,
     NULL,
     NULL,
     NULL,
     {NULL},
     {NULL},
     0,
     "number_enc"},
    {"A appeal with an unknown mark type",
     "baidu",
     NT_OP_APPEAL_SUBMIT,
     {.job_id = JOB_ID, .number = "+8613800138000", .mark_type = "spam"},
     NT_EINVAL,
     NULL,
     NULL,
     NULL,
     {NULL},
     {NULL},
     0,
     "mark"},
    {"B appeal with an unknown mark type",
     "tencent",
     NT_OP_APPEAL_SUBMIT,
     {.job_id = JOB_ID, .number = "+8613800138000", .mark_type = "spam"},
     NT_EINVAL,
     NULL,
     NULL,
     NULL,
     {NULL},
     {NULL},
     0,
     "mark"},
    {"A has no batch",
     "baidu",
     NT_OP_CHECK_BATCH,
     {.job_id = JOB_ID, .numbers = batch3, .nnumbers = 3},
     NT_EINVAL,
     NULL,
     NULL,
     NULL,
     {NULL},
     {NULL},
     0,
     "check_batch"},
    {"C batch without numbers",
     "qihoo360",
     NT_OP_CHECK_BATCH,
     {.job_id = JOB_ID},
     NT_EINVAL,
     NULL,
     NULL,
     NULL,
     {NULL},
     {NULL},
     0,
     "numbers"},
    {"B tag update without a label",
     "tencent",
     NT_OP_TAG_UPDATE,
     {.job_id = JOB_ID, .number = "+8613800138000"},
     NT_EINVAL,
     NULL,
     NULL,
     NULL,
     {NULL},
     {NULL},
     0,
     "label"},
};

static void test_build(void)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(build_rows); i++, ncases++) {
        const build_row_t *r = &build_rows[i];
        const nt_platform_t *p = plat(r->platform);
        if (p == NULL)
            continue;
        nt_http_call_t call;
        nt_buf_t url, body;
        nt_err_t err;
        nt_buf_init(&url, 0);
        nt_buf_init(&body, 0);
        nt_err_clear(&err);
        int rc = nt_adapter_build(p, r->op, &r->req, NOW_S, &call, &url, &body, &err);
        CHECKF(rc == r->rc, "%s: rc %d (%s), want %d", r->name, rc, err.msg, r->rc);
        if (rc != NT_OK) {
            if (r->err != NULL)
                CHECK_CONTAINS(r->name, err.msg, r->err);
            CHECK(call.headers == NULL);
            nt_buf_free(&url);
            nt_buf_free(&body);
            continue;
        }
        CHECKF(strcmp(call.method, r->method) == 0, "%s: method %s, want %s", r->name, call.method,
               r->method);
        CHECKF(strcmp(call.url, r->url) == 0, "%s: url\n  %s\nwant\n  %s", r->name, call.url,
               r->url);
        if (r->body == NULL) {
            CHECKF(call.body == NULL && call.body_len == 0, "%s: unexpected body %s", r->name,
                   call.body);
        } else {
            CHECKF(call.body != NULL && call.body_len == strlen(r->body) &&
                       memcmp(call.body, r->body, call.body_len) == 0,
                   "%s: body\n  %.*s\nwant\n  %s", r->name, (int)call.body_len,
                   call.body ? call.body : "", r->body);
            cJSON *root = call.body ? parse_exact(call.body, call.body_len) : NULL;
            CHECKF(root != NULL, "%s: body is not one JSON value", r->name);
            cJSON_Delete(root);
        }
        CHECK_INT(call.timeout_ms, 5000);
        CHECK_INT(call.connect_timeout_ms, 1000);
        for (int k = 0; k < 6 && r->headers[k] != NULL; k++) {
            const char *want = r->headers[k];
            const char *colon = strchr(want, ':');
            char hname[64];
            snprintf(hname, sizeof(hname), "%.*s", (int)(colon ? colon - want : (long)strlen(want)),
                     want);
            const char *got = header_value(call.headers, hname);
            CHECKF(got != NULL, "%s: header %s missing", r->name, hname);
            if (got != NULL && colon != NULL)
                CHECKF(strcmp(got, colon + 2) == 0, "%s: %s: \"%s\", want \"%s\"", r->name, hname,
                       got, colon + 2);
        }
        for (int k = 0; k < 4 && r->no_headers[k] != NULL; k++)
            CHECKF(header_value(call.headers, r->no_headers[k]) == NULL,
                   "%s: header %s should be absent", r->name, r->no_headers[k]);
        if (r->nheaders)
            CHECKF(header_count(call.headers) == r->nheaders, "%s: %zu headers, want %zu", r->name,
                   header_count(call.headers), r->nheaders);

        /* HMAC platforms: the four headers, and a signature that verifies */
        const char *sig = header_value(call.headers, "X-Nt-Signature");
        if (sig != NULL) {
            const char *ts = header_value(call.headers, "X-Nt-Timestamp");
            const char *nonce = header_value(call.headers, "X-Nt-Nonce");
            const char *key = header_value(call.headers, "X-Nt-Key");
            CHECKF(ts && nonce && key, "%s: HMAC headers incomplete", r->name);
            if (ts && nonce && key) {
                size_t nl = strlen(nonce);
                bool alnum = nl >= 16 && nl <= 64;
                for (size_t c = 0; c < nl; c++)
                    alnum = alnum && ((nonce[c] >= '0' && nonce[c] <= '9') ||
                                      (nonce[c] >= 'a' && nonce[c] <= 'z') ||
                                      (nonce[c] >= 'A' && nonce[c] <= 'Z'));
                CHECKF(alnum, "%s: nonce \"%s\" is not 16-64 [A-Za-z0-9]", r->name, nonce);
                const char *path = call.url + strlen(SIM_URL);
                char want[65];
                ref_sign("sim-secret", call.method, path, ts, nonce, call.body ? call.body : "",
                         call.body_len, want);
                CHECKF(strcmp(sig, want) == 0, "%s: signature %s, recomputed %s (path %s)", r->name,
                       sig, want, path);
            }
        }
        /* no secret ever lands in the URL or body */
        CHECK_LACKS(r->name, call.url, "sim-secret");
        CHECK_LACKS(r->name, call.body ? call.body : "", "sim-secret");
        curl_slist_free_all(call.headers);
        nt_buf_free(&url);
        nt_buf_free(&body);
    }

    /* two builds of one request: fresh nonces, same signature inputs otherwise */
    const nt_platform_t *p = plat("baidu");
    if (p != NULL) {
        nt_adapter_req_t req = {.job_id = JOB_ID, .number = "+8613800138000"};
        nt_http_call_t c1, c2;
        nt_buf_t u1, b1, u2, b2;
        nt_err_t err;
        nt_buf_init(&u1, 0);
        nt_buf_init(&b1, 0);
        nt_buf_init(&u2, 0);
        nt_buf_init(&b2, 0);
        ncases++;
        if (nt_adapter_build(p, NT_OP_CHECK, &req, NOW_S, &c1, &u1, &b1, &err) == NT_OK &&
            nt_adapter_build(p, NT_OP_CHECK, &req, NOW_S + 1, &c2, &u2, &b2, &err) == NT_OK) {
            CHECK(strcmp(header_value(c1.headers, "X-Nt-Nonce"),
                         header_value(c2.headers, "X-Nt-Nonce")) != 0);
            CHECK_STR(header_value(c2.headers, "X-Nt-Timestamp"), "1764288001");
            curl_slist_free_all(c1.headers);
            curl_slist_free_all(c2.headers);
        } else {
            CHECKF(0, "rebuild: %s", err.msg);
        }
        nt_buf_free(&u1);
        nt_buf_free(&b1);
        nt_buf_free(&u2);
        nt_buf_free(&b2);
    }
}

/* ---- signatures against independent vectors ---- */

static void test_sign_vectors(void)
{
    /* Expected values computed with Python:
     *   python3 -c "import hmac,hashlib; b=BODY; msg=f'{M}\n{P}\n{T}\n{N}\n'
     *     + hashlib.sha256(b).hexdigest(); print(hmac.new(b'sim-secret', msg.encode(),
     *     hashlib.sha256).hexdigest())"
     * i.e. hmac.new(secret, METHOD\nPATH\nTIMESTAMP\nNONCE\nsha256hex(body), sha256). */
    static const struct {
        const char *secret, *method, *path, *ts, *nonce, *body, *want;
    } rows[] = {
        {"sim-secret", "GET", "/p/baidu/a/v1/numbers/%2B8613800138000/status", "1764288000",
         "0123456789abcdef0123456789abcdef", "",
         "1e13477d0d40e6b626a2d1f5bf92759fe29c7fd38ce7d473bb1b93a584eb8e3f"},
        {"sim-secret", "POST", "/p/baidu/a/v1/numbers/%2B8613800138000/label", "1764288000",
         "abcdefABCDEF0123456789abcdefABCD",
         "{\"label\":\"某某科技\",\"surfaces\":[\"android\",\"ios\",\"search\"]}",
         "ade006e425f9b064edb1ba8ab6db16c44215268da89fed10a088763dbd02bc48"},
        {"sim-secret", "POST", "/p/baidu/a/v1/appeals", "1700000000", "nonceNONCEnonce1234",
         "{\"number\":\"+8613800138000\",\"mark\":\"骚扰电话\",\"evidence\":\"ok\"}",
         "6d1b318923aa1e6ad4d79f8cf77a5ac06293c237a09a97566bd4f1fcc0c12bf2"},
        {"another-secret", "GET", "/a/v1/appeals/0123456789abcdef", "0", "n", "",
         "fc38f2662d62742b623685775ff7ee44efbf70396d9cb6b8f10b35e5da174713"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char got[65], ref[65];
        nt_adapter_sign(rows[i].secret, rows[i].method, rows[i].path, rows[i].ts, rows[i].nonce,
                        rows[i].body, strlen(rows[i].body), got);
        CHECKF(strcmp(got, rows[i].want) == 0, "sign row %zu (%s %s): %s, want %s", i,
               rows[i].method, rows[i].path, got, rows[i].want);
        /* the test's own implementation agrees with the vectors too */
        ref_sign(rows[i].secret, rows[i].method, rows[i].path, rows[i].ts, rows[i].nonce,
                 rows[i].body, strlen(rows[i].body), ref);
        CHECKF(strcmp(ref, rows[i].want) == 0, "ref_sign row %zu: %s", i, ref);
    }
    /* no body hashes as the empty body */
    char a[65], b[65];
    nt_adapter_sign("sim-secret", "GET", "/p/baidu/a/v1/numbers/%2B8613800138000/status",
                    "1764288000", "0123456789abcdef0123456789abcdef", NULL, 0, a);
    nt_adapter_sign("sim-secret", "GET", "/p/baidu/a/v1/numbers/%2B8613800138000/status",
                    "1764288000", "0123456789abcdef0123456789abcdef", "", 0, b);
    ncases++;
    CHECK_STR(a, b);
    CHECK_STR(a, rows[0].want);
    /* only body_len bytes of the body count */
    nt_adapter_sign("sim-secret", "GET", "/p/baidu/a/v1/numbers/%2B8613800138000/status",
                    "1764288000", "0123456789abcdef0123456789abcdef", "xyz", 0, b);
    ncases++;
    CHECK_STR(b, rows[0].want);
}

/* A platform beyond the three dialects: vars in pointers, scale, optional
 * fields, exact status beating the class, no business code. */
static void test_custom_platform(void)
{
    static const char text[] =
        "{\"platforms\":[{\"id\":\"hiya\",\"base_url\":\"https://api.example.com/v3/\","
        "\"auth\":{\"type\":\"none\"},\"vars\":{\"channel\":\"cn/1\"},"
        "\"rate_limit\":{\"qps\":20,\"burst\":0},"
        "\"errors\":{\"status\":{\"404\":\"retryable\",\"4xx\":\"permanent\"}},"
        "\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/n/{number_digits}?ch={channel}\","
        "\"result\":{\"cert_status\":\"/s/{channel}\",\"trust_score\":{\"pointer\":\"/score\","
        "\"scale\":100,\"optional\":true},\"label_android\":{\"pointer\":\"/label\","
        "\"optional\":true},\"marks\":\"/marks\",\"mark_type\":\"/t\",\"mark_count\":\"/c\"}}}}]}";
    nt_err_t err;
    nt_platforms_t *set = nt_platforms_parse(text, strlen(text), "custom", &err);
    CHECKF(set != NULL, "custom platform: %s", err.msg);
    if (set == NULL)
        return;
    const nt_platform_t *p = nt_platforms_find(set, "hiya");
    ncases += 3;
    CHECK(nt_platform_qps(p) == 20);
    CHECK_INT(nt_platform_burst(p), 20);
    CHECK_STR(nt_platform_name(p), "hiya");

    /* URL: trailing slash of base_url dropped, vars in the path */
    nt_adapter_req_t req = {.job_id = JOB_ID, .number = "+14155552671"};
    nt_http_call_t call;
    nt_buf_t url, body;
    nt_buf_init(&url, 0);
    nt_buf_init(&body, 0);
    ncases++;
    if (nt_adapter_build(p, NT_OP_CHECK, &req, NOW_S, &call, &url, &body, &err) == NT_OK) {
        CHECK_STR(call.url, "https://api.example.com/v3/n/14155552671?ch=cn/1");
        CHECK(call.body == NULL);
        curl_slist_free_all(call.headers);
    } else {
        CHECKF(0, "custom build: %s", err.msg);
    }
    nt_buf_free(&url);
    nt_buf_free(&body);

    static const struct {
        const char *name, *json;
        int rc;
        int score; /* -1: absent */
        const char *label, *marks;
    } rows[] = {
        {"all fields",
         "{\"s\":{\"cn/1\":\"revoked\"},\"score\":0.42,\"label\":\"L\","
         "\"marks\":{\"t\":\"fraud\",\"c\":2}}",
         NT_OK, 42, "L", "fraud:2"},
        {"optional fields absent", "{\"s\":{\"cn/1\":\"none\"},\"marks\":[]}", NT_OK, -1, NULL, ""},
        {"optional fields null",
         "{\"s\":{\"cn/1\":\"none\"},\"score\":null,\"label\":null,"
         "\"marks\":[]}",
         NT_OK, -1, NULL, ""},
        {"taxonomy names without a map",
         "{\"s\":{\"cn/1\":\"certified\"},\"marks\":[{\"t\":\"taxi\",\"c\":1},{\"t\":\"spam\","
         "\"c\":5},{\"t\":\"fraud\",\"c\":1}]}",
         NT_OK, -1, NULL, "other:5,fraud:1,taxi:1"},
        {"required field missing", "{\"score\":0.5,\"marks\":[]}", NT_EINVAL, -1, NULL, ""},
        {"cert not a known value", "{\"s\":{\"cn/1\":\"gold\"},\"marks\":[]}", NT_EINVAL, -1, NULL,
         ""},
        {"score out of range", "{\"s\":{\"cn/1\":\"none\"},\"score\":1.5,\"marks\":[]}", NT_EINVAL,
         -1, NULL, ""},
        {"score not a number", "{\"s\":{\"cn/1\":\"none\"},\"score\":\"high\",\"marks\":[]}",
         NT_EINVAL, -1, NULL, ""},
        {"mark count not a number",
         "{\"s\":{\"cn/1\":\"none\"},\"marks\":[{\"t\":\"fraud\",\"c\":\"2\"}]}", NT_EINVAL, -1,
         NULL, ""},
        {"marks a string", "{\"s\":{\"cn/1\":\"none\"},\"marks\":\"fraud\"}", NT_EINVAL, -1, NULL,
         ""},
        {"label not a string", "{\"s\":{\"cn/1\":\"none\"},\"label\":7,\"marks\":[]}", NT_EINVAL,
         -1, NULL, ""},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        cJSON *root = cJSON_Parse(rows[i].json);
        nt_check_state_t st;
        memset(&st, 0, sizeof(st));
        nt_err_clear(&err);
        int rc = nt_adapter_map_check(p, root, &st, &err);
        CHECKF(rc == rows[i].rc, "custom %s: rc %d (%s), want %d", rows[i].name, rc, err.msg,
               rows[i].rc);
        if (rc == NT_OK && rows[i].rc == NT_OK) {
            const char *labels[NT_SURFACES] = {rows[i].label, NULL, NULL};
            char cert[NT_CERT_MAX];
            snprintf(cert, sizeof(cert), "%s", st.cert_status);
            expect_state(rows[i].name, &st, cert, rows[i].score, labels, rows[i].marks);
        }
        if (rows[i].rc != NT_OK)
            CHECK_CONTAINS(rows[i].name, err.msg, "hiya");
        cJSON_Delete(root);
    }

    /* exact status beats the class */
    static const struct {
        long status;
        nt_outcome_t want;
    } st_rows[] = {{404, NT_OUTCOME_RETRYABLE}, {400, NT_OUTCOME_PERMANENT},
                   {429, NT_OUTCOME_PERMANENT}, {401, NT_OUTCOME_PERMANENT},
                   {500, NT_OUTCOME_RETRYABLE}, {204, NT_OUTCOME_RETRYABLE},
                   {200, NT_OUTCOME_OK}};
    for (size_t i = 0; i < NT_ARRAY_LEN(st_rows); i++, ncases++) {
        const char *b = st_rows[i].status == 204 ? "" : "{}";
        nt_http_result_t res = {.code = CURLE_OK,
                                .status = st_rows[i].status,
                                .body = b,
                                .body_len = strlen(b),
                                .retry_after_ms = -1};
        nt_answer_t ans;
        cJSON *root = NULL;
        nt_adapter_answer(p, &res, &ans, &root);
        CHECKF(ans.outcome == st_rows[i].want, "custom HTTP %ld: %s, want %s", st_rows[i].status,
               nt_outcome_name(ans.outcome), nt_outcome_name(st_rows[i].want));
        cJSON_Delete(root);
    }
    nt_platforms_free(set);
}

/* Regressions (found by fuzz_dialect_*): a mark count outside int's range
 * was cast with undefined behaviour, and two marks of one type could add up
 * past INT_MAX and wrap negative. Now the first is a mapping error and the
 * sum saturates at NT_MARK_COUNT_MAX. */
static void test_mark_count_bounds(void)
{
    static const struct {
        const char *name, *marks;
        int want_rc, want_count;
    } rows[] = {
        {"count 1e10", "[{\"tag\":\"骚扰电话\",\"count\":1e10}]", NT_EINVAL, 0},
        {"count -5", "[{\"tag\":\"骚扰电话\",\"count\":-5}]", NT_EINVAL, 0},
        {"count 1e9", "[{\"tag\":\"骚扰电话\",\"count\":1000000000}]", NT_OK, 1000000000},
        {"two of one type near the cap",
         "[{\"tag\":\"骚扰电话\",\"count\":900000000},{\"tag\":\"骚扰电话\",\"count\":900000000}]",
         NT_OK, NT_MARK_COUNT_MAX},
        {"count 0 is no mark", "[{\"tag\":\"骚扰电话\",\"count\":0}]", NT_OK, -1},
    };
    const nt_platform_t *p = plat("baidu");
    for (size_t i = 0; p != NULL && i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char body[512];
        snprintf(body, sizeof(body),
                 "{\"code\":0,\"data\":{\"cert_state\":\"valid\",\"trust_score\":80,"
                 "\"display\":{\"android\":\"a\",\"ios\":\"a\",\"search\":\"a\"},\"marks\":%s}}",
                 rows[i].marks);
        cJSON *root = cJSON_Parse(body);
        nt_check_state_t st;
        nt_err_t err;
        memset(&st, 0, sizeof(st));
        int rc = nt_adapter_map_check(p, root, &st, &err);
        CHECKF(rc == rows[i].want_rc, "%s: rc %d, want %d (%s)", rows[i].name, rc, rows[i].want_rc,
               err.msg);
        if (rc == NT_OK && rows[i].want_count < 0)
            CHECKF(st.nmarks == 0, "%s: %zu marks", rows[i].name, st.nmarks);
        else if (rc == NT_OK)
            CHECKF(st.nmarks == 1 && st.marks[0].count == rows[i].want_count,
                   "%s: %zu marks, count %d, want %d", rows[i].name, st.nmarks,
                   st.nmarks ? st.marks[0].count : 0, rows[i].want_count);
        cJSON_Delete(root);
    }
}

int main(void)
{
    setenv("NT_SIM_URL", SIM_URL, 1);
    setenv("NT_SIM_HMAC_KEY", "sim-key", 1);
    setenv("NT_SIM_HMAC_SECRET", "sim-secret", 1);
    setenv("NT_SIM_BEARER_TOKEN", "sim-token", 1);
    setenv("NT_SIM_CALLBACK_SECRET", "sim-callback-secret", 1);
    load();
    if (ps != NULL) {
        test_answers();
        test_map_check();
        test_value_maps();
        test_map_batch();
        test_map_ticket();
        test_closed_loop_answers();
        test_build();
        test_mark_count_bounds();
    }
    test_sign_vectors();
    test_custom_platform();
    nt_platforms_free(ps);
    printf("test_adapter: %d cases\n", ncases);
    CHECK_DONE();
}
