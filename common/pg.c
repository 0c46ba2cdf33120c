/*
 * pg.c — PostgreSQL connection with reconnect (see pg.h).
 */
#include "pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "hex.h"
#include "log.h"

struct nt_pg_s {
    char *conninfo;
    PGconn *conn;
};

/* libpq prints notices (e.g. "relation exists, skipping") on stderr in its
 * own format; keep stderr JSON lines. */
static void notice_cb(void *arg, const char *message)
{
    (void)arg;
    char line[512];
    snprintf(line, sizeof(line), "%s", message);
    line[strcspn(line, "\n")] = '\0';
    NT_DEBUG("postgres notice: %s", line);
}

/* Connection failures that waiting cannot fix (libpq reports no SQLSTATE
 * for a failed connection; these are its server's and its own words). */
static const char *const permanent_connect[] = {
    "does not exist",                 /* role, database */
    "password authentication failed", /* wrong password */
    "authentication failed",          /* any method */
    "no pg_hba.conf entry",           /* not allowed from here */
    "invalid connection option",      /* a typo in the conninfo */
    "invalid integer value",          /* port=abc */
    "invalid sslmode value",          /* sslmode=typo */
    "is not permitted to log in",     /* NOLOGIN role */
    "missing \"=\" after",            /* conninfo syntax */
};

static bool connect_error_is_permanent(const char *msg)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(permanent_connect); i++)
        if (strstr(msg, permanent_connect[i]) != NULL)
            return true;
    return false;
}

static PGconn *connect_once(const char *conninfo, nt_err_t *err)
{
    PGconn *conn = PQconnectdb(conninfo);
    if (conn == NULL) {
        nt_err_set(err, NT_ENOMEM, true, "postgres: out of memory");
        return NULL;
    }
    if (PQstatus(conn) != CONNECTION_OK) {
        char msg[200];
        snprintf(msg, sizeof(msg), "%s", PQerrorMessage(conn));
        msg[strcspn(msg, "\n")] = '\0';
        nt_err_set(err, NT_EIO, !connect_error_is_permanent(msg),
                   "postgres: cannot connect to %s:%s: %s", PQhost(conn) ? PQhost(conn) : "?",
                   PQport(conn) ? PQport(conn) : "?", msg);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, notice_cb, NULL);
    return conn;
}

nt_pg_t *nt_pg_connect(const char *conninfo, int timeout_s, nt_err_t *err)
{
    nt_pg_t *pg = calloc(1, sizeof(*pg));
    if (pg == NULL || (pg->conninfo = strdup(conninfo)) == NULL) {
        free(pg);
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
        return NULL;
    }
    int64_t deadline = nt_clock_mono_ms() + (int64_t)timeout_s * 1000;
    int64_t backoff = 100;
    for (;;) {
        nt_err_t e;
        nt_err_clear(&e);
        pg->conn = connect_once(conninfo, &e);
        if (pg->conn != NULL)
            return pg;
        if (err != NULL)
            *err = e;
        if (!e.retriable || nt_clock_mono_ms() + backoff > deadline)
            break; /* a wrong role or password does not get better by waiting */
        struct timespec ts = {backoff / 1000, (backoff % 1000) * 1000000};
        nanosleep(&ts, NULL);
        backoff = backoff * 2 > 2000 ? 2000 : backoff * 2;
    }
    nt_pg_free(pg);
    return NULL;
}

void nt_pg_free(nt_pg_t *pg)
{
    if (pg == NULL)
        return;
    if (pg->conn != NULL)
        PQfinish(pg->conn);
    free(pg->conninfo);
    free(pg);
}

PGconn *nt_pg_conn(nt_pg_t *pg)
{
    return pg->conn;
}

bool nt_pg_is_ok(nt_pg_t *pg)
{
    return pg->conn != NULL && PQstatus(pg->conn) == CONNECTION_OK;
}

