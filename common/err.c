/*
 * err.c — filling nt_err_t values (see err.h).
 */
#include "err.h"

#include <stdio.h>
#include <string.h>

int nt_err_set(nt_err_t *err, int code, bool retriable, const char *fmt, ...)
{
    if (err == NULL)
        return code;
    err->code = code;
    err->retriable = retriable;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void nt_err_clear(nt_err_t *err)
{
    if (err == NULL)
        return;
    err->code = NT_OK;
    err->retriable = false;
    err->msg[0] = '\0';
}
