/*
 * test_policy.c — policy fields (policy.h): every kind of value parsed into
 * its canonical text and formatted back for people, bad values named with
 * field and value; layer resolution (most specific first, tenant-wide
 * fields skip the per-scenario layers, the built-in defaults last); policy
 * documents parsed, refused with the path of the mistake, and rendered back
 * to the same layers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "policy.h"

static void test_values(void)
{
    static const struct {
        const char *field, *text;
        const char *want;  /* canonical; NULL: refused */
        const char *human; /* nt_policy_format of it */
    } rows[] = {
        {"max_mark_rate", "3%", "0.03", "3%"},
        {"max_mark_rate", "0.03", "0.03", "3%"},
        {"max_mark_rate", "0", "0", "0%"},
        {"max_mark_rate", "100%", "1", "100%"},
        {"max_mark_rate", "1.5", NULL, NULL},
        {"max_mark_rate", "-1%", NULL, NULL},
        {"max_mark_rate", "3 %", NULL, NULL},
        {"max_mark_rate", "", NULL, NULL},
        {"appeal_file_within", "12h", "43200", "12h"},
        {"appeal_file_within", "1d12h", "129600", "1d12h"},
        {"appeal_file_within", "90s", "90", "1m30s"},
        {"appeal_file_within", "0", NULL, NULL},
        {"appeal_file_within", "500ms", NULL, NULL},
        {"appeal_file_within", "12x", NULL, NULL},
        {"appeal_file_within", "off", NULL, NULL},
        {"mark_check_every", "off", "0", "0"},
        {"mark_check_every", "0", "0", "0"},
        {"mark_check_every", "1w", "604800", "7d"},
        {"appeal_marks", "harassment,fraud", "harassment,fraud", "harassment,fraud"},
        {"appeal_marks", " fraud , fraud,agency", "fraud,agency", "fraud,agency"},
        {"appeal_marks", "", "", ""},
        {"appeal_marks", "harassment,spam", NULL, NULL},
        {"risk_trust_decay", "10%", "10", "10%"},
        {"risk_trust_decay", "12.5", "12.5", "12.5%"},
        {"risk_trust_decay", "-1", NULL, NULL},
        {"trust_threshold", "60", "60", "60"},
        {"trust_threshold", "101", NULL, NULL},
        {"trust_threshold", "60.5", NULL, NULL},
        {"near_breach", "80%", "0.8", "80%"},
        {"near_breach", "0", NULL, NULL},
        {"monthly_budget", "5000", "5000", "5000"},
        {"monthly_budget", "0.5", "0.5", "0.5"},
        {"monthly_budget", "none", "Infinity", "none"},
        {"monthly_budget", "-5", NULL, NULL},
        {"budget_currency", "USD", "USD", "USD"},
        {"budget_currency", "usd", NULL, NULL},
        {"quarantine_fraud_platforms", "0", "0", "0"},
        {"quarantine_fraud_platforms", "2", "2", "2"},
        {"quarantine_fraud_platforms", "two", NULL, NULL},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        int f = nt_policy_field_index(rows[i].field);
        char out[NT_POLICY_VAL_MAX], human[NT_POLICY_VAL_MAX];
        nt_err_t err;
        nt_err_clear(&err);
        CHECKF(f >= 0, "row %zu: no field %s", i, rows[i].field);
        int rc = nt_policy_parse_value(f, rows[i].text, out, sizeof(out), &err);
        if (rows[i].want == NULL) {
            CHECKF(rc == NT_EINVAL, "row %zu: %s=\"%s\" accepted as \"%s\"", i, rows[i].field,
                   rows[i].text, rc == NT_OK ? out : "");
            CHECK_CONTAINS("error names the field", err.msg, rows[i].field);
            continue;
        }
        CHECKF(rc == NT_OK, "row %zu: %s=\"%s\": %s", i, rows[i].field, rows[i].text, err.msg);
        CHECKF(strcmp(out, rows[i].want) == 0, "row %zu: canonical \"%s\", want \"%s\"", i, out,
               rows[i].want);
        nt_policy_format(f, out, human, sizeof(human));
        CHECKF(strcmp(human, rows[i].human) == 0, "row %zu: formatted \"%s\", want \"%s\"", i,
               human, rows[i].human);
    }
    CHECK_INT(nt_policy_field_index("nope"), -1);
    /* every default parses as itself */
    const nt_policy_field_t *fs = nt_policy_fields();
    for (int f = 0; f < NT_POLICY_NFIELDS; f++) {
        if (fs[f].def == NULL)
            continue;
        char out[NT_POLICY_VAL_MAX], human[NT_POLICY_VAL_MAX];
        nt_err_t err;
        nt_policy_format(f, fs[f].def, human, sizeof(human));
        CHECKF(nt_policy_parse_value(f, human, out, sizeof(out), &err) == NT_OK &&
                   strcmp(out, fs[f].def) == 0,
               "default of %s: \"%s\" -> \"%s\" -> \"%s\"", fs[f].name, fs[f].def, human, out);
    }
}

