/*
 * actions_cli.c — `numtrust-producer actions list|show|submit|done`: the
 * manual queue for the people who work it (actions.h holds the rules).
 *
 * An item names the platform's web form and what to type into it; the
 * person files it, says so (`submit`, with the platform's reference when it
 * gives one), and records the decision when it comes (`done --outcome`).
 * Items are named by their id or its first 8 or more hex digits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actions.h"
#include "cli.h"

static void actions_usage(FILE *fp)
{
    fputs("usage: numtrust-producer actions list [--state S] [--kind K] [--platform P]\n"
          "                                    [--tenant T] [--number N] [--limit N] [--json]\n"
          "       numtrust-producer actions show ITEM [--json]\n"
          "       numtrust-producer actions submit ITEM [--reference REF] [--note TEXT]\n"
          "       numtrust-producer actions done ITEM --outcome OUTCOME [--reference REF]\n"
          "                                      [--note TEXT]\n\n"
          "The manual queue: label updates and appeals for platforms without a submission\n"
          "API (\"dialect\": \"manual\" in platforms.json) are prepared by `enqueue tag` and\n"
          "`enqueue appeal` (and the reconciler) as action items for a person: the label or\n"
          "the mark, the evidence, and the platform's web form filled in. One item per\n"
          "registration's label or mark while it is not done.\n\n"
          "  list     items, oldest first: --state open|submitted|pending|done|all (default\n"
          "           pending: open or submitted), --kind tag_update|appeal, --platform,\n"
          "           --tenant, --number, --limit (default 100); --json prints the API's JSON\n"
          "  show     one item: where to file it and every form field to type in\n"
          "  submit   the item was filed on the platform; --reference is the platform's\n"
          "           ticket or case number, if it gave one\n"
          "  done     the platform decided: --outcome applied|rejected (a label update) or\n"
          "           approved|rejected (an appeal); an item not marked submitted is taken\n"
          "           as filed now\n\n"
          "ITEM is an item's id or its first 8 or more hex digits (as `list` shows them).\n"
          "Each step is recorded exactly once, with the label update or appeal it means\n"
          "(tag_updates, appeals), so the service-level clocks and the report cover these\n"
          "platforms: the same step again changes nothing and says so; `done` with\n"
          "another outcome than the one on record is refused.\n\n"
          "Exit status: 0 recorded (or already recorded the same way), 1 refused or\n"
          "failed, 2 usage error.\n",
          fp);
}

/* "3d4h", "5h12m", "7m", "40s" */
static void format_age(long long s, char *out, size_t outsz)
{
    if (s >= 86400)
        snprintf(out, outsz, "%lldd%lldh", s / 86400, s % 86400 / 3600);
    else if (s >= 3600)
        snprintf(out, outsz, "%lldh%lldm", s / 3600, s % 3600 / 60);
    else if (s >= 60)
        snprintf(out, outsz, "%lldm", s / 60);
    else
        snprintf(out, outsz, "%llds", s < 0 ? 0 : s);
}

static const char *jstr(const cJSON *o, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static int print_list(const char *json)
{
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsArray(root)) {
        cJSON_Delete(root);
        fprintf(stderr, "numtrust-producer actions: unexpected answer from PostgreSQL\n");
        return 1;
    }
    int n = 0, open = 0, submitted = 0, done = 0;
    const cJSON *it;
    /* the label last: its width on a terminal is not its length in bytes */
    printf("%-8s  %-10s  %-9s  %-8s  %-15s  %-6s  %-8s  %s\n", "ITEM", "KIND", "STATE", "PLATFORM",
           "NUMBER", "AGE", "OUTCOME", "LABEL / MARK [REFERENCE]");
    cJSON_ArrayForEach(it, root)
    {
        const char *state = jstr(it, "state"), *ref = jstr(it, "reference");
        const cJSON *age = cJSON_GetObjectItemCaseSensitive(it, "age_s");
        char agebuf[24];
        format_age(cJSON_IsNumber(age) ? (long long)age->valuedouble : 0, agebuf, sizeof(agebuf));
        const char *subject =
            jstr(it, strcmp(jstr(it, "kind"), "appeal") == 0 ? "mark_type" : "label");
        printf("%.8s  %-10s  %-9s  %-8s  %-15s  %-6s  %-8s  %s%s%s%s\n", jstr(it, "id"),
               jstr(it, "kind"), state, jstr(it, "platform"), jstr(it, "number"), agebuf,
               jstr(it, "outcome")[0] ? jstr(it, "outcome") : "-", subject, ref[0] ? " [" : "", ref,
               ref[0] ? "]" : "");
        n++;
        open += strcmp(state, "open") == 0;
        submitted += strcmp(state, "submitted") == 0;
        done += strcmp(state, "done") == 0;
    }
    printf("%d item%s: %d open, %d submitted, %d done\n", n, n == 1 ? "" : "s", open, submitted,
           done);
    cJSON_Delete(root);
    return 0;
}

