/*
 * fuzz_callback.c — libFuzzer target for the platform callback endpoint's
 * verification and parsing (producer/callbacks.h, nt_callbacks_parse), the
 * part of POST /v1/callbacks/{platform} that reads what anyone on the
 * network may send; applying a parsed callback is one parameterised SQL
 * statement and needs no fuzzing.
 *
 * deploy/local/platforms.json is loaded once, plus "jcb", a JSON callback
 * platform without seq and time fields. Input: byte 0 picks the platform
 * (bits 0-1: huawei, cmcc, jcb, or baidu, which has no callbacks) and how the
 * request is signed (bits 2-3: correctly and now; correctly but 301 s off;
 * from the input; not at all). With the input's own headers, the first line
 * is the timestamp and the second the signature; the rest is the body,
 * exactly body_len bytes with no terminator.
 *
 * Contracts: the answer is 0 (parsed), 400, 401 or 404, never anything else;
 * a correctly signed request within the window is never refused as
 * unauthenticated, and one outside it always is; a parsed callback has a
 * ticket, a state in numtrust's vocabulary for its kind and a decimal
 * sequence; a refusal is a JSON object {"error": ...}.
 */
#include <cjson/cJSON.h>

#include "callbacks.h"
#include "fuzz.h"

#define NOW_MS 1764288000000LL
#define NOW_S  "1764288000"
#define SECRET "fuzz-callback-secret"

static nt_platforms_t *platforms, *extra;

static const char jcb[] =
    "{\"platforms\":[{\"id\":\"jcb\",\"base_url\":\"http://127.0.0.1:1\","
    " \"auth\":{\"type\":\"none\"},"
    " \"values\":{\"tag_state\":{\"0\":\"pending_review\",\"1\":\"applied\",\"2\":\"rejected\"}},"
    " \"callbacks\":{\"secret_env\":\"NT_SIM_CALLBACK_SECRET\",\"window_s\":300,"
    "  \"kinds\":{\"appeal\":\"appeal\",\"label\":\"tag\"},"
    "  \"fields\":{\"kind\":\"/e/kind\",\"ticket\":\"/e/id\",\"state\":\"/e/state\"}},"
    " \"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/c/{number}\","
    "   \"result\":{\"cert_status\":\"/cert\"}}}}]}";

static void free_platforms(void)
{
    nt_platforms_free(platforms);
    nt_platforms_free(extra);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    nt_err_t err;
    (void)argc;
    (void)argv;
    setenv("NT_SIM_URL", "http://127.0.0.1:1", 1);
    setenv("NT_SIM_HMAC_KEY", "fuzz-key", 1);
    setenv("NT_SIM_HMAC_SECRET", "fuzz-secret", 1);
    setenv("NT_SIM_BEARER_TOKEN", "fuzz-token", 1);
    setenv("NT_SIM_CALLBACK_SECRET", SECRET, 1);
    const char *file = getenv("NT_FUZZ_PLATFORMS");
    if (file == NULL || file[0] == '\0')
        file = NT_FUZZ_PLATFORMS_FILE;
    platforms = nt_platforms_load(file, &err);
    extra = platforms ? nt_platforms_parse(jcb, strlen(jcb), "fuzz_callback", &err) : NULL;
    if (extra == NULL) {
        fprintf(stderr, "fuzz_callback: %s\n", err.msg);
        exit(2);
    }
    atexit(free_platforms);
    return 0;
}

typedef struct hdrs_s {
    const char *ts, *sig;
} hdrs_t;

static const char *header(const void *hctx, const char *name)
{
    const hdrs_t *h = hctx;
    if (strcasecmp(name, "X-Nt-Callback-Timestamp") == 0)
        return h->ts;
    if (strcasecmp(name, "X-Nt-Callback-Signature") == 0)
        return h->sig;
    return NULL;
}

