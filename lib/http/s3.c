/*
 * s3.c — configuration of the remote backends and what only S3 needs:
 * credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
 * else the AWS_PROFILE (or opts->profile, or "default") section of
 * ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE overrides the path)),
 * region (opts->region, AWS_REGION, AWS_DEFAULT_REGION, "us-east-1"),
 * endpoint (opts->endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL),
 * addressing (path-style automatically for a custom endpoint, else
 * virtual-hosted), anonymous access (opts->unsigned_requests or
 * AWS_NO_SIGN_REQUEST=yes), multipart sizes (LSIO_S3_MULTIPART_THRESHOLD,
 * LSIO_S3_PART_SIZE), and ListObjectsV2 with pagination, its XML parsed
 * with expat.
 */
#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"

static char *dup_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? strdup(v) : NULL;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

/* A byte count from the environment ("123", "8M", "1G"), or def when unset
 * or malformed (then 0 < value is guaranteed). */
static uint64_t env_bytes(const char *name, uint64_t def)
{
    const char *v = getenv(name);
    uint64_t n;
    if (!v || lsio_parse_bytes(v, &n) < 0 || n == 0)
        return def;
    return n;
}

static int set_str(char **dst, const char *v)
{
    char *c = strdup(v);
    if (!c)
        return -ENOMEM;
    free(*dst);
    *dst = c;
    return 0;
}

int lsio__aws_profile_parse(const char *text, size_t len, const char *profile, remote_cfg *cfg)
{
    char *buf = malloc(len + 1);
    if (!buf)
        return -ENOMEM;
    memcpy(buf, text, len);
    buf[len] = 0;
    int in = 0, rc = 0;
    for (char *line = buf, *next; line && !rc; line = next) {
        next = memchr(line, '\n', (size_t)(buf + len - line));
        if (next)
            *next++ = 0;
        char *s = trim(line); /* a NUL inside a line ends it */
        if (*s == '#' || *s == ';' || !*s)
            continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (e)
                *e = 0;
            char *name = trim(s + 1);
            if (!strncmp(name, "profile ", 8))
                name = trim(name + 8);
            in = !strcmp(name, profile);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!in || !eq)
            continue;
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        char **dst = !strcmp(k, "aws_access_key_id")       ? &cfg->key_id
                     : !strcmp(k, "aws_secret_access_key") ? &cfg->secret
                     : !strcmp(k, "aws_session_token")     ? &cfg->token
                     : !strcmp(k, "region") && !cfg->region ? &cfg->region
                                                            : NULL;
        if (dst)
            rc = set_str(dst, v);
    }
    memset(buf, 0, len); /* it held the secret */
    free(buf);
    return rc;
}

/* The key id, secret and token of [profile] in the shared credentials file
 * (at most 1 MiB of it is read). */
static int read_profile(remote_cfg *cfg, const char *profile)
{
    char path[4096];
    const char *f = getenv("AWS_SHARED_CREDENTIALS_FILE");
    const char *home = getenv("HOME");
    if (f && *f)
        snprintf(path, sizeof path, "%s", f);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.aws/credentials", home);
    else
        return 0;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    size_t cap = 1 << 20;
    char *text = malloc(cap);
    if (!text) {
        fclose(fp);
        return -ENOMEM;
    }
    size_t n = fread(text, 1, cap, fp);
    fclose(fp);
    int rc = lsio__aws_profile_parse(text, n, profile, cfg);
    memset(text, 0, n);
    free(text);
    return rc;
}