static int print_item(const char *json)
{
    static const char *const fields[][2] = {
        {"id", "item"},
        {"kind", "kind"},
        {"state", "state"},
        {"platform", "platform"},
        {"number", "number"},
        {"tenant", "tenant"},
        {"label", "label"},
        {"mark_type", "mark"},
        {"evidence", "evidence"},
        {"created_at", "created"},
        {"submitted_at", "submitted"},
        {"done_at", "done"},
        {"outcome", "outcome"},
        {"reference", "reference"},
        {"note", "note"},
    };
    cJSON *root = cJSON_Parse(json);
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        fprintf(stderr, "numtrust-producer actions: unexpected answer from PostgreSQL\n");
        return 1;
    }
    for (size_t i = 0; i < NT_ARRAY_LEN(fields); i++) {
        const char *v = jstr(root, fields[i][0]);
        if (v[0] != '\0')
            printf("%-10s %s\n", fields[i][1], v);
    }
    printf("%-10s %s (%s)\n", "file at", jstr(root, "form_url"), jstr(root, "platform_name"));
    printf("form fields:\n");
    const cJSON *f, *form = cJSON_GetObjectItemCaseSensitive(root, "form");
    cJSON_ArrayForEach(f, form)
    {
        char text[64];
        const char *v = cJSON_IsString(f) ? f->valuestring : "";
        if (!cJSON_IsString(f) && cJSON_IsNumber(f)) {
            snprintf(text, sizeof(text), "%g", f->valuedouble);
            v = text;
        }
        printf("  %s: %s\n", f->string, v);
    }
    cJSON_Delete(root);
    return 0;
}

static int actions_list(cli_t *cli, int argc, char **argv)
{
    nt_action_filter_t f = {0};
    bool json = false;
    const char *limit = NULL;
    nt_err_t err;
    nt_buf_t out;
    for (int i = 2; i < argc; i++) {
        static const char *const opts[] = {"--state",  "--kind",   "--platform",
                                           "--tenant", "--number", "--limit"};
        const char **dst[] = {&f.state, &f.kind, &f.platform, &f.tenant, &f.number, &limit};
        const char *v = NULL;
        size_t o = 0;
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
            continue;
        }
        while (o < NT_ARRAY_LEN(opts) && !cli_opt(argc, argv, &i, opts[o], &v))
            o++;
        if (o == NT_ARRAY_LEN(opts))
            return cli_usage_error("actions list", "unknown argument \"%s\"", argv[i]);
        if (v == NULL)
            return 2;
        *dst[o] = v;
    }
    if (f.kind != NULL && strcmp(f.kind, "tag") == 0)
        f.kind = "tag_update";
    if (limit != NULL) {
        char *end = NULL;
        f.limit = strtol(limit, &end, 10);
        if (end == limit || *end != '\0' || f.limit <= 0 || f.limit > 100000)
            return cli_usage_error("actions list",
                                   "--limit \"%s\" is not an integer in [1, 100000]", limit);
    }
    nt_err_clear(&err);
    if (nt_actions_filter_check(&f, &err) != NT_OK)
        return cli_usage_error("actions list", "%s", err.msg);
    if (f.platform != NULL) {
        const nt_platforms_t *ps = cli_platforms(cli);
        if (ps == NULL)
            return 1;
        if (nt_platforms_find(ps, f.platform) == NULL)
            return cli_usage_error("actions list", "--platform \"%s\" is not in %s", f.platform,
                                   cli->cfg.platforms_file);
    }
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        return 1;
    nt_buf_init(&out, 0);
    int rc = nt_actions_list_json(pg, &f, &out, &err);
    if (rc != NT_OK) {
        fprintf(stderr, "numtrust-producer actions list: %s\n", err.msg);
        rc = 1;
    } else if (json) {
        printf("%.*s\n", (int)out.len, out.data);
    } else {
        rc = print_list(out.data);
    }
    nt_buf_free(&out);
    nt_pg_free(pg);
    return rc;
}

