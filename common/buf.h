/*
 * buf.h — a growable byte buffer with a hard cap.
 *
 * Everything numtrust reads from the outside (HTTP bodies, Kafka payloads,
 * rendered JSON) goes through an nt_buf_t whose cap comes from config, so a
 * misbehaving peer can never make a process grow without bound.
 */
#ifndef NT_BUF_H
#define NT_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct nt_buf_s {
    char *data;  /* always NUL-terminated when non-NULL */
    size_t len;  /* bytes used, excluding the terminating NUL */
    size_t size; /* bytes allocated */
    size_t cap;  /* maximum len; 0 means unlimited */
} nt_buf_t;

/* Initialises b as empty with the given cap (0 = unlimited). No allocation. */
void nt_buf_init(nt_buf_t *b, size_t cap);

/* Releases b's memory; b may be re-used after nt_buf_init. b may be NULL. */
void nt_buf_free(nt_buf_t *b);

/* Empties b, keeping its allocation. */
void nt_buf_reset(nt_buf_t *b);

/* Makes room for n more bytes. Returns NT_ETOOBIG past the cap, NT_ENOMEM. */
int nt_buf_reserve(nt_buf_t *b, size_t n) NT_MUSTCHECK;

/* Appends n bytes. Returns 0, NT_ETOOBIG or NT_ENOMEM; b unchanged on error. */
int nt_buf_append(nt_buf_t *b, const void *p, size_t n) NT_MUSTCHECK;

/* Appends a NUL-terminated string. */
int nt_buf_puts(nt_buf_t *b, const char *s) NT_MUSTCHECK;

/* Appends one byte. */
int nt_buf_putc(nt_buf_t *b, char c) NT_MUSTCHECK;

/* Appends printf-formatted text. */
int nt_buf_printf(nt_buf_t *b, const char *fmt, ...) NT_PRINTF(2, 3) NT_MUSTCHECK;

/* Appends s (n bytes) as a JSON string literal, quotes included. Bytes that
 * are not valid UTF-8 are replaced by U+FFFD so the output is always valid
 * JSON. */
int nt_buf_json_str(nt_buf_t *b, const char *s, size_t n) NT_MUSTCHECK;

/* Characters (code points) in the NUL-terminated valid UTF-8 string s. */
size_t nt_buf_utf8_chars(const char *s);

/* True when the n bytes at p are valid UTF-8 (no overlongs, no surrogates). */
bool nt_buf_is_utf8(const void *p, size_t n);

/* Copies the NUL-terminated src into dst (dstsz bytes), truncating at a
 * UTF-8 character boundary; always NUL-terminates. Returns strlen(src), so
 * a result >= dstsz means it was truncated. */
size_t nt_buf_copy_str(char *dst, size_t dstsz, const char *src);

/* Removes the first n bytes (n <= len). */
void nt_buf_consume(nt_buf_t *b, size_t n);

#endif
