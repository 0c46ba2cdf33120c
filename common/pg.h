/*
 * pg.h — a PostgreSQL connection that comes back after failures.
 *
 * Wraps one libpq connection with its conninfo. Blocking helpers serve the
 * producer CLI and the worker's start-up checks. The worker's writer
 * (workers/writer.c) keeps its own non-blocking connections on the event
 * loop, one statement in flight at a time (no pipeline mode), and acts on
 * the SQLSTATE classification below. Parameters are always passed as $n,
 * never spliced into SQL.
 */
#ifndef NT_PG_H
#define NT_PG_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "buf.h"
#include "err.h"

typedef struct nt_pg_s nt_pg_t;

/* Connects, retrying with backoff for up to timeout_s seconds (0: one try;
 * pg.connect_timeout_s for callers that have a config). A failure that
 * waiting cannot fix (a role or database that does not exist, a wrong
 * password, no pg_hba.conf entry, a conninfo typo) is not retried.
 * @returns a new handle; free with nt_pg_free(). NULL on failure (err says
 * why, err->retriable whether waiting could help; the password is never in
 * the message). */
nt_pg_t *nt_pg_connect(const char *conninfo, int timeout_s, nt_err_t *err);

/* Closes and frees; pg may be NULL. */
void nt_pg_free(nt_pg_t *pg);

/* The libpq connection (owned by pg). */
PGconn *nt_pg_conn(nt_pg_t *pg);

/* True when the connection is usable. */
bool nt_pg_is_ok(nt_pg_t *pg);

/* Drops the connection and connects again, one try. 0 or NT_EIO. */
int nt_pg_reconnect(nt_pg_t *pg, nt_err_t *err) NT_MUSTCHECK;

/* Runs sql with text parameters and checks the result status (PGRES_TUPLES_OK
 * or PGRES_COMMAND_OK). Reconnects once and retries if the connection was
 * found broken before the statement was sent.
 * @returns the result (free with PQclear) or NULL with err set; err->retriable
 * tells a connection failure from an SQL error. */
PGresult *nt_pg_exec(nt_pg_t *pg, const char *sql, int nparams, const char *const *params,
                     nt_err_t *err);

/* Same, for statements whose result is not needed. 0 or a negative code. */
int nt_pg_run(nt_pg_t *pg, const char *sql, int nparams, const char *const *params,
              nt_err_t *err) NT_MUSTCHECK;

/* What a failed statement's SQLSTATE means for the rows it carried
 * (docs/architecture.md, "Database errors"):
 *   TRANSIENT  the database cannot take writes now (connection lost,
 *              read-only, disk full, statement timeout, lock not available,
 *              serialization failure, shutdown, I/O error, ...): the rows
 *              wait and are sent again; nothing is failed because of it.
 *   DATA       this row's values are refused (classes 21, 22, 23, 54 and
 *              PL/pgSQL's P0): permanent for the row, not for the others.
 *   SCHEMA     the statement itself cannot run (undefined table or column,
 *              privilege, feature, authorization): every row fails the same
 *              way until a migration or an operator fixes it, so rows wait
 *              as for TRANSIENT, and it is logged as an error.
 * An SQLSTATE outside the table (and NULL: no answer at all) is TRANSIENT:
 * a row that keeps failing while others succeed is isolated anyway. */
typedef enum {
    NT_PG_TRANSIENT = 0,
    NT_PG_DATA,
    NT_PG_SCHEMA,
} nt_pg_class_t;

/* Classifies an SQLSTATE (NULL: the connection failed). *reconnect (may be
 * NULL) is set when the session itself is the problem and a new connection
 * may reach a writable server (25006 read-only transaction: a failover left
 * us on a standby, or default_transaction_read_only was set at session
 * start; 57P01-57P03 shutdown). */
nt_pg_class_t nt_pg_sqlstate_class(const char *sqlstate, bool *reconnect);

/* "transient", "data", "schema". */
const char *nt_pg_class_name(nt_pg_class_t cls);

/* Fills err from a failed result or the connection: SQLSTATE and message;
 * retriable unless the SQLSTATE is a DATA error. */
int nt_pg_result_error(nt_pg_t *pg, const PGresult *res, const char *what, nt_err_t *err);

/* True for an SQLSTATE that waiting (maybe after reconnecting) can fix: not
 * a DATA error. */
bool nt_pg_sqlstate_is_retriable(const char *sqlstate);

/* A text-format array literal ('{"a","b",NULL}') built element by element,
 * for the unnest($1::text[], ...) batch statements. Elements are quoted and
 * escaped, so any bytes that are valid text survive unchanged. */
typedef struct nt_pg_array_s {
    nt_buf_t buf;
    size_t n;    /* elements so far */
    bool closed; /* nt_pg_array_text was called */
} nt_pg_array_t;

void nt_pg_array_init(nt_pg_array_t *a);
void nt_pg_array_free(nt_pg_array_t *a);
/* Starts a new, empty array (keeps the allocation). */
void nt_pg_array_reset(nt_pg_array_t *a);
int nt_pg_array_add(nt_pg_array_t *a, const char *s, size_t len) NT_MUSTCHECK;
int nt_pg_array_add_str(nt_pg_array_t *a, const char *s) NT_MUSTCHECK; /* NULL -> NULL */
int nt_pg_array_add_null(nt_pg_array_t *a) NT_MUSTCHECK;
int nt_pg_array_add_int(nt_pg_array_t *a, long long v) NT_MUSTCHECK;
/* bytea element in hex form */
int nt_pg_array_add_bytea(nt_pg_array_t *a, const void *p, size_t len) NT_MUSTCHECK;
/* Closes the literal and returns it (owned by a, valid until the next
 * reset); NULL when out of memory. */
const char *nt_pg_array_text(nt_pg_array_t *a);

#endif
