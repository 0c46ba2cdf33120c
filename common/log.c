/*
 * log.c — JSON-lines logger (see log.h). Each line is built in one buffer
 * and written with a single write(2), so lines from several processes sharing
 * a terminal or file never interleave mid-line.
 */
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "phone.h"
#include "clock.h"

static const char *const level_names[] = {"debug", "info", "warn", "error"};

/* Frozen after nt_log_init (style.md rule 9). */
static char log_prog[32] = "numtrust";
static nt_log_level_t log_level = NT_LOG_INFO;

void nt_log_init(const char *prog, nt_log_level_t level)
{
    snprintf(log_prog, sizeof(log_prog), "%s", prog);
    log_level = level;
}

int nt_log_level_parse(const char *s, nt_log_level_t *level)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(level_names); i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *level = (nt_log_level_t)i;
            return NT_OK;
        }
    }
    return NT_EINVAL;
}

bool nt_log_enabled(nt_log_level_t level)
{
    return level >= log_level;
}

static int kv_str(nt_buf_t *b, const char *key, const char *val)
{
    if (val == NULL)
        return NT_OK;
    int rc = nt_buf_printf(b, ",\"%s\":", key);
    if (rc == NT_OK)
        rc = nt_buf_json_str(b, val, strlen(val));
    return rc;
}

void nt_log_write(nt_log_level_t level, const nt_log_ctx_t *ctx, const char *fmt, ...)
{
    char raw[1024], masked[1100], ts[NT_RFC3339_LEN];
    nt_buf_t b;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(raw, sizeof(raw), fmt, ap);
    va_end(ap);
    nt_phone_mask_text(raw, masked, sizeof(masked));
    nt_clock_format(nt_clock_wall_ms(), ts);

    nt_buf_init(&b, 8192);
    int rc = nt_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"prog\":", ts,
                           level_names[level < NT_LOG_DEBUG || level > NT_LOG_ERROR ? 0 : level]);
    if (rc == NT_OK)
        rc = nt_buf_json_str(&b, log_prog, strlen(log_prog));
    if (rc == NT_OK)
        rc = kv_str(&b, "msg", masked);
    if (rc == NT_OK && ctx != NULL) {
        rc = kv_str(&b, "topic", ctx->topic);
        if (rc == NT_OK && ctx->partition >= 0)
            rc = nt_buf_printf(&b, ",\"partition\":%d", (int)ctx->partition);
        if (rc == NT_OK && ctx->offset >= 0)
            rc = nt_buf_printf(&b, ",\"offset\":%lld", (long long)ctx->offset);
        if (rc == NT_OK)
            rc = kv_str(&b, "job_id", ctx->job_id);
        if (rc == NT_OK)
            rc = kv_str(&b, "platform", ctx->platform);
        if (rc == NT_OK && ctx->number != NULL) {
            char m[NT_PHONE_MAX + 8];
            nt_phone_mask(ctx->number, strlen(ctx->number), m, sizeof(m));
            rc = kv_str(&b, "number", m);
        }
    }
    if (rc == NT_OK)
        rc = nt_buf_puts(&b, "}\n");
    if (rc == NT_OK) {
        size_t off = 0;
        while (off < b.len) {
            ssize_t n = write(STDERR_FILENO, b.data + off, b.len - off);
            if (n <= 0)
                break;
            off += (size_t)n;
        }
    }
    nt_buf_free(&b);
}
