/*
 * test_json.c — RFC 6901 pointers and scalar text (json.h). The pointer rows
 * include the RFC's own examples (section 5) and the edge cases adapters
 * depend on: "~0"/"~1" escapes, the empty key, array indices without leading
 * zeros, out-of-range indices and invalid pointer syntax.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "json.h"

static int ncases;

/* Renders what a pointer resolved to: "(absent)", or the scalar text, or
 * "(object)" / "(array)". */
static void describe(const cJSON *it, char *out, size_t outsz)
{
    if (it == NULL)
        snprintf(out, outsz, "(absent)");
    else if (cJSON_IsObject(it))
        snprintf(out, outsz, "(object)");
    else if (cJSON_IsArray(it))
        snprintf(out, outsz, "(array)");
    else if (nt_json_scalar_text(it, out, outsz) != NT_OK)
        snprintf(out, outsz, "(error)");
}

static void test_pointer_rfc6901(void)
{
    /* RFC 6901 section 5 */
    static const char doc[] = "{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, "
                              "\"e^f\": 3, \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, "
                              "\"m~n\": 8}";
    static const struct {
        const char *ptr;
        const char *want;
    } rows[] = {
        {"", "(object)"}, {"/foo", "(array)"}, {"/foo/0", "bar"}, {"/", "0"},
        {"/a~1b", "1"},   {"/c%d", "2"},       {"/e^f", "3"},     {"/g|h", "4"},
        {"/i\\j", "5"},   {"/k\"l", "6"},      {"/ ", "7"},       {"/m~0n", "8"},
    };
    cJSON *root = cJSON_Parse(doc);
    CHECK(root != NULL);
    for (size_t i = 0; root != NULL && i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char got[64];
        describe(nt_json_pointer(root, rows[i].ptr), got, sizeof(got));
        CHECKF(strcmp(got, rows[i].want) == 0, "RFC 6901 pointer \"%s\": got %s, want %s",
               rows[i].ptr, got, rows[i].want);
    }
    if (root != NULL)
        CHECK(nt_json_pointer(root, "") == root);
    cJSON_Delete(root);
}

static void test_pointer(void)
{
    static const char doc[] =
        "{\"a\":{\"b\":[10,{\"c\":\"x\"}],\"\":\"empty\",\"a/b\":1,\"m~n\":2,\"~1\":\"lit\","
        "\"~\":\"tilde\",\"0\":\"zero-key\"},"
        "\"arr\":[0,1,2],\"n\":null,\"t\":true,\"f\":false,\"num\":1.5,\"s\":\"hi\","
        "\"nested\":[[1,[2,[3]]]],\"data\":{\"items\":[{\"number\":\"+8613800138000\"}]}}";
    static const struct {
        const char *ptr;
        const char *want;
    } rows[] = {
        {"/a/b/0", "10"},
        {"/a/b/1/c", "x"},
        {"/a/b/1", "(object)"},
        {"/a/", "empty"}, /* the empty key */
        {"/a/a~1b", "1"},
        {"/a/m~0n", "2"},
        {"/a/~01", "lit"}, /* "~01" is "~1", not "/" */
        {"/a/~0", "tilde"},
        {"/a/0", "zero-key"}, /* a digit token on an object is a key */
        {"/arr/0", "0"},
        {"/arr/2", "2"},
        {"/arr/3", "(absent)"},  /* out of range */
        {"/arr/01", "(absent)"}, /* leading zero */
        {"/arr/00", "(absent)"},
        {"/arr/-", "(absent)"}, /* "past the end" is never an item */
        {"/arr/-1", "(absent)"},
        {"/arr/1a", "(absent)"},
        {"/arr/", "(absent)"},
        {"/arr/+1", "(absent)"},
        {"/arr/ 1", "(absent)"},
        {"/arr/99999999999", "(absent)"},
        {"/arr/4294967297", "(absent)"}, /* would wrap to 1 in 32 bits */
        {"/n", "null"},
        {"/t", "true"},
        {"/f", "false"},
        {"/num", "1.5"},
        {"/s", "hi"},
        {"/s/0", "(absent)"}, /* into a scalar */
        {"/n/x", "(absent)"},
        {"/missing", "(absent)"},
        {"/a/b/1/c/d", "(absent)"},
        {"/A", "(absent)"}, /* case-sensitive */
        {"/nested/0/1/1/0", "3"},
        {"/data/items/0/number", "+8613800138000"},
        {"a", "(absent)"}, /* invalid: no leading slash */
        {"arr/0", "(absent)"},
        {"#/a", "(absent)"}, /* URI fragment form is not accepted */
    };
    cJSON *root = cJSON_Parse(doc);
    CHECK(root != NULL);
    for (size_t i = 0; root != NULL && i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char got[64];
        describe(nt_json_pointer(root, rows[i].ptr), got, sizeof(got));
        CHECKF(strcmp(got, rows[i].want) == 0, "pointer \"%s\": got %s, want %s", rows[i].ptr, got,
               rows[i].want);
    }
    ncases += 3;
    CHECK(nt_json_pointer(root, NULL) == NULL);
    CHECK(nt_json_pointer(NULL, "") == NULL);
    CHECK(nt_json_pointer(NULL, "/a") == NULL);
    cJSON_Delete(root);

    /* a top-level array */
    root = cJSON_Parse("[[\"x\"],\"y\"]");
    ncases += 3;
    CHECK(nt_json_pointer(root, "/0/0") != NULL &&
          strcmp(nt_json_pointer(root, "/0/0")->valuestring, "x") == 0);
    CHECK(nt_json_pointer(root, "/1") != NULL &&
          strcmp(nt_json_pointer(root, "/1")->valuestring, "y") == 0);
    CHECK(nt_json_pointer(root, "/2") == NULL);
    cJSON_Delete(root);
}

