/*
 * err.h — the error value every numtrust module fills for its caller.
 *
 * A callee that fails writes what happened into a caller-owned nt_err_t and
 * returns a negative code; the caller decides whether to log it, retry it or
 * dead-letter it (never both callee and caller log the same failure).
 */
#ifndef NT_ERR_H
#define NT_ERR_H

#include <stdbool.h>
#include <stdarg.h>

#define NT_MUSTCHECK    __attribute__((warn_unused_result))
#define NT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define NT_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Return codes: 0 is success, negative is failure. */
enum {
    NT_OK = 0,
    NT_ERR = -1,     /* generic failure, see nt_err_t.msg */
    NT_AGAIN = -2,   /* not finished yet (non-blocking step) */
    NT_EINVAL = -3,  /* invalid input */
    NT_ENOMEM = -4,  /* allocation failed */
    NT_ETOOBIG = -5, /* a configured cap was exceeded */
    NT_EIO = -6,     /* I/O or remote failure */
    NT_ENOENT = -7,  /* not found */
};

typedef struct nt_err_s {
    int code;       /* one of the NT_* codes above */
    bool retriable; /* true when trying again later may succeed */
    char msg[256];  /* human-readable, never contains secrets */
} nt_err_t;

/* Fills err (which may be NULL) and returns code, so callers can write
 * `return nt_err_set(err, NT_EINVAL, false, "...")`. */
int nt_err_set(nt_err_t *err, int code, bool retriable, const char *fmt, ...) NT_PRINTF(4, 5);

/* Resets err to success. err may be NULL. */
void nt_err_clear(nt_err_t *err);

#endif
