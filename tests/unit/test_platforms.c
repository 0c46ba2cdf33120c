/*
 * test_platforms.c — the platforms registry (platforms.h): deploy/local/
 * platforms.json loads with the operations and batch sizes each dialect
 * has; the op and outcome names; platforms.json errors name the file, the
 * platform, the key and the value.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "platforms.h"

static int ncases;

#define PLATFORMS_FILE NT_TEST_DATA_DIR "/../../../deploy/local/platforms.json"
#define SIM_URL        "http://127.0.0.1:28080"

static nt_platforms_t *ps;

/* ---- loading ---- */

static void test_load(void)
{
    nt_err_t err;
    ps = nt_platforms_load(PLATFORMS_FILE, &err);
    CHECKF(ps != NULL, "load %s: %s", PLATFORMS_FILE, err.msg);
    if (ps == NULL)
        return;
    static const struct {
        const char *id, *dialect;
        bool ops[NT_OP_N];
        int batch_max;
        double qps;
        bool xml, manual, callbacks;
        unsigned surfaces; /* bits: android 1, ios 2, search 4 */
        double label_update_price;
    } rows[] = {
        {"baidu",
         "a",
         {true, false, true, true, true, true, true},
         0,
         0,
         false,
         false,
         false,
         7,
         300},
        {"tencent",
         "b",
         {true, false, true, true, true, true, true},
         0,
         0,
         false,
         false,
         false,
         7,
         200},
        {"qihoo360",
         "c",
         {true, true, true, true, true, true, false},
         100,
         0,
         false,
         false,
         false,
         7,
         200},
        {"sogou",
         "c",
         {true, true, true, true, true, true, false},
         100,
         500,
         false,
         false,
         false,
         7,
         150},
        {"huawei",
         "d",
         {true, false, true, true, true, true, false},
         0,
         600,
         true,
         false,
         true,
         1,
         250},
        {"xiaomi",
         "b",
         {true, false, true, true, true, true, true},
         0,
         800,
         false,
         false,
         false,
         1,
         200},
        {"oppo",
         "a",
         {true, false, true, true, true, true, true},
         0,
         800,
         false,
         false,
         false,
         1,
         200},
        {"vivo",
         "manual",
         {true, true, false, false, false, false, false},
         100,
         200,
         false,
         true,
         false,
         1,
         150},
        {"cmcc",
         "d",
         {true, false, true, true, true, true, false},
         0,
         300,
         true,
         false,
         true,
         3,
         500},
        {"cucc",
         "d",
         {true, false, true, true, true, true, false},
         0,
         300,
         true,
         false,
         true,
         3,
         400},
        {"ctcc",
         "d",
         {true, false, true, true, true, true, false},
         0,
         300,
         true,
         false,
         true,
         3,
         400},
    };
    CHECK_INT(nt_platforms_count(ps), NT_ARRAY_LEN(rows));
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        const nt_platform_t *p = nt_platforms_find(ps, rows[i].id);
        CHECKF(p != NULL, "platform %s missing", rows[i].id);
        if (p == NULL)
            continue;
        CHECK_STR(nt_platform_id(p), rows[i].id);
        CHECK_STR(nt_platform_dialect(p), rows[i].dialect);
        CHECK(nt_platforms_at(ps, nt_platform_index(p)) == p);
        CHECK_INT(nt_platform_batch_max(p), rows[i].batch_max);
        CHECK(nt_platform_qps(p) == rows[i].qps);
        CHECK_INT(nt_platform_is_xml(p), rows[i].xml);
        CHECK_INT(nt_platform_is_manual(p), rows[i].manual);
        CHECK_INT(nt_platform_callbacks(p) != NULL, rows[i].callbacks);
        CHECK_INT(nt_platform_surfaces(p), rows[i].surfaces);
        double price = -1;
        CHECK(nt_platform_price(p, NT_PRICE_LABEL_UPDATE, &price));
        CHECK(price == rows[i].label_update_price);
        CHECK_STR(nt_platform_currency(p), "CNY");
        if (rows[i].manual) {
            CHECK(nt_platform_manual_url(p) != NULL);
            CHECK(nt_platform_manual_form(p, NT_OP_APPEAL_SUBMIT) != NULL);
        }
        if (rows[i].callbacks) {
            char st[16];
            CHECK_INT(nt_platform_callback_kind(p, "complaint"), NT_OP_APPEAL_STATUS);
            CHECK_INT(nt_platform_callback_kind(p, "card"), NT_OP_TAG_UPDATE);
            CHECK_INT(nt_platform_callback_kind(p, "other"), -1);
            CHECK_INT(nt_platform_map_state(p, NT_OP_APPEAL_STATUS, "PASSED", st, sizeof(st)), 0);
            CHECK_STR(st, "approved");
            CHECK_INT(nt_platform_map_state(p, NT_OP_APPEAL_STATUS, "NOPE", st, sizeof(st)),
                      NT_EINVAL);
        }
        for (int op = 0; op < NT_OP_N; op++)
            CHECKF(nt_platform_has_op(p, (nt_op_t)op) == rows[i].ops[op], "%s has_op(%s) != %d",
                   rows[i].id, nt_op_name((nt_op_t)op), rows[i].ops[op]);
    }
    ncases += 2;
    CHECK(nt_platforms_find(ps, "hiya") == NULL);
    CHECK(nt_platforms_at(ps, NT_ARRAY_LEN(rows)) == NULL);

    static const char *const op_names[NT_OP_N] = {"check",         "check_batch",   "tag_update",
                                                  "appeal_submit", "appeal_status", "tag_status",
                                                  "renewal"};
    static const char *const outcome_names[NT_OUTCOME_N] = {
        "ok", "retryable", "rate_limited", "permanent", "auth", "rejected"};
    for (int i = 0; i < NT_OP_N; i++, ncases++)
        CHECK_STR(nt_op_name((nt_op_t)i), op_names[i]);
    for (int i = 0; i < NT_OUTCOME_N; i++, ncases++)
        CHECK_STR(nt_outcome_name((nt_outcome_t)i), outcome_names[i]);

    /* a file that is not there */
    nt_platforms_t *none = nt_platforms_load("/nonexistent/platforms.json", &err);
    ncases++;
    CHECK(none == NULL);
    CHECK_CONTAINS("missing platforms file", err.msg, "/nonexistent/platforms.json");
}

