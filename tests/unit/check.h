/*
 * check.h — the assertion macros every unit test uses. A failed check prints
 * the file, line, the expression and what differed, then the test exits 1 at
 * its end (checks keep running so one run shows every failure).
 */
#ifndef NT_TEST_CHECK_H
#define NT_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int nt_check_failures;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);               \
            nt_check_failures++;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_INT(got, want)                                                                       \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_) {                                                                            \
            fprintf(stderr, "%s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_);    \
            nt_check_failures++;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want)                                                                       \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        if (g_ == NULL || w_ == NULL ? g_ != w_ : strcmp(g_, w_) != 0) {                           \
            fprintf(stderr, "%s:%d: %s = \"%s\", want \"%s\"\n", __FILE__, __LINE__, #got,         \
                    g_ ? g_ : "(null)", w_ ? w_ : "(null)");                                       \
            nt_check_failures++;                                                                   \
        }                                                                                          \
    } while (0)

/* CHECK with a printf-style message, for table rows: say which row and what
 * differed, e.g. CHECKF(got == want, "row %zu (%s): got %d, want %d", ...). */
#define CHECKF(cond, ...)                                                                          \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            nt_check_failures++;                                                                   \
        }                                                                                          \
    } while (0)

/* Fails unless the string hay contains needle (ctx names the row). */
#define CHECK_CONTAINS(ctx, hay, needle)                                                           \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (h_ == NULL || strstr(h_, n_) == NULL) {                                                \
            fprintf(stderr, "%s:%d: %s: \"%s\" does not contain \"%s\"\n", __FILE__, __LINE__,     \
                    (ctx), h_ ? h_ : "(null)", n_);                                                \
            nt_check_failures++;                                                                   \
        }                                                                                          \
    } while (0)

/* Fails when the string hay contains needle (ctx names the row). */
#define CHECK_LACKS(ctx, hay, needle)                                                              \
    do {                                                                                           \
        const char *h_ = (hay), *n_ = (needle);                                                    \
        if (h_ != NULL && strstr(h_, n_) != NULL) {                                                \
            fprintf(stderr, "%s:%d: %s: \"%s\" contains \"%s\"\n", __FILE__, __LINE__, (ctx), h_,  \
                    n_);                                                                           \
            nt_check_failures++;                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_DONE()                                                                               \
    do {                                                                                           \
        if (nt_check_failures) {                                                                   \
            fprintf(stderr, "%d check(s) failed\n", nt_check_failures);                            \
            return 1;                                                                              \
        }                                                                                          \
        printf("all checks passed\n");                                                             \
        return 0;                                                                                  \
    } while (0)

#endif
