/*
 * test_parsers.c — the parsers of lib/http on server text, without a
 * server (the cases their fuzz targets found or guard): Content-Range
 * (strict digits, no sign, no missing or smaller total, no overflow, no
 * silent truncation of a long value), ETag (kept whole or not at all,
 * no control bytes, round trip through the CompleteMultipartUpload body),
 * the small XML answers of multipart uploads, ListObjectsV2 pages (keys
 * with entities, nested elements not taken for Contents fields, a Size that
 * is not a number, a Contents without a Key, a key too long, stopping) and
 * the shared credentials file (profiles, "profile NAME", CR LF, a line
 * longer than 4 KiB that the old fgets loop split in two).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "http_internal.h"
#include "testutil.h"

static int cr(const char *v, uint64_t *a, uint64_t *b, uint64_t *t)
{
    return lsio__parse_content_range(v, strlen(v), a, b, t);
}

typedef struct got {
    int n, stop_at;
    char locs[4][64];
    uint64_t sizes[4];
} got;

static int on_obj(void *ctx, const char *loc, uint64_t size)
{
    got *g = ctx;
    if (g->n < 4) {
        snprintf(g->locs[g->n], sizeof g->locs[0], "%s", loc);
        g->sizes[g->n] = size;
    }
    g->n++;
    return g->stop_at && g->n == g->stop_at;
}

static int list(const char *xml, got *g, s3_page *page)
{
    memset(g->locs, 0, sizeof g->locs);
    g->n = 0;
    return lsio__s3_parse_list_page("bkt", xml, strlen(xml), on_obj, g, page);
}

static void test_content_range(void)
{
    uint64_t a, b, t;
    CHECK_EQ(cr("bytes 0-99/1000", &a, &b, &t), 0);
    CHECK(a == 0 && b == 99 && t == 1000);
    CHECK_EQ(cr("  BYTES 7-7/*\r\n", &a, &b, &t), 0);
    CHECK(a == 7 && b == 7 && t == UINT64_MAX);
    CHECK_EQ(cr("bytes 0-18446744073709551614/18446744073709551615", &a, &b, &t), -1); /* total = max */
    CHECK_EQ(cr("bytes 0-18446744073709551614/*", &a, &b, &t), 0);
    const char *bad[] = {"bytes -5-10/100", "bytes +5-10/100", "bytes 5- 10/100", "bytes 0-5/",
                         "bytes 0-5/3",     "bytes 0-5/5",     "bytes 10-5/100",  "bytes 0-5/10x",
                         "bytes 0-5",       "bytes=0-5/10",    "bytes0-5/10",     "items 0-5/10",
                         "bytes 0-18446744073709551616/*", "bytes 0-18446744073709551615/*", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (cr(bad[i], &a, &b, &t) == 0) {
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
            CHECK(0);
        }
    /* a long value is parsed whole, not cut at 127 bytes into another total */
    char longv[256];
    snprintf(longv, sizeof longv, "bytes 0-9/%0150d", 20);
    CHECK_EQ(cr(longv, &a, &b, &t), 0);
    CHECK(t == 20);
    /* no NUL needed: the length bounds it */
    CHECK_EQ(lsio__parse_content_range("bytes 1-2/39999", 11, &a, &b, &t), 0);
    CHECK(t == 3);
}

static void test_etag(void)
{
    mp_part p[2];
    memset(p, 0, sizeof p);
    const char *h = "ETag:  \"abc&<>\" \r\n";
    CHECK_EQ(lsio__parse_etag(h, strlen(h), p[0].etag, sizeof p[0].etag), 1);
    CHECK(!strcmp(p[0].etag, "\"abc&<>\""));
    CHECK_EQ(lsio__parse_etag("Etag2: x\r\n", 10, p[1].etag, sizeof p[1].etag), 0);
    CHECK_EQ(lsio__parse_etag("etag: \"x\x01y\"\r\n", 13, p[1].etag, sizeof p[1].etag), 1);
    CHECK(!p[1].etag[0]); /* no XML carries \x01 back */
    char longh[300] = "ETag: \"";
    memset(longh + 7, 'a', 200);
    CHECK_EQ(lsio__parse_etag(longh, strlen(longh), p[1].etag, sizeof p[1].etag), 1);
    CHECK(!p[1].etag[0]); /* not a truncated ETag */
    snprintf(p[1].etag, sizeof p[1].etag, "\"2\"");
    size_t n = 0;
    char *xml = lsio__mp_complete_body(p, 2, &n);
    CHECK(xml);
    CHECK(strstr(xml, "<Part><PartNumber>1</PartNumber><ETag>\"abc&amp;&lt;&gt;\"</ETag></Part>"));
    char back[128], root[32];
    CHECK_EQ(lsio__xml_get(xml, n, "ETag", back, sizeof back, root), 0);
    CHECK(!strcmp(back, "\"abc&<>\"") && !strcmp(root, "CompleteMultipartUpload"));
    free(xml);
}

