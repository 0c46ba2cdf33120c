/*
 * test_platforms_extends.c — templates in platforms.json ("templates" and
 * "extends", docs/platforms.md): a platform that extends a template behaves
 * exactly as the same platform written out in full (every request it builds
 * is the same); members replace, objects merge, null removes, arrays
 * replace; templates extend templates; and each mistake is named: an unknown
 * template, a name that is not a string, a cycle, "templates" that is not
 * an object.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "check.h"
#include "platforms.h"

/* One platform written in full, and the same split into a template. */
static const char full[] =
    "{\"platforms\":[{\"id\":\"p1\",\"name\":\"P one\",\"dialect\":\"a\","
    " \"base_url\":\"http://127.0.0.1:1/p/p1\",\"auth\":{\"type\":\"none\"},"
    " \"surfaces\":[\"android\"],\"rate_limit\":{\"qps\":50,\"burst\":5},"
    " \"values\":{\"tag_state\":{\"1\":\"pending_review\",\"2\":\"applied\"}},"
    " \"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/v1/{number_enc}\","
    "   \"result\":{\"cert_status\":\"/cert\",\"label_android\":\"/a\"}},"
    "  \"tag_update\":{\"method\":\"POST\",\"path\":\"/v1/label\","
    "   \"body\":{\"n\":\"{number}\",\"l\":\"{label}\"},"
    "   \"result\":{\"ticket\":\"/t\",\"state\":\"/s\"}}}}]}";

static const char extended[] =
    "{\"templates\":{"
    "  \"base\":{\"auth\":{\"type\":\"none\"},\"rate_limit\":{\"qps\":10,\"burst\":5},"
    "   \"values\":{\"tag_state\":{\"1\":\"pending_review\",\"2\":\"applied\"}}},"
    "  \"dialect-a\":{\"extends\":\"base\",\"dialect\":\"a\","
    "   \"surfaces\":[\"android\",\"ios\",\"search\"],"
    "   \"ops\":{\"check\":{\"method\":\"GET\",\"path\":\"/v1/{number_enc}\","
    "     \"result\":{\"cert_status\":\"/cert\",\"label_android\":\"/a\",\"label_ios\":\"/i\"}},"
    "    \"tag_update\":{\"method\":\"POST\",\"path\":\"/v1/label\","
    "     \"body\":{\"n\":\"{number}\",\"l\":\"{label}\"},"
    "     \"result\":{\"ticket\":\"/t\",\"state\":\"/s\"}},"
    "    \"appeal_status\":{\"method\":\"GET\",\"path\":\"/v1/a/{ticket_enc}\","
    "     \"result\":{\"state\":\"/s\"}}}}},"
    " \"platforms\":[{\"id\":\"p1\",\"extends\":\"dialect-a\",\"name\":\"P one\","
    "  \"base_url\":\"http://127.0.0.1:1/p/p1\",\"surfaces\":[\"android\"],"
    "  \"rate_limit\":{\"qps\":50},"
    "  \"ops\":{\"check\":{\"result\":{\"label_ios\":null}},\"appeal_status\":null}}]}";

/* Every request p builds for each operation it has, concatenated. */
static void requests(const nt_platform_t *p, nt_buf_t *out)
{
    nt_adapter_req_t req = {.job_id = "00000000-0000-5000-8000-000000000000",
                            .number = "+8613800138000",
                            .label = "Acme",
                            .mark_type = "fraud",
                            .evidence = "ours",
                            .ticket = "T-1"};
    for (int op = 0; op < NT_OP_N; op++) {
        nt_http_call_t call;
        nt_buf_t url, body;
        nt_err_t err;
        memset(&call, 0, sizeof(call));
        nt_buf_init(&url, 0);
        nt_buf_init(&body, 0);
        int rc = nt_platform_has_op(p, (nt_op_t)op)
                     ? nt_adapter_build(p, (nt_op_t)op, &req, 1764288000, &call, &url, &body, &err)
                     : NT_ENOENT;
        CHECK(nt_buf_printf(out, "%s %d %s %.*s %.*s|", nt_op_name((nt_op_t)op), rc,
                            call.method ? call.method : "-", (int)url.len, url.data ? url.data : "",
                            (int)body.len, body.data ? body.data : "") == NT_OK);
        for (const struct curl_slist *h = call.headers; h != NULL; h = h->next)
            CHECK(nt_buf_printf(out, "%s;", h->data) == NT_OK);
        curl_slist_free_all(call.headers);
        nt_buf_free(&url);
        nt_buf_free(&body);
    }
}

