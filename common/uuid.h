/*
 * uuid.h — UUIDs for job ids.
 *
 * Scheduled jobs get deterministic ids (UUIDv5, RFC 9562, SHA-1 over the
 * numtrust namespace and a name built from type, number, platform and due
 * period), so a producer that crashes after producing and before recording
 * re-sends the same ids and the results stay unique. Ad hoc jobs may use v4.
 */
#ifndef NT_UUID_H
#define NT_UUID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define NT_UUID_STRLEN 37 /* 36 characters and the NUL */

typedef struct nt_uuid_s {
    uint8_t b[16];
} nt_uuid_t;

/* The namespace every numtrust v5 id is derived in. */
extern const nt_uuid_t nt_uuid_ns_numtrust;

/* UUIDv5 of name (len bytes) in namespace ns. */
void nt_uuid_v5(const nt_uuid_t *ns, const void *name, size_t len, nt_uuid_t *out);

/* Random UUIDv4 from the OS generator. Returns 0 or NT_EIO. */
int nt_uuid_v4(nt_uuid_t *out) NT_MUSTCHECK;

/* Lowercase canonical text form. */
void nt_uuid_format(const nt_uuid_t *u, char out[NT_UUID_STRLEN]);

/* Parses the canonical 36-character form (either case). 0 or NT_EINVAL. */
int nt_uuid_parse(const char *s, nt_uuid_t *out) NT_MUSTCHECK;

/* True when s is a canonical UUID string. */
bool nt_uuid_is_valid(const char *s);

/* Convenience: canonical v5 id of the fields joined by '|', written to out.
 * nfields strings; NULL fields count as empty. */
void nt_uuid_v5_fields(char out[NT_UUID_STRLEN], const char *const *fields, size_t nfields);

#endif
