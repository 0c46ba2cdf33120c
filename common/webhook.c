/*
 * webhook.c — webhook signatures and retry backoff (see webhook.h).
 */
#include "webhook.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hex.h"

int nt_webhook_sign(const char *secret, int64_t ts, const void *body, size_t len,
                    char out[NT_WEBHOOK_SIG_LEN])
{
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    nt_buf_t msg;
    int rc = NT_ERR;

    out[0] = '\0';
    if (secret == NULL || secret[0] == '\0')
        return NT_EINVAL;
    nt_buf_init(&msg, 0);
    if (nt_buf_printf(&msg, "%lld.", (long long)ts) != NT_OK ||
        (len > 0 && nt_buf_append(&msg, body, len) != NT_OK))
        goto out;
    if (HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)msg.data, msg.len,
             mac, &maclen) == NULL ||
        maclen != 32)
        goto out;
    memcpy(out, "v1=", 3);
    nt_hex_encode(mac, maclen, out + 3);
    rc = NT_OK;
out:
    nt_buf_free(&msg);
    return rc;
}

int nt_webhook_verify(const char *secret, const char *ts_header, const char *sig_header,
                      const void *body, size_t len, int64_t now_s, int64_t tolerance_s,
                      nt_err_t *err)
{
    char want[NT_WEBHOOK_SIG_LEN];
    char *end = NULL;
    if (ts_header == NULL || sig_header == NULL)
        return nt_err_set(err, NT_EINVAL, false, "missing timestamp or signature header");
    long long ts = strtoll(ts_header, &end, 10);
    if (end == ts_header || *end != '\0')
        return nt_err_set(err, NT_EINVAL, false, "timestamp \"%.32s\" is not unix seconds",
                          ts_header);
    if (ts > now_s + tolerance_s || ts < now_s - tolerance_s)
        return nt_err_set(err, NT_EINVAL, false, "timestamp %lld is %lld s away from now", ts,
                          (long long)(now_s - ts));
    if (nt_webhook_sign(secret, ts, body, len, want) != NT_OK)
        return nt_err_set(err, NT_EINVAL, false, "cannot compute the signature");
    /* any of the comma-separated values may match */
    for (const char *p = sig_header; *p != '\0';) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        size_t m = n;
        while (m > 0 && p[m - 1] == ' ')
            m--;
        if (m == strlen(want) && CRYPTO_memcmp(p, want, m) == 0)
            return NT_OK;
        p += n;
    }
    return nt_err_set(err, NT_EINVAL, false, "signature does not match");
}

int64_t nt_webhook_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t seed)
{
    if (attempt < 1)
        attempt = 1;
    if (base_ms < 1)
        base_ms = 1;
    if (cap_ms < base_ms)
        cap_ms = base_ms;
    int64_t d = base_ms;
    for (int i = 1; i < attempt && d < cap_ms; i++)
        d = d > cap_ms / 2 ? cap_ms : d * 2;
    if (d > cap_ms)
        d = cap_ms;
    int64_t half = d / 2;
    /* splitmix64 of the seed: neighbouring seeds give unrelated jitter */
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return d - half + (half > 0 ? (int64_t)(z % (uint64_t)(half + 1)) : 0);
}
