/*
 * policy.c — the policy fields, their values, layering and documents (see
 * policy.h). The field table below is the one place a policy field is
 * described; migration 006 has one column per row and the same defaults.
 */
#include "policy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "job.h"

static const nt_policy_field_t fields[NT_POLICY_NFIELDS] = {
    {"max_mark_rate", NT_PF_RATE, false, "0.03",
     "highest share of checked registrations showing a rate mark (the article: under 3%)"},
    {"rate_marks", NT_PF_MARKS, true, "harassment", "mark types the mark rate counts"},
    {"appeal_marks", NT_PF_MARKS, false, "harassment,fraud,agency",
     "mark types appealed automatically (and held to appeal_file_within)"},
    {"appeal_file_within", NT_PF_DURATION, false, "43200",
     "service level: from a mark's detection to its appeal being filed (12h)"},
    {"appeal_decide_within", NT_PF_DURATION, false, "259200",
     "service level: from an appeal's filing to the platform's decision"},
    {"qualification_within", NT_PF_DURATION, false, "86400",
     "service level: from a qualification's start to its label showing (24h)"},
    {"campaign_lead", NT_PF_PERIOD, false, "604800",
     "campaign labels go live this long before the event (a schedule without its own lead)"},
    {"check_every", NT_PF_DURATION, false, NULL,
     "the full-check cycle; unset: the scenario's (weekly, monthly, quarterly, half-yearly)"},
    {"mark_check_every", NT_PF_PERIOD, false, "604800",
     "a mark check of every number this often, whatever its full-check cycle (0: off)"},
    {"risk_check_every", NT_PF_DURATION, false, "86400",
     "the cycle of risky numbers: recent marks, falling trust, tenant over its target"},
    {"risk_mark_window", NT_PF_PERIOD, false, "1209600",
     "a mark opened this recently (and not cleared) makes its number risky"},
    {"risk_trust_decay", NT_PF_PERCENT, false, "10",
     "a trust score falling this many percent a quarter makes its number risky"},
    {"trust_threshold", NT_PF_SCORE, false, "60", "trust score whose crossing the trend forecasts"},
    {"near_breach", NT_PF_FRACTION, false, "0.8",
     "a service-level clock is near breach after this share of its target"},
    {"monthly_budget", NT_PF_MONEY, true, "Infinity",
     "platform operations per month; routine checks beyond it are deferred (none: no cap)"},
    {"budget_currency", NT_PF_CURRENCY, true, "CNY", "currency of the budget"},
    {"quarantine_fraud_platforms", NT_PF_COUNT, false, "2",
     "quarantine a number with fraud marks on this many platforms (0: off)"},
    {"quarantine_cooldown", NT_PF_PERIOD, false, "1209600",
     "a quarantined number returns this long after its marks are all cleared"},
    {"cert_warn_ahead", NT_PF_PERIOD, false, "2592000",
     "alert this long before a certification expires"},
};

const nt_policy_field_t *nt_policy_fields(void)
{
    return fields;
}

int nt_policy_field_index(const char *name)
{
    for (int f = 0; f < NT_POLICY_NFIELDS; f++)
        if (strcmp(fields[f].name, name) == 0)
            return f;
    return -1;
}

/* A decimal number with an optional trailing '%'. */
static int parse_number(const char *s, double *v, bool *percent)
{
    char *end = NULL;
    if (s == NULL || *s == '\0' || *s == ' ')
        return NT_EINVAL;
    errno = 0;
    *v = strtod(s, &end);
    if (end == s || errno != 0 || !isfinite(*v))
        return NT_EINVAL;
    *percent = *end == '%';
    if (*percent)
        end++;
    return *end == '\0' ? NT_OK : NT_EINVAL;
}

static void canon_double(double v, char *out, size_t outsz)
{
    snprintf(out, outsz, "%.10g", v);
}

static int bad(nt_err_t *err, int f, const char *text, const char *want)
{
    return nt_err_set(err, NT_EINVAL, false, "%s: \"%.64s\" is not %s", fields[f].name, text, want);
}

