/*
 * reconcile.h — the reconciler's bookkeeping step, before a pass enqueues
 * work (docs/maintenance.md, "A reconciler pass").
 */
#ifndef NT_PRODUCER_RECONCILE_H
#define NT_PRODUCER_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "err.h"
#include "pg.h"

#define RECONCILE_NSTEPS      8
#define RECONCILE_MAX_TENANTS 64 /* yearly reviews handed back per pass (the rest next pass) */

/* Which part of the fleet a pass looks at (NULL fields: all). */
typedef struct reconcile_scope_s {
    const char *prefix;
    const char *tenant;
    const char *platform;
} reconcile_scope_t;

typedef struct reconcile_stats_s {
    uint64_t counts[RECONCILE_NSTEPS];       /* by step, named by reconcile_step_name() */
    char tenants[RECONCILE_MAX_TENANTS][64]; /* tenants whose yearly review came due */
    size_t ntenants;
    char review_date[16]; /* numtrust time's date of those reviews */
} reconcile_stats_t;

/* Runs the step in one transaction on pg. 0, or an error (err set; the
 * transaction rolled back). */
int reconcile_run(cli_t *cli, nt_pg_t *pg, const reconcile_scope_t *scope, reconcile_stats_t *st,
                  nt_err_t *err) NT_MUSTCHECK;

/* "pushes_verified", "appeals_confirmed", ... */
const char *reconcile_step_name(size_t i);

#endif
