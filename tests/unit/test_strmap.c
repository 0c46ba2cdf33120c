/*
 * test_strmap.c — the string map (strmap.h, on htab.h): a basic table,
 * 100k random put/get/del operations checked against a plain reference
 * array, growth to many keys, and deletion in clusters built on purpose (keys chosen by their hash
 * to share or neighbour a home slot, including a cluster that wraps past the last slot).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "strmap.h"

static int ncases;

static uint64_t rng_state = 0x2545f4914f6cdd1dULL;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A distinct non-NULL value per key index. */
static int slots[4096];
#define VAL(i) ((void *)&slots[(i)])

static void test_basic(void)
{
    nt_strmap_t *m = nt_strmap_new();
    CHECK(m != NULL);
    if (m == NULL)
        return;
    static const struct {
        char op; /* p put, g get, d del */
        const char *key;
        int val;    /* index into slots; -1: NULL */
        size_t len; /* map length after the op */
    } rows[] = {
        {'g', "+8613800138000", -1, 0},
        {'d', "+8613800138000", -1, 0},
        {'p', "+8613800138000", 1, 1},
        {'g', "+8613800138000", 1, 1},
        {'p', "+8613800138001", 2, 2},
        {'p', "+8613800138000", 3, 2}, /* replace */
        {'g', "+8613800138000", 3, 2},
        {'g', "+8613800138001", 2, 2},
        {'g', "+861380013800", -1, 2},
        {'g', "", -1, 2},
        {'p', "", 4, 3},
        {'g', "", 4, 3}, /* the empty key is a key */
        {'d', "+8613800138000", 3, 2},
        {'g', "+8613800138000", -1, 2},
        {'d', "+8613800138000", -1, 2},
        {'g', "+8613800138001", 2, 2},
        {'d', "", 4, 1},
        {'d', "+8613800138001", 2, 0},
        {'g', "+8613800138001", -1, 0},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        void *want = rows[i].val >= 0 ? VAL(rows[i].val) : NULL;
        void *got = NULL;
        if (rows[i].op == 'p')
            got = nt_strmap_put(m, rows[i].key, want) == NT_OK ? want : NULL;
        else if (rows[i].op == 'g')
            got = nt_strmap_get(m, rows[i].key);
        else
            got = nt_strmap_del(m, rows[i].key);
        CHECKF(got == want, "row %zu %c \"%s\": got %p, want %p", i, rows[i].op, rows[i].key, got,
               want);
        CHECKF(nt_strmap_len(m) == rows[i].len, "row %zu: len %zu, want %zu", i, nt_strmap_len(m),
               rows[i].len);
    }
    /* keys are copied: changing the caller's buffer changes nothing */
    char key[32] = "+8613900000000";
    CHECK_INT(nt_strmap_put(m, key, VAL(5)), NT_OK);
    key[1] = '9';
    ncases++;
    CHECK(nt_strmap_get(m, "+8613900000000") == VAL(5));
    CHECK(nt_strmap_get(m, key) == NULL);
    nt_strmap_free(m);
    nt_strmap_free(NULL);
}