static int parse_marks(int f, const char *text, char *out, size_t outsz, nt_err_t *err)
{
    char buf[NT_POLICY_VAL_MAX];
    size_t o = 0;
    if (strlen(text) >= sizeof(buf))
        return bad(err, f, text, "a list of mark types");
    memcpy(buf, text, strlen(text) + 1);
    out[0] = '\0';
    for (char *p = buf; p != NULL && *p != '\0';) {
        char *comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        while (*p == ' ')
            p++;
        size_t n = strlen(p);
        while (n > 0 && p[n - 1] == ' ')
            p[--n] = '\0';
        if (!nt_job_is_mark_type(p))
            return nt_err_set(err, NT_EINVAL, false,
                              "%s: \"%.32s\" is not a mark type (harassment, fraud, agency, "
                              "finance, advertising, delivery, taxi, other)",
                              fields[f].name, p);
        /* once each, in the order given */
        bool dup = false;
        for (const char *q = out; *q != '\0' && !dup;) {
            size_t len = strcspn(q, ",");
            dup = len == n && strncmp(q, p, n) == 0;
            q += len + (q[len] == ',');
        }
        if (!dup) {
            int w = snprintf(out + o, outsz - o, "%s%s", o > 0 ? "," : "", p);
            if (w < 0 || (size_t)w >= outsz - o)
                return bad(err, f, text, "a shorter list");
            o += (size_t)w;
        }
        p = comma != NULL ? comma + 1 : NULL;
    }
    return NT_OK;
}