/* show, submit and done: one item and its options. */
static int actions_item(cli_t *cli, int argc, char **argv)
{
    const char *verb = argv[1], *item = NULL, *outcome = NULL, *reference = NULL, *note = NULL;
    bool json = false, show = strcmp(verb, "show") == 0, done = strcmp(verb, "done") == 0;
    char cmd[32], id[NT_UUID_STRLEN];
    nt_err_t err;
    snprintf(cmd, sizeof(cmd), "actions %s", verb);
    for (int i = 2; i < argc; i++) {
        const char *v = NULL;
        if (show && strcmp(argv[i], "--json") == 0) {
            json = true;
            continue;
        }
        if (!show && cli_opt(argc, argv, &i, "--reference", &v))
            reference = v;
        else if (!show && cli_opt(argc, argv, &i, "--note", &v))
            note = v;
        else if (done && cli_opt(argc, argv, &i, "--outcome", &v))
            outcome = v;
        else if (item == NULL && argv[i][0] != '-') {
            item = v = argv[i];
        } else
            return cli_usage_error(cmd, "unknown argument \"%s\"", argv[i]);
        if (v == NULL)
            return 2;
    }
    if (item == NULL)
        return cli_usage_error(cmd, "which item? give its id or its first 8 hex digits");
    if (done && outcome == NULL)
        return cli_usage_error(cmd, "--outcome is required: applied or rejected (a label "
                                    "update), approved or rejected (an appeal)");
    nt_err_clear(&err);
    nt_pg_t *pg = cli_pg(cli);
    if (pg == NULL)
        return 1;
    int rc = 1;
    nt_buf_t out;
    nt_buf_init(&out, 0);
    if (nt_actions_resolve(pg, item, id, &err) != NT_OK) {
        fprintf(stderr, "numtrust-producer %s: %s\n", cmd, err.msg);
        rc = err.code == NT_EINVAL ? 2 : 1;
        goto out;
    }
    if (show) {
        if (nt_actions_get_json(pg, id, &out, &err) != NT_OK)
            fprintf(stderr, "numtrust-producer %s: %s\n", cmd, err.msg);
        else if (json)
            rc = printf("%.*s\n", (int)out.len, out.data) < 0;
        else
            rc = print_item(out.data);
        goto out;
    }
    nt_action_result_t res;
    if (nt_actions_record(pg, done ? NT_ACTION_DONE : NT_ACTION_SUBMIT, id, outcome, reference,
                          note, &res, &err) != NT_OK) {
        fprintf(stderr, "numtrust-producer %s: item %s: %s\n", cmd, id, err.msg);
        rc = err.code == NT_EINVAL ? 2 : 1;
        goto out;
    }
    if (strcmp(res.effect, "recorded") == 0) {
        printf("item %s (%s): %s%s at %s\n", id, res.kind, done ? "done, " : "submitted",
               done ? res.outcome : "", res.at);
        rc = 0;
    } else if (strcmp(res.effect, "already") == 0) {
        printf("item %s (%s): already %s%s%s at %s; nothing changed\n", id, res.kind, res.state,
               res.outcome[0] ? ", " : "", res.outcome, res.at);
        rc = 0;
    } else if (strcmp(res.effect, "conflict") == 0) {
        fprintf(stderr,
                "numtrust-producer %s: item %s (%s) was done with outcome %s at %s; \"%s\" not "
                "recorded\n",
                cmd, id, res.kind, res.outcome, res.at, outcome);
    } else {
        fprintf(stderr, "numtrust-producer %s: item %s: no such action item\n", cmd, id);
    }
out:
    nt_buf_free(&out);
    nt_pg_free(pg);
    return rc;
}

int cmd_actions(cli_t *cli, int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(cli_t *cli, int argc, char **argv);
    } verbs[] = {
        {"list", actions_list},
        {"show", actions_item},
        {"submit", actions_item},
        {"done", actions_item},
    };
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            actions_usage(stdout);
            return 0;
        }
    }
    if (argc < 2)
        return cli_usage_error("actions", "which? list, show, submit or done");
    for (size_t v = 0; v < NT_ARRAY_LEN(verbs); v++)
        if (strcmp(argv[1], verbs[v].name) == 0)
            return verbs[v].run(cli, argc, argv);
    return cli_usage_error("actions", "unknown subcommand \"%s\" (list, show, submit, done)",
                           argv[1]);
}