static void test_xml_get(void)
{
    char out[16], root[32];
    const char *init = "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>b</Bucket>"
                       "<UploadId>ab&amp;c</UploadId><UploadId>no</UploadId>"
                       "</InitiateMultipartUploadResult>";
    CHECK_EQ(lsio__xml_get(init, strlen(init), "UploadId", out, sizeof out, root), 0);
    CHECK(!strcmp(out, "ab&c") && !strcmp(root, "InitiateMultipartUploadResult"));
    const char *big = "<R><UploadId>0123456789abcdefXYZ</UploadId></R>";
    CHECK_EQ(lsio__xml_get(big, strlen(big), "UploadId", out, sizeof out, root), -1);
    CHECK(!out[0]); /* too long: not a truncated id */
    CHECK_EQ(lsio__xml_get("<R><Code>x</Co", 14, "Code", out, sizeof out, root), -1);
    CHECK_EQ(lsio__xml_get(NULL, 0, "Code", out, sizeof out, root), -1);
}

static void test_list(void)
{
    got g = {0};
    s3_page page;
    const char *ok = "<?xml version=\"1.0\"?><ListBucketResult><Name>bkt</Name>"
                     "<IsTruncated>true</IsTruncated><NextContinuationToken>t/k=</NextContinuationToken>"
                     "<Contents><Key>a/x&amp;y</Key><Size>12</Size><Owner><ID>o</ID><Key>no</Key>"
                     "</Owner></Contents><Contents><Key>b</Key><Size>0</Size></Contents>"
                     "<CommonPrefixes><Prefix>c/</Prefix></CommonPrefixes></ListBucketResult>";
    CHECK_EQ(list(ok, &g, &page), 0);
    CHECK_EQ(g.n, 2);
    CHECK(!strcmp(g.locs[0], "s3://bkt/a/x&y") && g.sizes[0] == 12);
    CHECK(!strcmp(g.locs[1], "s3://bkt/b") && g.sizes[1] == 0);
    CHECK(page.truncated && !strcmp(page.next, "t/k=") && !page.stopped);
    g.stop_at = 1;
    CHECK_EQ(list(ok, &g, &page), 0);
    CHECK(g.n == 1 && page.stopped);
    g.stop_at = 0;
    const char *bad_size = "<L><Contents><Key>k</Key><Size>12x</Size></Contents></L>";
    CHECK_EQ(list(bad_size, &g, &page), -LSIO_EFORMAT);
    CHECK(g.n == 0 && strstr(page.why, "Size"));
    const char *no_key = "<L><Contents><Size>1</Size></Contents></L>";
    CHECK_EQ(list(no_key, &g, &page), -LSIO_EFORMAT);
    CHECK(strstr(page.why, "Key"));
    CHECK_EQ(list("<L><Contents><Key>k</Key>", &g, &page), -LSIO_EFORMAT);
    CHECK(strstr(page.why, "bad XML"));
    static char longkey[4096];
    int n = snprintf(longkey, sizeof longkey, "<L><Contents><Key>");
    memset(longkey + n, 'k', 2100);
    snprintf(longkey + n + 2100, sizeof longkey - (size_t)n - 2100, "</Key><Size>1</Size></Contents></L>");
    CHECK_EQ(list(longkey, &g, &page), -LSIO_EFORMAT); /* not listed under a cut key */
    CHECK_EQ(g.n, 0);
}

static void test_profile(void)
{
    remote_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    const char *t = "# c\n[default]\naws_access_key_id = D\n\n[profile dev]\r\n"
                    "  aws_access_key_id = DEV  \r\naws_secret_access_key=S/x=\r\n"
                    "aws_session_token=T\nregion = eu-west-1\n[other]\naws_access_key_id=O\n";
    CHECK_EQ(lsio__aws_profile_parse(t, strlen(t), "dev", &cfg), 0);
    CHECK(cfg.key_id && !strcmp(cfg.key_id, "DEV"));
    CHECK(cfg.secret && !strcmp(cfg.secret, "S/x="));
    CHECK(cfg.token && !strcmp(cfg.token, "T"));
    CHECK(cfg.region && !strcmp(cfg.region, "eu-west-1"));
    free(cfg.key_id), free(cfg.secret), free(cfg.token), free(cfg.region);
    memset(&cfg, 0, sizeof cfg);
    /* a comment line of 4 KiB whose tail looks like a key: one line */
    static char lng[8192];
    int n = snprintf(lng, sizeof lng, "[default]\n# ");
    memset(lng + n, 'x', 4093); /* fgets(4096) would cut just before "aws_" */
    snprintf(lng + n + 4093, sizeof lng - (size_t)n - 4093, "aws_access_key_id=WRONG\naws_secret_access_key=s\n");
    CHECK_EQ(lsio__aws_profile_parse(lng, strlen(lng), "default", &cfg), 0);
    CHECK(!cfg.key_id && cfg.secret && !strcmp(cfg.secret, "s"));
    free(cfg.secret);
}

int main(void)
{
    test_content_range();
    test_etag();
    test_xml_get();
    test_list();
    test_profile();
    printf("ok\n");
    return 0;
}
