/*
 * test_conftab.c — the typed-configuration engine (common/conftab.h) on a
 * table of its own with every type: text in range and out of it, JSON taken
 * strictly and loosely, nested objects flattened, a scope in messages, keys
 * for a handler of the caller's, run-time-only keys, defaults, freeing,
 * formatting and environment names; secrets never in a message. numtrust's
 * and the simulator's tables are tested in test_config.c and
 * tests/platform-sim/tests/test_simconf.c.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "conftab.h"

typedef struct conf_s {
    char *name;
    char tag[8];
    int n;
    bool on;
    uint64_t seed;
    double rate;
    int64_t start;
    char secret[16];
    int custom_calls;
} conf_t;

static int set_custom(const nt_conf_key_t *k, void *base, const cJSON *v, const char *origin,
                      nt_err_t *err)
{
    (void)k;
    if (!cJSON_IsArray(v))
        return nt_err_set(err, NT_EINVAL, false, "%s: key \"list\": want an array", origin);
    ((conf_t *)base)->custom_calls++;
    return NT_OK;
}

#define F(field)  NT_CONF_FIELD(conf_t, field)
#define RT(field) offsetof(conf_t, field), sizeof(((conf_t *)0)->field), true, NULL

static const nt_conf_key_t keys[] = {
    {"name", NT_CONF_STR, "anon", 0, 0, false, F(name), "a name"},
    {"a.tag", NT_CONF_CHARS, "t", 0, 0, false, F(tag), NULL},
    {"a.b.n", NT_CONF_INT, "5", 1, 10, false, RT(n), NULL},
    {"on", NT_CONF_BOOL, "false", 0, 0, false, F(on), NULL},
    {"seed", NT_CONF_U64, "42", 0, 0, false, F(seed), NULL},
    {"rate", NT_CONF_DOUBLE, "0.5", 0, 1, false, RT(rate), NULL},
    {"start", NT_CONF_TIME, "2026-01-01T00:00:00Z", 0, 0, false, F(start), NULL},
    {"secret", NT_CONF_CHARS, NULL, 0, 0, true, F(secret), NULL},
    {"list", NT_CONF_CUSTOM, NULL, 0, 0, false, 0, 0, false, set_custom, NULL},
};

#define NKEYS NT_ARRAY_LEN(keys)

static void test_text(void)
{
    static const struct {
        const char *key, *value;
        int rc;
        const char *msg; /* in err.msg when rc != 0 */
    } rows[] = {
        {"name", "numtrust", NT_OK, NULL},
        {"a.tag", "1234567", NT_OK, NULL},
        {"a.tag", "12345678", NT_EINVAL, "src: key \"a.tag\": value \"12345678\" is longer than 7"},
        {"a.b.n", "10", NT_OK, NULL},
        {"a.b.n", "11", NT_EINVAL, "key \"a.b.n\": value \"11\" is not an integer in [1, 10]"},
        {"a.b.n", "3x", NT_EINVAL, "value \"3x\""},
        {"a.b.n", "", NT_EINVAL, "value \"\""},
        {"on", "1", NT_OK, NULL},
        {"on", "yes", NT_EINVAL, "value \"yes\" is not a boolean"},
        {"seed", "18446744073709551615", NT_OK, NULL},
        {"seed", "-1", NT_EINVAL, "value \"-1\" is not an unsigned integer"},
        {"rate", "0.25", NT_OK, NULL},
        {"rate", "nan", NT_EINVAL, "value \"nan\" is not a number in [0, 1]"},
        {"rate", "1.01", NT_EINVAL, "[0, 1]"},
        {"start", "2027-03-01T00:00:00Z", NT_OK, NULL},
        {"start", "March", NT_EINVAL, "not an RFC 3339 time"},
        {"secret", "0123456789abcdefXYZ", NT_EINVAL, "value \"****\" is longer"},
        {"list", "x", NT_EINVAL, "key \"list\" cannot be set from text"},
    };
    conf_t c;
    nt_err_t err;
    memset(&c, 0, sizeof(c));
    CHECK_INT(nt_conftab_defaults(keys, NKEYS, &c, &err), NT_OK);
    CHECK_STR(c.name, "anon");
    CHECK_STR(c.tag, "t");
    CHECK_INT(c.n, 5);
    CHECK_INT(c.seed, 42);
    CHECK(c.rate == 0.5);
    CHECK_INT(c.start, 1767225600000LL);
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        const nt_conf_key_t *k = nt_conftab_find(keys, NKEYS, rows[i].key);
        nt_err_clear(&err);
        int rc = k ? nt_conftab_set(k, &c, rows[i].value, "src", &err) : NT_ENOENT;
        CHECKF(rc == rows[i].rc, "%s=%s: rc %d (%s)", rows[i].key, rows[i].value, rc, err.msg);
        if (rows[i].msg != NULL)
            CHECK_CONTAINS(rows[i].key, err.msg, rows[i].msg);
        CHECKF(strstr(err.msg, "XYZ") == NULL, "a secret in a message: %s", err.msg);
    }
    CHECK_STR(c.name, "numtrust");
    CHECK_STR(c.tag, "1234567"); /* a refused value changes nothing */
    CHECK_INT(c.n, 10);
    CHECK(c.on);
    CHECK(c.seed == UINT64_MAX);
    CHECK(c.rate == 0.25);
    CHECK(nt_conftab_find(keys, NKEYS, "nope") == NULL);
    nt_conftab_free(keys, NKEYS, &c);
    CHECK(c.name == NULL);
    nt_conftab_free(keys, NKEYS, &c); /* twice is harmless */
}