static void test_churn(void)
{
    enum { NKEYS = 3000, NOPS = 100000 };
    static char keys[NKEYS][24];
    static void *ref[NKEYS];
    size_t reflen = 0;
    nt_strmap_t *m = nt_strmap_new();
    CHECK(m != NULL);
    if (m == NULL)
        return;
    for (int i = 0; i < NKEYS; i++) {
        snprintf(keys[i], sizeof(keys[i]), "+86138%08d", i * 7919 % 100000000);
        ref[i] = NULL;
    }
    int bad = 0;
    for (int op = 0; op < NOPS && bad < 10; op++) {
        uint64_t r = rng();
        int k = (int)(r % NKEYS);
        int what = (int)((r >> 32) % 10);
        if (what < 4) { /* put */
            void *v = VAL((r >> 16) % 4096);
            if (nt_strmap_put(m, keys[k], v) != NT_OK) {
                CHECKF(0, "op %d: put %s failed", op, keys[k]);
                bad++;
                continue;
            }
            if (ref[k] == NULL)
                reflen++;
            ref[k] = v;
        } else if (what < 7) { /* del */
            void *got = nt_strmap_del(m, keys[k]);
            if (got != ref[k]) {
                CHECKF(0, "op %d: del %s = %p, want %p", op, keys[k], got, ref[k]);
                bad++;
            }
            if (ref[k] != NULL)
                reflen--;
            ref[k] = NULL;
        } else { /* get */
            void *got = nt_strmap_get(m, keys[k]);
            if (got != ref[k]) {
                CHECKF(0, "op %d: get %s = %p, want %p", op, keys[k], got, ref[k]);
                bad++;
            }
        }
        if (nt_strmap_len(m) != reflen) {
            CHECKF(0, "op %d: len %zu, want %zu", op, nt_strmap_len(m), reflen);
            bad++;
        }
        if (op % 5000 == 0) /* full comparison now and then */
            for (int i = 0; i < NKEYS; i++)
                if (nt_strmap_get(m, keys[i]) != ref[i]) {
                    CHECKF(0, "op %d: full check: %s differs", op, keys[i]);
                    bad++;
                    break;
                }
    }
    for (int i = 0; i < NKEYS; i++)
        if (nt_strmap_get(m, keys[i]) != ref[i]) {
            CHECKF(0, "after churn: %s differs", keys[i]);
            break;
        }
    ncases++; /* one case: NOPS random operations */
    nt_strmap_free(m);
}

static void test_growth(void)
{
    enum { N = 50000 };
    nt_strmap_t *m = nt_strmap_new();
    char key[32];
    CHECK(m != NULL);
    if (m == NULL)
        return;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        if (nt_strmap_put(m, key, VAL(i % 4096)) != NT_OK) {
            CHECKF(0, "put %s failed", key);
            break;
        }
    }
    CHECK_INT(nt_strmap_len(m), N);
    int missing = 0;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        missing += nt_strmap_get(m, key) != VAL(i % 4096);
    }
    CHECKF(missing == 0, "%d of %d keys lost after growth", missing, N);
    /* delete the even ones, the odd ones stay */
    for (int i = 0; i < N; i += 2) {
        snprintf(key, sizeof(key), "k%d", i);
        missing += nt_strmap_del(m, key) != VAL(i % 4096);
    }
    CHECK_INT(nt_strmap_len(m), N / 2);
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof(key), "k%d", i);
        void *want = i % 2 ? VAL(i % 4096) : NULL;
        missing += nt_strmap_get(m, key) != want;
    }
    CHECKF(missing == 0, "%d lookups wrong after deleting half", missing);
    ncases += 3;
    nt_strmap_free(m);
}

/* Home slot of a key in a fresh map (64 slots, the initial size). */
static size_t home64(const char *key)
{
    return (size_t)nt_strmap_hash(key) & 63;
}

/* Finds n keys "c<i>" whose home slot is `home` in a 64-slot map. */
static void keys_with_home(size_t home, int n, char out[][16], int *next)
{
    for (int found = 0; found < n; (*next)++) {
        char k[16];
        snprintf(k, sizeof(k), "c%d", *next);
        if (home64(k) == home)
            memcpy(out[found++], k, sizeof(k));
    }
}

