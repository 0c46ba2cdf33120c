/*
 * test_simconf.c — the config table: defaults, file loading, flags, the
 * environment, and error messages that name the source, the key and the
 * value (never a secret).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "simconf.h"

static void test_defaults(void)
{
    nt_simconf_t conf;
    nt_err_t err;
    nt_simconf_defaults(&conf);
    CHECK_STR(conf.listen, "127.0.0.1:28080");
    CHECK_INT(conf.seed, 42);
    CHECK_STR(conf.hmac_key, "sim-key");
    CHECK_STR(conf.hmac_secret, "sim-secret");
    CHECK_STR(conf.bearer_token, "sim-token");
    CHECK_INT(conf.max_skew_s, 300);
    CHECK_INT(conf.clock_start_ms, 1767225600000LL); /* 2026-01-01T00:00:00Z */
    CHECK_INT(conf.review_appeal_decided_after_s, 43200);
    CHECK_INT(conf.max_batch, 100);
    CHECK_INT(nt_simconf_validate(&conf, "defaults", &err), 0);
}

static void test_set(void)
{
    static const struct {
        const char *key, *value;
        int rc;
        const char *msg; /* expected in err.msg when rc != 0 */
    } cases[] = {
        {"seed", "7", 0, NULL},
        {"seed", "-1", NT_EINVAL, "--flag: key \"seed\": value \"-1\""},
        {"seed", "x", NT_EINVAL, "value \"x\" is not an unsigned integer"},
        {"clock.speed", "3600", 0, NULL},
        {"clock.speed", "-2", NT_EINVAL, "key \"clock.speed\": value \"-2\""},
        {"clock.start", "2025-06-01T00:00:00Z", 0, NULL},
        {"clock.start", "June", NT_EINVAL, "not an RFC 3339 time"},
        {"listen", "127.0.0.1:0", 0, NULL},
        {"listen", "nohost", NT_EINVAL, "key \"listen\""},
        {"log_level", "loud", NT_EINVAL, "key \"log_level\""},
        {"max_batch", "0", NT_EINVAL, "key \"max_batch\": value \"0\""},
        {"faults.rate_5xx", "1.5", NT_EINVAL, "faults.rate_5xx"},
        {"credentials.hmac_secret", "", NT_EINVAL, "credentials must not be empty"},
        {"nope", "1", NT_EINVAL, "unknown key \"nope\""},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        nt_simconf_t conf;
        nt_err_t err = {0};
        nt_simconf_defaults(&conf);
        int rc = nt_simconf_set(&conf, cases[i].key, cases[i].value, "--flag", &err);
        if (rc != cases[i].rc || (cases[i].msg && strstr(err.msg, cases[i].msg) == NULL))
            fprintf(stderr, "case %s=%s: rc %d, msg \"%s\"\n", cases[i].key, cases[i].value, rc,
                    err.msg);
        CHECK_INT(rc, cases[i].rc);
        if (cases[i].msg != NULL)
            CHECK(strstr(err.msg, cases[i].msg) != NULL);
    }
    /* a secret never appears in a message */
    nt_simconf_t conf;
    nt_err_t err;
    char longsecret[400];
    memset(longsecret, 's', sizeof(longsecret) - 1);
    longsecret[sizeof(longsecret) - 1] = '\0';
    nt_simconf_defaults(&conf);
    CHECK_INT(nt_simconf_set(&conf, "credentials.bearer_token", longsecret, "env", &err),
              NT_EINVAL);
    CHECK(strstr(err.msg, "****") != NULL);
    CHECK(strstr(err.msg, "ssss") == NULL);
}