static void set(nt_policy_layer_t *l, const char *field, const char *text)
{
    nt_err_t err;
    int f = nt_policy_field_index(field);
    if (f < 0 || nt_policy_parse_value(f, text, l->val[f], sizeof(l->val[f]), &err) != NT_OK) {
        fprintf(stderr, "bad test value %s=%s\n", field, text);
        exit(1);
    }
    l->set[f] = true;
}

static void test_resolve(void)
{
    nt_policy_layer_t ts = {0}, tn = {0}, sc = {0}, g = {0}, out;
    nt_policy_origin_t origin[NT_POLICY_NFIELDS];
    set(&g, "max_mark_rate", "2%");
    set(&g, "monthly_budget", "9000");
    set(&sc, "max_mark_rate", "4%");
    set(&sc, "check_every", "30d");
    set(&tn, "appeal_file_within", "6h");
    set(&tn, "monthly_budget", "100");
    set(&ts, "appeal_file_within", "2h");
    /* a tenant-wide field in a per-scenario layer is never used */
    set(&ts, "monthly_budget", "1");
    set(&sc, "rate_marks", "fraud");
    const nt_policy_layer_t *layers[NT_POLICY_NLAYERS] = {&ts, &tn, &sc, &g};
    nt_policy_resolve(layers, &out, origin);
    static const struct {
        const char *field, *want;
        nt_policy_origin_t from;
    } rows[] = {
        {"max_mark_rate", "0.04", NT_POLICY_SCENARIO},
        {"appeal_file_within", "7200", NT_POLICY_TENANT_SCENARIO},
        {"monthly_budget", "100", NT_POLICY_TENANT},
        {"rate_marks", "harassment", NT_POLICY_BUILTIN},
        {"check_every", "2592000", NT_POLICY_SCENARIO},
        {"qualification_within", "86400", NT_POLICY_BUILTIN},
        {"appeal_marks", "harassment,fraud,agency", NT_POLICY_BUILTIN},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        int f = nt_policy_field_index(rows[i].field);
        CHECKF(out.set[f] && strcmp(out.val[f], rows[i].want) == 0 && origin[f] == rows[i].from,
               "%s: \"%s\" from %s, want \"%s\" from %s", rows[i].field, out.val[f],
               nt_policy_origin_name(origin[f]), rows[i].want, nt_policy_origin_name(rows[i].from));
    }
    /* no layer at all: the built-in defaults; check_every stays unset (the
     * scenario's own cycle) */
    const nt_policy_layer_t *none[NT_POLICY_NLAYERS] = {NULL, NULL, NULL, NULL};
    nt_policy_resolve(none, &out, origin);
    int ce = nt_policy_field_index("check_every");
    CHECK(!out.set[ce]);
    CHECK_STR(out.val[nt_policy_field_index("max_mark_rate")], "0.03");
    CHECK_STR(out.val[nt_policy_field_index("appeal_file_within")], "43200");
    CHECK_STR(out.val[nt_policy_field_index("monthly_budget")], "Infinity");
    CHECK_INT(origin[nt_policy_field_index("max_mark_rate")], NT_POLICY_BUILTIN);
}

static const char doc_text[] =
    "{\"comment\": \"kept in git\",\n"
    " \"defaults\": {\"max_mark_rate\": \"3%\", \"appeal_file_within\": \"12h\"},\n"
    " \"scenarios\": {\"individual\": {\"check_every\": \"30d\"}},\n"
    " \"tenants\": {\n"
    "   \"acme\": {\"monthly_budget\": 5000, \"appeal_marks\": [\"fraud\", \"harassment\"],\n"
    "            \"scenarios\": {\"high_frequency\": {\"risk_check_every\": \"12h\"}}},\n"
    "   \"shoe.repair\": {\"monthly_budget\": null, \"mark_check_every\": \"off\"}}}\n";

static const nt_policy_entry_t *find(const nt_policy_doc_t *d, const char *t, const char *s)
{
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->entries[i].tenant, t) == 0 && strcmp(d->entries[i].scenario, s) == 0)
            return &d->entries[i];
    return NULL;
}

