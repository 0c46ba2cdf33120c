/*
 * idem.h — idempotency records: the first answer to a mutating platform call
 * per (scope, Idempotency-Key), and how many calls carried each key.
 *
 * A repeat of a key returns the stored answer byte for byte. Records are
 * capped (max_records); past the cap new keys are not stored (the caller
 * logs once) and calls with them are served as new side effects.
 */
#ifndef NT_IDEM_H
#define NT_IDEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define NT_IDEM_KEY_MAX 255 /* longest accepted Idempotency-Key */

typedef struct nt_idem_s nt_idem_t;

typedef struct nt_idem_rec_s {
    uint64_t hash;
    int scope;
    int status;
    char *key;
    char *body;
    size_t body_len;
} nt_idem_rec_t;

typedef struct nt_idem_stats_s {
    uint64_t keys;      /* distinct keys seen since the last reset */
    uint64_t repeats;   /* calls whose key was seen before */
    uint64_t max_calls; /* the most calls seen with one key */
} nt_idem_stats_t;

/* @returns a new store holding at most max_records answers and as many
 * call counts; free with nt_idem_free(). NULL when out of memory. */
nt_idem_t *nt_idem_new(size_t max_records);
void nt_idem_free(nt_idem_t *idem);

/* The stored answer for (scope, key), or NULL. */
const nt_idem_rec_t *nt_idem_find(const nt_idem_t *idem, int scope, const char *key);

/* Stores the first answer for (scope, key) (copied). Returns 0, NT_ETOOBIG
 * at the cap, NT_ENOMEM. */
int nt_idem_store(nt_idem_t *idem, int scope, const char *key, int status, const char *body,
                  size_t len) NT_MUSTCHECK;

/* Counts one platform call carrying key (any scope). */
void nt_idem_count_call(nt_idem_t *idem, const char *key);

/* Calls seen with key since the last reset. */
uint64_t nt_idem_calls(const nt_idem_t *idem, const char *key);

nt_idem_stats_t nt_idem_stats(const nt_idem_t *idem);

/* Zeroes the call counts and stats; stored answers are kept. */
void nt_idem_reset_counts(nt_idem_t *idem);

#endif
