/*
 * test_pg_array.c — PostgreSQL array literals for the unnest($1::text[])
 * batch statements (pg.h, nt_pg_array_*; no server needed). Each row builds
 * an array element by element and compares the literal with what
 * PostgreSQL's array input syntax requires: elements double-quoted, '"' and
 * '\' backslash-escaped, NULL unquoted, bytea in hex form ("\\x0102": the
 * array parser turns \\ into the one backslash of \x).
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "pg.h"

static int ncases;

typedef struct elem_s {
    char kind; /* s string (NULL -> NULL), n NULL, i int, b bytea, l string with explicit len */
    const char *s;
    long long i;
    size_t len; /* bytea / explicit length */
} elem_t;

#define S(x)                                                                                       \
    {                                                                                              \
        's', (x), 0, 0                                                                             \
    }
#define NUL                                                                                        \
    {                                                                                              \
        'n', NULL, 0, 0                                                                            \
    }
#define I(x)                                                                                       \
    {                                                                                              \
        'i', NULL, (x), 0                                                                          \
    }
#define B(x, n)                                                                                    \
    {                                                                                              \
        'b', (x), 0, (n)                                                                           \
    }
#define L(x, n)                                                                                    \
    {                                                                                              \
        'l', (x), 0, (n)                                                                           \
    }
#define END                                                                                        \
    {                                                                                              \
        0, NULL, 0, 0                                                                              \
    }

static int add(nt_pg_array_t *a, const elem_t *e)
{
    switch (e->kind) {
    case 's':
        return nt_pg_array_add_str(a, e->s);
    case 'n':
        return nt_pg_array_add_null(a);
    case 'i':
        return nt_pg_array_add_int(a, e->i);
    case 'b':
        return nt_pg_array_add_bytea(a, e->s, e->len);
    case 'l':
        return nt_pg_array_add(a, e->s, e->len);
    }
    return NT_EINVAL;
}

static void test_literals(void)
{
    static const struct {
        const char *name;
        elem_t elems[6];
        const char *want;
    } rows[] = {
        {"empty array", {END}, "{}"},
        {"one string", {S("a"), END}, "{\"a\"}"},
        {"two strings", {S("a"), S("b"), END}, "{\"a\",\"b\"}"},
        {"empty string", {S(""), END}, "{\"\"}"},
        {"double quote", {S("he said \"hi\""), END}, "{\"he said \\\"hi\\\"\"}"},
        {"backslash", {S("back\\slash"), END}, "{\"back\\\\slash\"}"},
        {"backslash then quote", {S("\\\""), END}, "{\"\\\\\\\"\"}"},
        {"comma", {S("a,b"), END}, "{\"a,b\"}"},
        {"braces", {S("{x}"), S("}"), END}, "{\"{x}\",\"}\"}"},
        {"the word NULL is a string", {S("NULL"), S("null"), END}, "{\"NULL\",\"null\"}"},
        {"spaces kept", {S(" spaced "), END}, "{\" spaced \"}"},
        {"newline and tab", {S("a\nb\tc"), END}, "{\"a\nb\tc\"}"},
        {"UTF-8", {S("中文标签"), END}, "{\"中文标签\"}"},
        {"SQL", {S("'; DROP TABLE jobs; --"), END}, "{\"'; DROP TABLE jobs; --\"}"},
        {"E.164",
         {S("+8613800138000"), S("+14155552671"), END},
         "{\"+8613800138000\",\"+14155552671\"}"},
        {"NULL", {NUL, END}, "{NULL}"},
        {"NULL from add_str(NULL)", {S(NULL), END}, "{NULL}"},
        {"NULL between strings", {S("x"), NUL, S("y"), END}, "{\"x\",NULL,\"y\"}"},
        {"ints", {I(1), I(-2), I(0), END}, "{1,-2,0}"},
        {"int extremes",
         {I(LLONG_MAX), I(LLONG_MIN), END},
         "{9223372036854775807,-9223372036854775808}"},
        {"int and NULL", {I(7), NUL, END}, "{7,NULL}"},
        {"bytea", {B("\x01\x02", 2), END}, "{\"\\\\x0102\"}"},
        {"bytea empty", {B("", 0), END}, "{\"\\\\x\"}"},
        {"bytea all nibbles", {B("\x00\xff\x7f\x80\xab", 5), END}, "{\"\\\\x00ff7f80ab\"}"},
        {"bytea and NULL", {B("\xde\xad", 2), NUL, END}, "{\"\\\\xdead\",NULL}"},
        {"explicit length", {L("abcdef", 3), END}, "{\"abc\"}"},
        {"explicit length 0", {L("abc", 0), END}, "{\"\"}"},
        {"mixed", {S("x"), NUL, I(42), S("q\"\\"), END}, "{\"x\",NULL,42,\"q\\\"\\\\\"}"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_pg_array_t a;
        nt_pg_array_init(&a);
        int rc = NT_OK;
        for (int k = 0; rc == NT_OK && rows[i].elems[k].kind != 0; k++)
            rc = add(&a, &rows[i].elems[k]);
        CHECKF(rc == NT_OK, "%s: add rc %d", rows[i].name, rc);
        const char *got = nt_pg_array_text(&a);
        CHECKF(got != NULL && strcmp(got, rows[i].want) == 0, "%s: got %s, want %s", rows[i].name,
               got ? got : "(null)", rows[i].want);
        /* asking twice gives the same literal */
        const char *again = nt_pg_array_text(&a);
        CHECKF(again != NULL && strcmp(again, rows[i].want) == 0, "%s: second text %s",
               rows[i].name, again ? again : "(null)");
        nt_pg_array_free(&a);
    }
}

static void test_reuse(void)
{
    nt_pg_array_t a;
    nt_pg_array_init(&a);
    CHECK_INT(nt_pg_array_add_str(&a, "first"), NT_OK);
    CHECK_STR(nt_pg_array_text(&a), "{\"first\"}");
    /* reset starts a new array on the same allocation */
    nt_pg_array_reset(&a);
    CHECK_STR(nt_pg_array_text(&a), "{}");
    nt_pg_array_reset(&a);
    CHECK_INT(nt_pg_array_add_int(&a, 5), NT_OK);
    CHECK_INT(nt_pg_array_add_str(&a, "x"), NT_OK);
    CHECK_STR(nt_pg_array_text(&a), "{5,\"x\"}");
    ncases += 3;

    /* a large batch: 10,000 numbers */
    nt_pg_array_reset(&a);
    char num[32];
    int rc = NT_OK;
    for (int i = 0; rc == NT_OK && i < 10000; i++) {
        snprintf(num, sizeof(num), "+86138%08d", i);
        rc = nt_pg_array_add_str(&a, num);
    }
    CHECK_INT(rc, NT_OK);
    const char *t = nt_pg_array_text(&a);
    ncases++;
    CHECK(t != NULL && strlen(t) == 2 + 10000 * 16 + 9999);
    CHECK(t != NULL && strncmp(t, "{\"+8613800000000\",\"+8613800000001\",", 35) == 0);
    CHECK(t != NULL && strcmp(t + strlen(t) - 17, "\"+8613800009999\"}") == 0);
    nt_pg_array_free(&a);
    nt_pg_array_free(&a); /* twice is harmless */
}

int main(void)
{
    test_literals();
    test_reuse();
    printf("test_pg_array: %d cases\n", ncases);
    CHECK_DONE();
}