int nt_policy_parse_value(int f, const char *text, char *out, size_t outsz, nt_err_t *err)
{
    double v = 0;
    bool pct = false;
    int64_t ms = 0;
    if (f < 0 || f >= NT_POLICY_NFIELDS)
        return nt_err_set(err, NT_EINVAL, false, "no such policy field");
    if (text == NULL)
        text = "";
    switch (fields[f].kind) {
    case NT_PF_RATE:
        if (parse_number(text, &v, &pct) != NT_OK || (pct ? v / 100 : v) < 0 ||
            (pct ? v / 100 : v) > 1)
            return bad(err, f, text, "a share between 0 and 1 (0.03) or 0% and 100% (3%)");
        canon_double(pct ? v / 100 : v, out, outsz);
        return NT_OK;
    case NT_PF_FRACTION:
        if (parse_number(text, &v, &pct) != NT_OK || (pct ? v / 100 : v) <= 0 ||
            (pct ? v / 100 : v) > 1)
            return bad(err, f, text, "a share above 0 and at most 1 (0.8) or 100% (80%)");
        canon_double(pct ? v / 100 : v, out, outsz);
        return NT_OK;
    case NT_PF_PERCENT:
        if (parse_number(text, &v, &pct) != NT_OK || v < 0 || v > 1000)
            return bad(err, f, text, "a percentage between 0 and 1000 (10 or 10%)");
        canon_double(v, out, outsz);
        return NT_OK;
    case NT_PF_DURATION:
    case NT_PF_PERIOD: {
        bool off = strcmp(text, "off") == 0;
        if (off && fields[f].kind == NT_PF_PERIOD) {
            snprintf(out, outsz, "0");
            return NT_OK;
        }
        if (nt_clock_parse_duration(text, false, &ms) != NT_OK || ms % 1000 != 0 ||
            (ms == 0 && fields[f].kind == NT_PF_DURATION))
            return bad(err, f, text,
                       fields[f].kind == NT_PF_DURATION
                           ? "a duration in whole seconds above 0 (12h, 7d, 1d12h)"
                           : "a duration in whole seconds (12h, 7d, 1d12h) or 0");
        snprintf(out, outsz, "%lld", (long long)(ms / 1000));
        return NT_OK;
    }
    case NT_PF_MARKS:
        return parse_marks(f, text, out, outsz, err);
    case NT_PF_SCORE:
    case NT_PF_COUNT: {
        long max = fields[f].kind == NT_PF_SCORE ? 100 : 1000;
        if (parse_number(text, &v, &pct) != NT_OK || pct || v != floor(v) || v < 0 || v > max)
            return bad(err, f, text,
                       fields[f].kind == NT_PF_SCORE ? "an integer from 0 to 100"
                                                     : "an integer from 0 to 1000");
        snprintf(out, outsz, "%ld", (long)v);
        return NT_OK;
    }
    case NT_PF_MONEY:
        if (strcmp(text, "none") == 0 || strcmp(text, "unlimited") == 0 ||
            strcmp(text, "Infinity") == 0) {
            snprintf(out, outsz, "Infinity");
            return NT_OK;
        }
        if (parse_number(text, &v, &pct) != NT_OK || pct || v < 0 || v > 1e12)
            return bad(err, f, text, "an amount of at least 0, or none (no cap)");
        canon_double(v, out, outsz);
        return NT_OK;
    case NT_PF_CURRENCY:
        if (strlen(text) != 3 || strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
            return bad(err, f, text, "an ISO 4217 currency code (CNY)");
        snprintf(out, outsz, "%s", text);
        return NT_OK;
    }
    return nt_err_set(err, NT_EINVAL, false, "%s: unknown kind", fields[f].name);
}

int nt_policy_parse_json(int f, const cJSON *v, char *out, size_t outsz, nt_err_t *err)
{
    char text[NT_POLICY_VAL_MAX];
    if (f < 0 || f >= NT_POLICY_NFIELDS)
        return nt_err_set(err, NT_EINVAL, false, "no such policy field");
    if (cJSON_IsString(v))
        return nt_policy_parse_value(f, v->valuestring, out, outsz, err);
    if (cJSON_IsNumber(v) && fields[f].kind != NT_PF_MARKS && fields[f].kind != NT_PF_CURRENCY) {
        if (fields[f].kind == NT_PF_DURATION || fields[f].kind == NT_PF_PERIOD) {
            /* a bare number of a duration: seconds */
            if (v->valuedouble < 0 || v->valuedouble != floor(v->valuedouble) ||
                v->valuedouble > 3.2e9)
                return nt_err_set(err, NT_EINVAL, false,
                                  "%s: %g is not a whole number of seconds (or write \"12h\")",
                                  fields[f].name, v->valuedouble);
            snprintf(text, sizeof(text), "%llds", (long long)v->valuedouble);
            if (v->valuedouble == 0)
                snprintf(text, sizeof(text), "0");
        } else {
            snprintf(text, sizeof(text), "%.10g", v->valuedouble);
        }
        return nt_policy_parse_value(f, text, out, outsz, err);
    }
    if (cJSON_IsArray(v) && fields[f].kind == NT_PF_MARKS) {
        size_t o = 0;
        text[0] = '\0';
        const cJSON *it = NULL;
        cJSON_ArrayForEach(it, v)
        {
            if (!cJSON_IsString(it))
                return nt_err_set(err, NT_EINVAL, false, "%s: every item must be a mark type",
                                  fields[f].name);
            int w = snprintf(text + o, sizeof(text) - o, "%s%s", o > 0 ? "," : "", it->valuestring);
            if (w < 0 || (size_t)w >= sizeof(text) - o)
                return nt_err_set(err, NT_EINVAL, false, "%s: list too long", fields[f].name);
            o += (size_t)w;
        }
        return nt_policy_parse_value(f, text, out, outsz, err);
    }
    if (cJSON_IsNull(v) && fields[f].kind == NT_PF_MONEY)
        return nt_policy_parse_value(f, "none", out, outsz, err);
    return nt_err_set(err, NT_EINVAL, false, "%s: wrong type of value (%s)", fields[f].name,
                      fields[f].kind == NT_PF_MARKS ? "want a list of mark types"
                                                    : "want a number or a string");
}

/* 90061 -> "1d1h1m1s"; 0 -> "0". */
static void format_secs(long long s, char *out, size_t outsz)
{
    static const struct {
        const char *unit;
        long long secs;
    } units[] = {{"d", 86400}, {"h", 3600}, {"m", 60}, {"s", 1}};
    size_t o = 0;
    if (s == 0) {
        snprintf(out, outsz, "0");
        return;
    }
    out[0] = '\0';
    for (size_t i = 0; i < NT_ARRAY_LEN(units) && o < outsz; i++) {
        if (s >= units[i].secs) {
            int w = snprintf(out + o, outsz - o, "%lld%s", s / units[i].secs, units[i].unit);
            if (w < 0)
                return;
            o += (size_t)w;
            s %= units[i].secs;
        }
    }
}

void nt_policy_format(int f, const char *canonical, char *out, size_t outsz)
{
    if (f < 0 || f >= NT_POLICY_NFIELDS || canonical == NULL) {
        snprintf(out, outsz, "-");
        return;
    }
    switch (fields[f].kind) {
    case NT_PF_RATE:
    case NT_PF_FRACTION:
        snprintf(out, outsz, "%.10g%%", strtod(canonical, NULL) * 100);
        return;
    case NT_PF_PERCENT:
        snprintf(out, outsz, "%s%%", canonical);
        return;
    case NT_PF_DURATION:
    case NT_PF_PERIOD:
        format_secs(strtoll(canonical, NULL, 10), out, outsz);
        return;
    case NT_PF_MONEY:
        snprintf(out, outsz, "%s", strcmp(canonical, "Infinity") == 0 ? "none" : canonical);
        return;
    default:
        snprintf(out, outsz, "%s", canonical);
        return;
    }
}

const char *nt_policy_origin_name(nt_policy_origin_t o)
{
    static const char *const names[] = {"tenant+scenario", "tenant", "scenario", "defaults",
                                        "built-in"};
    return (unsigned)o < NT_ARRAY_LEN(names) ? names[o] : "?";
}

void nt_policy_resolve(const nt_policy_layer_t *const layers[NT_POLICY_NLAYERS],
                       nt_policy_layer_t *out, nt_policy_origin_t origin[NT_POLICY_NFIELDS])
{
    memset(out, 0, sizeof(*out));
    for (int f = 0; f < NT_POLICY_NFIELDS; f++) {
        nt_policy_origin_t from = NT_POLICY_BUILTIN;
        for (int l = 0; l < NT_POLICY_NLAYERS && from == NT_POLICY_BUILTIN; l++) {
            bool per_scenario = l == NT_POLICY_TENANT_SCENARIO || l == NT_POLICY_SCENARIO;
            if (layers[l] == NULL || !layers[l]->set[f] || (per_scenario && fields[f].tenant_wide))
                continue;
            from = (nt_policy_origin_t)l;
            out->set[f] = true;
            nt_buf_copy_str(out->val[f], sizeof(out->val[f]), layers[l]->val[f]);
        }
        if (from == NT_POLICY_BUILTIN && fields[f].def != NULL) {
            out->set[f] = true;
            nt_buf_copy_str(out->val[f], sizeof(out->val[f]), fields[f].def);
        }
        if (origin != NULL)
            origin[f] = from;
    }
}

/* ---- documents ---- */

static bool is_id(const char *s)
{
    return nt_job_is_tenant_id(s);
}

static int doc_add(nt_policy_doc_t *doc, const char *tenant, const char *scenario,
                   nt_policy_entry_t **entry)
{
    nt_policy_entry_t *grown = realloc(doc->entries, (doc->n + 1) * sizeof(*grown));
    if (grown == NULL)
        return NT_ENOMEM;
    doc->entries = grown;
    *entry = &doc->entries[doc->n++];
    memset(*entry, 0, sizeof(**entry));
    nt_buf_copy_str((*entry)->tenant, sizeof((*entry)->tenant), tenant);
    nt_buf_copy_str((*entry)->scenario, sizeof((*entry)->scenario), scenario);
    return NT_OK;
}

/* Reads the fields of obj into a new layer for (tenant, scenario); nested
 * "scenarios" is allowed when nest is set (read by the caller). */
static int doc_layer(nt_policy_doc_t *doc, const cJSON *obj, const char *path, const char *tenant,
                     const char *scenario, bool nest, nt_err_t *err)
{
    nt_policy_entry_t *e = NULL;
    nt_err_t ferr;
    if (!cJSON_IsObject(obj))
        return nt_err_set(err, NT_EINVAL, false, "%s: must be an object of policy fields", path);
    if (strcmp(tenant, "*") == 0 && strcmp(scenario, "*") == 0 && doc->n > 0) {
        e = &doc->entries[0];
    } else if (doc_add(doc, tenant, scenario, &e) != NT_OK) {
        return nt_err_set(err, NT_ENOMEM, false, "out of memory");
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, obj)
    {
        if (nest && strcmp(it->string, "scenarios") == 0)
            continue;
        int f = nt_policy_field_index(it->string);
        if (f < 0)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s.%s: unknown policy field (see numtrust-producer policy --help)",
                              path, it->string);
        if (fields[f].tenant_wide && strcmp(scenario, "*") != 0)
            return nt_err_set(err, NT_EINVAL, false,
                              "%s.%s: a tenant-wide field, not set per scenario", path, it->string);
        nt_err_clear(&ferr);
        if (nt_policy_parse_json(f, it, e->layer.val[f], sizeof(e->layer.val[f]), &ferr) != NT_OK)
            return nt_err_set(err, NT_EINVAL, false, "%s.%s", path, ferr.msg);
        e->layer.set[f] = true;
    }
    return NT_OK;
}

