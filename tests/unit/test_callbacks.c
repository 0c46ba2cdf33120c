/*
 * test_callbacks.c — verifying and parsing platform callbacks
 * (producer/callbacks.h, nt_callbacks_parse): signatures, the timestamp
 * window, each field of an XML callback with a sequence and of a JSON one
 * without (ordered by its time), and the answers to every kind of bad input.
 * Applying them is PostgreSQL's and is covered by
 * tests/integration/callbacks_faults.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "callbacks.h"
#include "check.h"

#define NOW_MS 1764288000000LL /* 2025-11-28T00:00:00Z */
#define NOW_S  "1764288000"

static const char registry[] =
    "{\"platforms\":[{\"id\":\"xcb\",\"dialect\":\"d\",\"format\":\"xml\","
    " \"base_url\":\"http://127.0.0.1:1\",\"auth\":{\"type\":\"none\"},"
    " \"values\":{\"tag_state\":{\"REVIEWING\":\"pending_review\",\"ACTIVE\":\"applied\","
    "   \"REJECTED\":\"rejected\"},"
    "  \"appeal_state\":{\"ACCEPTED\":\"submitted\",\"PROCESSING\":\"in_review\","
    "   \"PASSED\":\"approved\",\"REFUSED\":\"rejected\"}},"
    " \"callbacks\":{\"secret_env\":\"NT_TEST_CB_SECRET\",\"window_s\":300,"
    "  \"kinds\":{\"complaint\":\"appeal\",\"card\":\"tag\"},"
    "  \"fields\":{\"kind\":\"/notify/kind\",\"ticket\":\"/notify/ticket\","
    "   \"state\":\"/notify/state\",\"seq\":\"/notify/seq\",\"time\":\"/notify/time\"}},"
    " \"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c/{number}\","
    "   \"result\":{\"cert_status\":\"/response/cert\"}}}},"
    " {\"id\":\"jcb\",\"dialect\":\"j\",\"base_url\":\"http://127.0.0.1:1\","
    " \"auth\":{\"type\":\"none\"},"
    " \"callbacks\":{\"secret_env\":\"NT_TEST_CB_SECRET\",\"window_s\":60,"
    "  \"timestamp_header\":\"X-Ts\",\"signature_header\":\"X-Sig\","
    "  \"kinds\":{\"appeal\":\"appeal\"},"
    "  \"fields\":{\"kind\":\"/type\",\"ticket\":\"/id\",\"state\":\"/status\"}},"
    " \"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c/{number}\","
    "   \"result\":{\"cert_status\":\"/cert\"}}}},"
    " {\"id\":\"plain\",\"base_url\":\"http://127.0.0.1:1\",\"auth\":{\"type\":\"none\"},"
    " \"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c/{number}\","
    "   \"result\":{\"cert_status\":\"/cert\"}}}}]}";

typedef struct hdrs_s {
    const char *names[2];
    const char *values[2];
} hdrs_t;

static const char *header(const void *hctx, const char *name)
{
    const hdrs_t *h = hctx;
    for (size_t i = 0; i < 2; i++)
        if (h->names[i] != NULL && strcasecmp(h->names[i], name) == 0)
            return h->values[i];
    return NULL;
}

#define XML(kind, ticket, seq, state, time)                                                        \
    "<notify><seq>" seq "</seq><kind>" kind "</kind><ticket>" ticket "</ticket>"                   \
    "<number>+8613800138000</number><state>" state "</state><time>" time "</time></notify>"

enum { SIGN_OK, SIGN_BAD, SIGN_NONE, SIGN_OTHER_SECRET };

