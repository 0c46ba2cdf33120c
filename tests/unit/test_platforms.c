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
    } rows[] = {
        {"baidu", "a", {true, false, true, true, true, true, true}, 0},
        {"tencent", "b", {true, false, true, true, true, true, true}, 0},
        {"qihoo360", "c", {true, true, true, true, true, true, false}, 100},
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
        CHECK(nt_platform_qps(p) == 0);
        for (int op = 0; op < NT_OP_N; op++)
            CHECKF(nt_platform_has_op(p, (nt_op_t)op) == rows[i].ops[op], "%s has_op(%s) != %d",
                   rows[i].id, nt_op_name((nt_op_t)op), rows[i].ops[op]);
    }
    ncases += 2;
    CHECK(nt_platforms_find(ps, "hiya") == NULL);
    CHECK(nt_platforms_at(ps, 3) == NULL);

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
    test_load();
    test_config_errors();
    nt_platforms_free(ps);
    printf("test_platforms: %d cases\n", ncases);
    CHECK_DONE();
}