static int doc_scenarios(nt_policy_doc_t *doc, const cJSON *obj, const char *path,
                         const char *tenant, nt_err_t *err)
{
    char sub[256];
    if (obj == NULL)
        return NT_OK;
    if (!cJSON_IsObject(obj))
        return nt_err_set(err, NT_EINVAL, false, "%s: must be an object of scenarios", path);
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, obj)
    {
        if (!is_id(it->string))
            return nt_err_set(err, NT_EINVAL, false, "%s: \"%.64s\" is not a scenario id", path,
                              it->string);
        snprintf(sub, sizeof(sub), "%s.%s", path, it->string);
        int rc = doc_layer(doc, it, sub, tenant, it->string, false, err);
        if (rc != NT_OK)
            return rc;
    }
    return NT_OK;
}

int nt_policy_doc_parse(const char *text, size_t len, const char *origin, nt_policy_doc_t *doc,
                        nt_err_t *err)
{
    cJSON *root = NULL;
    nt_policy_entry_t *e = NULL;
    int rc = NT_EINVAL;
    char path[256];

    memset(doc, 0, sizeof(*doc));
    if (doc_add(doc, "*", "*", &e) != NT_OK) {
        rc = nt_err_set(err, NT_ENOMEM, false, "out of memory");
        goto out;
    }
    root = cJSON_ParseWithLength(text, len);
    if (!cJSON_IsObject(root)) {
        nt_err_set(err, NT_EINVAL, false, "%s: not a JSON object", origin);
        goto out;
    }
    const cJSON *it = NULL;
    cJSON_ArrayForEach(it, root)
    {
        if (strcmp(it->string, "defaults") != 0 && strcmp(it->string, "scenarios") != 0 &&
            strcmp(it->string, "tenants") != 0 && strcmp(it->string, "comment") != 0) {
            nt_err_set(err, NT_EINVAL, false,
                       "%s: %s: unknown key (defaults, scenarios, tenants, comment)", origin,
                       it->string);
            goto out;
        }
    }
    nt_err_t e2;
    nt_err_clear(&e2);
    const cJSON *defaults = cJSON_GetObjectItemCaseSensitive(root, "defaults");
    if (defaults != NULL && doc_layer(doc, defaults, "defaults", "*", "*", false, &e2) != NT_OK)
        goto fail;
    if (doc_scenarios(doc, cJSON_GetObjectItemCaseSensitive(root, "scenarios"), "scenarios", "*",
                      &e2) != NT_OK)
        goto fail;
    const cJSON *tenants = cJSON_GetObjectItemCaseSensitive(root, "tenants");
    if (tenants != NULL && !cJSON_IsObject(tenants)) {
        nt_err_set(&e2, NT_EINVAL, false, "tenants: must be an object of tenants");
        goto fail;
    }
    cJSON_ArrayForEach(it, tenants)
    {
        if (!is_id(it->string)) {
            nt_err_set(&e2, NT_EINVAL, false, "tenants: \"%.64s\" is not a tenant id", it->string);
            goto fail;
        }
        snprintf(path, sizeof(path), "tenants.%s", it->string);
        if (doc_layer(doc, it, path, it->string, "*", true, &e2) != NT_OK)
            goto fail;
        char sub[300];
        snprintf(sub, sizeof(sub), "%s.scenarios", path);
        if (doc_scenarios(doc, cJSON_GetObjectItemCaseSensitive(it, "scenarios"), sub, it->string,
                          &e2) != NT_OK)
            goto fail;
    }
    rc = NT_OK;
    goto out;
fail:
    nt_err_set(err, NT_EINVAL, false, "%s: %s", origin, e2.msg);
out:
    cJSON_Delete(root);
    if (rc != NT_OK)
        nt_policy_doc_free(doc);
    return rc;
}

