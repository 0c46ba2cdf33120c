/*
 * test_uuid.c — UUIDv5 against independently computed vectors, v4 shape,
 * parse/format round trips and invalid strings (uuid.h).
 *
 * The v5 vectors were computed with Python's uuid module, e.g.
 *   python3 -c "import uuid; print(uuid.uuid5(uuid.UUID(
 *     '5d1f2c4e-7a3b-5e8d-9c61-6e756d747275'), 'check|+8613800138000|baidu||2026-11-28'))"
 * and the RFC 4122 DNS/URL examples with uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org').
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "uuid.h"

static int ncases;

static const nt_uuid_t ns_dns = {{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00,
                                  0xc0, 0x4f, 0xd4, 0x30, 0xc8}};
static const nt_uuid_t ns_url = {{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00,
                                  0xc0, 0x4f, 0xd4, 0x30, 0xc8}};

static void test_v5(void)
{
    static const struct {
        const nt_uuid_t *ns;
        const char *name;
        const char *want;
    } rows[] = {
        /* uuid.uuid5(uuid.NAMESPACE_DNS, 'python.org') */
        {&ns_dns, "python.org", "886313e1-3b8a-5372-9b90-0c9aee199e5d"},
        /* uuid.uuid5(uuid.NAMESPACE_URL, 'http://python.org/') */
        {&ns_url, "http://python.org/", "4c565f0d-3f5a-5890-b41b-20cf47701c5e"},
        /* uuid.uuid5(uuid.UUID('5d1f2c4e-7a3b-5e8d-9c61-6e756d747275'),
         *            'check|+8613800138000|baidu||2026-11-28') */
        {&nt_uuid_ns_numtrust, "check|+8613800138000|baidu||2026-11-28",
         "0a9321d4-f68a-5081-9fcd-d0123a4c3167"},
        /* ... 'check|+8613800138000|baidu||2026-11-29' (next day) */
        {&nt_uuid_ns_numtrust, "check|+8613800138000|baidu||2026-11-29",
         "4bdab1fb-f402-5472-aaa0-1876a9d2602b"},
        /* ... 'tag_update|+8613812345678|tencent|新标签|2026-11-28' (UTF-8 name) */
        {&nt_uuid_ns_numtrust,
         "tag_update|+8613812345678|tencent|\xe6\x96\xb0\xe6\xa0\x87\xe7\xad\xbe|2026-11-28",
         "306c7fc6-1b8d-5cbf-9cee-604961e8a38b"},
        /* ... '' (empty name) */
        {&nt_uuid_ns_numtrust, "", "c2086979-9aa5-5a8b-9179-1d5918a33907"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_uuid_t u;
        char out[NT_UUID_STRLEN];
        nt_uuid_v5(rows[i].ns, rows[i].name, strlen(rows[i].name), &u);
        nt_uuid_format(&u, out);
        CHECKF(strcmp(out, rows[i].want) == 0, "v5 row %zu \"%s\": got %s, want %s", i,
               rows[i].name, out, rows[i].want);
    }

    /* The namespace constant itself. */
    char ns[NT_UUID_STRLEN];
    nt_uuid_format(&nt_uuid_ns_numtrust, ns);
    ncases++;
    CHECK_STR(ns, "5d1f2c4e-7a3b-5e8d-9c61-6e756d747275");
}

static void test_v5_fields(void)
{
    static const struct {
        const char *fields[5];
        size_t n;
        const char *want;
    } rows[] = {
        /* same name as the vector above: NULL counts as empty */
        {{"check", "+8613800138000", "baidu", NULL, "2026-11-28"},
         5,
         "0a9321d4-f68a-5081-9fcd-d0123a4c3167"},
        {{"check", "+8613800138000", "baidu", "", "2026-11-28"},
         5,
         "0a9321d4-f68a-5081-9fcd-d0123a4c3167"},
        {{"check", "+8613800138000", "baidu", "", "2026-11-29"},
         5,
         "4bdab1fb-f402-5472-aaa0-1876a9d2602b"},
        {{NULL}, 0, "c2086979-9aa5-5a8b-9179-1d5918a33907"}, /* no fields: empty name */
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        char out[NT_UUID_STRLEN];
        nt_uuid_v5_fields(out, rows[i].fields, rows[i].n);
        CHECKF(strcmp(out, rows[i].want) == 0, "v5_fields row %zu: got %s, want %s", i, out,
               rows[i].want);
    }
}

