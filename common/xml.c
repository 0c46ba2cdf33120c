/*
 * xml.c — XML bodies as cJSON trees with libxml2 (see xml.h).
 *
 * libxml2 parses (no network, no DTD, no entity substitution; a document
 * with a DTD is refused); this file only walks the tree it builds, and
 * renders the other way with libxml2's text writer, which escapes text and
 * attribute values.
 */
#include "xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlwriter.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>

/* Appends the text and CDATA children of el to *acc (a new string). */
static int collect_text(const xmlNode *el, nt_buf_t *acc)
{
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        if ((c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) && c->content != NULL)
            if (nt_buf_puts(acc, (const char *)c->content) != NT_OK)
                return NT_ENOMEM;
    }
    return NT_OK;
}

static bool is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return false;
    return true;
}

/* Adds v under name in obj: a second member of the same name turns the
 * member into an array. Takes ownership of v. */
static int add_member(cJSON *obj, const char *name, cJSON *v)
{
    cJSON *old = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (old == NULL)
        return cJSON_AddItemToObject(obj, name, v) ? NT_OK : NT_ENOMEM;
    if (!cJSON_IsArray(old)) {
        cJSON *arr = cJSON_CreateArray();
        if (arr == NULL)
            return NT_ENOMEM;
        cJSON_DetachItemViaPointer(obj, old);
        cJSON_AddItemToArray(arr, old);
        if (!cJSON_AddItemToObject(obj, name, arr)) {
            cJSON_Delete(arr);
            return NT_ENOMEM;
        }
        old = arr;
    }
    return cJSON_AddItemToArray(old, v) ? NT_OK : NT_ENOMEM;
}

static cJSON *convert(const xmlNode *el, int depth, nt_err_t *err)
{
    cJSON *obj = NULL, *result = NULL;
    nt_buf_t text;
    bool elements = false;

    nt_buf_init(&text, 0);
    if (depth > NT_XML_MAX_DEPTH) {
        nt_err_set(err, NT_EINVAL, false, "XML nested deeper than %d elements", NT_XML_MAX_DEPTH);
        goto out;
    }
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE)
            elements = true;
        else if (c->type == XML_ENTITY_REF_NODE || c->type == XML_ENTITY_NODE) {
            nt_err_set(err, NT_EINVAL, false, "XML entity reference refused");
            goto out;
        }
    }
    if (collect_text(el, &text) != NT_OK)
        goto nomem;
    if (!elements && el->properties == NULL) {
        result = cJSON_CreateString(text.data != NULL ? text.data : "");
        if (result == NULL)
            goto nomem;
        goto out;
    }
    if ((obj = cJSON_CreateObject()) == NULL)
        goto nomem;
    for (const xmlAttr *a = el->properties; a != NULL; a = a->next) {
        char name[128];
        xmlChar *v = xmlNodeGetContent((const xmlNode *)a);
        snprintf(name, sizeof(name), "@%s", (const char *)a->name);
        cJSON *s = cJSON_CreateString(v != NULL ? (const char *)v : "");
        xmlFree(v);
        if (s == NULL || add_member(obj, name, s) != NT_OK) {
            cJSON_Delete(s);
            goto nomem;
        }
    }
    for (const xmlNode *c = el->children; c != NULL; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        cJSON *v = convert(c, depth + 1, err);
        if (v == NULL)
            goto out;
        if (add_member(obj, (const char *)c->name, v) != NT_OK) {
            cJSON_Delete(v);
            goto nomem;
        }
    }
    if (text.len > 0 && !is_blank(text.data, text.len)) {
        if (cJSON_AddStringToObject(obj, "#text", text.data) == NULL)
            goto nomem;
    }
    result = obj;
    obj = NULL;
    goto out;
nomem:
    nt_err_set(err, NT_ENOMEM, false, "out of memory");
out:
    cJSON_Delete(obj);
    nt_buf_free(&text);
    return result;
}

cJSON *nt_xml_parse(const char *text, size_t len, nt_err_t *err)
{
    xmlDoc *doc = NULL;
    cJSON *root = NULL, *value = NULL;

    if (len > INT_MAX) {
        nt_err_set(err, NT_ETOOBIG, false, "XML body larger than %d bytes", INT_MAX);
        return NULL;
    }
    /* no XML_PARSE_NOENT (entities stay unexpanded), no XML_PARSE_DTDLOAD
     * or DTDATTR (nothing is fetched or defaulted), no network, no stderr */
    doc = xmlReadMemory(text, (int)len, NULL, NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                            XML_PARSE_NOCDATA);
    if (doc == NULL) {
        const xmlError *e = xmlGetLastError();
        nt_err_set(err, NT_EINVAL, false, "not well-formed XML%s%s", e && e->message ? ": " : "",
                   e && e->message ? e->message : "");
        /* libxml2's messages end with a newline */
        size_t n = strlen(err->msg);
        if (n > 0 && err->msg[n - 1] == '\n')
            err->msg[n - 1] = '\0';
        goto out;
    }
    if (doc->intSubset != NULL || doc->extSubset != NULL) {
        nt_err_set(err, NT_EINVAL, false, "XML with a DTD is refused");
        goto out;
    }
    const xmlNode *el = xmlDocGetRootElement(doc);
    if (el == NULL) {
        nt_err_set(err, NT_EINVAL, false, "XML without a root element");
        goto out;
    }
    if ((value = convert(el, 1, err)) == NULL)
        goto out;
    if ((root = cJSON_CreateObject()) == NULL ||
        !cJSON_AddItemToObject(root, (const char *)el->name, value)) {
        cJSON_Delete(value);
        cJSON_Delete(root);
        root = NULL;
        nt_err_set(err, NT_ENOMEM, false, "out of memory");
    }
out:
    xmlFreeDoc(doc);
    xmlResetLastError();
    return root;
}

