/*
 * http.c — the http(s) and s3 backends: one libcurl multi handle per io,
 * driven by its own thread. submit() queues an op and wakes the thread
 * (curl_multi_wakeup); the thread starts up to max_connections transfers at
 * once (connections are kept alive and reused; HTTP/2 streams multiplexed
 * where the server offers it over TLS), and finishes each op exactly once.
 *
 * A read is a range GET into op->dst. The write callback never writes past
 * op->len, and the response is checked: a 206 must carry a Content-Range
 * that starts at the offset asked for and a body of the length it states;
 * it may end before offset+len only at the end of the object (then the core
 * sees a short read at EOF). A 200 (a server that ignores Range) is the
 * whole object: we take our range from it and stop the transfer once we
 * have it. A wrong or cut body, 5xx, 429, 408, timeouts, stalls and reset
 * connections are retried with exponential backoff and jitter, at most
 * opts->retries times and within opts->deadline_ms; the final error names
 * the URL, the range, the HTTP status or curl error and the attempts.
 *
 * Large s3 puts go multipart (multipart.c): their parts come back here as
 * ops (backend_data pointing at the part) and finish through
 * lsio__mp_part_done.
 *
 * Planning defaults for object stores (settable with opts.merge_gap and
 * opts.split_bytes): ranges less than 1 MiB apart are merged into one
 * request (a request costs a round trip, ~1 MiB of transfer on a fast
 * link), and ranges above 16 MiB are split into parts fetched in parallel
 * on separate connections.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_internal.h"

#define HTTP_MERGE_GAP (1 << 20)
#define HTTP_SPLIT_BYTES (16 << 20)

typedef struct xfer xfer;
struct xfer {
    xfer *next;
    xfer *anext, **aprev; /* in the list of started transfers */
    lsio_op *op;
    CURL *e;
    struct curl_slist *hdrs;
    char *url;
    uint64_t t0, due; /* first attempt; when a retry may start (ns) */
    unsigned attempts;
    /* per attempt */
    uint64_t pos;           /* body bytes seen */
    size_t got;             /* bytes written to dst */
    size_t sent;            /* PUT: bytes read from dst */
    int cr_seen;            /* Content-Range header seen */
    uint64_t cr_start, cr_end, cr_total;
    int complete;           /* 200: we have our range, transfer stopped */
    char bad[160];          /* a body we refused, or "" */
    char etag[128];         /* the answer's ETag (multipart parts need it) */
    char ebuf[CURL_ERROR_SIZE];
    /* open-ended reads: the buffer sized from the answer (this attempt) */
    lsio_bufpool *pool;
    lsio_buf *obuf;
    size_t ocap;
    uint64_t ostart;        /* where its bytes start in the object (a suffix
                               learns it from the answer; op->offset keeps
                               the byte count for retries until the end) */
    int oknown;             /* its size came from the answer's headers */
    int sfx_redo;           /* a suffix answered wrongly: read from sfx_from */
    uint64_t sfx_from;
    int hard;               /* a refusal not worth a retry (-E2BIG, -LSIO_ERANGE) */
};

typedef struct http_state {
    remote_cfg cfg;
    CURLM *multi;
    pthread_t thr;
    pthread_mutex_t mu;
    lsio_op *in_head, *in_tail; /* submitted, not yet seen by the thread */
    int stopping;
    /* thread-owned */
    xfer *wait_head, *wait_tail; /* not started yet */
    xfer *retry;                 /* waiting for their backoff */
    xfer *act;                   /* started */
    unsigned active;
    /* multipart uploads running (under mu; stop waits for 0) */
    unsigned mp_running;
    pthread_cond_t mp_cv;
    lsio_bufpool *pool;     /* the io's pool: buffers of open-ended reads */
} http_state;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static void global_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---------------------------------------------------------------- callbacks */