static void test_pointer_is_valid(void)
{
    static const struct {
        const char *ptr;
        bool want;
    } rows[] = {
        {"", true},     {"/", true},        {"//", true},
        {"/a", true},   {"/a/0/b", true},   {"/a~0b~1c", true},
        {"/~01", true}, {"/a/~1/~0", true}, {"/data/\xe4\xb8\xad", true},
        {"a", false},   {"a/b", false},     {"#/a", false},
        {"/a~", false}, {"/a~2", false},    {"/~", false},
        {"/~a", false}, {"~0", false},      {"/a/~/b", false},
        {NULL, false},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        bool got = nt_json_pointer_is_valid(rows[i].ptr);
        CHECKF(got == rows[i].want, "is_valid(\"%s\"): got %d, want %d",
               rows[i].ptr ? rows[i].ptr : "(null)", got, rows[i].want);
    }
}

static void test_scalar_text(void)
{
    static const struct {
        const char *json;
        size_t outsz;
        int rc;
        const char *want;
    } rows[] = {
        {"\"hi\"", 64, NT_OK, "hi"},
        {"\"\"", 64, NT_OK, ""},
        {"\"\xe4\xb8\xad\"", 64, NT_OK, "\xe4\xb8\xad"},
        {"42", 64, NT_OK, "42"},
        {"-3", 64, NT_OK, "-3"},
        {"0", 64, NT_OK, "0"},
        {"870", 64, NT_OK, "870"},
        {"50.0", 64, NT_OK, "50"}, /* an integer without a fraction */
        {"1e3", 64, NT_OK, "1000"},
        {"1.5", 64, NT_OK, "1.5"},
        {"-2.5", 64, NT_OK, "-2.5"},
        {"0.1", 64, NT_OK, "0.10000000000000001"}, /* %.17g */
        {"12345678901234567890", 64, NT_OK, "1.2345678901234567e+19"},
        {"8613800138000", 64, NT_OK, "8613800138000"},
        {"true", 64, NT_OK, "true"},
        {"false", 64, NT_OK, "false"},
        {"null", 64, NT_OK, "null"},
        {"{}", 64, NT_EINVAL, NULL},
        {"{\"a\":1}", 64, NT_EINVAL, NULL},
        {"[]", 64, NT_EINVAL, NULL},
        {"[1]", 64, NT_EINVAL, NULL},
        {"\"abc\"", 4, NT_OK, "abc"},
        {"\"abc\"", 3, NT_ETOOBIG, NULL},
        {"12345", 5, NT_ETOOBIG, NULL},
        {"true", 4, NT_ETOOBIG, NULL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char out[64];
        cJSON *item = cJSON_Parse(rows[i].json);
        CHECKF(item != NULL, "scalar row %zu: test JSON %s does not parse", i, rows[i].json);
        if (item == NULL)
            continue;
        int rc = nt_json_scalar_text(item, out, rows[i].outsz);
        CHECKF(rc == rows[i].rc, "scalar_text(%s, %zu): rc %d, want %d", rows[i].json,
               rows[i].outsz, rc, rows[i].rc);
        if (rc == NT_OK && rows[i].want != NULL)
            CHECKF(strcmp(out, rows[i].want) == 0, "scalar_text(%s): got \"%s\", want \"%s\"",
                   rows[i].json, out, rows[i].want);
        cJSON_Delete(item);
    }
    char out[8];
    ncases++;
    CHECK_INT(nt_json_scalar_text(NULL, out, sizeof(out)), NT_EINVAL);
}

int main(void)
{
    test_pointer_rfc6901();
    test_pointer();
    test_pointer_is_valid();
    test_scalar_text();
    printf("test_json: %d cases\n", ncases);
    CHECK_DONE();
}