/* ---- rendering ---- */

static bool is_name(const char *s)
{
    if (s == NULL || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
        return false;
    for (const char *p = s + 1; *p; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return false;
    return true;
}

/* The text of a scalar, "" for null; NULL for objects and arrays. */
static const char *scalar(const cJSON *v, char *buf, size_t bufsz)
{
    if (cJSON_IsString(v))
        return v->valuestring;
    if (cJSON_IsNull(v))
        return "";
    if (cJSON_IsBool(v))
        return cJSON_IsTrue(v) ? "true" : "false";
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == (double)(long long)d && d > -9e15 && d < 9e15)
            snprintf(buf, bufsz, "%lld", (long long)d);
        else
            snprintf(buf, bufsz, "%.17g", d);
        return buf;
    }
    return NULL;
}

static int write_element(xmlTextWriter *w, const char *name, const cJSON *v, int depth,
                         nt_err_t *err)
{
    char num[40];
    if (!is_name(name))
        return nt_err_set(err, NT_EINVAL, false, "\"%s\" is not an XML element name", name);
    if (depth > NT_XML_MAX_DEPTH)
        return nt_err_set(err, NT_EINVAL, false, "nested deeper than %d elements",
                          NT_XML_MAX_DEPTH);
    if (cJSON_IsArray(v)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, v)
        {
            if (cJSON_IsArray(c))
                return nt_err_set(err, NT_EINVAL, false, "\"%s\": an array inside an array", name);
            int rc = write_element(w, name, c, depth, err);
            if (rc != NT_OK)
                return rc;
        }
        return NT_OK;
    }
    if (xmlTextWriterStartElement(w, (const xmlChar *)name) < 0)
        return nt_err_set(err, NT_ENOMEM, false, "cannot write XML");
    if (cJSON_IsObject(v)) {
        const cJSON *c;
        cJSON_ArrayForEach(c, v) /* attributes first, as XML wants */
        {
            if (c->string[0] != '@')
                continue;
            const char *s = scalar(c, num, sizeof(num));
            if (s == NULL || !is_name(c->string + 1))
                return nt_err_set(err, NT_EINVAL, false, "bad attribute \"%s\"", c->string);
            if (xmlTextWriterWriteAttribute(w, (const xmlChar *)c->string + 1, (const xmlChar *)s) <
                0)
                return nt_err_set(err, NT_ENOMEM, false, "cannot write XML");
        }
        cJSON_ArrayForEach(c, v)
        {
            int rc = NT_OK;
            if (c->string[0] == '@')
                continue;
            if (strcmp(c->string, "#text") == 0) {
                const char *s = scalar(c, num, sizeof(num));
                if (s == NULL)
                    return nt_err_set(err, NT_EINVAL, false, "\"#text\" is not a scalar");
                if (xmlTextWriterWriteString(w, (const xmlChar *)s) < 0)
                    return nt_err_set(err, NT_ENOMEM, false, "cannot write XML");
                continue;
            }
            if ((rc = write_element(w, c->string, c, depth + 1, err)) != NT_OK)
                return rc;
        }
    } else {
        const char *s = scalar(v, num, sizeof(num));
        if (s[0] != '\0' && xmlTextWriterWriteString(w, (const xmlChar *)s) < 0)
            return nt_err_set(err, NT_ENOMEM, false, "cannot write XML");
    }
    if (xmlTextWriterEndElement(w) < 0)
        return nt_err_set(err, NT_ENOMEM, false, "cannot write XML");
    return NT_OK;
}

int nt_xml_render(const cJSON *root, nt_buf_t *out, nt_err_t *err)
{
    xmlBuffer *xb = NULL;
    xmlTextWriter *w = NULL;
    int rc = NT_OK;

    if (!cJSON_IsObject(root) || root->child == NULL || root->child->next != NULL ||
        cJSON_IsArray(root->child))
        return nt_err_set(err, NT_EINVAL, false, "an XML body needs one root element");
    if ((xb = xmlBufferCreate()) == NULL || (w = xmlNewTextWriterMemory(xb, 0)) == NULL) {
        rc = nt_err_set(err, NT_ENOMEM, false, "out of memory");
        goto out;
    }
    if (xmlTextWriterStartDocument(w, "1.0", "UTF-8", NULL) < 0) {
        rc = nt_err_set(err, NT_ENOMEM, false, "cannot write XML");
        goto out;
    }
    if ((rc = write_element(w, root->child->string, root->child, 1, err)) != NT_OK)
        goto out;
    if (xmlTextWriterEndDocument(w) < 0) {
        rc = nt_err_set(err, NT_ENOMEM, false, "cannot write XML");
        goto out;
    }
    xmlFreeTextWriter(w); /* flushes into xb */
    w = NULL;
    /* without the declaration's trailing newline and the final one */
    size_t n = (size_t)xmlBufferLength(xb);
    const char *s = (const char *)xmlBufferContent(xb);
    while (n > 0 && s[n - 1] == '\n')
        n--;
    rc = nt_buf_append(out, s, n);
    if (rc != NT_OK)
        nt_err_set(err, rc, false, "XML body too large");
out:
    xmlFreeTextWriter(w);
    xmlBufferFree(xb);
    return rc;
}
