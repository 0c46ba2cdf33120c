/*
 * test_xml.c — XML bodies to cJSON and back (common/xml.h): the mapping
 * table of xml.h row by row, the refusals (DTDs, entities, depth, bad
 * input), and rendering with escaping.
 */
#include <stdlib.h>

#include "check.h"
#include "xml.h"

/* Parses xml and prints the tree unformatted; "ERR: <message>" on failure. */
static void parse_text(const char *xml, char *out, size_t outsz)
{
    nt_err_t err;
    nt_err_clear(&err);
    cJSON *root = nt_xml_parse(xml, strlen(xml), &err);
    if (root == NULL) {
        snprintf(out, outsz, "ERR: %s", err.msg);
        return;
    }
    char *s = cJSON_PrintUnformatted(root);
    snprintf(out, outsz, "%s", s);
    cJSON_free(s);
    cJSON_Delete(root);
}

static void test_parse(void)
{
    static const struct {
        const char *xml;
        const char *want; /* JSON, or a prefix of the error after "ERR: " */
    } cases[] = {
        {"<a>text</a>", "{\"a\":\"text\"}"},
        {"<a/>", "{\"a\":\"\"}"},
        {"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r><code>0</code><msg>ok</msg></r>",
         "{\"r\":{\"code\":\"0\",\"msg\":\"ok\"}}"},
        {"<r>\n  <m><t>A</t></m>\n  <m><t>B</t></m>\n  <m><t>C</t></m>\n</r>",
         "{\"r\":{\"m\":[{\"t\":\"A\"},{\"t\":\"B\"},{\"t\":\"C\"}]}}"},
        {"<a id=\"7\">x</a>", "{\"a\":{\"@id\":\"7\",\"#text\":\"x\"}}"},
        {"<a>&lt;&amp;&gt; &#x9A9A;</a>", "{\"a\":\"<&> 骚\"}"},
        {"<a><![CDATA[<b>]]></a>", "{\"a\":\"<b>\"}"},
        {"<a>骚扰电话</a>", "{\"a\":\"骚扰电话\"}"},
        {"<ns:a xmlns:ns=\"urn:x\"><ns:b>1</ns:b></ns:a>",
         "{\"a\":{\"b\":\"1\"}}"}, /* prefixes and declarations dropped */
        {"", "ERR: not well-formed XML"},
        {"<a>", "ERR: not well-formed XML"},
        {"<a></b>", "ERR: not well-formed XML"},
        {"{\"code\":0}", "ERR: not well-formed XML"},
        {"<a>&undefined;</a>", "ERR: "},
        /* entity expansion and external entities: a DTD is refused outright */
        {"<!DOCTYPE a [<!ENTITY x \"xx\"><!ENTITY y \"&x;&x;&x;&x;\">]><a>&y;</a>",
         "ERR: XML with a DTD is refused"},
        {"<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
         "ERR: XML with a DTD is refused"},
        {"<!DOCTYPE a SYSTEM \"http://127.0.0.1:1/x.dtd\"><a/>", "ERR: XML with a DTD is refused"},
    };
    char out[512];
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        parse_text(cases[i].xml, out, sizeof(out));
        if (strncmp(cases[i].want, "ERR: ", 5) == 0) {
            if (strncmp(out, cases[i].want, strlen(cases[i].want)) != 0)
                fprintf(stderr, "case %zu: %s\n", i, cases[i].xml);
            CHECK(strncmp(out, cases[i].want, strlen(cases[i].want)) == 0);
        } else {
            if (strcmp(out, cases[i].want) != 0)
                fprintf(stderr, "case %zu: %s\n", i, cases[i].xml);
            CHECK_STR(out, cases[i].want);
        }
    }
    /* depth: NT_XML_MAX_DEPTH levels pass, one more is refused */
    char deep[2048] = "";
    for (int ok = 0; ok < 2; ok++) {
        int n = NT_XML_MAX_DEPTH + (ok ? 0 : 1);
        deep[0] = '\0';
        for (int i = 0; i < n; i++)
            strcat(deep, "<d>");
        strcat(deep, "x");
        for (int i = 0; i < n; i++)
            strcat(deep, "</d>");
        parse_text(deep, out, sizeof(out));
        CHECK(ok ? strncmp(out, "{\"d\":", 5) == 0 : strstr(out, "deeper than") != NULL);
    }
    /* not NUL-terminated: only len bytes are read */
    nt_err_t err;
    cJSON *root = nt_xml_parse("<a>1</a>GARBAGE", 8, &err);
    CHECK(root != NULL);
    cJSON_Delete(root);
}

static void test_render(void)
{
    static const struct {
        const char *json;
        const char *want; /* after the declaration; or "ERR: ..." */
    } cases[] = {
        {"{\"card\":{\"number\":\"+8613800138000\",\"name\":\"A&B <公司>\"}}",
         "<card><number>+8613800138000</number><name>A&amp;B &lt;公司&gt;</name></card>"},
        {"{\"r\":{\"@v\":\"1\",\"n\":[\"a\",\"b\"],\"x\":7,\"t\":true,\"z\":null}}",
         "<r v=\"1\"><n>a</n><n>b</n><x>7</x><t>true</t><z/></r>"},
        {"{\"a\":\"x\",\"b\":\"y\"}", "ERR: an XML body needs one root element"},
        {"{\"a\":{\"1x\":\"y\"}}", "ERR: \"1x\" is not an XML element name"},
        {"{\"a\":{\"b\":[[1]]}}", "ERR: \"b\": an array inside an array"},
    };
    static const char decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    for (size_t i = 0; i < NT_ARRAY_LEN(cases); i++) {
        cJSON *root = cJSON_Parse(cases[i].json);
        nt_buf_t out;
        nt_err_t err;
        nt_err_clear(&err);
        nt_buf_init(&out, 0);
        int rc = nt_xml_render(root, &out, &err);
        if (strncmp(cases[i].want, "ERR: ", 5) == 0) {
            CHECK_INT(rc, NT_EINVAL);
            CHECK_STR(err.msg, cases[i].want + 5);
        } else {
            CHECK_INT(rc, NT_OK);
            if (rc == NT_OK && nt_buf_putc(&out, '\0') == NT_OK) {
                CHECK(strncmp(out.data, decl, strlen(decl)) == 0);
                CHECK_STR(out.data + strlen(decl), cases[i].want);
                /* and back: the rendered body parses */
                cJSON *back = nt_xml_parse(out.data, out.len - 1, &err);
                CHECK(back != NULL);
                cJSON_Delete(back);
            }
        }
        nt_buf_free(&out);
        cJSON_Delete(root);
    }
}

int main(void)
{
    test_parse();
    test_render();
    CHECK_DONE();
}