static void test_parse(void)
{
    static const struct {
        const char *name;
        const char *platform;
        const char *body;
        int sign;
        const char *ts; /* NULL: NOW_S */
        int status;
        /* when 0: */
        bool tag;
        const char *ticket, *state, *seq, *when;
        const char *error; /* otherwise: a substring of the answer */
    } rows[] = {
        {"appeal decided", "xcb", XML("complaint", "T-1", "2", "PASSED", "2025-11-27T10:00:00Z"),
         SIGN_OK, NULL, 0, false, "T-1", "approved", "2", "2025-11-27T10:00:00.000Z", NULL},
        {"appeal in review", "xcb",
         XML("complaint", "T-1", "1", "PROCESSING", "2025-11-27T09:00:00Z"), SIGN_OK, NULL, 0,
         false, "T-1", "in_review", "1", "2025-11-27T09:00:00.000Z", NULL},
        {"card applied", "xcb", XML("card", "C-7", "1", "ACTIVE", "2025-11-27T11:00:00Z"), SIGN_OK,
         NULL, 0, true, "C-7", "applied", "1", "2025-11-27T11:00:00.000Z", NULL},
        {"card rejected", "xcb", XML("card", "C-8", "1", "REJECTED", "2025-11-27T11:00:00Z"),
         SIGN_OK, NULL, 0, true, "C-8", "rejected", "1", "2025-11-27T11:00:00.000Z", NULL},
        {"window edge, early", "xcb", XML("card", "C-7", "1", "ACTIVE", "2025-11-27T11:00:00Z"),
         SIGN_OK, "1764287700", 0, true, "C-7", "applied", "1", NULL, NULL},
        {"window edge, late", "xcb", XML("card", "C-7", "1", "ACTIVE", "2025-11-27T11:00:00Z"),
         SIGN_OK, "1764288300", 0, true, "C-7", "applied", "1", NULL, NULL},
        {"JSON without seq: the time orders", "jcb",
         "{\"type\":\"appeal\",\"id\":\"J-1\",\"status\":\"rejected\"}", SIGN_OK, NULL, 0, false,
         "J-1", "rejected", "1764288000000", "2025-11-28T00:00:00.000Z", NULL},
        {"wrong signature", "xcb", XML("card", "C-7", "1", "ACTIVE", "2025-11-27T11:00:00Z"),
         SIGN_BAD, NULL, 401, false, NULL, NULL, NULL, NULL, "bad signature"},
        {"signed with another secret", "xcb",
         XML("complaint", "T-1", "2", "REFUSED", "2025-11-27T10:00:00Z"), SIGN_OTHER_SECRET, NULL,
         401, false, NULL, NULL, NULL, NULL, "bad signature"},
        {"no signature", "xcb", XML("card", "C-7", "1", "ACTIVE", "2025-11-27T11:00:00Z"),
         SIGN_NONE, NULL, 401, false, NULL, NULL, NULL, NULL, "header missing"},
        {"timestamp too old", "xcb", XML("card", "C-7", "1", "ACTIVE", "2025-11-27T11:00:00Z"),
         SIGN_OK, "1764287699", 401, false, NULL, NULL, NULL, NULL, "outside the accepted window"},
        {"timestamp in the future", "jcb", "{\"type\":\"appeal\",\"id\":\"J\",\"status\":\"x\"}",
         SIGN_OK, "1764288061", 401, false, NULL, NULL, NULL, NULL, "outside"},
        {"timestamp not seconds", "xcb", XML("card", "C-7", "1", "ACTIVE", "2025-11-27T11:00:00Z"),
         SIGN_OK, "17642880.0", 401, false, NULL, NULL, NULL, NULL, "not Unix seconds"},
        {"unknown platform", "nope", "<notify/>", SIGN_OK, NULL, 404, false, NULL, NULL, NULL, NULL,
         "\\\"nope\\\" is not configured"},
        {"platform without callbacks", "plain", "{}", SIGN_OK, NULL, 404, false, NULL, NULL, NULL,
         NULL, "not configured for callbacks"},
        {"not XML", "xcb", "{\"notify\":1}", SIGN_OK, NULL, 400, false, NULL, NULL, NULL, NULL,
         "not parsable"},
        {"a DTD", "xcb",
         "<!DOCTYPE notify [<!ENTITY x \"PASSED\">]>" XML("complaint", "T-1", "2", "&x;",
                                                          "2025-11-27T10:00:00Z"),
         SIGN_OK, NULL, 400, false, NULL, NULL, NULL, NULL, "not parsable"},
        {"ticket missing", "xcb",
         "<notify><seq>1</seq><kind>card</kind><state>ACTIVE</state>"
         "<time>2025-11-27T11:00:00Z</time></notify>",
         SIGN_OK, NULL, 400, false, NULL, NULL, NULL, NULL, "kind, ticket or state missing"},
        {"unknown kind", "xcb", XML("renewal", "C-7", "1", "ACTIVE", "2025-11-27T11:00:00Z"),
         SIGN_OK, NULL, 400, false, NULL, NULL, NULL, NULL,
         "field kind: \\\"renewal\\\" is not in callbacks.kinds"},
        {"unknown state", "xcb", XML("card", "C-7", "1", "PASSED", "2025-11-27T11:00:00Z"), SIGN_OK,
         NULL, 400, false, NULL, NULL, NULL, NULL,
         "field state: \\\"PASSED\\\" is not in values.tag_state"},
        {"seq not a number", "xcb", XML("card", "C-7", "-1", "ACTIVE", "2025-11-27T11:00:00Z"),
         SIGN_OK, NULL, 400, false, NULL, NULL, NULL, NULL, "field seq"},
        {"seq too long", "xcb",
         XML("card", "C-7", "1234567890123456", "ACTIVE", "2025-11-27T11:00:00Z"), SIGN_OK, NULL,
         400, false, NULL, NULL, NULL, NULL, "field seq"},
        {"time not RFC 3339", "xcb", XML("card", "C-7", "1", "ACTIVE", "yesterday"), SIGN_OK, NULL,
         400, false, NULL, NULL, NULL, NULL, "field time"},
    };
    nt_err_t err;
    setenv("NT_TEST_CB_SECRET", "cb-secret", 1);
    nt_platforms_t *ps = nt_platforms_parse(registry, strlen(registry), "registry", &err);
    CHECKF(ps != NULL, "registry: %s", err.msg);
    if (ps == NULL)
        return;
    nt_buf_t out;
    nt_buf_init(&out, 0);
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        char sig[65];
        const char *ts = rows[i].ts ? rows[i].ts : NOW_S;
        bool json_names = strcmp(rows[i].platform, "jcb") == 0;
        size_t len = strlen(rows[i].body);
        nt_callbacks_sign(rows[i].sign == SIGN_OTHER_SECRET ? "forged-cb-secret" : "cb-secret", ts,
                          rows[i].body, len, sig);
        if (rows[i].sign == SIGN_BAD)
            sig[10] = sig[10] == '0' ? '1' : '0';
        hdrs_t h = {{json_names ? "X-Ts" : "X-Nt-Callback-Timestamp",
                     rows[i].sign == SIGN_NONE ? NULL
                     : json_names              ? "x-sig"
                                               : "x-nt-callback-signature"},
                    {ts, sig}};
        nt_callback_req_t req = {.platform = rows[i].platform,
                                 .body = rows[i].body,
                                 .body_len = len,
                                 .header = header,
                                 .hctx = &h};
        nt_callback_t cb;
        nt_buf_reset(&out);
        int status = nt_callbacks_parse(ps, &req, NOW_MS, &cb, &out);
        CHECKF(status == rows[i].status, "%s: status %d, want %d (%.*s)", rows[i].name, status,
               rows[i].status, (int)out.len, out.data ? out.data : "");
        if (status != rows[i].status)
            continue;
        if (status != 0) {
            CHECK(nt_buf_putc(&out, '\0') == NT_OK);
            CHECK_CONTAINS(rows[i].name, out.data, rows[i].error);
            CHECK_CONTAINS(rows[i].name, out.data, "{\"error\":");
            continue;
        }
        CHECKF(cb.tag == rows[i].tag, "%s: tag %d", rows[i].name, cb.tag);
        CHECK_STR(nt_platform_id(cb.platform), rows[i].platform);
        CHECK_STR(cb.ticket, rows[i].ticket);
        CHECK_STR(cb.state, rows[i].state);
        CHECK_STR(cb.seq, rows[i].seq);
        if (rows[i].when != NULL)
            CHECK_STR(cb.when, rows[i].when);
    }
    nt_buf_free(&out);
    nt_platforms_free(ps);
}

int main(void)
{
    test_parse();
    CHECK_DONE();
}