static size_t on_header(char *d, size_t sz, size_t nm, void *ud)
{
    xfer *x = ud;
    size_t n = sz * nm;
    if (n >= 5 && !strncmp(d, "HTTP/", 5)) {
        x->cr_seen = 0; /* a new response (after 100 Continue or a redirect) */
        x->etag[0] = 0;
    } else if (lsio__parse_etag(d, n, x->etag, sizeof x->etag)) {
        /* kept (or emptied when unusable) for multipart parts */
    } else if (n > 14 && !strncasecmp(d, "Content-Range:", 14)) {
        x->cr_seen = lsio__parse_content_range(d + 14, n - 14, &x->cr_start, &x->cr_end,
                                               &x->cr_total) == 0 ? 1 : -1;
    }
    return n;
}

static size_t refuse(xfer *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t refuse(xfer *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->bad, sizeof x->bad, fmt, ap);
    va_end(ap);
    return 0; /* stops the transfer with CURLE_WRITE_ERROR */
}

/* A buffer for an open-ended read: from the pool when it has room, else
 * on its own (the size is bounded by op->len, the pool's bound). */
static int obuf_alloc(xfer *x, size_t len, lsio_buf **out)
{
    if (x->pool && lsio_bufpool_tryget(x->pool, len ? len : 1, out) == 0)
        return 0;
    return lsio_buf_alloc(len ? len : 1, 0, out);
}

/* Suffix read (the last N = op->offset bytes, "Range: bytes=-N"): the
 * answer says where they start. A 206 must reach the end of the object; a
 * server sends the whole object when it is shorter than N (RFC 9110
 * 14.1.2), which fails as a Python-like slice before the start. A 200
 * (range ignored) needs its Content-Length to find the tail. */
