/*
 * test_redact.c — what numtrust keeps of a platform's words (redact.h):
 * each row is text a platform could answer, the secrets we hold, what must
 * not survive and what must.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "err.h"
#include "redact.h"

typedef struct row_s {
    const char *name;
    const char *text;
    const char *gone[3]; /* must not appear */
    const char *kept[3]; /* must appear */
} row_t;

static const char *const secrets[] = {"sim-token-9f8e7d", "hmac-secret-abcdef", NULL, "ab"};

static const row_t rows[] = {
    {"our bearer token echoed",
     "invalid token: request had Authorization: Bearer sim-token-9f8e7d",
     {"sim-token-9f8e7d"},
     {"invalid token", "Bearer ****"}},
    {"a bearer token we do not know",
     "401 Unauthorized (Bearer eyJhbGciOiJIUzI1NiJ9.e30.x)",
     {"eyJhbGciOiJIUzI1NiJ9"},
     {"401 Unauthorized", "Bearer ****"}},
    {"our HMAC secret in a JSON echo",
     "{\"error\":\"bad signature\",\"echo\":{\"secret\":\"hmac-secret-abcdef\"}}",
     {"hmac-secret-abcdef"},
     {"bad signature"}},
    {"key=value credentials",
     "rejected: token=abc123xyz&signature=deadbeef00&user=acme",
     {"abc123xyz", "deadbeef00"},
     {"user=acme", "token=****"}},
    {"a number in clear",
     "number +8613800138000 is not registered",
     {"13800138000"},
     {"+86138****8000", "is not registered"}},
    {"a percent-encoded number",
     "GET /v1/numbers/%2B8613800138000/state failed",
     {"13800138000", "%2B86"},
     {"/v1/numbers/", "failed"}},
    {"a number encoded digit by digit",
     "q=%2B%38%36%31%33%38%30%30%31%33%38%30%30%30 unknown",
     {"13800138000"},
     {"unknown"}},
    {"bare digits of a number",
     "no mark for 8613800138000 on this platform",
     {"8613800138000"},
     {"no mark for", "on this platform"}},
    {"control characters and invalid UTF-8",
     "bad\r\nline\x01 \xff\xfe tail 号码",
     {"\r", "\n", "\xff"},
     {"bad??line?", "tail 号码"}},
    {"nothing to hide", "HTTP 503 service unavailable", {NULL}, {"HTTP 503 service unavailable"}},
};

int main(void)
{
    int ncases = 0;
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char out[512];
        const row_t *r = &rows[i];
        nt_redact(r->text, secrets, NT_ARRAY_LEN(secrets), out, sizeof(out));
        for (int k = 0; k < 3 && r->gone[k] != NULL; k++)
            CHECK_LACKS(r->name, out, r->gone[k]);
        for (int k = 0; k < 3 && r->kept[k] != NULL; k++)
            CHECK_CONTAINS(r->name, out, r->kept[k]);
    }
    /* short outputs stay NUL-terminated and printable */
    char tiny[8];
    ncases++;
    CHECK(nt_redact("号码号码号码", NULL, 0, tiny, sizeof(tiny)) < sizeof(tiny));
    CHECK(memchr(tiny, '\0', sizeof(tiny)) != NULL);
    char none[4];
    ncases++;
    nt_redact(NULL, NULL, 0, none, sizeof(none));
    CHECK_STR(none, "");
    printf("test_redact: %d cases\n", ncases);
    CHECK_DONE();
}
