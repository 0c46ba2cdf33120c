/*
 * log.h — one JSON object per line on stderr, with a level gate.
 *
 * Every line carries ts, level, prog and msg; job lines add the job context
 * (topic, partition, offset, job id, platform, masked number). Phone numbers
 * in the message text are masked before the line is written. Secrets must
 * never be passed in: the logger cannot know them.
 */
#ifndef NT_LOG_H
#define NT_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

typedef enum {
    NT_LOG_DEBUG = 0,
    NT_LOG_INFO = 1,
    NT_LOG_WARN = 2,
    NT_LOG_ERROR = 3,
} nt_log_level_t;

/* Job context for a log line; any field may be NULL / -1 to leave it out. */
typedef struct nt_log_ctx_s {
    const char *topic;
    int32_t partition; /* -1: none */
    int64_t offset;    /* -1: none */
    const char *job_id;
    const char *platform;
    const char *number; /* logged masked */
} nt_log_ctx_t;

#define NT_LOG_CTX_NONE ((const nt_log_ctx_t *)0)

/* Sets the program name and minimum level. Not thread-safe; call at start. */
void nt_log_init(const char *prog, nt_log_level_t level);

/* Parses "debug|info|warn|error". Returns 0 or NT_EINVAL. */
int nt_log_level_parse(const char *s, nt_log_level_t *level) NT_MUSTCHECK;

/* True when lines of this level are written. */
bool nt_log_enabled(nt_log_level_t level);

/* Writes one line. Use NT_LOG so that disabled levels cost one compare. */
void nt_log_write(nt_log_level_t level, const nt_log_ctx_t *ctx, const char *fmt, ...)
    NT_PRINTF(3, 4);

#define NT_LOG(level, ctx, ...)                                                                    \
    do {                                                                                           \
        if (nt_log_enabled(level))                                                                 \
            nt_log_write(level, ctx, __VA_ARGS__);                                                 \
    } while (0)

#define NT_DEBUG(...) NT_LOG(NT_LOG_DEBUG, NT_LOG_CTX_NONE, __VA_ARGS__)
#define NT_INFO(...)  NT_LOG(NT_LOG_INFO, NT_LOG_CTX_NONE, __VA_ARGS__)
#define NT_WARN(...)  NT_LOG(NT_LOG_WARN, NT_LOG_CTX_NONE, __VA_ARGS__)
#define NT_ERROR(...) NT_LOG(NT_LOG_ERROR, NT_LOG_CTX_NONE, __VA_ARGS__)

#endif
