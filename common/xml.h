/*
 * xml.h — XML bodies as cJSON trees, so that XML platforms are mapped with
 * the same JSON pointers, value maps and error classes as JSON ones
 * (docs/platforms.md, "XML platforms").
 *
 * Parsing uses libxml2 with the network, DTD loading and entity expansion
 * off, and refuses any document that carries a DTD: a platform answer has no
 * business declaring entities, and refusing them closes entity-expansion
 * attacks whatever libxml2's own limits are.
 *
 * The mapping, element by element:
 *   <a>text</a>                 "a": "text"           (always a string)
 *   <a/>                        "a": ""
 *   <a><b>1</b><c>2</c></a>     "a": {"b": "1", "c": "2"}
 *   <a><b>1</b><b>2</b></a>     "a": {"b": ["1", "2"]} (repeated names: an array)
 *   <a id="7">x</a>             "a": {"@id": "7", "#text": "x"}
 * and the document is an object with one member, the root element:
 * <response><code>0</code></response> is {"response": {"code": "0"}}, whose
 * code is at the pointer /response/code. Rendering is the reverse.
 */
#ifndef NT_XML_H
#define NT_XML_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "buf.h"
#include "err.h"

#define NT_XML_MAX_DEPTH 32 /* deeper documents are refused */

/* Parses len bytes of XML (no terminator needed).
 * @returns a new cJSON object (free with cJSON_Delete), or NULL with err
 * saying why: not well-formed, a DTD, too deep, out of memory. */
cJSON *nt_xml_parse(const char *text, size_t len, nt_err_t *err);

/* Renders root, an object with exactly one member (the root element), as an
 * XML document (UTF-8, with an XML declaration) appended to out. Member
 * names must be XML names; "@name" members become attributes and "#text"
 * the element's text; numbers, true and false are written as text; arrays
 * repeat the element; null is an empty element.
 * Returns 0, NT_EINVAL (err: a bad name or shape) or NT_ETOOBIG/NT_ENOMEM. */
int nt_xml_render(const cJSON *root, nt_buf_t *out, nt_err_t *err) NT_MUSTCHECK;

#endif
