/*
 * json.h — small helpers over cJSON: RFC 6901 pointers and scalar text.
 */
#ifndef NT_JSON_H
#define NT_JSON_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"

/* Resolves an RFC 6901 pointer ("" is the root, "/a/0/b~1c") in root.
 * @returns the item (owned by root) or NULL when absent. */
const cJSON *nt_json_pointer(const cJSON *root, const char *pointer);

/* True when s is a syntactically valid pointer ("" or starting with '/', and
 * '~' only as ~0 or ~1). */
bool nt_json_pointer_is_valid(const char *s);

/* Writes a scalar's text form into out: strings as is, integers without a
 * fraction, other numbers with %.17g, true/false, "null". Returns 0, or
 * NT_EINVAL for arrays/objects, NT_ETOOBIG when out is too small. */
int nt_json_scalar_text(const cJSON *item, char *out, size_t outsz) NT_MUSTCHECK;

#endif