static void test_file(void)
{
    static const struct {
        const char *json;
        int rc;
        const char *msg;
    } cases[] = {
        {"{\"seed\":9,\"latency\":{\"base_ms\":5},\"platforms\":[{\"id\":\"baidu\",\"dialect\":"
         "\"a\",\"seed\":7,\"surfaces\":[\"android\",\"search\"],\"labels\":{\"shown_share\":0.5},"
         "\"review\":{\"tag_delay_s\":60}}],\"credentials\":{\"bearer_token\":\"t2\"}}",
         0, NULL},
        {"{\"latency\":{\"base_ms\":\"5\"}}", NT_EINVAL, "key \"latency.base_ms\": want a number"},
        {"{\"latency\":{\"base_ms\":1.5}}", NT_EINVAL, "latency.base_ms"},
        {"{\"marks\":{\"weekly\":1}}", NT_EINVAL, "unknown key \"marks.weekly\""},
        {"{\"platforms\":[{\"id\":\"x\",\"dialect\":\"e\"}]}", NT_EINVAL, "platforms[0].dialect"},
        {"{\"platforms\":[{\"id\":\"x\",\"dialect\":\"d\",\"seed\":-1}]}", NT_EINVAL,
         "platforms[0].seed"},
        {"{\"platforms\":[{\"id\":\"x\",\"dialect\":\"d\",\"surfaces\":[\"tv\"]}]}", NT_EINVAL,
         "platforms[0].surfaces"},
        {"{\"platforms\":[{\"id\":\"x\",\"dialect\":\"d\",\"review\":{\"tag_delay\":1}}]}",
         NT_EINVAL, "unknown key \"platforms[0].review.tag_delay\""},
        {"{\"platforms\":[{\"id\":\"x\",\"dialect\":\"d\",\"marks\":{\"initial_share\":2}}]}",
         NT_EINVAL, "platforms[0].marks.initial_share"},
        {"{\"platforms\":[{\"id\":\"x\",\"dialect\":\"a\"},{\"id\":\"x\",\"dialect\":\"b\"}]}",
         NT_EINVAL, "declared twice"},
        {"{\"platforms\":[{\"id\":\"x\",\"dialect\":\"a\",\"review\":"
         "{\"appeal_decided_after_s\":1}}]}",
         NT_EINVAL, "platforms[0] (x): appeal_decided_after_s"},
        {"{\"review\":{\"appeal_in_review_after_s\":100,\"appeal_decided_after_s\":50}}", NT_EINVAL,
         "review.appeal_decided_after_s"},
        {"{\"seed\":", NT_EINVAL, "not valid JSON"},
    };
    char path[] = "/tmp/test_simconf_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    close(fd);
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        nt_simconf_t conf;
        nt_err_t err = {0};
        FILE *f = fopen(path, "w");
        fputs(cases[i].json, f);
        fclose(f);
        nt_simconf_defaults(&conf);
        int rc = nt_simconf_load_file(&conf, path, &err);
        if (rc != cases[i].rc || (cases[i].msg && strstr(err.msg, cases[i].msg) == NULL))
            fprintf(stderr, "file case %zu: rc %d, msg \"%s\"\n", i, rc, err.msg);
        CHECK_INT(rc, cases[i].rc);
        if (cases[i].msg != NULL) {
            CHECK(strstr(err.msg, cases[i].msg) != NULL);
            CHECK(strstr(err.msg, path) != NULL); /* names the file */
            CHECK_INT(conf.seed, 42);             /* unchanged on error */
        }
        if (rc == 0) {
            CHECK_INT(conf.seed, 9);
            CHECK_INT(conf.latency_base_ms, 5);
            CHECK_INT(conf.nplatforms, 1);
            CHECK_STR(conf.platforms[0].id, "baidu");
            CHECK_INT(conf.platforms[0].dialect, 'a');
            CHECK(conf.platforms[0].has_seed);
            CHECK_INT(conf.platforms[0].seed, 7);
            CHECK_INT(conf.platforms[0].surfaces, NT_SIM_SURF_ANDROID | NT_SIM_SURF_SEARCH);
            CHECK(conf.platforms[0].labels_shown_share == 0.5);
            CHECK_INT(conf.platforms[0].review_tag_delay_s, 60);
            CHECK_INT(conf.platforms[0].review_appeal_decided_after_s, -1); /* global */
            CHECK(conf.platforms[0].marks_initial_share < 0);
            CHECK_STR(conf.bearer_token, "t2");
        }
    }
    unlink(path);
    nt_simconf_t conf;
    nt_err_t err;
    nt_simconf_defaults(&conf);
    CHECK_INT(nt_simconf_load_file(&conf, "/nonexistent/sim.json", &err), NT_EINVAL);
    CHECK(strstr(err.msg, "/nonexistent/sim.json") != NULL);
}

static void test_env(void)
{
    nt_simconf_t conf;
    nt_err_t err;
    nt_simconf_defaults(&conf);
    setenv("NT_SIM_HMAC_KEY", "k2", 1);
    setenv("NT_SIM_BEARER_TOKEN", "tok2", 1);
    CHECK_INT(nt_simconf_load_env(&conf, &err), 0);
    CHECK_STR(conf.hmac_key, "k2");
    CHECK_STR(conf.bearer_token, "tok2");
    CHECK_STR(conf.hmac_secret, "sim-secret");
    unsetenv("NT_SIM_HMAC_KEY");
    unsetenv("NT_SIM_BEARER_TOKEN");
}

int main(void)
{
    test_defaults();
    test_set();
    test_file();
    test_env();
    CHECK_DONE();
}