static void test_cluster_deletion(void)
{
    /* One cluster wrapping the end of the table: homes 61, 61, 61, 62, 62,
     * 63, 0, 0, 1 occupy slots 61..63 and 0..5. Deleting any one must keep
     * every other reachable (probing passes the deleted slot). */
    char keys[12][16];
    int next = 0;
    keys_with_home(61, 3, keys, &next);
    keys_with_home(62, 2, keys + 3, &next);
    keys_with_home(63, 1, keys + 5, &next);
    keys_with_home(0, 2, keys + 6, &next);
    keys_with_home(1, 1, keys + 8, &next);
    keys_with_home(5, 1, keys + 9, &next);   /* its home is inside the cluster */
    keys_with_home(30, 2, keys + 10, &next); /* an unrelated cluster */
    const int n = 12;

    for (int del = 0; del < n; del++, ncases++) {
        nt_strmap_t *m = nt_strmap_new();
        if (m == NULL) {
            CHECKF(0, "nt_strmap_new failed");
            return;
        }
        for (int i = 0; i < n; i++)
            if (nt_strmap_put(m, keys[i], VAL(i)) != NT_OK)
                CHECKF(0, "put %s failed", keys[i]);
        CHECKF(nt_strmap_del(m, keys[del]) == VAL(del), "del %s (home %zu) lost its value",
               keys[del], home64(keys[del]));
        for (int i = 0; i < n; i++) {
            void *want = i == del ? NULL : VAL(i);
            void *got = nt_strmap_get(m, keys[i]);
            CHECKF(got == want, "after deleting %s (home %zu): get %s (home %zu) = %p, want %p",
                   keys[del], home64(keys[del]), keys[i], home64(keys[i]), got, want);
        }
        CHECK_INT(nt_strmap_len(m), n - 1);
        nt_strmap_free(m);
    }

    /* delete everything in many random orders, checking after each step */
    for (int round = 0; round < 200; round++, ncases++) {
        int order[12];
        bool gone[12] = {false};
        for (int i = 0; i < n; i++)
            order[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(rng() % (uint64_t)(i + 1));
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        nt_strmap_t *m = nt_strmap_new();
        if (m == NULL)
            return;
        for (int i = 0; i < n; i++)
            if (nt_strmap_put(m, keys[i], VAL(i)) != NT_OK)
                CHECKF(0, "put failed");
        int wrong = 0;
        for (int s = 0; s < n; s++) {
            wrong += nt_strmap_del(m, keys[order[s]]) != VAL(order[s]);
            gone[order[s]] = true;
            for (int i = 0; i < n; i++)
                wrong += nt_strmap_get(m, keys[i]) != (gone[i] ? NULL : VAL(i));
            /* re-inserting a deleted key in between works too */
            if (s == n / 2) {
                wrong += nt_strmap_put(m, keys[order[0]], VAL(100)) != NT_OK;
                wrong += nt_strmap_get(m, keys[order[0]]) != VAL(100);
                wrong += nt_strmap_del(m, keys[order[0]]) != VAL(100);
            }
        }
        CHECKF(wrong == 0 && nt_strmap_len(m) == 0, "random deletion order %d: %d wrong lookups",
               round, wrong);
        nt_strmap_free(m);
    }
}

static void test_hash(void)
{
    /* Documented as FNV-1a 64-bit (offset basis 0xcbf29ce484222325, prime
     * 0x100000001b3) followed by h ^ (h >> 29); reference values computed with
     * Python: h = basis; for c in s.encode(): h = ((h ^ c) * prime) % 2**64;
     * print(hex(h ^ (h >> 29))). (The first version had a wrong offset basis
     * constant, one digit short; this test caught it.) */
    static const struct {
        const char *s;
        uint64_t want;
    } rows[] = {
        {"", 0xcbf29ce2dbb6c401ULL},
        {"a", 0xaf63dc49fd1f0ee8ULL},
        {"foobar", 0x85944175db9b6c67ULL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        uint64_t got = nt_strmap_hash(rows[i].s);
        CHECKF(got == rows[i].want, "nt_strmap_hash(\"%s\") = %#llx, want %#llx", rows[i].s,
               (unsigned long long)got, (unsigned long long)rows[i].want);
    }
}

int main(void)
{
    test_basic();
    test_churn();
    test_growth();
    test_cluster_deletion();
    test_hash();
    printf("test_strmap: %d cases\n", ncases);
    CHECK_DONE();
}
