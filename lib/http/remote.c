/*
 * remote.c — request plumbing shared by the http and s3 backends: building
 * the URL of a location, the curl options every request gets (timeouts,
 * TLS verification, keep-alive, SigV4 signing through CURLOPT_AWS_SIGV4),
 * the retry policy (which failures are worth another attempt, backoff with
 * jitter) and synchronous requests (HEAD for a size, DELETE, list pages).
 *
 * Signing: libcurl signs with "aws:amz:REGION:s3"; we add
 * `x-amz-content-sha256: UNSIGNED-PAYLOAD` (S3 requires the header; an
 * unsigned payload is accepted for GET, HEAD, DELETE and PUT), and
 * `x-amz-security-token` for temporary credentials. The key id and secret
 * go through CURLOPT_USERNAME/PASSWORD, never in a URL.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "http_internal.h"

char *lsio__uri_encode(const char *s, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *o = malloc(3 * n + 1), *p = o;
    if (!o)
        return NULL;
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '_' || *c == '.' || *c == '~' || (keep_slash && *c == '/')) {
            *p++ = (char)*c;
        } else {
            *p++ = '%';
            *p++ = hex[*c >> 4];
            *p++ = hex[*c & 15];
        }
    }
    *p = 0;
    return o;
}

char *lsio__remote_url(const remote_cfg *cfg, const char *location, const char *query, int *err)
{
    char *url = NULL;
    const char *q = query ? query : "";
    const char *sep = query ? "?" : "";
    if (!cfg->is_s3) {
        if (asprintf(&url, "%s%s%s", location, sep, q) < 0)
            url = NULL;
        *err = url ? 0 : -ENOMEM;
        return url;
    }
    if (strncmp(location, "s3://", 5) != 0) {
        *err = -EINVAL;
        return NULL;
    }
    const char *b = location + 5, *slash = strchr(b, '/');
    size_t blen = slash ? (size_t)(slash - b) : strlen(b);
    if (blen == 0 || blen > 255) {
        *err = -EINVAL;
        return NULL;
    }
    char bucket[256];
    memcpy(bucket, b, blen);
    bucket[blen] = 0;
    char *key = lsio__uri_encode(slash ? slash + 1 : "", 1);
    if (!key) {
        *err = -ENOMEM;
        return NULL;
    }
    int rc;
    int path = cfg->path_style || strchr(bucket, '.') != NULL;
    if (cfg->endpoint) {
        if (path) {
            rc = asprintf(&url, "%s/%s/%s%s%s", cfg->endpoint, bucket, key, sep, q);
        } else {
            /* virtual-hosted on a custom endpoint: bucket.host */
            const char *h = strstr(cfg->endpoint, "://");
            h = h ? h + 3 : cfg->endpoint;
            rc = asprintf(&url, "%.*s%s.%s/%s%s%s", (int)(h - cfg->endpoint), cfg->endpoint,
                          bucket, h, key, sep, q);
        }
    } else if (path) {
        rc = asprintf(&url, "https://s3.%s.amazonaws.com/%s/%s%s%s", cfg->region, bucket, key,
                      sep, q);
    } else {
        rc = asprintf(&url, "https://%s.s3.%s.amazonaws.com/%s%s%s", bucket, cfg->region, key,
                      sep, q);
    }
    free(key);
    if (rc < 0)
        url = NULL;
    *err = url ? 0 : -ENOMEM;
    return url;
}

