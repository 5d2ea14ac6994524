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
    if (!v || !*v)
        return def;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    int shift = 0;
    switch (*end) {
    case 'k': case 'K': shift = 10; end++; break;
    case 'm': case 'M': shift = 20; end++; break;
    case 'g': case 'G': shift = 30; end++; break;
    default: break;
    }
    if (end == v || *end || n == 0 || n > (UINT64_MAX >> shift))
        return def;
    return (uint64_t)n << shift;
}

/* The key id, secret and token of [profile] in the shared credentials file. */
static void read_profile(remote_cfg *cfg, const char *profile)
{
    char path[4096];
    const char *f = getenv("AWS_SHARED_CREDENTIALS_FILE");
    const char *home = getenv("HOME");
    if (f && *f)
        snprintf(path, sizeof path, "%s", f);
    else if (home && *home)
        snprintf(path, sizeof path, "%s/.aws/credentials", home);
    else
        return;
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    char line[4096];
    int in = 0;
    while (fgets(line, sizeof line, fp)) {
        char *s = trim(line);
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
        if (dst) {
            free(*dst);
            *dst = strdup(v);
        }
    }
    fclose(fp);
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
            read_profile(cfg, prof && *prof ? prof : "default");
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
    int depth, in_contents;
    char field[32];  /* element whose text we collect */
    char text[2048]; /* its text so far */
    size_t tlen;
    char key[2048];
    uint64_t size;
    int truncated;
    char next[2048];
    const char *bucket;
    lsio_list_fn fn;
    void *ctx;
    int stop, err;
} list_parse;

static void x_start(void *ud, const XML_Char *name, const XML_Char **attr)
{
    (void)attr;
    list_parse *p = ud;
    p->depth++;
    if (!strcmp(name, "Contents")) {
        p->in_contents = 1;
        p->key[0] = 0;
        p->size = 0;
    }
    snprintf(p->field, sizeof p->field, "%s", name);
    p->tlen = 0;
    p->text[0] = 0;
}

static void x_text(void *ud, const XML_Char *s, int len)
{
    list_parse *p = ud;
    size_t n = (size_t)len;
    if (p->tlen + n >= sizeof p->text)
        n = sizeof p->text - 1 - p->tlen;
    memcpy(p->text + p->tlen, s, n);
    p->tlen += n;
    p->text[p->tlen] = 0;
}

static void x_end(void *ud, const XML_Char *name)
{
    list_parse *p = ud;
    p->depth--;
    if (p->in_contents && !strcmp(name, "Key")) {
        snprintf(p->key, sizeof p->key, "%s", p->text);
    } else if (p->in_contents && !strcmp(name, "Size")) {
        p->size = strtoull(p->text, NULL, 10);
    } else if (!strcmp(name, "Contents")) {
        p->in_contents = 0;
        if (!p->stop && p->key[0]) {
            char *loc = NULL;
            if (asprintf(&loc, "s3://%s/%s", p->bucket, p->key) < 0) {
                p->err = -ENOMEM;
                p->stop = 1;
            } else {
                p->stop = p->fn(p->ctx, loc, p->size) != 0;
                free(loc);
            }
        }
    } else if (!p->in_contents && p->depth == 1 && !strcmp(name, "IsTruncated")) {
        p->truncated = !strcmp(p->text, "true");
    } else if (!p->in_contents && p->depth == 1 && !strcmp(name, "NextContinuationToken")) {
        snprintf(p->next, sizeof p->next, "%s", p->text);
    }
    p->tlen = 0;
    p->text[0] = 0;
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
    list_parse p = {.bucket = bucket, .fn = fn, .ctx = ctx};
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
        XML_Parser xp = XML_ParserCreate(NULL);
        if (!xp) {
            free(body);
            free(url);
            rc = -ENOMEM;
            break;
        }
        p.truncated = 0;
        p.next[0] = 0;
        p.depth = 0;
        XML_SetUserData(xp, &p);
        XML_SetElementHandler(xp, x_start, x_end);
        XML_SetCharacterDataHandler(xp, x_text);
        if (XML_Parse(xp, body, (int)blen2, 1) == XML_STATUS_ERROR)
            rc = lsio_error(-LSIO_EFORMAT, "list %s: GET %s: bad XML at line %lu: %s", prefix, url,
                            (unsigned long)XML_GetCurrentLineNumber(xp),
                            XML_ErrorString(XML_GetErrorCode(xp)));
        XML_ParserFree(xp);
        free(body);
        free(url);
        if (p.err)
            rc = p.err;
        if (rc || p.stop || !p.truncated)
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
