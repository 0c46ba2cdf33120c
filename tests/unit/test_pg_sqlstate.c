/*
 * test_pg_sqlstate.c — the SQLSTATE classification the worker's writer acts
 * on (pg.h, nt_pg_sqlstate_class; no server needed). Every row is a code
 * PostgreSQL really sends in the situation named, and what the writer must
 * make of it: TRANSIENT (rows wait, no job fails because of it), DATA (the
 * row is refused for good), SCHEMA (every row fails the same way: wait and
 * say so), and whether a new connection may help.
 */
#include <stdbool.h>
#include <stdio.h>

#include "check.h"
#include "pg.h"

typedef struct row_s {
    const char *sqlstate;
    nt_pg_class_t cls;
    bool reconnect;
    const char *situation;
} row_t;

static const row_t rows[] = {
    {NULL, NT_PG_TRANSIENT, true, "no SQLSTATE: the connection failed"},
    {"08006", NT_PG_TRANSIENT, true, "connection failure"},
    {"08P01", NT_PG_TRANSIENT, true, "protocol violation"},
    {"25006", NT_PG_TRANSIENT, true, "read-only transaction: failover, storage protection"},
    {"25P02", NT_PG_TRANSIENT, false, "in failed SQL transaction"},
    {"40001", NT_PG_TRANSIENT, false, "serialization failure"},
    {"40P01", NT_PG_TRANSIENT, false, "deadlock detected"},
    {"53100", NT_PG_TRANSIENT, false, "disk full"},
    {"53200", NT_PG_TRANSIENT, false, "out of memory"},
    {"53300", NT_PG_TRANSIENT, false, "too many connections"},
    {"55P03", NT_PG_TRANSIENT, false, "lock not available (lock_timeout)"},
    {"55006", NT_PG_TRANSIENT, false, "object in use"},
    {"57014", NT_PG_TRANSIENT, false, "statement timeout / query canceled"},
    {"57P01", NT_PG_TRANSIENT, true, "admin shutdown (pg_terminate_backend)"},
    {"57P02", NT_PG_TRANSIENT, true, "crash shutdown"},
    {"57P03", NT_PG_TRANSIENT, true, "cannot connect now (starting up)"},
    {"58030", NT_PG_TRANSIENT, false, "I/O error"},
    {"XX000", NT_PG_TRANSIENT, false, "internal error"},
    {"ZZ999", NT_PG_TRANSIENT, false, "a code outside the table"},
    {"21000", NT_PG_DATA, false, "ON CONFLICT affects a row twice"},
    {"22001", NT_PG_DATA, false, "string too long"},
    {"22P02", NT_PG_DATA, false, "invalid text representation"},
    {"22021", NT_PG_DATA, false, "invalid byte sequence"},
    {"23505", NT_PG_DATA, false, "unique violation"},
    {"23514", NT_PG_DATA, false, "check violation"},
    {"23503", NT_PG_DATA, false, "foreign key violation"},
    {"54000", NT_PG_DATA, false, "index row too big"},
    {"P0001", NT_PG_DATA, false, "RAISE EXCEPTION in a trigger"},
    {"42501", NT_PG_SCHEMA, false, "insufficient privilege"},
    {"42P01", NT_PG_SCHEMA, false, "undefined table (migration not applied)"},
    {"42703", NT_PG_SCHEMA, false, "undefined column"},
    {"26000", NT_PG_SCHEMA, false, "prepared statement does not exist"},
    {"28P01", NT_PG_SCHEMA, false, "password authentication failed"},
    {"0A000", NT_PG_SCHEMA, false, "feature not supported"},
};

int main(void)
{
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        const row_t *r = &rows[i];
        bool reconnect = !r->reconnect;
        nt_pg_class_t got = nt_pg_sqlstate_class(r->sqlstate, &reconnect);
        CHECKF(got == r->cls, "%s (%s): class %s, want %s", r->sqlstate ? r->sqlstate : "NULL",
               r->situation, nt_pg_class_name(got), nt_pg_class_name(r->cls));
        CHECKF(reconnect == r->reconnect, "%s (%s): reconnect %d, want %d",
               r->sqlstate ? r->sqlstate : "NULL", r->situation, reconnect, r->reconnect);
        CHECKF(nt_pg_sqlstate_is_retriable(r->sqlstate) == (r->cls != NT_PG_DATA),
               "%s: retriable disagrees with the class", r->sqlstate ? r->sqlstate : "NULL");
    }
    CHECK(nt_pg_sqlstate_class("40001", NULL) == NT_PG_TRANSIENT); /* reconnect may be NULL */
    printf("test_pg_sqlstate: %zu rows\n", NT_ARRAY_LEN(rows));
    CHECK_DONE();
}