/* Splits off one line (without its \n) into out, or "" when none. */
static const uint8_t *take_line(const uint8_t *p, const uint8_t *end, char *out, size_t outsz)
{
    const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
    size_t n = nl ? (size_t)(nl - p) : 0;
    if (n >= outsz)
        n = outsz - 1;
    memcpy(out, p, n);
    out[n] = '\0';
    return nl ? nl + 1 : p;
}

static bool in_vocabulary(bool tag, const char *state)
{
    static const char *const tags[] = {"pending_review", "applied", "rejected"};
    static const char *const appeals[] = {"submitted", "in_review", "approved", "rejected"};
    const char *const *v = tag ? tags : appeals;
    size_t n = tag ? NT_ARRAY_LEN(tags) : NT_ARRAY_LEN(appeals);
    for (size_t i = 0; i < n; i++)
        if (strcmp(state, v[i]) == 0)
            return true;
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const ids[] = {"huawei", "cmcc", "jcb", "baidu"};
    char ts[32] = NOW_S, sig[80] = "";
    nt_buf_t out;
    nt_callback_t cb;
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1, *end = data + size;
    const char *id = ids[data[0] & 3];
    int sign = (data[0] >> 2) & 3;
    if (sign == 2) {
        p = take_line(p, end, ts, sizeof(ts));
        p = take_line(p, end, sig, sizeof(sig));
    }
    /* the body, exactly, in a buffer of its own so ASan sees any overread */
    size_t len = (size_t)(end - p);
    char *body = malloc(len ? len : 1);
    if (body == NULL)
        return 0;
    memcpy(body, p, len);
    if (sign == 1)
        snprintf(ts, sizeof(ts), "%lld", NOW_MS / 1000 + 301);
    if (sign <= 1)
        nt_callbacks_sign(SECRET, ts, body, len, sig);
    hdrs_t h = {ts, sign == 3 ? NULL : sig};
    nt_callback_req_t req = {
        .platform = id, .body = body, .body_len = len, .header = header, .hctx = &h};
    const nt_platforms_t *ps = strcmp(id, "jcb") == 0 ? extra : platforms;
    nt_buf_init(&out, 0);
    int status = nt_callbacks_parse(ps, &req, NOW_MS, &cb, &out);
    FUZZ_CHECK(status == 0 || status == 400 || status == 401 || status == 404, "status %d", status);
    FUZZ_CHECK(strcmp(id, "baidu") != 0 || status == 404, "baidu has no callbacks: %d", status);
    if (strcmp(id, "baidu") != 0) {
        FUZZ_CHECK(sign != 0 || status != 401, "signed now, refused: %.*s", (int)out.len, out.data);
        FUZZ_CHECK(sign != 1 || status == 401, "signed 301 s off, answered %d", status);
        FUZZ_CHECK(sign != 3 || status == 401, "unsigned, answered %d", status);
    }
    if (status == 0) {
        FUZZ_CHECK(cb.platform != NULL && strcmp(nt_platform_id(cb.platform), id) == 0, "platform");
        FUZZ_CHECK(fuzz_is_cstr(cb.ticket, sizeof(cb.ticket)) && cb.ticket[0] != '\0', "ticket");
        FUZZ_CHECK(in_vocabulary(cb.tag, cb.state), "state \"%s\" (tag %d)", cb.state, cb.tag);
        FUZZ_CHECK(cb.seq[0] != '\0' && strspn(cb.seq, "0123456789") == strlen(cb.seq),
                   "seq \"%s\"", cb.seq);
        FUZZ_CHECK(fuzz_is_cstr(cb.when, sizeof(cb.when)) && cb.when[0] != '\0', "when");
    } else {
        cJSON *root = cJSON_ParseWithLength(out.data, out.len);
        FUZZ_CHECK(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(root, "error")),
                   "answer %d is not {\"error\":...}: %.*s", status, (int)out.len, out.data);
        cJSON_Delete(root);
    }
    nt_buf_free(&out);
    free(body);
    return 0;
}
