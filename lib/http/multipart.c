/*
 * multipart.c — S3 multipart upload of large puts. A put of
 * cfg->mp_threshold bytes or more (see http_internal.h for the defaults and
 * the variables that change them) is uploaded in parts instead of one PUT:
 *
 *   POST key?uploads=                      -> UploadId (XML, parsed by expat)
 *   PUT  key?partNumber=N&uploadId=ID      every part, in parallel, as ops
 *                                          on the engine (so they get its
 *                                          retries, deadline, concurrency
 *                                          limit and connection reuse)
 *   POST key?uploadId=ID  <CompleteMultipartUpload> with the parts' ETags
 *
 * and when a part fails for good, DELETE key?uploadId=ID
 * (AbortMultipartUpload) so the store keeps no orphaned parts, and the put
 * fails with the part's error. A Complete answered 200 with an <Error> body
 * (S3 does that) is a failure too.
 *
 * Each upload runs in a thread of its own, because initiate and complete
 * are synchronous requests and the engine thread must not block; the parts
 * are views of the caller's data (nothing is copied).
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

struct mp_upload {
    mp_engine eng;
    lsio_op *op;
    char *url;      /* the object's URL (no query) */
    char id[400];   /* UploadId, percent-encoded for the query */
    mp_part *parts;
    unsigned nparts;
    uint64_t part;  /* bytes per part */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned left;  /* parts not finished yet */
    int status;     /* first part failure */
    char *error;    /* its message */
    unsigned failed_part;
};

int lsio__mp_wanted(const remote_cfg *cfg, const lsio_op *op)
{
    return cfg->is_s3 && op->kind == LSIO_OP_PUT && cfg->mp_threshold &&
           (uint64_t)op->len >= cfg->mp_threshold;
}

/* ------------------------------------------------------------------ steps */

static int initiate(mp_upload *u)
{
    char *url = NULL, *body = NULL;
    size_t blen = 0;
    if (asprintf(&url, "%s?uploads=", u->url) < 0)
        return lsio_error(-ENOMEM, "multipart upload: out of memory");
    int rc = lsio__remote_sync_send(u->eng.cfg, "POST", url, NULL, 0, NULL, &body, &blen,
                                    NULL, NULL);
    if (rc == 0) {
        char root[32];
        char id[128];
        char *enc = NULL;
        if (lsio__xml_get(body, blen, "UploadId", id, sizeof id, root) < 0 || !id[0] ||
            strcmp(root, "InitiateMultipartUploadResult") != 0)
            rc = lsio_error(-LSIO_EHTTP, "POST %s: no UploadId in the answer", url);
        else if (!(enc = lsio__uri_encode(id, 0)))
            rc = lsio_error(-ENOMEM, "multipart upload: out of memory");
        else
            snprintf(u->id, sizeof u->id, "%s", enc); /* 3 x 127 bytes fit */
        free(enc);
    }
    free(body);
    free(url);
    return rc;
}

char *lsio__mp_complete_body(const mp_part *parts, unsigned nparts, size_t *len)
{
    size_t cap = 64 + (size_t)nparts * (64 + 5 * sizeof parts[0].etag), n = 0;
    char *xml = malloc(cap);
    if (!xml)
        return NULL;
    n += (size_t)snprintf(xml + n, cap - n, "<CompleteMultipartUpload>");
    for (unsigned i = 0; i < nparts; i++) {
        n += (size_t)snprintf(xml + n, cap - n, "<Part><PartNumber>%u</PartNumber><ETag>", i + 1);
        for (const char *c = parts[i].etag; *c; c++) { /* fits: 5 bytes a char at most */
            const char *esc = *c == '&' ? "&amp;" : *c == '<' ? "&lt;" : *c == '>' ? "&gt;" : NULL;
            if (esc)
                n += (size_t)snprintf(xml + n, cap - n, "%s", esc);
            else
                xml[n++] = *c;
        }
        n += (size_t)snprintf(xml + n, cap - n, "</ETag></Part>");
    }
    n += (size_t)snprintf(xml + n, cap - n, "</CompleteMultipartUpload>");
    *len = n;
    return xml;
}

static int complete(mp_upload *u)
{
    size_t n = 0;
    char *xml = lsio__mp_complete_body(u->parts, u->nparts, &n), *url = NULL, *body = NULL;
    if (!xml)
        return lsio_error(-ENOMEM, "multipart upload: out of memory");
    int rc;
    size_t blen = 0;
    if (asprintf(&url, "%s?uploadId=%s", u->url, u->id) < 0) {
        rc = lsio_error(-ENOMEM, "multipart upload: out of memory");
    } else {
        rc = lsio__remote_sync_send(u->eng.cfg, "POST", url, xml, n, "application/xml", &body,
                                    &blen, NULL, NULL);
        char root[32], code[64];
        if (rc == 0 && (lsio__xml_get(body, blen, "Code", code, sizeof code, root) < 0 ||
                        strcmp(root, "CompleteMultipartUploadResult") != 0))
            rc = lsio_error(-LSIO_EHTTP, "POST %s: completing %u parts failed: %s", url, u->nparts,
                            code[0] ? code : "unexpected answer");
    }
    free(body);
    free(url);
    free(xml);
    return rc;
}