/* Keys under "x." belong to the caller; it counts them. */
static int other(void *ctx, void *base, const char *key, const char *shown, const cJSON *v,
                 const char *origin, nt_err_t *err)
{
    (void)base;
    (void)v;
    if (strncmp(key, "x.", 2) != 0)
        return NT_ENOENT;
    if (strcmp(key, "x.bad") == 0)
        return nt_err_set(err, NT_EINVAL, false, "%s: key \"%s\": bad", origin, shown);
    (*(int *)ctx)++;
    return NT_OK;
}

static void test_json(void)
{
    static const struct {
        const char *json;
        unsigned flags;
        const char *scope;
        int rc;
        const char *msg;
    } rows[] = {
        {"{\"a\":{\"b\":{\"n\":7},\"tag\":\"z\"},\"rate\":0.75,\"list\":[]}", 0, NULL, NT_OK, NULL},
        {"{\"a\":{\"b\":{\"n\":7}}}", NT_CONFTAB_STRICT_JSON, NULL, NT_OK, NULL},
        {"{\"a\":{\"b\":{\"n\":\"7\"}}}", 0, NULL, NT_OK, NULL},
        {"{\"a\":{\"b\":{\"n\":\"7\"}}}", NT_CONFTAB_STRICT_JSON, NULL, NT_EINVAL,
         "key \"a.b.n\": want a number, not \"7\""},
        {"{\"a\":{\"b\":{\"n\":7.5}}}", 0, NULL, NT_EINVAL, "value \"7.5\""},
        {"{\"a\":{\"b\":{\"n\":7.5}}}", NT_CONFTAB_STRICT_JSON, NULL, NT_EINVAL,
         "value 7.5 is not an integer"},
        {"{\"on\":true,\"name\":5}", 0, NULL, NT_OK, NULL},
        {"{\"name\":5}", NT_CONFTAB_STRICT_JSON, NULL, NT_EINVAL, "key \"name\": wrong JSON type"},
        {"{\"name\":null}", 0, NULL, NT_EINVAL, "must be a string, number or boolean"},
        {"{\"name\":[1]}", 0, NULL, NT_EINVAL, "key \"name\""},
        {"{\"list\":{}}", 0, NULL, NT_EINVAL, "want an array"},
        {"{\"a\":{\"c\":1}}", 0, NULL, NT_EINVAL, "src: unknown key \"a.c\""},
        {"{\"a\":{\"c\":1}}", 0, "p[3]", NT_EINVAL, "src: unknown key \"p[3].a.c\""},
        {"{\"rate\":2}", 0, "p[3]", NT_EINVAL, "key \"p[3].rate\": value \"2\""},
        {"{\"x\":{\"y\":1,\"z\":2}}", 0, NULL, NT_OK, NULL},
        {"{\"x\":{\"bad\":1}}", 0, "s", NT_EINVAL, "key \"s.x.bad\": bad"},
        {"{\"a\":{\"b\":{\"n\":3}},\"rate\":0.1}", NT_CONFTAB_RUNTIME_ONLY, NULL, NT_OK, NULL},
        {"{\"on\":true}", NT_CONFTAB_RUNTIME_ONLY, NULL, NT_EINVAL,
         "key \"on\" cannot be changed at run time"},
        {"[1]", 0, NULL, NT_EINVAL, "want a JSON object"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        conf_t c;
        nt_err_t err;
        int others = 0;
        memset(&c, 0, sizeof(c));
        CHECK_INT(nt_conftab_defaults(keys, NKEYS, &c, &err), NT_OK);
        cJSON *root = cJSON_Parse(rows[i].json);
        nt_err_clear(&err);
        int rc = nt_conftab_apply_json(keys, NKEYS, &c, root, rows[i].scope, rows[i].flags, other,
                                       &others, "src", &err);
        CHECKF(rc == rows[i].rc, "row %zu %s: rc %d (%s)", i, rows[i].json, rc, err.msg);
        if (rows[i].msg != NULL)
            CHECK_CONTAINS(rows[i].json, err.msg, rows[i].msg);
        if (i == 0) {
            CHECK_INT(c.n, 7);
            CHECK_STR(c.tag, "z");
            CHECK(c.rate == 0.75);
            CHECK_INT(c.custom_calls, 1);
        }
        if (i == 6) {
            CHECK(c.on);
            CHECK_STR(c.name, "5");
        }
        if (i == 14)
            CHECK_INT(others, 2);
        cJSON_Delete(root);
        nt_conftab_free(keys, NKEYS, &c);
    }
}

static void test_format_and_env(void)
{
    static const struct {
        const char *key, *want;
    } rows[] = {
        {"name", "anon"}, {"a.tag", "t"},  {"a.b.n", "5"}, {"on", "false"},
        {"seed", "42"},   {"rate", "0.5"}, {"list", ""},   {"start", "2026-01-01T00:00:00.000Z"},
    };
    conf_t c;
    nt_err_t err;
    nt_buf_t b;
    memset(&c, 0, sizeof(c));
    CHECK_INT(nt_conftab_defaults(keys, NKEYS, &c, &err), NT_OK);
    nt_buf_init(&b, 0);
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        nt_buf_reset(&b);
        CHECK_INT(nt_conftab_format(nt_conftab_find(keys, NKEYS, rows[i].key), &c, &b), NT_OK);
        CHECK_INT(nt_buf_putc(&b, '\0'), NT_OK);
        CHECK_STR(b.data, rows[i].want);
    }
    nt_buf_free(&b);
    nt_conftab_free(keys, NKEYS, &c);
    char env[64];
    nt_conftab_env_name("NUMTRUST_", "worker.max_inflight", env, sizeof(env));
    CHECK_STR(env, "NUMTRUST_WORKER_MAX_INFLIGHT");
    nt_conftab_env_name("P_", "a.b", env, 4);
    CHECK_STR(env, "P_A");
    CHECK_STR(nt_conftab_type_name(NT_CONF_INT), "integer");
    CHECK_STR(nt_conftab_type_name(NT_CONF_CHARS), "string");
}

int main(void)
{
    test_text();
    test_json();
    test_format_and_env();
    CHECK_DONE();
}
