/*
 * json.c — RFC 6901 pointers and scalar rendering (see json.h).
 */
#include "json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

bool nt_json_pointer_is_valid(const char *s)
{
    if (s == NULL)
        return false;
    if (s[0] == '\0')
        return true;
    if (s[0] != '/')
        return false;
    for (const char *p = s; *p; p++)
        if (*p == '~' && p[1] != '0' && p[1] != '1')
            return false;
    return true;
}

/* Compares one reference token (escaped, len bytes) with an unescaped key. */
static bool token_eq(const char *tok, size_t len, const char *key)
{
    size_t k = 0;
    for (size_t i = 0; i < len; i++) {
        char c = tok[i];
        if (c == '~' && i + 1 < len) {
            c = tok[i + 1] == '1' ? '/' : '~';
            i++;
        }
        if (key[k] != c)
            return false;
        k++;
    }
    return key[k] == '\0';
}

const cJSON *nt_json_pointer(const cJSON *root, const char *pointer)
{
    const cJSON *cur = root;
    const char *p = pointer;
    if (root == NULL || pointer == NULL)
        return NULL;
    if (*p == '\0')
        return root;
    if (*p != '/')
        return NULL;
    while (*p == '/' && cur != NULL) {
        p++;
        size_t len = strcspn(p, "/");
        if (cJSON_IsArray(cur)) {
            if (len == 0 || len > 9 || (len > 1 && p[0] == '0'))
                return NULL;
            int idx = 0;
            for (size_t i = 0; i < len; i++) {
                if (p[i] < '0' || p[i] > '9')
                    return NULL;
                idx = idx * 10 + (p[i] - '0');
            }
            cur = cJSON_GetArrayItem(cur, idx);
        } else if (cJSON_IsObject(cur)) {
            const cJSON *found = NULL;
            for (const cJSON *c = cur->child; c != NULL; c = c->next) {
                if (c->string != NULL && token_eq(p, len, c->string)) {
                    found = c;
                    break;
                }
            }
            cur = found;
        } else {
            return NULL;
        }
        p += len;
    }
    return cur;
}

int nt_json_scalar_text(const cJSON *item, char *out, size_t outsz)
{
    int n;
    if (item == NULL)
        return NT_EINVAL;
    if (cJSON_IsString(item)) {
        n = snprintf(out, outsz, "%s", item->valuestring ? item->valuestring : "");
    } else if (cJSON_IsNumber(item)) {
        double d = item->valuedouble;
        if (isfinite(d) && d == floor(d) && fabs(d) < 9e15)
            n = snprintf(out, outsz, "%lld", (long long)d);
        else
            n = snprintf(out, outsz, "%.17g", d);
    } else if (cJSON_IsBool(item)) {
        n = snprintf(out, outsz, "%s", cJSON_IsTrue(item) ? "true" : "false");
    } else if (cJSON_IsNull(item)) {
        n = snprintf(out, outsz, "null");
    } else {
        return NT_EINVAL;
    }
    if (n < 0 || (size_t)n >= outsz)
        return NT_ETOOBIG;
    return NT_OK;
}