void lsio__remote_setup(const remote_cfg *cfg, CURL *e, const char *url,
                        struct curl_slist **hdrs, long timeout_ms)
{
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 256L << 10); /* fewer, larger reads and callbacks */
    curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L); /* wait for an HTTP/2 connection to multiplex */
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)cfg->timeout_ms);
    /* a stall: less than 1 byte/s for timeout_ms (at least 1 s) */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, (long)(cfg->timeout_ms < 1000 ? 1 : cfg->timeout_ms / 1000));
    if (timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, cfg->verify_tls ? 1L : 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, cfg->verify_tls ? 2L : 0L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, NULL); /* bytes as stored: ranges must match */
    if (cfg->is_s3 && cfg->key_id) {
        curl_easy_setopt(e, CURLOPT_AWS_SIGV4, cfg->sigv4);
        curl_easy_setopt(e, CURLOPT_USERNAME, cfg->key_id);
        curl_easy_setopt(e, CURLOPT_PASSWORD, cfg->secret);
        *hdrs = curl_slist_append(*hdrs, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
        if (cfg->token) {
            char *h = NULL;
            if (asprintf(&h, "x-amz-security-token: %s", cfg->token) >= 0) {
                *hdrs = curl_slist_append(*hdrs, h);
                free(h);
            }
        }
    }
    /* No "Expect: 100-continue" round trip before PUT bodies; but not on a
     * signed request: libcurl 7.88 signs the emptied "Expect:" header as if
     * it were sent, and S3 would then refuse the signature (checked against
     * botocore by tests/python/test_remote_s3.py). */
    if (!(cfg->is_s3 && cfg->key_id))
        *hdrs = curl_slist_append(*hdrs, "Expect:");
}

int lsio__remote_retryable(CURLcode cc, long status)
{
    switch (cc) {
    case CURLE_OK:
    case CURLE_WRITE_ERROR: /* our own length checks: see the caller */
        return status >= 500 || status == 429 || status == 408;
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_BAD_CONTENT_ENCODING:
        return 1;
    default:
        return 0;
    }
}

unsigned lsio__remote_backoff_ms(unsigned attempt)
{
    unsigned shift = attempt > 6 ? 6 : attempt - 1;
    unsigned cap = 50u << shift; /* 50, 100, 200, ... 3200 ms */
    /* full jitter in [cap/2, cap] */
    unsigned r = (unsigned)(lsio_now_ns() ^ ((uint64_t)(uintptr_t)&cap << 7)) * 2654435761u;
    return cap / 2 + r % (cap / 2 + 1);
}

int lsio__remote_err(CURLcode cc, long status)
{
    if (cc == CURLE_OK || (status >= 400 && cc == CURLE_WRITE_ERROR)) {
        if (status == 404)
            return -ENOENT;
        if (status == 403 || status == 401)
            return -EACCES;
        if (status == 416)
            return -LSIO_ERANGE;
        return -LSIO_EHTTP;
    }
    if (cc == CURLE_OPERATION_TIMEDOUT)
        return -ETIMEDOUT;
    if (cc == CURLE_OUT_OF_MEMORY)
        return -ENOMEM;
    return -LSIO_ENET;
}

/* ------------------------------------------------------------ idle handles */

#define IDLE_MAX 8

struct remote_idle {
    pthread_mutex_t mu;
    CURL *h[IDLE_MAX];
    unsigned n;
};

int lsio__remote_idle_create(remote_idle **out)
{
    remote_idle *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    pthread_mutex_init(&r->mu, NULL);
    *out = r;
    return 0;
}

void lsio__remote_idle_destroy(remote_idle *r)
{
    if (!r)
        return;
    for (unsigned i = 0; i < r->n; i++)
        curl_easy_cleanup(r->h[i]);
    pthread_mutex_destroy(&r->mu);
    free(r);
}

static CURL *idle_take(remote_idle *r)
{
    CURL *e = NULL;
    if (r) {
        pthread_mutex_lock(&r->mu);
        if (r->n)
            e = r->h[--r->n];
        pthread_mutex_unlock(&r->mu);
    }
    return e ? e : curl_easy_init();
}

/* Keep e (and its connection) for the next synchronous request. */
static void idle_give(remote_idle *r, CURL *e)
{
    if (r) {
        pthread_mutex_lock(&r->mu);
        if (r->n < IDLE_MAX) {
            r->h[r->n++] = e;
            e = NULL;
        }
        pthread_mutex_unlock(&r->mu);
    }
    if (e)
        curl_easy_cleanup(e);
}

/* ---------------------------------------------------------- sync requests */

typedef struct sync_body {
    char *p;
    size_t n, cap;
} sync_body;