int nt_pg_reconnect(nt_pg_t *pg, nt_err_t *err)
{
    if (pg->conn != NULL) {
        PQfinish(pg->conn);
        pg->conn = NULL;
    }
    pg->conn = connect_once(pg->conninfo, err);
    return pg->conn != NULL ? NT_OK : NT_EIO;
}

/* The classification, most specific prefix first (the first match wins).
 * Appendix A of the PostgreSQL manual lists the codes. */
static const struct {
    const char *prefix;
    nt_pg_class_t cls;
    bool reconnect;
} sqlstate_classes[] = {
    {"25006", NT_PG_TRANSIENT, true}, /* read_only_sql_transaction */
    {"57P01", NT_PG_TRANSIENT, true}, /* admin_shutdown */
    {"57P02", NT_PG_TRANSIENT, true}, /* crash_shutdown */
    {"57P03", NT_PG_TRANSIENT, true}, /* cannot_connect_now */
    {"08", NT_PG_TRANSIENT, true},    /* connection exception */
    {"25", NT_PG_TRANSIENT, false},   /* invalid transaction state (in failed txn) */
    {"40", NT_PG_TRANSIENT, false},   /* serialization failure, deadlock */
    {"53", NT_PG_TRANSIENT, false},   /* disk full, out of memory, too many connections */
    {"55", NT_PG_TRANSIENT, false},   /* lock not available, object in use */
    {"57", NT_PG_TRANSIENT, false},   /* statement timeout, query canceled */
    {"58", NT_PG_TRANSIENT, false},   /* system error: I/O error, undefined file */
    {"XX", NT_PG_TRANSIENT, false},   /* internal error: isolated like any other */
    {"21", NT_PG_DATA, false},        /* cardinality violation */
    {"22", NT_PG_DATA, false},        /* data exception */
    {"23", NT_PG_DATA, false},        /* integrity constraint violation */
    {"54", NT_PG_DATA, false},        /* program limit exceeded (row too big) */
    {"P0", NT_PG_DATA, false},        /* raised by PL/pgSQL for the row */
    {"0A", NT_PG_SCHEMA, false},      /* feature not supported */
    {"26", NT_PG_SCHEMA, false},      /* invalid SQL statement name (not prepared) */
    {"28", NT_PG_SCHEMA, false},      /* invalid authorization */
    {"3D", NT_PG_SCHEMA, false},      /* invalid catalog name */
    {"3F", NT_PG_SCHEMA, false},      /* invalid schema name */
    {"42", NT_PG_SCHEMA, false},      /* syntax error or access rule violation */
};

nt_pg_class_t nt_pg_sqlstate_class(const char *sqlstate, bool *reconnect)
{
    nt_pg_class_t cls = NT_PG_TRANSIENT;
    bool rc = sqlstate == NULL; /* no SQLSTATE: the connection itself failed */
    for (size_t i = 0; sqlstate != NULL && i < NT_ARRAY_LEN(sqlstate_classes); i++) {
        const char *p = sqlstate_classes[i].prefix;
        if (strncmp(sqlstate, p, strlen(p)) == 0) {
            cls = sqlstate_classes[i].cls;
            rc = sqlstate_classes[i].reconnect;
            break;
        }
    }
    if (reconnect != NULL)
        *reconnect = rc;
    return cls;
}

const char *nt_pg_class_name(nt_pg_class_t cls)
{
    static const char *const names[] = {"transient", "data", "schema"};
    return (unsigned)cls < NT_ARRAY_LEN(names) ? names[cls] : "?";
}

bool nt_pg_sqlstate_is_retriable(const char *sqlstate)
{
    return nt_pg_sqlstate_class(sqlstate, NULL) != NT_PG_DATA;
}

int nt_pg_result_error(nt_pg_t *pg, const PGresult *res, const char *what, nt_err_t *err)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char connmsg[200];
    if (msg == NULL) {
        snprintf(connmsg, sizeof(connmsg), "%s",
                 pg->conn ? PQerrorMessage(pg->conn) : "no connection");
        connmsg[strcspn(connmsg, "\n")] = '\0';
        msg = connmsg;
    }
    bool retriable = nt_pg_sqlstate_is_retriable(state) || !nt_pg_is_ok(pg);
    return nt_err_set(err, retriable ? NT_EIO : NT_ERR, retriable, "%s: %s%s%s", what,
                      state ? state : "", state ? " " : "", msg);
}

