/*
 * fuzz.h — what the libFuzzer targets in tests/fuzz/ share.
 *
 * A target that finds a broken contract (a round trip that changes a job, a
 * mapped value outside the vocabulary) says what differed on stderr and
 * aborts, so libFuzzer records the input as a crash like any ASan report.
 */
#ifndef NT_FUZZ_H
#define NT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Aborts with a message when cond is false. */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: fuzz check failed: %s: ", __FILE__, __LINE__, #cond);          \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* True when the sz-byte array s holds a NUL (a C string that fits). */
static inline int fuzz_is_cstr(const char *s, size_t sz)
{
    return memchr(s, '\0', sz) != NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
