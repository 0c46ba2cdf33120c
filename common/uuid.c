/*
 * uuid.c — UUIDv4/v5 with OpenSSL's SHA-1 and getrandom (see uuid.h).
 */
#include "uuid.h"

#include <openssl/evp.h>
#include <string.h>
#include <sys/random.h>

#include "buf.h"
#include "hex.h"

/* 5d1f2c4e-7a3b-5e8d-9c61-6e756d747275 — fixed forever: changing it would
 * change every deterministic job id. */
const nt_uuid_t nt_uuid_ns_numtrust = {{0x5d, 0x1f, 0x2c, 0x4e, 0x7a, 0x3b, 0x5e, 0x8d, 0x9c, 0x61,
                                        0x6e, 0x75, 0x6d, 0x74, 0x72, 0x75}};

void nt_uuid_v5(const nt_uuid_t *ns, const void *name, size_t len, nt_uuid_t *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) != 1 ||
        EVP_DigestUpdate(ctx, ns->b, 16) != 1 || EVP_DigestUpdate(ctx, name, len) != 1 ||
        EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen < 16) {
        /* Only an allocation failure in OpenSSL gets here; an all-zero id
         * would collide, so stop rather than write wrong data. */
        abort();
    }
    EVP_MD_CTX_free(ctx);
    memcpy(out->b, md, 16);
    out->b[6] = (uint8_t)((out->b[6] & 0x0F) | 0x50);
    out->b[8] = (uint8_t)((out->b[8] & 0x3F) | 0x80);
}

int nt_uuid_v4(nt_uuid_t *out)
{
    size_t got = 0;
    while (got < sizeof(out->b)) {
        ssize_t n = getrandom(out->b + got, sizeof(out->b) - got, 0);
        if (n <= 0)
            return NT_EIO;
        got += (size_t)n;
    }
    out->b[6] = (uint8_t)((out->b[6] & 0x0F) | 0x40);
    out->b[8] = (uint8_t)((out->b[8] & 0x3F) | 0x80);
    return NT_OK;
}

void nt_uuid_format(const nt_uuid_t *u, char out[NT_UUID_STRLEN])
{
    size_t o = 0;
    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = nt_hex_digit(u->b[i] >> 4);
        out[o++] = nt_hex_digit(u->b[i]);
    }
    out[o] = '\0';
}

int nt_uuid_parse(const char *s, nt_uuid_t *out)
{
    size_t bi = 0;
    if (s == NULL || strlen(s) != 36)
        return NT_EINVAL;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return NT_EINVAL;
            i++;
            continue;
        }
        int hi = nt_hex_value(s[i]), lo = nt_hex_value(s[i + 1]);
        if (hi < 0 || lo < 0)
            return NT_EINVAL;
        out->b[bi++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
    return NT_OK;
}

bool nt_uuid_is_valid(const char *s)
{
    nt_uuid_t u;
    return nt_uuid_parse(s, &u) == NT_OK;
}

void nt_uuid_v5_fields(char out[NT_UUID_STRLEN], const char *const *fields, size_t nfields)
{
    nt_buf_t b;
    nt_uuid_t u;
    nt_buf_init(&b, 0);
    for (size_t i = 0; i < nfields; i++) {
        if ((i > 0 && nt_buf_putc(&b, '|') != NT_OK) ||
            (fields[i] != NULL && nt_buf_puts(&b, fields[i]) != NT_OK))
            abort(); /* out of memory on a few hundred bytes */
    }
    nt_uuid_v5(&nt_uuid_ns_numtrust, b.data ? b.data : "", b.len, &u);
    nt_buf_free(&b);
    nt_uuid_format(&u, out);
}