static void test_doc(void)
{
    nt_policy_doc_t doc, again;
    nt_err_t err;
    nt_err_clear(&err);
    CHECK_INT(nt_policy_doc_parse(doc_text, strlen(doc_text), "p.json", &doc, &err), NT_OK);
    CHECK_INT(doc.n, 5);
    const nt_policy_entry_t *e = find(&doc, "*", "*");
    CHECK(e == &doc.entries[0]);
    CHECK(e != NULL && e->layer.set[nt_policy_field_index("max_mark_rate")]);
    e = find(&doc, "*", "individual");
    CHECK(e != NULL && strcmp(e->layer.val[nt_policy_field_index("check_every")], "2592000") == 0);
    e = find(&doc, "acme", "*");
    CHECK(e != NULL &&
          strcmp(e->layer.val[nt_policy_field_index("appeal_marks")], "fraud,harassment") == 0);
    CHECK(e != NULL && strcmp(e->layer.val[nt_policy_field_index("monthly_budget")], "5000") == 0);
    e = find(&doc, "acme", "high_frequency");
    CHECK(e != NULL &&
          strcmp(e->layer.val[nt_policy_field_index("risk_check_every")], "43200") == 0);
    e = find(&doc, "shoe.repair", "*");
    CHECK(e != NULL &&
          strcmp(e->layer.val[nt_policy_field_index("monthly_budget")], "Infinity") == 0);

    /* render and parse again: the same layers */
    nt_buf_t b;
    nt_buf_init(&b, 0);
    CHECK_INT(nt_policy_doc_render(&doc, &b), NT_OK);
    CHECK_INT(nt_buf_putc(&b, '\0'), NT_OK);
    CHECKF(nt_policy_doc_parse(b.data, strlen(b.data), "rendered", &again, &err) == NT_OK,
           "rendered document does not parse: %s\n%s", err.msg, b.data);
    CHECK_INT(again.n, doc.n);
    for (size_t i = 0; i < doc.n && i < again.n; i++) {
        const nt_policy_entry_t *a = &doc.entries[i];
        const nt_policy_entry_t *x = find(&again, a->tenant, a->scenario);
        CHECKF(x != NULL && memcmp(x->layer.set, a->layer.set, sizeof(a->layer.set)) == 0,
               "entry %s/%s differs after rendering", a->tenant, a->scenario);
        for (int f = 0; x != NULL && f < NT_POLICY_NFIELDS; f++)
            if (a->layer.set[f])
                CHECKF(strcmp(a->layer.val[f], x->layer.val[f]) == 0, "%s/%s %s: %s vs %s",
                       a->tenant, a->scenario, nt_policy_fields()[f].name, a->layer.val[f],
                       x->layer.val[f]);
    }
    nt_buf_free(&b);
    nt_policy_doc_free(&again);
    nt_policy_doc_free(&doc);

    static const struct {
        const char *text, *why;
    } bad[] = {
        {"[]", "not a JSON object"},
        {"{\"default\": {}}", "default: unknown key"},
        {"{\"defaults\": {\"max_mark_rat\": 1}}", "defaults.max_mark_rat: unknown policy field"},
        {"{\"defaults\": {\"max_mark_rate\": \"30\"}}", "defaults.max_mark_rate: \"30\""},
        {"{\"scenarios\": {\"seasonal\": {\"monthly_budget\": 5}}}",
         "scenarios.seasonal.monthly_budget: a tenant-wide field"},
        {"{\"tenants\": {\"acme\": {\"scenarios\": {\"seasonal\": {\"appeal_file_within\": "
         "\"12x\"}}}}}",
         "tenants.acme.scenarios.seasonal.appeal_file_within: \"12x\""},
        {"{\"tenants\": {\"bad tenant\": {}}}", "\"bad tenant\" is not a tenant id"},
        {"{\"tenants\": {\"acme\": {\"appeal_marks\": [\"fraud\", 3]}}}", "appeal_marks"},
        {"{\"tenants\": {\"acme\": 5}}", "tenants.acme: must be an object"},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(bad); i++) {
        nt_err_clear(&err);
        CHECKF(nt_policy_doc_parse(bad[i].text, strlen(bad[i].text), "p.json", &doc, &err) ==
                   NT_EINVAL,
               "bad document %zu accepted", i);
        CHECK_CONTAINS(bad[i].text, err.msg, bad[i].why);
        CHECK_CONTAINS(bad[i].text, err.msg, "p.json: ");
    }
}

int main(void)
{
    test_values();
    test_resolve();
    test_doc();
    CHECK_DONE();
}