static size_t sync_write(char *d, size_t sz, size_t nm, void *ud)
{
    sync_body *b = ud;
    size_t n = sz * nm;
    if (!b)
        return n;
    if (b->n + n + 1 > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 4096;
        while (c < b->n + n + 1)
            c *= 2;
        char *p = realloc(b->p, c);
        if (!p)
            return 0;
        b->p = p;
        b->cap = c;
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = 0;
    return n;
}

int lsio__remote_sync(const remote_cfg *cfg, const char *method, const char *url,
                      char **body, size_t *body_len, long *status, int64_t *length)
{
    return lsio__remote_sync_send(cfg, method, url, NULL, 0, NULL, body, body_len, status, length);
}

int lsio__remote_sync_send(const remote_cfg *cfg, const char *method, const char *url,
                           const void *send, size_t send_len, const char *send_type,
                           char **body, size_t *body_len, long *status, int64_t *length)
{
    CURL *e = idle_take(cfg->idle);
    if (!e)
        return lsio_error(-ENOMEM, "%s %s", method, url);
    uint64_t t0 = lsio_now_ns();
    unsigned attempt = 0;
    CURLcode cc = CURLE_OK;
    long st = 0;
    char ebuf[CURL_ERROR_SIZE];
    sync_body b = {0};
    for (;;) {
        attempt++;
        curl_easy_reset(e);
        struct curl_slist *h = NULL;
        long left = (long)cfg->deadline_ms - (long)((lsio_now_ns() - t0) / 1000000);
        lsio__remote_setup(cfg, e, url, &h, left > 0 ? left : 1);
        int sends = !strcmp(method, "POST") || !strcmp(method, "PUT");
        if (sends) {
            char ct[128];
            snprintf(ct, sizeof ct, "Content-Type: %s",
                     send_type ? send_type : "application/octet-stream");
            h = curl_slist_append(h, ct);
        }
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
        curl_easy_setopt(e, CURLOPT_ERRORBUFFER, ebuf);
        ebuf[0] = 0;
        if (!strcmp(method, "HEAD")) {
            curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
        } else if (sends) {
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, send ? (const char *)send : "");
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)send_len);
            if (strcmp(method, "POST") != 0)
                curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        } else if (strcmp(method, "GET") != 0) {
            curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
        }
        b.n = 0;
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sync_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, body ? &b : NULL);
        cc = curl_easy_perform(e);
        curl_slist_free_all(h);
        st = 0;
        curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &st);
        if (cc == CURLE_OK && st >= 200 && st < 300)
            break;
        if (cc == CURLE_OK && !strcmp(method, "DELETE") && st == 404)
            break;
        unsigned wait = lsio__remote_backoff_ms(attempt);
        uint64_t elapsed = (lsio_now_ns() - t0) / 1000000;
        if (attempt > cfg->retries || !lsio__remote_retryable(cc, st) ||
            elapsed + wait >= cfg->deadline_ms)
            break;
        usleep(wait * 1000u);
    }
    if (status)
        *status = st;
    int rc = 0;
    if (cc != CURLE_OK || st < 200 || (st >= 300 && !(st == 404 && !strcmp(method, "DELETE")))) {
        rc = lsio__remote_err(cc, st);
        if (cc != CURLE_OK)
            lsio_error(rc, "%s %s: %s (%s), %u attempt%s", method, url, curl_easy_strerror(cc),
                       ebuf, attempt, attempt > 1 ? "s" : "");
        else
            lsio_error(rc, "%s %s: HTTP %ld, %u attempt%s", method, url, st, attempt,
                       attempt > 1 ? "s" : "");
        free(b.p);
    } else {
        if (length) {
            curl_off_t cl = -1;
            curl_easy_getinfo(e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
            *length = cl;
        }
        if (body) {
            *body = b.p ? b.p : calloc(1, 1);
            if (body_len)
                *body_len = b.n;
        } else {
            free(b.p);
        }
    }
    curl_easy_reset(e); /* drops our pointers (error buffer, body); keeps the connection */
    idle_give(cfg->idle, e);
    return rc;
}