PGresult *nt_pg_exec(nt_pg_t *pg, const char *sql, int nparams, const char *const *params,
                     nt_err_t *err)
{
    if (!nt_pg_is_ok(pg) && nt_pg_reconnect(pg, err) != NT_OK)
        return NULL;
    PGresult *res = PQexecParams(pg->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    nt_pg_result_error(pg, res, "postgres", err);
    PQclear(res);
    return NULL;
}

int nt_pg_run(nt_pg_t *pg, const char *sql, int nparams, const char *const *params, nt_err_t *err)
{
    PGresult *res = nt_pg_exec(pg, sql, nparams, params, err);
    if (res == NULL)
        return err ? err->code : NT_ERR;
    PQclear(res);
    return NT_OK;
}

void nt_pg_array_init(nt_pg_array_t *a)
{
    nt_buf_init(&a->buf, 0);
    a->n = 0;
    a->closed = false;
}

void nt_pg_array_free(nt_pg_array_t *a)
{
    nt_buf_free(&a->buf);
    a->n = 0;
}

void nt_pg_array_reset(nt_pg_array_t *a)
{
    nt_buf_reset(&a->buf);
    a->n = 0;
    a->closed = false;
}

static int array_sep(nt_pg_array_t *a)
{
    int rc = a->n == 0 ? nt_buf_putc(&a->buf, '{') : nt_buf_putc(&a->buf, ',');
    if (rc == NT_OK)
        a->n++;
    return rc;
}

int nt_pg_array_add(nt_pg_array_t *a, const char *s, size_t len)
{
    int rc = array_sep(a);
    if (rc == NT_OK)
        rc = nt_buf_reserve(&a->buf, len * 2 + 2);
    if (rc != NT_OK)
        return rc;
    char *o = a->buf.data + a->buf.len;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '"' || s[i] == '\\')
            *o++ = '\\';
        *o++ = s[i];
    }
    *o++ = '"';
    a->buf.len = (size_t)(o - a->buf.data);
    a->buf.data[a->buf.len] = '\0';
    return NT_OK;
}

int nt_pg_array_add_str(nt_pg_array_t *a, const char *s)
{
    return s == NULL ? nt_pg_array_add_null(a) : nt_pg_array_add(a, s, strlen(s));
}

int nt_pg_array_add_null(nt_pg_array_t *a)
{
    int rc = array_sep(a);
    return rc == NT_OK ? nt_buf_puts(&a->buf, "NULL") : rc;
}

int nt_pg_array_add_int(nt_pg_array_t *a, long long v)
{
    int rc = array_sep(a);
    return rc == NT_OK ? nt_buf_printf(&a->buf, "%lld", v) : rc;
}

int nt_pg_array_add_bytea(nt_pg_array_t *a, const void *p, size_t len)
{
    int rc = array_sep(a);
    if (rc == NT_OK)
        rc = nt_buf_reserve(&a->buf, len * 2 + 6);
    if (rc != NT_OK)
        return rc;
    char *o = a->buf.data + a->buf.len;
    /* "\\x..." : the array parser turns \\\\ into one backslash */
    memcpy(o, "\"\\\\x", 4);
    o += 4;
    nt_hex_encode(p, len, o); /* its NUL is overwritten by the quote */
    o += 2 * len;
    *o++ = '"';
    a->buf.len = (size_t)(o - a->buf.data);
    a->buf.data[a->buf.len] = '\0';
    return NT_OK;
}

const char *nt_pg_array_text(nt_pg_array_t *a)
{
    if (a->closed)
        return a->buf.data;
    int rc = a->n == 0 ? nt_buf_puts(&a->buf, "{}") : nt_buf_putc(&a->buf, '}');
    if (rc != NT_OK)
        return NULL;
    a->closed = true;
    return a->buf.data;
}