static void abort_upload(mp_upload *u)
{
    char *url = NULL;
    if (asprintf(&url, "%s?uploadId=%s", u->url, u->id) < 0)
        return;
    /* best effort: the put fails with the part's error whatever this does */
    lsio__remote_sync(u->eng.cfg, "DELETE", url, NULL, NULL, NULL, NULL);
    free(url);
}

void lsio__mp_part_done(mp_part *p)
{
    mp_upload *u = p->up;
    pthread_mutex_lock(&u->mu);
    if (p->op.status && !u->status) {
        u->status = p->op.status;
        u->error = p->op.error;
        u->failed_part = p->number;
    } else {
        free(p->op.error);
    }
    p->op.error = NULL;
    if (--u->left == 0)
        pthread_cond_signal(&u->cv);
    pthread_mutex_unlock(&u->mu);
}

/* Queue every part; parts that cannot be queued count as cancelled. */
static void run_parts(mp_upload *u)
{
    lsio_op *op = u->op;
    uint64_t part = u->part;
    u->left = u->nparts;
    for (unsigned i = 0; i < u->nparts; i++) {
        mp_part *p = &u->parts[i];
        uint64_t off = (uint64_t)i * part;
        p->up = u;
        p->number = i + 1;
        snprintf(p->query, sizeof p->query, "partNumber=%u&uploadId=%s", i + 1, u->id);
        p->op.kind = LSIO_OP_PUT;
        p->op.location = op->location;
        p->op.dst = op->dst + off;
        p->op.len = (size_t)(off + part <= op->len ? part : op->len - off);
        p->op.want = p->op.len;
        p->op.backend_data = p;
        if (u->eng.submit(u->eng.state, &p->op) < 0) {
            pthread_mutex_lock(&u->mu);
            if (!u->status) {
                u->status = -ECANCELED;
                u->failed_part = i + 1;
            }
            u->left -= u->nparts - i;
            pthread_mutex_unlock(&u->mu);
            break;
        }
    }
    pthread_mutex_lock(&u->mu);
    while (u->left)
        pthread_cond_wait(&u->cv, &u->mu);
    pthread_mutex_unlock(&u->mu);
}

static void *mp_thread(void *arg)
{
    mp_upload *u = arg;
    lsio_op *op = u->op;
    int rc = initiate(u);
    char *msg = NULL;
    if (rc < 0) {
        msg = strdup(lsio_last_error());
    } else {
        run_parts(u);
        if (u->status) {
            abort_upload(u);
            rc = u->status;
            if (asprintf(&msg, "multipart upload: part %u of %u: %s (upload aborted)",
                         u->failed_part, u->nparts, u->error ? u->error : lsio_strerror(rc)) < 0)
                msg = NULL;
        } else {
            rc = complete(u);
            if (rc < 0) {
                msg = strdup(lsio_last_error());
                abort_upload(u);
            }
        }
    }
    op->status = rc;
    op->done = rc ? 0 : op->len;
    op->error = msg;
    op->attempts = 1;
    mp_engine eng = u->eng;
    free(u->error);
    free(u->parts);
    free(u->url);
    pthread_cond_destroy(&u->cv);
    pthread_mutex_destroy(&u->mu);
    free(u);
    lsio__op_done(op);
    eng.exit(eng.state);
    return NULL;
}

int lsio__mp_start(const mp_engine *eng, lsio_op *op)
{
    const remote_cfg *cfg = eng->cfg;
    uint64_t part = cfg->mp_part;
    if ((op->len + part - 1) / part > LSIO_S3_MP_MAX_PARTS) /* S3 takes at most 10000 */
        part = (op->len + LSIO_S3_MP_MAX_PARTS - 1) / LSIO_S3_MP_MAX_PARTS;
    mp_upload *u = calloc(1, sizeof *u);
    if (!u)
        return -ENOMEM;
    u->eng = *eng;
    u->op = op;
    u->part = part;
    u->nparts = (unsigned)((op->len + part - 1) / part);
    int err = 0;
    u->url = lsio__remote_url(cfg, op->location, NULL, &err);
    u->parts = calloc(u->nparts, sizeof *u->parts);
    if (!u->url || !u->parts) {
        free(u->url);
        free(u->parts);
        free(u);
        return err ? err : -ENOMEM;
    }
    pthread_mutex_init(&u->mu, NULL);
    pthread_cond_init(&u->cv, NULL);
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&(pthread_t){0}, &at, mp_thread, u);
    pthread_attr_destroy(&at);
    if (rc) {
        pthread_cond_destroy(&u->cv);
        pthread_mutex_destroy(&u->mu);
        free(u->url);
        free(u->parts);
        free(u);
        return -rc;
    }
    return 0;
}
