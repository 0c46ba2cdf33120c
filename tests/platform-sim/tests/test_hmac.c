/*
 * test_hmac.c — dialect A's request signature and verification against
 * vectors computed independently with openssl(1):
 *
 *   printf 'GET\n/p/baidu/a/v1/numbers/%%2B8613800138000/status\n1767225600\n'\
 *   'abcdef0123456789\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' \
 *     | openssl dgst -sha256 -hmac sim-secret
 *   => 9ff075267fd7a5dad1257bc605a1df466ad3f41f7b771019334753943489a62c
 *
 *   B=$(printf '{"label":"Acme"}' | openssl dgst -sha256 -r | cut -d' ' -f1)
 *     (= 44bdcd78fd596992b8ca8ea3f6e5a07aa6ea4c56204adb730a8a33006dc3a462)
 *   printf "POST\n/p/baidu/a/v1/numbers/%%2B8613800138000/label\n1767225600\n"\
 *   "NONCEnonce123456\n$B" | openssl dgst -sha256 -hmac sim-secret
 *   => 3fc41603576d07d56f5865624b8a9d08235e81e59717a559a320c28a3f2ddbe6
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "dialect.h"

#define PATH_GET  "/p/baidu/a/v1/numbers/%2B8613800138000/status"
#define PATH_POST "/p/baidu/a/v1/numbers/%2B8613800138000/label"
#define SIG_GET   "9ff075267fd7a5dad1257bc605a1df466ad3f41f7b771019334753943489a62c"
#define SIG_POST  "3fc41603576d07d56f5865624b8a9d08235e81e59717a559a320c28a3f2ddbe6"
#define BODY_POST "{\"label\":\"Acme\"}"
#define NOW       1767225600LL

typedef struct hdrs_s {
    const char *key, *ts, *nonce, *sig;
} hdrs_t;

static const char *header(const void *hctx, const char *name)
{
    const hdrs_t *h = hctx;
    if (strcmp(name, "X-Nt-Key") == 0)
        return h->key;
    if (strcmp(name, "X-Nt-Timestamp") == 0)
        return h->ts;
    if (strcmp(name, "X-Nt-Nonce") == 0)
        return h->nonce;
    if (strcmp(name, "X-Nt-Signature") == 0)
        return h->sig;
    return NULL;
}

static void test_sign(void)
{
    char hex[65];
    CHECK_INT(nt_dialect_a_sign("sim-secret", "GET", PATH_GET, "1767225600", "abcdef0123456789", "",
                                0, hex),
              0);
    CHECK_STR(hex, SIG_GET);
    CHECK_INT(nt_dialect_a_sign("sim-secret", "POST", PATH_POST, "1767225600", "NONCEnonce123456",
                                BODY_POST, strlen(BODY_POST), hex),
              0);
    CHECK_STR(hex, SIG_POST);
}

static void test_verify(void)
{
    nt_simconf_t conf;
    nt_simconf_defaults(&conf); /* sim-key / sim-secret, max_skew_s 300 */
    static const struct {
        const char *name;
        const char *method, *path, *body;
        int64_t now;
        hdrs_t h;
        int want;
    } cases[] = {
        {"good GET",
         "GET",
         PATH_GET,
         "",
         NOW,
         {"sim-key", "1767225600", "abcdef0123456789", SIG_GET},
         NT_DERR_NONE},
        {"good POST",
         "POST",
         PATH_POST,
         BODY_POST,
         NOW,
         {"sim-key", "1767225600", "NONCEnonce123456", SIG_POST},
         NT_DERR_NONE},
        {"skew inside the window",
         "GET",
         PATH_GET,
         "",
         NOW + 300,
         {"sim-key", "1767225600", "abcdef0123456789", SIG_GET},
         NT_DERR_NONE},
        {"skew past the window",
         "GET",
         PATH_GET,
         "",
         NOW + 301,
         {"sim-key", "1767225600", "abcdef0123456789", SIG_GET},
         NT_DERR_AUTH_SKEW},
        {"timestamp in the future",
         "GET",
         PATH_GET,
         "",
         NOW - 301,
         {"sim-key", "1767225600", "abcdef0123456789", SIG_GET},
         NT_DERR_AUTH_SKEW},
        {"timestamp not a number",
         "GET",
         PATH_GET,
         "",
         NOW,
         {"sim-key", "17672x5600", "abcdef0123456789", SIG_GET},
         NT_DERR_AUTH_SKEW},
        {"unknown key",
         "GET",
         PATH_GET,
         "",
         NOW,
         {"other-key", "1767225600", "abcdef0123456789", SIG_GET},
         NT_DERR_AUTH_KEY},
        {"missing key",
         "GET",
         PATH_GET,
         "",
         NOW,
         {NULL, "1767225600", "abcdef0123456789", SIG_GET},
         NT_DERR_AUTH_KEY},
        {"missing signature",
         "GET",
         PATH_GET,
         "",
         NOW,
         {"sim-key", "1767225600", "abcdef0123456789", NULL},
         NT_DERR_AUTH_KEY},
        {"body changed",
         "POST",
         PATH_POST,
         "{\"label\":\"Acmf\"}",
         NOW,
         {"sim-key", "1767225600", "NONCEnonce123456", SIG_POST},
         NT_DERR_AUTH_SIG},
        {"path changed",
         "GET",
         "/p/baidu/a/v1/numbers/+8613800138000/status",
         "",
         NOW,
         {"sim-key", "1767225600", "abcdef0123456789", SIG_GET},
         NT_DERR_AUTH_SIG},
        {"method changed",
         "POST",
         PATH_GET,
         "",
         NOW,
         {"sim-key", "1767225600", "abcdef0123456789", SIG_GET},
         NT_DERR_AUTH_SIG},
        {"uppercase hex",
         "GET",
         PATH_GET,
         "",
         NOW,
         {"sim-key", "1767225600", "abcdef0123456789",
          "9FF075267FD7A5DAD1257BC605A1DF466AD3F41F7B771019334753943489A62C"},
         NT_DERR_AUTH_SIG},
        {"nonce too short",
         "GET",
         PATH_GET,
         "",
         NOW,
         {"sim-key", "1767225600", "abc", SIG_GET},
         NT_DERR_AUTH_SIG},
        {"nonce not alphanumeric",
         "GET",
         PATH_GET,
         "",
         NOW,
         {"sim-key", "1767225600", "abcdef0123456-89", SIG_GET},
         NT_DERR_AUTH_SIG},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        nt_dialect_auth_t in = {
            cases[i].method, cases[i].path, cases[i].body, strlen(cases[i].body),
            header,          &cases[i].h,   &conf,         cases[i].now};
        int got = nt_dialect_a.auth(&in);
        if (got != cases[i].want)
            fprintf(stderr, "case \"%s\": got %d, want %d\n", cases[i].name, got, cases[i].want);
        CHECK_INT(got, cases[i].want);
    }
}

int main(void)
{
    test_sign();
    test_verify();
    CHECK_DONE();
}