int lsio__remote_cfg_init(remote_cfg *cfg, int is_s3, const lsio_io_opts *o, char **why)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->is_s3 = is_s3;
    if (lsio__remote_idle_create(&cfg->idle) < 0) {
        *why = strdup("out of memory");
        return -ENOMEM;
    }
    cfg->max_connections = o && o->max_connections ? o->max_connections : 32;
    cfg->retries = o && o->retries ? o->retries : 5;
    cfg->timeout_ms = o && o->timeout_ms ? o->timeout_ms : 30000;
    cfg->deadline_ms = o && o->deadline_ms ? o->deadline_ms : 120000;
    cfg->verify_tls = !(o && o->verify_tls == 0);
    if (!is_s3)
        return 0;
    cfg->mp_threshold = o && o->multipart_threshold
                            ? o->multipart_threshold
                            : env_bytes("LSIO_S3_MULTIPART_THRESHOLD", LSIO_S3_MP_THRESHOLD);
    cfg->mp_part = o && o->multipart_part_bytes
                       ? o->multipart_part_bytes
                       : env_bytes("LSIO_S3_PART_SIZE", LSIO_S3_MP_PART);
    cfg->region = o && o->region ? strdup(o->region) : dup_env("AWS_REGION");
    if (!cfg->region)
        cfg->region = dup_env("AWS_DEFAULT_REGION");
    cfg->endpoint = o && o->endpoint ? strdup(o->endpoint) : dup_env("AWS_ENDPOINT_URL_S3");
    if (!cfg->endpoint)
        cfg->endpoint = dup_env("AWS_ENDPOINT_URL");
    const char *nosign = getenv("AWS_NO_SIGN_REQUEST");
    int anonymous = (o && o->unsigned_requests) ||
                    (nosign && (!strcasecmp(nosign, "yes") || !strcasecmp(nosign, "true") ||
                                !strcmp(nosign, "1")));
    if (!anonymous) {
        const char *id = getenv("AWS_ACCESS_KEY_ID"), *sec = getenv("AWS_SECRET_ACCESS_KEY");
        const char *prof = o && o->profile ? o->profile : getenv("AWS_PROFILE");
        if (id && *id && sec && *sec && !(o && o->profile)) {
            cfg->key_id = strdup(id);
            cfg->secret = strdup(sec);
            cfg->token = dup_env("AWS_SESSION_TOKEN");
        } else {
            if (read_profile(cfg, prof && *prof ? prof : "default") < 0) {
                lsio__remote_cfg_free(cfg);
                *why = strdup("out of memory");
                return -ENOMEM;
            }
        }
        if (!cfg->key_id || !cfg->secret) {
            lsio__remote_cfg_free(cfg);
            *why = strdup("no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                          "a ~/.aws/credentials profile, or AWS_NO_SIGN_REQUEST=yes)");
            return -EACCES;
        }
    }
    if (!cfg->region)
        cfg->region = strdup("us-east-1");
    if (cfg->endpoint) {
        size_t n = strlen(cfg->endpoint);
        while (n && cfg->endpoint[n - 1] == '/')
            cfg->endpoint[--n] = 0;
    }
    int ps = o ? o->path_style : -1;
    cfg->path_style = ps >= 0 ? ps : cfg->endpoint != NULL;
    snprintf(cfg->sigv4, sizeof cfg->sigv4, "aws:amz:%s:s3", cfg->region);
    if (!cfg->region || (cfg->key_id && !cfg->secret)) {
        lsio__remote_cfg_free(cfg);
        *why = strdup("out of memory");
        return -ENOMEM;
    }
    return 0;
}

void lsio__remote_cfg_free(remote_cfg *cfg)
{
    lsio__remote_idle_destroy(cfg->idle);
    free(cfg->region);
    free(cfg->endpoint);
    free(cfg->key_id);
    if (cfg->secret) /* do not leave the secret in freed memory */
        memset(cfg->secret, 0, strlen(cfg->secret));
    free(cfg->secret);
    free(cfg->token);
    memset(cfg, 0, sizeof *cfg);
}

/* ------------------------------------------------------------ ListObjectsV2 */

typedef struct list_parse {
    int depth, contents; /* depth of the open Contents element, or 0 */
    char text[2048];     /* text of the element now open (keys: 1024 bytes) */
    size_t tlen;
    int overflow;
    char key[2048];
    int has_key;
    uint64_t size;
    const char *bucket;
    lsio_list_fn fn;
    void *ctx;
    s3_page *page;
    int err;
} list_parse;

static void list_fail(list_parse *p, int err, const char *why)
{
    if (!p->err) {
        p->err = err;
        snprintf(p->page->why, sizeof p->page->why, "%s", why);
    }
}

static void x_start(void *ud, const XML_Char *name, const XML_Char **attr)
{
    (void)attr;
    list_parse *p = ud;
    p->depth++;
    if (!p->contents && p->depth == 2 && !strcmp(name, "Contents")) {
        p->contents = p->depth;
        p->has_key = 0;
        p->key[0] = 0;
        p->size = 0;
    }
    p->tlen = 0;
    p->overflow = 0;
    p->text[0] = 0;
}

static void x_text(void *ud, const XML_Char *s, int len)
{
    list_parse *p = ud;
    size_t n = len > 0 ? (size_t)len : 0;
    if (p->tlen + n >= sizeof p->text) {
        p->overflow = 1;
        n = sizeof p->text - 1 - p->tlen;
    }
    memcpy(p->text + p->tlen, s, n);
    p->tlen += n;
    p->text[p->tlen] = 0;
}

