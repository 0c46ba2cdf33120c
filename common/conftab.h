/*
 * conftab.h — the typed-configuration engine: a table of keys, and the code
 * that fills a struct from it.
 *
 * A key is one row: dotted name, type, default (as text), bounds, whether it
 * is secret (its value never appears in a message) or may change at run
 * time, the field it fills (offset and size) and a line of help. The engine
 * sets a field from text or from a JSON value with the row's checks, applies
 * a JSON object whose nested objects flatten to dotted keys, fills defaults,
 * frees what it allocated and prints values. It knows no key and no program:
 * numtrust's table is in config.c, the simulator's in simconf.c. Every
 * message names the origin (a file, a variable, a flag), the key and the
 * value.
 */
#ifndef NT_CONFTAB_H
#define NT_CONFTAB_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "err.h"

typedef enum {
    NT_CONF_STR,    /* char *, allocated (nt_conftab_free releases it) */
    NT_CONF_CHARS,  /* char[size] in the struct */
    NT_CONF_INT,    /* int within [min, max] */
    NT_CONF_BOOL,   /* bool: true, false (1, 0 from text) */
    NT_CONF_U64,    /* uint64_t */
    NT_CONF_DOUBLE, /* double within [min, max] */
    NT_CONF_TIME,   /* int64_t ms, from an RFC 3339 time */
    NT_CONF_CUSTOM, /* set from JSON only, by the row's set_json */
} nt_conf_type_t;

typedef struct nt_conf_key_s nt_conf_key_t;

/* Sets a NT_CONF_CUSTOM key's field from a JSON value. 0 or NT_EINVAL. */
typedef int (*nt_conf_json_fn)(const nt_conf_key_t *k, void *base, const cJSON *v,
                               const char *origin, nt_err_t *err);

struct nt_conf_key_s {
    const char *key; /* dotted name */
    nt_conf_type_t type;
    const char *def;          /* default as text; NULL: none (the field is left as it is) */
    double min, max;          /* NT_CONF_INT and NT_CONF_DOUBLE bounds */
    bool secret;              /* its value never appears in a message */
    size_t off;               /* offsetof the field */
    size_t size;              /* sizeof the field */
    bool runtime;             /* may change at run time (NT_CONFTAB_RUNTIME_ONLY) */
    nt_conf_json_fn set_json; /* NT_CONF_CUSTOM */
    const char *help;
};

/* The field part of a row (off, size, runtime, set_json) for a plain key of
 * struct type T: a table can write {"k", NT_CONF_INT, "1", 0, 9, false,
 * NT_CONF_FIELD(T, f), "help"}. */
#define NT_CONF_FIELD(T, field) offsetof(T, field), sizeof(((T *)0)->field), false, NULL

/* nt_conftab_apply_json flags */
enum {
    NT_CONFTAB_STRICT_JSON = 1,  /* a number key wants a JSON number, a text key a JSON string;
                                  * otherwise scalars are taken as their text */
    NT_CONFTAB_RUNTIME_ONLY = 2, /* keys without `runtime` are errors */
};

/* The row named key, or NULL. */
const nt_conf_key_t *nt_conftab_find(const nt_conf_key_t *keys, size_t n, const char *key);

/* Sets k's field in base from text. 0, or NT_EINVAL (err: "ORIGIN: key
 * "K": value "V" is not ..."), or NT_ENOMEM. */
int nt_conftab_set(const nt_conf_key_t *k, void *base, const char *text, const char *origin,
                   nt_err_t *err) NT_MUSTCHECK;

/* Sets k's field from a JSON value (flags as for nt_conftab_apply_json). */
int nt_conftab_set_json(const nt_conf_key_t *k, void *base, const cJSON *v, unsigned flags,
                        const char *origin, nt_err_t *err) NT_MUSTCHECK;

/* A key the table does not have: handle it (0, or NT_EINVAL with err) or
 * say NT_ENOENT (then it is an unknown key). key is the dotted name as
 * looked up, shown the name as messages should show it (with the scope). */
typedef int (*nt_conftab_other_fn)(void *ctx, void *base, const char *key, const char *shown,
                                   const cJSON *v, const char *origin, nt_err_t *err);

/* Applies every member of the JSON object obj to base: a member that is an
 * object and not a key itself is flattened ({"a":{"b":1}} is key "a.b").
 * scope (may be NULL) is put before every name in messages ("platforms[2]"
 * makes key "review.x" show as "platforms[2].review.x"). other (may be
 * NULL) gets the keys the table does not have, with ctx. Stops at the first
 * error; what was set before stays set. */
int nt_conftab_apply_json(const nt_conf_key_t *keys, size_t n, void *base, const cJSON *obj,
                          const char *scope, unsigned flags, nt_conftab_other_fn other, void *ctx,
                          const char *origin, nt_err_t *err) NT_MUSTCHECK;

/* Sets every key with a default from it (origin "default"). 0 or an error
 * (a bad default is a programming error the tests catch). */
int nt_conftab_defaults(const nt_conf_key_t *keys, size_t n, void *base,
                        nt_err_t *err) NT_MUSTCHECK;

/* Releases the NT_CONF_STR fields of base and sets them to NULL. */
void nt_conftab_free(const nt_conf_key_t *keys, size_t n, void *base);

/* Appends k's value in base as text to out (secrets as they are: the
 * caller masks them). 0 or a buf error. */
int nt_conftab_format(const nt_conf_key_t *k, const void *base, nt_buf_t *out) NT_MUSTCHECK;

/* The environment variable of key: prefix, then the key upper-cased with
 * dots as underscores ("NUMTRUST_", "worker.max_inflight" ->
 * NUMTRUST_WORKER_MAX_INFLIGHT). */
void nt_conftab_env_name(const char *prefix, const char *key, char *out, size_t outsz);

/* "string", "integer", "boolean", "unsigned integer", "number", "time", "object". */
const char *nt_conftab_type_name(nt_conf_type_t type);

#endif
