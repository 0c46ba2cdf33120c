/*
 * policy.h — maintenance policies per tenant (docs/policies.md).
 *
 * A policy is a set of fields (the mark-rate target, service levels, check
 * cycles, budget, quarantine rules), each one row of a table here: name,
 * kind of value, whether it is tenant-wide, the article's default. Policies
 * are layered: (tenant, scenario) over (tenant, *) over (*, scenario) over
 * (*, *), a field unset in a layer inheriting from the next; PostgreSQL
 * keeps the layers (table policies, migration 006) and resolves them the
 * same way (view effective_policies). This module parses values and policy
 * documents (the file kept in version control) into canonical text, and
 * resolves layers; it does no I/O.
 */
#ifndef NT_POLICY_H
#define NT_POLICY_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

typedef enum {
    NT_PF_RATE,     /* a share: "3%" or 0.03 -> "0.03" */
    NT_PF_DURATION, /* "12h", "7d" -> seconds, > 0 */
    NT_PF_PERIOD,   /* a duration that may be "off" (0) */
    NT_PF_MARKS,    /* mark types: ["harassment","fraud"] or "harassment,fraud" */
    NT_PF_PERCENT,  /* percent: "10%" or 10 -> "10" */
    NT_PF_SCORE,    /* integer 0-100 */
    NT_PF_FRACTION, /* a share in (0, 1]: "80%" or 0.8 */
    NT_PF_MONEY,    /* amount >= 0, or "none" (no cap) -> "Infinity" */
    NT_PF_CURRENCY, /* ISO 4217: "CNY" */
    NT_PF_COUNT,    /* integer >= 0; 0: off */
} nt_policy_kind_t;

typedef struct nt_policy_field_s {
    const char *name; /* also the column of table policies */
    nt_policy_kind_t kind;
    bool tenant_wide; /* not per scenario */
    const char *def;  /* the article's default, canonical; NULL: the scenario's cycle */
    const char *help; /* one line for --help and the docs */
} nt_policy_field_t;

#define NT_POLICY_NFIELDS 19
#define NT_POLICY_VAL_MAX 160

/* The fields, in table order. */
const nt_policy_field_t *nt_policy_fields(void);

/* Index of a field by name, -1 when there is none. */
int nt_policy_field_index(const char *name);

/* One layer: which fields it sets, and their canonical values. */
typedef struct nt_policy_layer_s {
    bool set[NT_POLICY_NFIELDS];
    char val[NT_POLICY_NFIELDS][NT_POLICY_VAL_MAX];
} nt_policy_layer_t;

/* Parses a value of field f given as text (from the command line or a
 * string in a file) into its canonical text in out. 0, or NT_EINVAL with err
 * naming the field and the value. */
int nt_policy_parse_value(int f, const char *text, char *out, size_t outsz,
                          nt_err_t *err) NT_MUSTCHECK;

/* The same from a JSON value (a number, a string, or for mark lists an
 * array of strings). */
int nt_policy_parse_json(int f, const cJSON *v, char *out, size_t outsz,
                         nt_err_t *err) NT_MUSTCHECK;

/* Writes a canonical value for people ("12h", "3%", "harassment,fraud",
 * "none") into out. */
void nt_policy_format(int f, const char *canonical, char *out, size_t outsz);

/* The layers of a resolution, most specific first. */
typedef enum {
    NT_POLICY_TENANT_SCENARIO = 0,
    NT_POLICY_TENANT,
    NT_POLICY_SCENARIO,
    NT_POLICY_DEFAULTS,
    NT_POLICY_BUILTIN, /* the table's default (origin only) */
} nt_policy_origin_t;

#define NT_POLICY_NLAYERS 4

/* "tenant+scenario", "tenant", "scenario", "defaults", "built-in". */
const char *nt_policy_origin_name(nt_policy_origin_t o);

/* Resolves the layers (any may be NULL) into out, field by field: the first
 * layer that sets it, skipping per-scenario layers for tenant-wide fields,
 * else the built-in default. origin[f] (may be NULL) says where each came
 * from. A field with no value anywhere (check_every: the scenario's cycle)
 * is left unset in out. */
void nt_policy_resolve(const nt_policy_layer_t *const layers[NT_POLICY_NLAYERS],
                       nt_policy_layer_t *out, nt_policy_origin_t origin[NT_POLICY_NFIELDS]);

/* One layer of a policy document with its place. */
typedef struct nt_policy_entry_s {
    char tenant[64];   /* "*": every tenant */
    char scenario[64]; /* "*": every scenario */
    nt_policy_layer_t layer;
} nt_policy_entry_t;

/* A parsed policy document. */
typedef struct nt_policy_doc_s {
    nt_policy_entry_t *entries; /* the defaults ("*", "*") first, always present */
    size_t n;
} nt_policy_doc_t;

/* Parses a policy document:
 *   {"defaults": {FIELD: VALUE, ...},
 *    "scenarios": {"individual": {...}},
 *    "tenants": {"acme": {FIELD: VALUE, ..., "scenarios": {"seasonal": {...}}}}}
 * origin names the file in messages. Every error names the path and the
 * value (tenants.acme.scenarios.seasonal.appeal_file_within: "12x" ...).
 * Tenant and scenario ids are checked for form only; the caller checks that
 * scenarios exist. @returns 0 with doc filled (free with
 * nt_policy_doc_free()), or NT_EINVAL. */
int nt_policy_doc_parse(const char *text, size_t len, const char *origin, nt_policy_doc_t *doc,
                        nt_err_t *err) NT_MUSTCHECK;

void nt_policy_doc_free(nt_policy_doc_t *doc);

/* Appends doc as a policy document (JSON, two-space indent, values for
 * people) to out; parsing it again gives the same layers. */
int nt_policy_doc_render(const nt_policy_doc_t *doc, nt_buf_t *out) NT_MUSTCHECK;

#endif