/* ---- platforms.json errors ---- */

#define P_HEAD "{\"platforms\":[{\"id\":\"p1\",\"base_url\":\"http://h/x\","
#define P_AUTH "\"auth\":{\"type\":\"none\"},"
#define P_OPS                                                                                      \
    "\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c/"                                        \
    "{number_enc}\",\"result\":{\"cert_status\":\"/c\"}}}"
#define P_TAIL "}]}"

static void test_config_errors(void)
{
    unsetenv("NT_TEST_UNSET_VAR");
    static const struct {
        const char *name;
        const char *text;
        const char *want[3]; /* substrings of err.msg */
    } rows[] = {
        {"valid minimal platform", P_HEAD P_AUTH P_OPS P_TAIL, {NULL}},
        {"prices: all four amounts and a currency",
         P_HEAD P_AUTH "\"prices\":{\"currency\":\"CNY\",\"check\":0,\"label_update\":200,"
                       "\"appeal\":0,\"renewal\":800}," P_OPS P_TAIL,
         {NULL}},
        {"prices: a missing amount",
         P_HEAD P_AUTH "\"prices\":{\"currency\":\"CNY\",\"check\":0}," P_OPS P_TAIL,
         {"platform p1", "prices.label_update", NULL}},
        {"prices: a negative amount",
         P_HEAD P_AUTH "\"prices\":{\"currency\":\"CNY\",\"check\":-1,\"label_update\":1,"
                       "\"appeal\":1,\"renewal\":1}," P_OPS P_TAIL,
         {"platform p1", "prices.check", NULL}},
        {"prices: a bad currency",
         P_HEAD P_AUTH "\"prices\":{\"currency\":\"yuan\"}," P_OPS P_TAIL,
         {"platform p1", "prices.currency", "yuan"}},
        {"prices: an unknown key",
         P_HEAD P_AUTH "\"prices\":{\"currency\":\"CNY\",\"tax\":1}," P_OPS P_TAIL,
         {"platform p1", "prices", "tax"}},
        {"surfaces: unknown surface",
         P_HEAD P_AUTH "\"surfaces\":[\"tv\"]," P_OPS P_TAIL,
         {"platform p1", "surfaces", "tv"}},
        {"surfaces: a label mapped on a surface not listed",
         P_HEAD P_AUTH "\"surfaces\":[\"android\"],\"ops\":{\"check\":{\"method\":\"GET\","
                       "\"path\":\"/c\",\"result\":{\"label_ios\":\"/i\"}}}" P_TAIL,
         {"platform p1", "label_ios", NULL}},
        {"format: not json or xml",
         P_HEAD P_AUTH "\"format\":\"yaml\"," P_OPS P_TAIL,
         {"platform p1", "format", "yaml"}},
        {"callbacks: secret variable not set",
         P_HEAD P_AUTH "\"callbacks\":{\"secret_env\":\"NT_TEST_UNSET_VAR\"}," P_OPS P_TAIL,
         {"platform p1", "callbacks.secret_env", "NT_TEST_UNSET_VAR"}},
        {"callbacks: no fields",
         P_HEAD P_AUTH "\"callbacks\":{\"secret_env\":\"NT_SIM_HMAC_SECRET\"}," P_OPS P_TAIL,
         {"platform p1", "callbacks.fields", NULL}},
        {"callbacks: a kind that is neither appeal nor tag",
         P_HEAD P_AUTH "\"callbacks\":{\"secret_env\":\"NT_SIM_HMAC_SECRET\",\"kinds\":{\"x\":"
                       "\"renewal\"},\"fields\":{\"kind\":\"/k\",\"ticket\":\"/t\",\"state\":"
                       "\"/s\"}}," P_OPS P_TAIL,
         {"platform p1", "callbacks.kinds", "renewal"}},
        {"manual: form on a platform that is not manual",
         P_HEAD P_AUTH "\"manual\":{\"url\":\"http://f\"}," P_OPS P_TAIL,
         {"platform p1", "manual", NULL}},
        {"manual: without its form",
         P_HEAD P_AUTH "\"dialect\":\"manual\"," P_OPS P_TAIL,
         {"platform p1", "manual", "missing"}},
        {"manual: with a submission operation",
         P_HEAD P_AUTH
         "\"dialect\":\"manual\",\"manual\":{\"url\":\"http://f\",\"tag_update\":{},"
         "\"appeal_submit\":{}},\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c\","
         "\"result\":{}},\"tag_update\":{\"method\":\"POST\",\"path\":\"/t\","
         "\"result\":{\"ticket\":\"/t\",\"state\":\"/s\"}}}" P_TAIL,
         {"platform p1", "a manual platform has no tag_update", NULL}},
        {"unknown platform key",
         P_HEAD P_AUTH "\"colour\":\"red\"," P_OPS P_TAIL,
         {"platform p1", "colour", "inline"}},
        {"unknown op key",
         P_HEAD P_AUTH "\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c\",\"verb\":\"x\","
                       "\"result\":{}}}" P_TAIL,
         {"platform p1", "verb", NULL}},
        {"unknown result field",
         P_HEAD P_AUTH "\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c\",\"result\":{"
                       "\"ticket\":\"/t\"}}}" P_TAIL,
         {"platform p1", "ticket", NULL}},
        {"bad pointer: no leading slash",
         P_HEAD P_AUTH "\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c\",\"result\":{"
                       "\"cert_status\":\"data/cert\"}}}" P_TAIL,
         {"platform p1", "cert_status", "data/cert"}},
        {"bad pointer: ~2",
         P_HEAD P_AUTH "\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c\",\"result\":{"
                       "\"trust_score\":{\"pointer\":\"/a~2\"}}}}" P_TAIL,
         {"platform p1", "trust_score", "/a~2"}},
        {"bad errors.code pointer",
         P_HEAD P_AUTH "\"errors\":{\"code\":\"code\"}," P_OPS P_TAIL,
         {"platform p1", "errors.code", NULL}},
        {"unknown variable in a pointer",
         P_HEAD P_AUTH "\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c\",\"result\":{"
                       "\"cert_status\":\"/x/{nope}\"}}}" P_TAIL,
         {"platform p1", "nope", NULL}},
        {"missing env var in base_url",
         "{\"platforms\":[{\"id\":\"p1\",\"base_url\":\"${NT_TEST_UNSET_VAR}/p\"," P_AUTH P_OPS
             P_TAIL,
         {"platform p1", "base_url", "NT_TEST_UNSET_VAR"}},
        {"missing bearer token env",
         P_HEAD "\"auth\":{\"type\":\"bearer\",\"token_env\":\"NT_TEST_UNSET_VAR\"}," P_OPS P_TAIL,
         {"platform p1", "token_env", "NT_TEST_UNSET_VAR"}},
        {"missing hmac secret env",
         P_HEAD "\"auth\":{\"type\":\"hmac-sha256\",\"key_env\":\"NT_SIM_HMAC_KEY\","
                "\"secret_env\":\"NT_TEST_UNSET_VAR\"}," P_OPS P_TAIL,
         {"platform p1", "secret_env", "NT_TEST_UNSET_VAR"}},
        {"unknown auth type",
         P_HEAD "\"auth\":{\"type\":\"basic\"}," P_OPS P_TAIL,
         {"platform p1", "auth.type", "basic"}},
        {"bad id",
         "{\"platforms\":[{\"id\":\"P1\",\"base_url\":\"http://h\"," P_AUTH P_OPS P_TAIL,
         {"P1", "id", NULL}},
        {"duplicate id",
         "{\"platforms\":[{\"id\":\"p1\",\"base_url\":\"http://h\"," P_AUTH P_OPS "},"
         "{\"id\":\"p1\",\"base_url\":\"http://h\"," P_AUTH P_OPS P_TAIL,
         {"p1", "twice", NULL}},
        {"missing check", P_HEAD P_AUTH "\"ops\":{}" P_TAIL, {"platform p1", "ops.check", NULL}},
        {"unknown operation",
         P_HEAD P_AUTH "\"ops\":{\"delete\":{},\"check\":{\"method\":\"GET\",\"path\":\"/c\","
                       "\"result\":{}}}" P_TAIL,
         {"platform p1", "delete", NULL}},
        {"base_url not http",
         "{\"platforms\":[{\"id\":\"p1\",\"base_url\":\"ftp://h\"," P_AUTH P_OPS P_TAIL,
         {"platform p1", "base_url", "ftp://h"}},
        {"timeout out of range",
         P_HEAD P_AUTH "\"timeout_ms\":5," P_OPS P_TAIL,
         {"platform p1", "timeout_ms", "5"}},
        {"value map into a non-normalised value",
         P_HEAD P_AUTH "\"values\":{\"cert_status\":{\"ok\":\"great\"}}," P_OPS P_TAIL,
         {"platform p1", "values.cert_status", "great"}},
        {"unknown value map",
         P_HEAD P_AUTH "\"values\":{\"colour\":{}}," P_OPS P_TAIL,
         {"platform p1", "colour", NULL}},
        {"bad status key",
         P_HEAD P_AUTH "\"errors\":{\"status\":{\"6xx\":\"retryable\"}}," P_OPS P_TAIL,
         {"platform p1", "errors.status", "6xx"}},
        {"unknown class",
         P_HEAD P_AUTH "\"errors\":{\"codes\":{\"7\":\"maybe\"}}," P_OPS P_TAIL,
         {"platform p1", "errors.codes", "maybe"}},
        {"marks without mark_type",
         P_HEAD P_AUTH "\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c\",\"result\":{"
                       "\"marks\":\"/m\",\"mark_count\":\"/n\"}}}" P_TAIL,
         {"platform p1", "mark_type", NULL}},
        {"batch without max_numbers",
         P_HEAD P_AUTH "\"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c\",\"result\":{}},"
                       "\"check_batch\":{\"method\":\"POST\",\"path\":\"/b\",\"items\":\"/i\","
                       "\"result\":{}}}" P_TAIL,
         {"platform p1", "max_numbers", NULL}},
        {"lower-case method",
         P_HEAD P_AUTH
         "\"ops\":{\"check\":{\"method\":\"get\",\"path\":\"/c\",\"result\":{}}}" P_TAIL,
         {"platform p1", "get", NULL}},
        {"unknown top-level key", "{\"platforms\":[],\"extra\":1}", {"inline", "extra", NULL}},
        {"no platforms", "{\"platforms\":[]}", {"inline", "platforms", NULL}},
        {"not JSON", "{\"platforms\":", {"inline", NULL, NULL}},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_err_t err;
        nt_err_clear(&err);
        nt_platforms_t *set =
            nt_platforms_parse(rows[i].text, strlen(rows[i].text), "inline", &err);
        if (rows[i].want[0] == NULL) {
            CHECKF(set != NULL, "%s: refused: %s", rows[i].name, err.msg);
        } else {
            CHECKF(set == NULL, "%s: accepted", rows[i].name);
            CHECKF(err.code == NT_EINVAL, "%s: err.code %d", rows[i].name, err.code);
            for (int k = 0; k < 3 && rows[i].want[k] != NULL; k++)
                CHECK_CONTAINS(rows[i].name, err.msg, rows[i].want[k]);
        }
        nt_platforms_free(set);
    }
}

int main(void)
{
    setenv("NT_SIM_URL", SIM_URL, 1);
    setenv("NT_SIM_HMAC_KEY", "sim-key", 1);
    setenv("NT_SIM_HMAC_SECRET", "sim-secret", 1);
    setenv("NT_SIM_BEARER_TOKEN", "sim-token", 1);
    setenv("NT_SIM_CALLBACK_SECRET", "sim-callback-secret", 1);
    test_load();
    test_config_errors();
    nt_platforms_free(ps);
    printf("test_platforms: %d cases\n", ncases);
    CHECK_DONE();
}