static size_t suffix_start(xfer *x, long st, uint64_t *len) /* 1 ok, 2 drop the body, 0 stop */
{
    lsio_op *op = x->op;
    uint64_t n = op->offset;
    if (st == 206) {
        if (x->cr_seen != 1)
            return refuse(x, "206 without a valid Content-Range");
        if (x->cr_total == UINT64_MAX)
            return refuse(x, "Content-Range bytes %" PRIu64 "-%" PRIu64 "/* to a suffix range "
                             "(the object's size unknown)", x->cr_start, x->cr_end);
        if (x->cr_total < n) {
            x->hard = -LSIO_ERANGE;
            return refuse(x, "offset before the start (size %" PRIu64 ")", x->cr_total);
        }
        if (x->cr_end + 1 != x->cr_total || x->cr_end - x->cr_start + 1 != n) {
            /* A server that does not understand suffixes (s3rver answers
             * "bytes=-N" with bytes 0-N) still told the size: ask again
             * for [size - N, end). */
            x->sfx_from = x->cr_total - n;
            x->sfx_redo = 1;
            refuse(x, "Content-Range bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
                      " is not the last %" PRIu64 " bytes",
                   x->cr_start, x->cr_end, x->cr_total, n);
            /* a small body is read to its end and dropped, which keeps the
             * connection for the second request; a big one is cut */
            return x->cr_end - x->cr_start < (1u << 20) ? 2 : 0;
        }
        x->ostart = x->cr_start;
    } else if (st == 200) {
        curl_off_t cl = -1;
        curl_easy_getinfo(x->e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        if (cl < 0) {
            x->hard = -LSIO_EHTTP;
            return refuse(x, "200 without Content-Length to a suffix range: its tail is unknown");
        }
        if ((uint64_t)cl < n) {
            x->hard = -LSIO_ERANGE;
            return refuse(x, "offset before the start (size %" PRIu64 ")", (uint64_t)cl);
        }
        x->ostart = (uint64_t)cl - n;
    } else {
        return refuse(x, "unexpected status %ld to a GET", st);
    }
    *len = n;
    return 1;
}

/* Open-ended read: GET [offset, end) of an object of unknown size, or its
 * last bytes (suffix_start). The first bytes size the buffer (Content-Range
 * of a 206, Content-Length of a 200); without a length (chunked) it grows.
 * Never past op->len. */
static size_t on_body_open(xfer *x, const char *d, size_t n, long st)
{
    lsio_op *op = x->op;
    size_t taken = n; /* curl wants the whole count back */
    if (x->sfx_redo)
        return taken; /* dropped: a second request follows */
    if (!x->obuf && op->open_ended == (int)LSIO_OPEN_SUFFIX) {
        uint64_t len = 0;
        x->oknown = 1;
        size_t how = suffix_start(x, st, &len);
        if (how != 1)
            return how == 2 ? taken : 0;
        if (len > op->len) {
            x->hard = -E2BIG;
            return refuse(x, "%" PRIu64 " bytes exceed the buffer pool's bound (%zu)", len,
                          op->len);
        }
        if (obuf_alloc(x, (size_t)len, &x->obuf) < 0) {
            x->hard = -ENOMEM;
            return refuse(x, "no memory for %" PRIu64 " bytes", len);
        }
        x->ocap = (size_t)len;
    }
    if (!x->obuf) {
        uint64_t len = 0;
        x->oknown = 1;
        x->ostart = op->offset;
        if (st == 206) {
            if (x->cr_seen != 1)
                return refuse(x, "206 without a valid Content-Range");
            if (x->cr_start != op->offset)
                return refuse(x, "Content-Range bytes %" PRIu64 "-%" PRIu64 " does not start at %" PRIu64,
                              x->cr_start, x->cr_end, op->offset);
            if (x->cr_total != UINT64_MAX && x->cr_total != x->cr_end + 1)
                return refuse(x, "Content-Range bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
                                 " does not reach the end",
                              x->cr_start, x->cr_end, x->cr_total);
            len = x->cr_end - x->cr_start + 1;
        } else if (st == 200) {
            curl_off_t cl = -1;
            curl_easy_getinfo(x->e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
            if (cl < 0) {
                x->oknown = 0;
                len = 256 << 10;
            } else if ((uint64_t)cl < op->offset) {
                x->hard = -LSIO_ERANGE;
                return refuse(x, "offset past the end of the object (size %" PRIu64 ")",
                              (uint64_t)cl);
            } else {
                len = (uint64_t)cl - op->offset;
            }
        } else {
            return refuse(x, "unexpected status %ld to a GET", st);
        }
        if (len > op->len) {
            if (x->oknown) {
                x->hard = -E2BIG;
                return refuse(x, "%" PRIu64 " bytes exceed the buffer pool's bound (%zu)", len,
                              op->len);
            }
            len = op->len;
        }
        if (obuf_alloc(x, (size_t)len, &x->obuf) < 0) {
            x->hard = -ENOMEM;
            return refuse(x, "no memory for %" PRIu64 " bytes", len);
        }
        x->ocap = (size_t)len;
    }
    if (st == 200 && x->pos < x->ostart) { /* whole object: skip to the start */
        size_t skip = x->ostart - x->pos < n ? (size_t)(x->ostart - x->pos) : n;
        x->pos += skip;
        d += skip;
        n -= skip;
    }
    x->pos += n;
    if (x->got + n > x->ocap) {
        if (x->oknown)
            return refuse(x, "body longer than the %zu bytes announced", x->ocap);
        size_t cap = x->ocap * 2 > x->got + n ? x->ocap * 2 : x->got + n;
        if (cap > op->len)
            cap = op->len;
        if (x->got + n > cap) {
            x->hard = -E2BIG;
            return refuse(x, "object exceeds the buffer pool's bound (%zu bytes)", op->len);
        }
        lsio_buf *nb;
        if (obuf_alloc(x, cap, &nb) < 0) {
            x->hard = -ENOMEM;
            return refuse(x, "no memory for %zu bytes", cap);
        }
        memcpy(lsio_buf_data(nb), lsio_buf_data(x->obuf), x->got);
        lsio_buf_release(x->obuf);
        x->obuf = nb;
        x->ocap = cap;
    }
    memcpy((unsigned char *)lsio_buf_data(x->obuf) + x->got, d, n);
    x->got += n;
    return taken;
}

static size_t on_body(char *d, size_t sz, size_t nm, void *ud)
{
    xfer *x = ud;
    lsio_op *op = x->op;
    size_t n = sz * nm;
    long st = 0;
    curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &st);
    if (st < 200 || st >= 300 || op->kind != LSIO_OP_READ) {
        x->pos += n;
        return n; /* an error page or a PUT's answer: not data */
    }
    if (op->open_ended)
        return on_body_open(x, d, n, st);
    if (st == 206) {
        if (x->pos == 0) {
            if (x->cr_seen != 1)
                return refuse(x, "206 without a valid Content-Range");
            if (x->cr_start != op->offset)
                return refuse(x, "Content-Range bytes %" PRIu64 "-%" PRIu64 " does not start at %" PRIu64,
                              x->cr_start, x->cr_end, op->offset);
            uint64_t clen = x->cr_end - x->cr_start + 1;
            if (clen > op->len || (clen < op->len && x->cr_total != x->cr_end + 1))
                return refuse(x, "Content-Range bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64
                                 " does not match the %zu bytes asked",
                              x->cr_start, x->cr_end, x->cr_total, op->len);
            op->object_size = x->cr_total != UINT64_MAX ? x->cr_total : 0;
        }
        if (x->got + n > op->len)
            return refuse(x, "body longer than the %zu bytes asked", op->len);
        lsio__op_put(op, x->got, d, n);
        x->got += n;
        x->pos += n;
        return n;
    }
    if (st != 200)
        return refuse(x, "unexpected status %ld to a range request", st);
    /* 200: the whole object; keep [offset, offset+len) of it */
    if (x->pos == 0) {
        curl_off_t cl = -1;
        curl_easy_getinfo(x->e, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        op->object_size = cl > 0 ? (uint64_t)cl : 0;
    }
    uint64_t lo = x->pos, hi = x->pos + n, a = op->offset, b = op->offset + op->len;
    if (hi > a && lo < b) {
        uint64_t s = lo > a ? lo : a, e = hi < b ? hi : b;
        lsio__op_put(op, (size_t)(s - a), d + (s - lo), (size_t)(e - s));
        x->got = (size_t)(e - a);
    }
    x->pos = hi;
    if (hi >= b) {
        x->complete = 1;
        return 0; /* we have our range: stop reading the rest */
    }
    return n;
}

static size_t on_read(char *d, size_t sz, size_t nm, void *ud)
{
    xfer *x = ud;
    size_t n = sz * nm, left = x->op->len - x->sent;
    if (n > left)
        n = left;
    memcpy(d, x->op->dst + x->sent, n);
    x->sent += n;
    return n;
}

static int on_seek(void *ud, curl_off_t off, int origin)
{
    xfer *x = ud;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->op->len)
        return CURL_SEEKFUNC_CANTSEEK;
    x->sent = (size_t)off;
    return CURL_SEEKFUNC_OK;
}

/* ---------------------------------------------------------------- transfers */

static int xfer_prepare(http_state *s, xfer *x)
{
    lsio_op *op = x->op;
    if (!x->e) {
        int err = 0;
        mp_part *part = op->backend_data;
        x->url = lsio__remote_url(&s->cfg, op->location, part ? part->query : NULL, &err);
        if (!x->url)
            return err;
        x->e = curl_easy_init();
        if (!x->e)
            return -ENOMEM;
        x->t0 = lsio_now_ns();
    }
    curl_easy_reset(x->e);
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    uint64_t spent = (lsio_now_ns() - x->t0) / 1000000;
    long left = s->cfg.deadline_ms > spent ? (long)(s->cfg.deadline_ms - spent) : 1;
    lsio__remote_setup(&s->cfg, x->e, x->url, &x->hdrs, left);
    curl_easy_setopt(x->e, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(x->e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->e, CURLOPT_ERRORBUFFER, x->ebuf);
    curl_easy_setopt(x->e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->e, CURLOPT_WRITEDATA, x);
    if (op->kind == LSIO_OP_PUT) {
        curl_easy_setopt(x->e, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(x->e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(x->e, CURLOPT_READDATA, x);
        curl_easy_setopt(x->e, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(x->e, CURLOPT_SEEKDATA, x);
        curl_easy_setopt(x->e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)op->len);
    } else if (op->open_ended == (int)LSIO_OPEN_SUFFIX) {
        char r[64];
        snprintf(r, sizeof r, "-%" PRIu64, op->offset);
        curl_easy_setopt(x->e, CURLOPT_RANGE, r);
    } else if (op->open_ended) {
        if (op->offset) { /* from 0: a plain GET, which also reads an empty object */
            char r[64];
            snprintf(r, sizeof r, "%" PRIu64 "-", op->offset);
            curl_easy_setopt(x->e, CURLOPT_RANGE, r);
        }
    } else {
        char r[64];
        snprintf(r, sizeof r, "%" PRIu64 "-%" PRIu64, op->offset, op->offset + op->len - 1);
        curl_easy_setopt(x->e, CURLOPT_RANGE, r);
    }
    lsio_buf_release(x->obuf);
    x->obuf = NULL;
    x->ocap = 0;
    x->ostart = 0;
    x->sfx_redo = 0;
    x->hard = 0;
    x->pos = x->got = x->sent = 0;
    x->cr_seen = 0;
    x->complete = 0;
    x->bad[0] = 0;
    x->etag[0] = 0;
    x->ebuf[0] = 0;
    x->attempts++;
    return 0;
}

static void xfer_free(xfer *x)
{
    if (x->e)
        curl_easy_cleanup(x->e);
    curl_slist_free_all(x->hdrs);
    lsio_buf_release(x->obuf);
    free(x->url);
    free(x);
}

/* An op is finished: to the core, or to its multipart upload. */
static void op_complete(lsio_op *op)
{
    if (op->backend_data)
        lsio__mp_part_done(op->backend_data);
    else
        lsio__op_done(op);
}

/* Finish the op of x (status and message) and free x. */
static void xfer_finish(xfer *x, int status, char *msg)
{
    lsio_op *op = x->op;
    op->status = status;
    op->error = msg;
    op->attempts = x->attempts;
    if (status)
        op->done = 0;
    if (op->open_ended && !status && op->done) {
        lsio_buf_set_len(x->obuf, op->done);
        op->buf = x->obuf; /* the core takes this reference */
        x->obuf = NULL;
    }
    if (op->open_ended == (int)LSIO_OPEN_SUFFIX && !status)
        op->offset = x->ostart; /* where the last bytes started */
    mp_part *part = op->backend_data;
    if (part && !status) {
        snprintf(part->etag, sizeof part->etag, "%s", x->etag);
        if (!x->etag[0]) {
            op->status = -LSIO_EHTTP;
            op->error = NULL;
            if (asprintf(&op->error, "PUT %s: no ETag in the answer", x->url) < 0)
                op->error = NULL;
        }
    }
    xfer_free(x);
    op_complete(op);
}

static void fail_op(lsio_op *op, int status, const char *what)
{
    op->status = status;
    op->done = 0;
    op->error = what ? strdup(what) : NULL;
    op_complete(op);
}

static void start_xfer(http_state *s, xfer *x)
{
    int rc = xfer_prepare(s, x);
    if (rc < 0) {
        xfer_finish(x, rc, rc == -EINVAL ? strdup("malformed location") : NULL);
        return;
    }
    curl_multi_add_handle(s->multi, x->e);
    s->active++;
    x->anext = s->act;
    if (s->act)
        s->act->aprev = &x->anext;
    x->aprev = &s->act;
    s->act = x;
}

/* A transfer ended: decide success, retry or failure. */
static void xfer_done(http_state *s, xfer *x, CURLcode cc)
{
    lsio_op *op = x->op;
    long st = 0;
    curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &st);
    curl_multi_remove_handle(s->multi, x->e);
    s->active--;
    *x->aprev = x->anext;
    if (x->anext)
        x->anext->aprev = x->aprev;
    const char *method = op->kind == LSIO_OP_PUT ? "PUT" : "GET";
    char what[320] = "";
    int retry = 0, err = 0;
    if (op->kind == LSIO_OP_READ && x->complete) {
        op->done = op->len;
        xfer_finish(x, 0, NULL);
        return;
    }
    if (x->bad[0] && x->sfx_redo && x->attempts <= s->cfg.retries) {
        op->open_ended = (int)LSIO_OPEN_FROM; /* at once, as a read from */
        op->offset = x->sfx_from;
        x->due = lsio_now_ns();
        x->next = s->retry;
        s->retry = x;
        return;
    }
    if (x->bad[0]) {
        snprintf(what, sizeof what, "%s", x->bad);
        retry = !x->hard;
        err = x->hard ? x->hard : -LSIO_ESIZE;
    } else if (cc == CURLE_OK && st >= 200 && st < 300) {
        if (op->kind == LSIO_OP_PUT) {
            op->done = op->len;
            xfer_finish(x, 0, NULL);
            return;
        }
        if (st == 206 && x->got != x->cr_end - x->cr_start + 1) {
            snprintf(what, sizeof what, "body of %zu bytes, Content-Range says %" PRIu64, x->got,
                     x->cr_end - x->cr_start + 1);
            retry = 1;
            err = -LSIO_ESIZE;
        } else if (st == 206 && x->got == 0 && op->len > 0) {
            snprintf(what, sizeof what, "empty 206 body");
            retry = 1;
            err = -LSIO_ESIZE;
        } else {
            op->done = x->got; /* short only at the end of the object */
            xfer_finish(x, 0, NULL);
            return;
        }
    } else if (cc == CURLE_OK && st == 416 && op->open_ended == (int)LSIO_OPEN_SUFFIX) {
        snprintf(what, sizeof what, "offset before the start (HTTP 416: the object is empty)");
        err = -LSIO_ERANGE;
    } else if (cc == CURLE_OK && st == 416 && op->open_ended) {
        snprintf(what, sizeof what, "offset past the end of the object (HTTP 416)");
        err = -LSIO_ERANGE;
    } else if (cc == CURLE_OK && st == 416 && op->kind == LSIO_OP_READ) {
        op->done = 0; /* the range starts at or after the end: the core says so */
        xfer_finish(x, 0, NULL);
        return;
    } else {
        retry = lsio__remote_retryable(cc, st);
        err = lsio__remote_err(cc, st);
        if (cc != CURLE_OK)
            snprintf(what, sizeof what, "%.60s%s%.180s", curl_easy_strerror(cc), x->ebuf[0] ? ": " : "",
                     x->ebuf);
        else
            snprintf(what, sizeof what, "HTTP %ld", st);
    }
    unsigned wait = lsio__remote_backoff_ms(x->attempts);
    uint64_t spent = (lsio_now_ns() - x->t0) / 1000000;
    int over = spent + wait >= s->cfg.deadline_ms;
    if (retry && x->attempts <= s->cfg.retries && !over) {
        x->due = lsio_now_ns() + (uint64_t)wait * 1000000u;
        x->next = s->retry;
        s->retry = x;
        return;
    }
    char *msg = NULL;
    char range[64] = "";
    if (op->kind == LSIO_OP_READ && op->open_ended == (int)LSIO_OPEN_SUFFIX)
        snprintf(range, sizeof range, " bytes=-%" PRIu64, op->offset);
    else if (op->kind == LSIO_OP_READ && op->open_ended)
        snprintf(range, sizeof range, " bytes=%" PRIu64 "-", op->offset);
    else if (op->kind == LSIO_OP_READ)
        snprintf(range, sizeof range, " bytes=%" PRIu64 "-%" PRIu64, op->offset,
                 op->offset + op->len - 1);
    if (asprintf(&msg, "%s %s%s: %s, %u attempt%s%s", method, x->url, range, what, x->attempts,
                 x->attempts > 1 ? "s" : "",
                 retry && over ? " (deadline reached)" : "") < 0)
        msg = NULL;
    xfer_finish(x, err, msg);
}

static void *engine(void *arg)
{
    http_state *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        lsio_op *in = s->in_head;
        s->in_head = s->in_tail = NULL;
        int stopping = s->stopping;
        pthread_mutex_unlock(&s->mu);
        for (lsio_op *op = in, *nx; op; op = nx) {
            nx = op->next;
            xfer *x = calloc(1, sizeof *x);
            if (!x) {
                fail_op(op, -ENOMEM, NULL);
                continue;
            }
            x->op = op;
            x->pool = s->pool;
            if (s->wait_tail)
                s->wait_tail->next = x;
            else
                s->wait_head = x;
            s->wait_tail = x;
        }
        if (stopping)
            break;
        uint64_t now = lsio_now_ns(), next_due = UINT64_MAX;
        for (xfer **pp = &s->retry; *pp;) {
            xfer *x = *pp;
            if (x->due <= now && s->active < s->cfg.max_connections) {
                *pp = x->next;
                x->next = NULL;
                start_xfer(s, x);
            } else {
                if (x->due < next_due)
                    next_due = x->due;
                pp = &x->next;
            }
        }
        while (s->wait_head && s->active < s->cfg.max_connections) {
            xfer *x = s->wait_head;
            s->wait_head = x->next;
            if (!s->wait_head)
                s->wait_tail = NULL;
            x->next = NULL;
            start_xfer(s, x);
        }
        int running = 0;
        curl_multi_perform(s->multi, &running);
        CURLMsg *m;
        int left;
        while ((m = curl_multi_info_read(s->multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            xfer *x = NULL;
            curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            xfer_done(s, x, m->data.result);
        }
        int timeout = 1000;
        for (xfer *x = s->retry; x; x = x->next) /* including those just failed */
            if (x->due < next_due)
                next_due = x->due;
        if (next_due != UINT64_MAX) {
            uint64_t now2 = lsio_now_ns();
            uint64_t ms = next_due > now2 ? (next_due - now2) / 1000000 + 1 : 0;
            if (ms < (uint64_t)timeout)
                timeout = (int)ms;
        }
        curl_multi_poll(s->multi, NULL, 0, timeout, NULL);
    }
    /* stopping: cancel everything not finished */
    xfer *lists[2] = {s->wait_head, s->retry};
    for (int i = 0; i < 2; i++)
        for (xfer *x = lists[i], *nx; x; x = nx) {
            nx = x->next;
            xfer_finish(x, -ECANCELED, NULL);
        }
    s->wait_head = s->wait_tail = s->retry = NULL;
    while (s->act) {
        xfer *x = s->act;
        curl_multi_remove_handle(s->multi, x->e);
        s->act = x->anext;
        s->active--;
        xfer_finish(x, -ECANCELED, NULL);
    }
    return NULL;
}

/* ------------------------------------------------------------------ backend */

static int http_start_common(int is_s3, const lsio_io_opts *opts, void **state, char **why)
{
    pthread_once(&g_once, global_init);
    http_state *s = calloc(1, sizeof *s);
    if (!s)
        return -ENOMEM;
    int rc = lsio__remote_cfg_init(&s->cfg, is_s3, opts, why);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->multi = curl_multi_init();
    if (!s->multi) {
        lsio__remote_cfg_free(&s->cfg);
        free(s);
        return -ENOMEM;
    }
    curl_multi_setopt(s->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, (long)s->cfg.max_connections);
    curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)s->cfg.max_connections);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->mp_cv, NULL);
    rc = pthread_create(&s->thr, NULL, engine, s);
    if (rc) {
        pthread_cond_destroy(&s->mp_cv);
        pthread_mutex_destroy(&s->mu);
        curl_multi_cleanup(s->multi);
        lsio__remote_cfg_free(&s->cfg);
        free(s);
        *why = strdup("cannot start the transfer thread");
        return -rc;
    }
    *state = s;
    return 0;
}

static int http_start(lsio_io *io, const lsio_io_opts *opts, void **state, char **why)
{
    int rc = http_start_common(0, opts, state, why);
    if (rc == 0)
        ((http_state *)*state)->pool = lsio_io_pool(io);
    return rc;
}

static int s3_start(lsio_io *io, const lsio_io_opts *opts, void **state, char **why)
{
    int rc = http_start_common(1, opts, state, why);
    if (rc == 0)
        ((http_state *)*state)->pool = lsio_io_pool(io);
    return rc;
}

/* Queue op for the engine thread; -ECANCELED once stopping (multipart
 * parts only: the core never submits after close began). */
static int engine_submit(void *state, lsio_op *op)
{
    http_state *s = state;
    op->next = NULL;
    op->done = 0;
    op->status = 0;
    op->attempts = 0;
    pthread_mutex_lock(&s->mu);
    if (s->stopping && op->backend_data) {
        pthread_mutex_unlock(&s->mu);
        return -ECANCELED;
    }
    if (s->in_tail)
        s->in_tail->next = op;
    else
        s->in_head = op;
    s->in_tail = op;
    pthread_mutex_unlock(&s->mu);
    curl_multi_wakeup(s->multi);
    return 0;
}

static void mp_exit(void *state)
{
    http_state *s = state;
    pthread_mutex_lock(&s->mu);
    if (--s->mp_running == 0)
        pthread_cond_broadcast(&s->mp_cv);
    pthread_mutex_unlock(&s->mu);
}

static void http_submit(void *state, lsio_op *op)
{
    http_state *s = state;
    op->backend_data = NULL;
    if (lsio__mp_wanted(&s->cfg, op)) {
        mp_engine eng = {.cfg = &s->cfg, .state = s, .submit = engine_submit, .exit = mp_exit};
        pthread_mutex_lock(&s->mu);
        s->mp_running++;
        pthread_mutex_unlock(&s->mu);
        op->done = 0;
        op->status = 0;
        op->attempts = 0;
        if (lsio__mp_start(&eng, op) == 0)
            return;
        mp_exit(s); /* no thread: one plain PUT then */
    }
    engine_submit(s, op);
}

static int http_size(void *state, const char *location, uint64_t *size)
{
    http_state *s = state;
    int err = 0;
    char *url = lsio__remote_url(&s->cfg, location, NULL, &err);
    if (!url)
        return lsio_error(err, "size of %s: malformed location", location);
    int64_t len = -1;
    int rc = lsio__remote_sync(&s->cfg, "HEAD", url, NULL, NULL, NULL, &len);
    if (rc == 0 && len < 0)
        rc = lsio_error(-LSIO_EHTTP, "HEAD %s: no Content-Length", url);
    if (rc == 0)
        *size = (uint64_t)len;
    free(url);
    return rc;
}

static int http_del(void *state, const char *location)
{
    http_state *s = state;
    int err = 0;
    char *url = lsio__remote_url(&s->cfg, location, NULL, &err);
    if (!url)
        return lsio_error(err, "delete %s: malformed location", location);
    int rc = lsio__remote_sync(&s->cfg, "DELETE", url, NULL, NULL, NULL, NULL);
    free(url);
    return rc;
}

static int s3_list(void *state, const char *prefix, lsio_list_fn fn, void *ctx)
{
    http_state *s = state;
    return lsio__s3_list(&s->cfg, prefix, fn, ctx);
}

static void http_stop(void *state)
{
    http_state *s = state;
    pthread_mutex_lock(&s->mu);
    s->stopping = 1;
    pthread_mutex_unlock(&s->mu);
    curl_multi_wakeup(s->multi);
    pthread_join(s->thr, NULL);
    /* ops submitted after the thread took its last look */
    pthread_mutex_lock(&s->mu);
    lsio_op *in = s->in_head;
    s->in_head = s->in_tail = NULL;
    pthread_mutex_unlock(&s->mu);
    for (lsio_op *op = in, *nx; op; op = nx) {
        nx = op->next;
        fail_op(op, -ECANCELED, NULL);
    }
    /* multipart uploads: their parts are cancelled; wait for their aborts */
    pthread_mutex_lock(&s->mu);
    while (s->mp_running)
        pthread_cond_wait(&s->mp_cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
    pthread_cond_destroy(&s->mp_cv);
    pthread_mutex_destroy(&s->mu);
    curl_multi_cleanup(s->multi);
    lsio__remote_cfg_free(&s->cfg);
    free(s);
}

const lsio_backend lsio_backend_http = {
    .name = "http",
    .start = http_start,
    .submit = http_submit,
    .size = http_size,
    .del = http_del,
    .list = NULL,
    .stop = http_stop,
    .merge_gap = HTTP_MERGE_GAP,
    .split_bytes = HTTP_SPLIT_BYTES,
    .direct_align = 0,
    .open_ended = LSIO_OPEN_FROM | LSIO_OPEN_SUFFIX,
};

const lsio_backend lsio_backend_s3 = {
    .name = "s3",
    .start = s3_start,
    .submit = http_submit,
    .size = http_size,
    .del = http_del,
    .list = s3_list,
    .stop = http_stop,
    .merge_gap = HTTP_MERGE_GAP,
    .split_bytes = HTTP_SPLIT_BYTES,
    .direct_align = 0,
    .open_ended = LSIO_OPEN_FROM | LSIO_OPEN_SUFFIX,
};
