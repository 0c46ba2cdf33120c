/*
 * test_log.c — the JSON-lines logger (log.h), with stderr redirected to a
 * temp file: level parsing and the level gate, one JSON object per line with
 * ts / level / prog / msg, the job context fields, phone numbers masked in
 * the message and the context, and hostile message text (quotes, control
 * characters, invalid UTF-8, overlong messages) still giving valid lines.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "check.h"
#include "clock.h"
#include "log.h"

static int ncases;
static char log_path[64];
static int saved_stderr = -1;

/* Points stderr at a fresh temp file. */
static int capture_start(void)
{
    snprintf(log_path, sizeof(log_path), "/tmp/nt_test_log_XXXXXX");
    int fd = mkstemp(log_path);
    if (fd < 0)
        return -1;
    fflush(stderr);
    if (saved_stderr < 0)
        saved_stderr = dup(STDERR_FILENO);
    dup2(fd, STDERR_FILENO);
    close(fd);
    return 0;
}

/* Restores stderr and reads what was written into out. */
static void capture_end(nt_buf_t *out)
{
    char chunk[4096];
    size_t n;
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    FILE *fp = fopen(log_path, "rb");
    while (fp != NULL && (n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (nt_buf_append(out, chunk, n) != NT_OK)
            break;
    if (fp != NULL)
        fclose(fp);
    unlink(log_path);
}

/* Splits captured text into lines and parses each as one JSON object. */
static size_t parse_lines(const nt_buf_t *text, cJSON **lines, size_t max)
{
    size_t n = 0;
    const char *p = text->data;
    while (p != NULL && *p && n < max) {
        const char *nl = strchr(p, '\n');
        CHECKF(nl != NULL, "last line not terminated: %s", p);
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        const char *end = NULL;
        lines[n] = cJSON_ParseWithLengthOpts(p, len, &end, 0);
        CHECKF(cJSON_IsObject(lines[n]) && end == p + len, "line %zu is not one JSON object: %.*s",
               n, (int)len, p);
        CHECKF(nt_buf_is_utf8(p, len), "line %zu is not UTF-8", n);
        n++;
        p = nl ? nl + 1 : NULL;
    }
    return n;
}

static const char *str_field(const cJSON *o, const char *k)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

static void test_level_parse(void)
{
    static const struct {
        const char *s;
        int rc;
        nt_log_level_t level;
    } rows[] = {
        {"debug", NT_OK, NT_LOG_DEBUG},
        {"info", NT_OK, NT_LOG_INFO},
        {"warn", NT_OK, NT_LOG_WARN},
        {"error", NT_OK, NT_LOG_ERROR},
        {"INFO", NT_EINVAL, 0},
        {"warning", NT_EINVAL, 0},
        {"", NT_EINVAL, 0},
        {"trace", NT_EINVAL, 0},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_log_level_t l = NT_LOG_ERROR;
        int rc = nt_log_level_parse(rows[i].s, &l);
        CHECKF(rc == rows[i].rc, "level_parse(\"%s\"): rc %d", rows[i].s, rc);
        if (rc == NT_OK)
            CHECKF(l == rows[i].level, "level_parse(\"%s\") = %d", rows[i].s, l);
    }
    nt_log_init("test_log", NT_LOG_WARN);
    static const struct {
        nt_log_level_t level;
        bool on;
    } gate[] = {
        {NT_LOG_DEBUG, false}, {NT_LOG_INFO, false}, {NT_LOG_WARN, true}, {NT_LOG_ERROR, true}};
    for (size_t i = 0; i < NT_ARRAY_LEN(gate); i++, ncases++)
        CHECKF(nt_log_enabled(gate[i].level) == gate[i].on, "level %d at warn: enabled %d",
               gate[i].level, !gate[i].on);
}

static void test_lines(void)
{
    nt_buf_t text;
    nt_buf_init(&text, 0);
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    char bigzh[3001];
    for (size_t i = 0; i + 3 < sizeof(bigzh); i += 3)
        memcpy(bigzh + i, "\xe4\xb8\xad", 3);
    bigzh[sizeof(bigzh) - 1] = '\0';
    nt_log_ctx_t ctx = {.topic = "numtrust.check",
                        .partition = 3,
                        .offset = 42,
                        .job_id = "0a9321d4-f68a-5081-9fcd-d0123a4c3167",
                        .platform = "baidu",
                        .number = "+8613812345678"};
    nt_log_ctx_t none = {.partition = -1, .offset = -1};

    if (capture_start() != 0) {
        CHECKF(0, "cannot redirect stderr");
        return;
    }
    nt_log_init("test_log", NT_LOG_INFO);
    NT_DEBUG("not written %d", 1);                                      /* gated */
    NT_INFO("plain %s %d", "text", 7);                                  /* 0 */
    NT_WARN("calling +8613812345678 and 13912345678 failed");           /* 1 */
    NT_LOG(NT_LOG_ERROR, &ctx, "job failed: %s", "HTTP 500");           /* 2 */
    NT_LOG(NT_LOG_INFO, &none, "no context");                           /* 3 */
    NT_INFO("quote \" backslash \\ newline \n tab \t bell \a end");     /* 4 */
    NT_INFO("bad utf-8 \xff\xfe and %s", "\xc0\xaf");                   /* 5 */
    NT_INFO("big %s", big);                                             /* 6 */
    NT_INFO("bigzh %s", bigzh);                                         /* 7 */
    NT_INFO("job 0a9321d4-f68a-5081-9fcd-861381234567 offset 4821377"); /* 8 */
    nt_log_write(NT_LOG_ERROR, NULL, "direct %s", "write");             /* 9 */
    capture_end(&text);

    cJSON *lines[16] = {NULL};
    size_t n = parse_lines(&text, lines, 16);
    ncases++;
    CHECKF(n == 10, "%zu lines written, want 10 (debug gated):\n%s", n, text.data);

    static const struct {
        const char *level, *msg; /* msg NULL: not compared */
    } want[] = {
        {"info", "plain text 7"},
        {"warn", "calling +86138****5678 and 139****5678 failed"},
        {"error", "job failed: HTTP 500"},
        {"info", "no context"},
        {"info", "quote \" backslash \\ newline \n tab \t bell \a end"},
        {"info", "bad utf-8 \xef\xbf\xbd\xef\xbf\xbd and \xef\xbf\xbd\xef\xbf\xbd"},
        {"info", NULL},
        {"info", NULL},
        {"info", "job 0a9321d4-f68a-5081-9fcd-861381234567 offset 4821377"},
        {"error", "direct write"},
    };
    for (size_t i = 0; i < n && i < NT_ARRAY_LEN(want); i++, ncases++) {
        const cJSON *o = lines[i];
        const char *ts = str_field(o, "ts");
        int64_t ms = 0;
        CHECKF(ts != NULL && nt_clock_parse(ts, &ms) == NT_OK && ms > 1704067200000,
               "line %zu: ts \"%s\" is not a recent RFC 3339 time", i, ts ? ts : "(none)");
        CHECKF(str_field(o, "level") && strcmp(str_field(o, "level"), want[i].level) == 0,
               "line %zu: level %s, want %s", i, str_field(o, "level"), want[i].level);
        CHECKF(str_field(o, "prog") && strcmp(str_field(o, "prog"), "test_log") == 0,
               "line %zu: prog %s", i, str_field(o, "prog"));
        const char *msg = str_field(o, "msg");
        CHECKF(msg != NULL, "line %zu: no msg", i);
        if (msg != NULL && want[i].msg != NULL)
            CHECKF(strcmp(msg, want[i].msg) == 0, "line %zu: msg \"%s\", want \"%s\"", i, msg,
                   want[i].msg);
        if (i != 2) /* only the job line has context */
            CHECKF(cJSON_GetObjectItemCaseSensitive(o, "partition") == NULL &&
                       cJSON_GetObjectItemCaseSensitive(o, "topic") == NULL &&
                       cJSON_GetObjectItemCaseSensitive(o, "number") == NULL,
                   "line %zu: context fields without a context", i);
    }
    if (n >= 3) {
        const cJSON *o = lines[2];
        const cJSON *part = cJSON_GetObjectItemCaseSensitive(o, "partition");
        const cJSON *off = cJSON_GetObjectItemCaseSensitive(o, "offset");
        ncases++;
        CHECK_STR(str_field(o, "topic"), "numtrust.check");
        CHECK(cJSON_IsNumber(part) && part->valueint == 3);
        CHECK(cJSON_IsNumber(off) && off->valuedouble == 42);
        CHECK_STR(str_field(o, "job_id"), "0a9321d4-f68a-5081-9fcd-d0123a4c3167");
        CHECK_STR(str_field(o, "platform"), "baidu");
        CHECK_STR(str_field(o, "number"), "+86138****5678");
    }
    if (n >= 8) {
        ncases++;
        const char *m6 = str_field(lines[6], "msg"), *m7 = str_field(lines[7], "msg");
        CHECKF(m6 && strncmp(m6, "big xxxx", 8) == 0 && strlen(m6) < 2000,
               "overlong message not truncated: %zu bytes", m6 ? strlen(m6) : 0);
        CHECKF(m7 && strncmp(m7, "bigzh \xe4\xb8\xad", 9) == 0, "overlong UTF-8 message mangled");
    }
    /* nothing anywhere shows the full numbers */
    ncases++;
    CHECK_LACKS("log output", text.data, "8613812345678");
    CHECK_LACKS("log output", text.data, "13912345678");
    for (size_t i = 0; i < n; i++)
        cJSON_Delete(lines[i]);
    nt_buf_free(&text);
}

int main(void)
{
    test_level_parse();
    test_lines();
    if (saved_stderr >= 0)
        close(saved_stderr);
    printf("test_log: %d cases\n", ncases);
    CHECK_DONE();
}