static void test_same_as_full(void)
{
    nt_err_t err;
    nt_platforms_t *a = nt_platforms_parse(full, strlen(full), "full", &err);
    CHECKF(a != NULL, "full: %s", err.msg);
    nt_platforms_t *b = nt_platforms_parse(extended, strlen(extended), "extended", &err);
    CHECKF(b != NULL, "extended: %s", err.msg);
    if (a == NULL || b == NULL) {
        nt_platforms_free(a);
        nt_platforms_free(b);
        return;
    }
    const nt_platform_t *pa = nt_platforms_find(a, "p1"), *pb = nt_platforms_find(b, "p1");
    CHECK_STR(nt_platform_name(pb), nt_platform_name(pa));
    CHECK_STR(nt_platform_dialect(pb), "a");
    CHECK_INT(nt_platform_surfaces(pb), nt_platform_surfaces(pa)); /* arrays replace */
    CHECK(nt_platform_qps(pb) == 50);                              /* objects merge... */
    CHECK_INT(nt_platform_burst(pb), 5);                           /* ...member by member */
    CHECK(!nt_platform_has_op(pb, NT_OP_APPEAL_STATUS));           /* null removes */
    char state[32];
    CHECK_INT(nt_platform_map_state(pb, NT_OP_TAG_UPDATE, "2", state, sizeof(state)), NT_OK);
    CHECK_STR(state, "applied");
    nt_buf_t ra, rb;
    nt_buf_init(&ra, 0);
    nt_buf_init(&rb, 0);
    requests(pa, &ra);
    requests(pb, &rb);
    CHECK(nt_buf_putc(&ra, '\0') == NT_OK && nt_buf_putc(&rb, '\0') == NT_OK);
    CHECK_STR(rb.data, ra.data);
    CHECK(strstr(ra.data, "tag_update 0 POST http://127.0.0.1:1/p/p1/v1/label") != NULL);
    nt_buf_free(&ra);
    nt_buf_free(&rb);
    nt_platforms_free(a);
    nt_platforms_free(b);
}

static void test_errors(void)
{
    static const struct {
        const char *name, *json, *want;
    } rows[] = {
        {"unknown template",
         "{\"templates\":{},\"platforms\":[{\"id\":\"p1\",\"extends\":\"nope\"}]}",
         "platform p1: key extends: \"nope\" is not an object of \"templates\""},
        {"no templates at all", "{\"platforms\":[{\"id\":\"p1\",\"extends\":\"x\"}]}",
         "key extends: \"x\" is not an object of \"templates\""},
        {"not a name", "{\"templates\":{},\"platforms\":[{\"id\":\"p1\",\"extends\":3}]}",
         "key extends: want the name of a template"},
        {"a cycle",
         "{\"templates\":{\"x\":{\"extends\":\"y\"},\"y\":{\"extends\":\"x\"}},"
         "\"platforms\":[{\"id\":\"p1\",\"extends\":\"x\"}]}",
         "more than 8 deep (a cycle?)"},
        {"templates not an object", "{\"templates\":[],\"platforms\":[{\"id\":\"p1\"}]}",
         "\"templates\" must be an object of objects"},
        {"merged result still checked",
         "{\"templates\":{\"t\":{\"base_url\":\"ftp://x\"}},"
         "\"platforms\":[{\"id\":\"p1\",\"extends\":\"t\"}]}",
         "platform p1: key base_url: \"ftp://x\" is not an http:// or https:// URL"},
        {"unknown top-level key", "{\"template\":{},\"platforms\":[{\"id\":\"p1\"}]}",
         "unknown top-level key \"template\""},
    };
    for (size_t i = 0; i < NT_ARRAY_LEN(rows); i++) {
        nt_err_t err;
        nt_err_clear(&err);
        nt_platforms_t *ps = nt_platforms_parse(rows[i].json, strlen(rows[i].json), "f.json", &err);
        CHECKF(ps == NULL, "%s: loaded", rows[i].name);
        nt_platforms_free(ps);
        CHECK_CONTAINS(rows[i].name, err.msg, rows[i].want);
        CHECK_CONTAINS(rows[i].name, err.msg, "f.json");
    }
}

int main(void)
{
    test_same_as_full();
    test_errors();
    CHECK_DONE();
}
