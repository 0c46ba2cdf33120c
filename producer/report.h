/*
 * report.h — the report's sections: one SQL statement each over the report
 * views of migration 007, shared by `numtrust-producer report`, the API's
 * /v1/reports/{name} and the HTML report.
 */
#ifndef NT_PRODUCER_REPORT_H
#define NT_PRODUCER_REPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"
#include "pg.h"

typedef struct report_section_s {
    const char *name;  /* "mark_rate" */
    const char *title; /* for text and HTML */
    const char *sql;   /* $1 tenant, $2 platform, $3 scenario, $4 since (each NULL: any) */
    const char *snap;  /* the same over the fleet-state snapshot (migration 011); NULL:
                        * the section reads rollups or small tables anyway */
} report_section_t;

typedef struct report_filter_s {
    const char *tenant, *platform, *scenario, *since; /* NULL: any */
    bool live; /* compute fleet-wide sections now even when a snapshot exists */
    /* set by the first report_section_query, so that every section of one
     * report reads the same source: whether the fleet-wide sections read the
     * fleet-state snapshot, and if so when it was taken and its age */
    bool decided, snapshot;
    char taken[40];
    double age_s;
} report_filter_t;

extern const report_section_t report_sections[];
extern const size_t report_nsections;

/* The section called name, or NULL. */
const report_section_t *report_section_find(const char *name);

/* Decides once per report (a no-op after the first call for f): the
 * fleet-wide sections read the fleet-state snapshot when one exists and
 * f->live is not set (f->snapshot, f->taken, f->age_s). */
void report_decide(nt_pg_t *pg, report_filter_t *f);

/* True when sec, run for f, reads the fleet-state snapshot (after
 * report_decide): a fleet-wide section while a snapshot is in use. */
bool report_section_snapshot(const report_section_t *sec, const report_filter_t *f);

/* Runs a section, deciding first (report_decide). @returns the result
 * (PQclear it) or NULL with err set. */
PGresult *report_section_query(nt_pg_t *pg, const report_section_t *sec, report_filter_t *f,
                               nt_err_t *err);

/* When the fleet-state snapshot the fleet-wide sections read was taken:
 * taken (RFC 3339, real time) and its age in seconds; false when there is
 * none (the sections are computed live) or on error (err set). */
bool report_snapshot(nt_pg_t *pg, char *taken, size_t takensz, double *age_s, nt_err_t *err);

/* Takes the snapshot now (nt_fleet_state_refresh). The registrations counted,
 * or -1 with err set. */
long long report_snapshot_refresh(nt_pg_t *pg, nt_err_t *err);

/* Appends a result as a JSON array of objects (numbers as numbers). */
int report_result_json(PGresult *res, nt_buf_t *out) NT_MUSTCHECK;

#endif