static void test_v4(void)
{
    char seen[64][NT_UUID_STRLEN];
    for (size_t i = 0; i < NT_ARRAY_LEN(seen); i++, ncases++) {
        nt_uuid_t u;
        CHECK_INT(nt_uuid_v4(&u), NT_OK);
        nt_uuid_format(&u, seen[i]);
        CHECKF(seen[i][14] == '4', "v4 %s: version nibble %c", seen[i], seen[i][14]);
        CHECKF(strchr("89ab", seen[i][19]) != NULL, "v4 %s: variant nibble %c", seen[i],
               seen[i][19]);
        CHECKF(nt_uuid_is_valid(seen[i]), "v4 %s is not valid", seen[i]);
        for (size_t j = 0; j < i; j++)
            CHECKF(strcmp(seen[i], seen[j]) != 0, "v4 repeated %s", seen[i]);
    }
}

static void test_parse_format(void)
{
    static const struct {
        const char *in;
        int rc;
        const char *canon; /* formatted back */
    } rows[] = {
        {"0a9321d4-f68a-5081-9fcd-d0123a4c3167", NT_OK, "0a9321d4-f68a-5081-9fcd-d0123a4c3167"},
        {"0A9321D4-F68A-5081-9FCD-D0123A4C3167", NT_OK, "0a9321d4-f68a-5081-9fcd-d0123a4c3167"},
        {"00000000-0000-0000-0000-000000000000", NT_OK, "00000000-0000-0000-0000-000000000000"},
        {"ffffffff-ffff-ffff-ffff-ffffffffffff", NT_OK, "ffffffff-ffff-ffff-ffff-ffffffffffff"},
        {"", NT_EINVAL, NULL},
        {NULL, NT_EINVAL, NULL},
        {"0a9321d4-f68a-5081-9fcd-d0123a4c316", NT_EINVAL, NULL},    /* 35 characters */
        {"0a9321d4-f68a-5081-9fcd-d0123a4c31677", NT_EINVAL, NULL},  /* 37 characters */
        {"0a9321d4f68a-5081-9fcd-d0123a4c31677", NT_EINVAL, NULL},   /* dash missing */
        {"0a9321d-4f68a-5081-9fcd-d0123a4c3167", NT_EINVAL, NULL},   /* dash misplaced */
        {"0a9321d4-f68a-5081-9fcd-d0123a4c316g", NT_EINVAL, NULL},   /* not hex */
        {"0a9321d4_f68a_5081_9fcd_d0123a4c3167", NT_EINVAL, NULL},   /* wrong separator */
        {"0a9321d4-f68a-5081-9fcd-d0123a4c 167", NT_EINVAL, NULL},   /* space */
        {"{0a9321d4-f68a-5081-9fcd-d0123a4c3167}", NT_EINVAL, NULL}, /* braces */
        {"urn:uuid:0a9321d4-f68a-5081-9fcd-d0123a4c3167", NT_EINVAL, NULL},
        {"0a9321d4f68a50819fcdd0123a4c3167", NT_EINVAL, NULL}, /* no dashes */
        {"0a9321d4-f68a-5081-9fcd-d0123a4c3167\n", NT_EINVAL, NULL},
        {"+0a9321d-f68a-5081-9fcd-d0123a4c3167", NT_EINVAL, NULL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++, ncases++) {
        nt_uuid_t u;
        const char *in = rows[i].in ? rows[i].in : "(null)";
        int rc = nt_uuid_parse(rows[i].in, &u);
        CHECKF(rc == rows[i].rc, "parse(\"%s\"): rc %d, want %d", in, rc, rows[i].rc);
        CHECKF(nt_uuid_is_valid(rows[i].in) == (rows[i].rc == NT_OK), "is_valid(\"%s\")", in);
        if (rc == NT_OK && rows[i].canon != NULL) {
            char out[NT_UUID_STRLEN];
            nt_uuid_format(&u, out);
            CHECKF(strcmp(out, rows[i].canon) == 0, "format(parse(\"%s\")) = %s, want %s", in, out,
                   rows[i].canon);
        }
    }

    /* byte order: the first byte is the first two hex digits */
    nt_uuid_t u;
    ncases++;
    CHECK_INT(nt_uuid_parse("01020304-0506-0708-090a-0b0c0d0e0f10", &u), NT_OK);
    for (int i = 0; i < 16; i++)
        CHECKF(u.b[i] == i + 1, "byte %d = %d, want %d", i, u.b[i], i + 1);
}

int main(void)
{
    test_v5();
    test_v5_fields();
    test_v4();
    test_parse_format();
    printf("test_uuid: %d cases\n", ncases);
    CHECK_DONE();
}