static void x_end(void *ud, const XML_Char *name)
{
    list_parse *p = ud;
    int child = p->contents && p->depth == p->contents + 1; /* of Contents */
    int top = p->depth == 2;                                /* of the root */
    if ((child || top) && p->overflow &&
        (!strcmp(name, "Key") || !strcmp(name, "NextContinuationToken")))
        list_fail(p, -LSIO_EFORMAT, "a Key or continuation token too long");
    if (child && !strcmp(name, "Key")) {
        memcpy(p->key, p->text, p->tlen + 1);
        p->has_key = 1;
    } else if (child && !strcmp(name, "Size")) {
        char *end;
        p->size = strtoull(p->text, &end, 10);
        if (!p->tlen || p->text[0] < '0' || p->text[0] > '9' || *end)
            list_fail(p, -LSIO_EFORMAT, "a Size that is not a number");
    } else if (p->contents && p->depth == p->contents) { /* </Contents> */
        p->contents = 0;
        if (!p->has_key || !p->key[0])
            list_fail(p, -LSIO_EFORMAT, "a Contents entry without a Key");
        if (!p->err && !p->page->stopped) {
            char *loc = NULL;
            if (asprintf(&loc, "s3://%s/%s", p->bucket, p->key) < 0) {
                list_fail(p, -ENOMEM, "out of memory");
            } else {
                p->page->stopped = p->fn(p->ctx, loc, p->size) != 0;
                free(loc);
            }
        }
    } else if (top && !strcmp(name, "IsTruncated")) {
        p->page->truncated = !strcmp(p->text, "true");
    } else if (top && !strcmp(name, "NextContinuationToken") && !p->overflow) {
        memcpy(p->page->next, p->text, p->tlen + 1);
    }
    p->depth--;
    p->tlen = 0;
    p->overflow = 0;
    p->text[0] = 0;
}

int lsio__s3_parse_list_page(const char *bucket, const char *body, size_t len, lsio_list_fn fn,
                             void *ctx, s3_page *page)
{
    memset(page, 0, sizeof *page);
    if (len > INT_MAX) {
        snprintf(page->why, sizeof page->why, "a page of %zu bytes", len);
        return -LSIO_EFORMAT;
    }
    list_parse p = {.bucket = bucket, .fn = fn, .ctx = ctx, .page = page};
    XML_Parser xp = XML_ParserCreate(NULL);
    if (!xp)
        return -ENOMEM;
    XML_SetUserData(xp, &p);
    XML_SetElementHandler(xp, x_start, x_end);
    XML_SetCharacterDataHandler(xp, x_text);
    if (XML_Parse(xp, body ? body : "", (int)len, 1) == XML_STATUS_ERROR && !p.err) {
        p.err = -LSIO_EFORMAT;
        snprintf(page->why, sizeof page->why, "bad XML at line %lu: %s",
                 (unsigned long)XML_GetCurrentLineNumber(xp),
                 XML_ErrorString(XML_GetErrorCode(xp)));
    }
    XML_ParserFree(xp);
    return p.err;
}

int lsio__s3_list(const remote_cfg *cfg, const char *prefix, lsio_list_fn fn, void *ctx)
{
    if (strncmp(prefix, "s3://", 5) != 0)
        return lsio_error(-EINVAL, "list %s: not an s3:// location", prefix);
    const char *b = prefix + 5, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    if (!blen || blen > 255)
        return lsio_error(-EINVAL, "list %s: no bucket", prefix);
    char bucket[256], bucket_loc[264];
    memcpy(bucket, b, blen);
    bucket[blen] = 0;
    snprintf(bucket_loc, sizeof bucket_loc, "s3://%s/", bucket);
    char *pfx = lsio__uri_encode(slash ? slash + 1 : "", 0);
    if (!pfx)
        return -ENOMEM;
    s3_page p = {0};
    int rc = 0;
    for (int page = 0; !rc; page++) {
        /* parameters in sorted order: libcurl signs the query as given */
        char *tok = lsio__uri_encode(p.next, 0), *query = NULL, *url = NULL;
        if (!tok || asprintf(&query, "%s%s%slist-type=2&prefix=%s", page ? "continuation-token=" : "",
                             page ? tok : "", page ? "&" : "", pfx) < 0) {
            free(tok);
            rc = -ENOMEM;
            break;
        }
        free(tok);
        int e = 0;
        url = lsio__remote_url(cfg, bucket_loc, query, &e);
        free(query);
        if (!url) {
            rc = e;
            break;
        }
        char *body = NULL;
        size_t blen2 = 0;
        rc = lsio__remote_sync(cfg, "GET", url, &body, &blen2, NULL, NULL);
        if (rc < 0) {
            free(url);
            break;
        }
        rc = lsio__s3_parse_list_page(bucket, body, blen2, fn, ctx, &p);
        if (rc == -LSIO_EFORMAT)
            rc = lsio_error(rc, "list %s: GET %s: %s", prefix, url, p.why);
        free(body);
        free(url);
        if (rc || p.stopped || !p.truncated)
            break;
        if (!p.next[0]) {
            rc = lsio_error(-LSIO_EFORMAT, "list %s: truncated page without a continuation token",
                            prefix);
            break;
        }
    }
    free(pfx);
    return rc;
}