void nt_policy_doc_free(nt_policy_doc_t *doc)
{
    if (doc == NULL)
        return;
    free(doc->entries);
    doc->entries = NULL;
    doc->n = 0;
}

/* Appends the set fields of a layer as JSON members at indent. */
static int render_fields(const nt_policy_layer_t *l, int indent, bool *first, nt_buf_t *out)
{
    int rc = NT_OK;
    char human[NT_POLICY_VAL_MAX];
    for (int f = 0; rc == NT_OK && f < NT_POLICY_NFIELDS; f++) {
        if (!l->set[f])
            continue;
        rc = nt_buf_printf(out, "%s\n%*s\"%s\": ", *first ? "" : ",", indent, "", fields[f].name);
        *first = false;
        if (rc != NT_OK)
            break;
        if (fields[f].kind == NT_PF_MARKS) {
            rc = nt_buf_putc(out, '[');
            const char *p = l->val[f];
            bool one = true;
            while (rc == NT_OK && *p != '\0') {
                size_t len = strcspn(p, ",");
                rc = nt_buf_printf(out, "%s\"%.*s\"", one ? "" : ", ", (int)len, p);
                one = false;
                p += len + (p[len] == ',');
            }
            if (rc == NT_OK)
                rc = nt_buf_putc(out, ']');
            continue;
        }
        nt_policy_format(f, l->val[f], human, sizeof(human));
        bool number = fields[f].kind == NT_PF_SCORE || fields[f].kind == NT_PF_COUNT ||
                      (fields[f].kind == NT_PF_MONEY && strcmp(human, "none") != 0);
        rc = number ? nt_buf_puts(out, human) : nt_buf_json_str(out, human, strlen(human));
    }
    return rc;
}

int nt_policy_doc_render(const nt_policy_doc_t *doc, nt_buf_t *out)
{
    int rc = nt_buf_puts(out, "{");
    bool first = true;
    /* defaults */
    for (size_t i = 0; rc == NT_OK && i < doc->n; i++) {
        const nt_policy_entry_t *e = &doc->entries[i];
        if (strcmp(e->tenant, "*") != 0 || strcmp(e->scenario, "*") != 0)
            continue;
        bool inner = true;
        rc = nt_buf_printf(out, "%s\n  \"defaults\": {", first ? "" : ",");
        first = false;
        if (rc == NT_OK)
            rc = render_fields(&e->layer, 4, &inner, out);
        if (rc == NT_OK)
            rc = nt_buf_puts(out, inner ? "}" : "\n  }");
    }
    /* scenarios of every tenant */
    bool any = false;
    for (size_t i = 0; rc == NT_OK && i < doc->n; i++) {
        const nt_policy_entry_t *e = &doc->entries[i];
        if (strcmp(e->tenant, "*") != 0 || strcmp(e->scenario, "*") == 0)
            continue;
        bool inner = true;
        rc = nt_buf_printf(out, "%s%s\n    \"%s\": {", any ? "," : (first ? "" : ","),
                           any ? "" : "\n  \"scenarios\": {", e->scenario);
        first = false;
        any = true;
        if (rc == NT_OK)
            rc = render_fields(&e->layer, 6, &inner, out);
        if (rc == NT_OK)
            rc = nt_buf_puts(out, inner ? "}" : "\n    }");
    }
    if (rc == NT_OK && any)
        rc = nt_buf_puts(out, "\n  }");
    /* tenants, each with its scenarios (entries of one tenant may be apart) */
    any = false;
    for (size_t i = 0; rc == NT_OK && i < doc->n; i++) {
        const nt_policy_entry_t *e = &doc->entries[i];
        if (strcmp(e->tenant, "*") == 0)
            continue;
        bool seen = false;
        for (size_t k = 0; k < i && !seen; k++)
            seen = strcmp(doc->entries[k].tenant, e->tenant) == 0;
        if (seen)
            continue;
        rc = nt_buf_printf(out, "%s%s\n    \"%s\": {", any ? "," : (first ? "" : ","),
                           any ? "" : "\n  \"tenants\": {", e->tenant);
        first = false;
        any = true;
        bool inner = true;
        for (size_t k = i; rc == NT_OK && k < doc->n; k++)
            if (strcmp(doc->entries[k].tenant, e->tenant) == 0 &&
                strcmp(doc->entries[k].scenario, "*") == 0)
                rc = render_fields(&doc->entries[k].layer, 6, &inner, out);
        bool sc = false;
        for (size_t k = i; rc == NT_OK && k < doc->n; k++) {
            const nt_policy_entry_t *s = &doc->entries[k];
            if (strcmp(s->tenant, e->tenant) != 0 || strcmp(s->scenario, "*") == 0)
                continue;
            bool in2 = true;
            rc = nt_buf_printf(out, "%s%s\n        \"%s\": {", sc ? "," : (inner ? "" : ","),
                               sc ? "" : "\n      \"scenarios\": {", s->scenario);
            inner = false;
            sc = true;
            if (rc == NT_OK)
                rc = render_fields(&s->layer, 10, &in2, out);
            if (rc == NT_OK)
                rc = nt_buf_puts(out, in2 ? "}" : "\n        }");
        }
        if (rc == NT_OK && sc)
            rc = nt_buf_puts(out, "\n      }");
        if (rc == NT_OK)
            rc = nt_buf_puts(out, inner ? "}" : "\n    }");
    }
    if (rc == NT_OK && any)
        rc = nt_buf_puts(out, "\n  }");
    if (rc == NT_OK)
        rc = nt_buf_puts(out, first ? "}\n" : "\n}\n");
    return rc;
}
