/*
 * io.c — the IO core: opening a backend for a location, lsio_get_ranges,
 * groups, bounded dispatch, buffers and completion fan-out.
 *
 * A get_ranges call becomes a *batch*: its ranges are resolved and planned
 * (plan.c) into requests, each read in one or more parts (lsio_op) by the
 * backend. Requests wait in their group's FIFO; only the lowest group that
 * still has work dispatches, so every request of group n completes before
 * one of a later group is handed to the backend (a lower group submitted
 * later takes over for everything not yet started). At most max_inflight
 * parts are with the backend at once. A pooled request takes its buffer when
 * its first part is dispatched, so memory stays bounded by what is in
 * flight; when the pool is at its bound, dispatch stops and a helper thread
 * (the pump) waits for a release instead of any submitting or IO thread.
 *
 * When a request's last part finishes, its ranges complete: each gets its
 * bytes (the request's buffer, a slice of it, or the caller's dest) or an
 * error naming the location and the range.
 *
 * Locking: io->mu guards the groups, counters and flags; backends are called
 * (submit) without it; completion queues have their own lock and callbacks
 * run without io->mu held.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_core.h"

typedef struct batch batch;
typedef struct grp grp;

typedef struct creq {
    lsio__req p;
    batch *b;
    lsio_buf *buf;         /* pooled buffer, taken at first dispatch */
    int fail;              /* buffer could not be had: fail every part */
    size_t parts_sent;     /* under io->mu */
    atomic_size_t parts_left;
    lsio_op *ops;          /* p.nparts */
    struct creq *qnext;    /* in its group's queue */
} creq;

struct batch {
    lsio_io *io;
    lsio_cq *cq;
    grp *g;
    lsio_op_kind kind;
    unsigned flags;        /* LSIO_PUT_* */
    char *location;        /* as the caller gave it */
    const char *bpath;     /* what the backend sees */
    lsio__rng *r;
    size_t n;
    size_t *order;
    lsio__req *plan;
    lsio__key *keys;
    creq *reqs;
    size_t nreq;
    lsio_op *ops;
    atomic_size_t reqs_left;
};

struct grp {
    uint32_t id;
    size_t outstanding; /* requests queued or in flight */
    creq *head, *tail;
    grp *next;
};

typedef enum { LOC_LOCAL, LOC_HTTP, LOC_S3, LOC_UNKNOWN } loc_kind;

struct lsio_io {
    const lsio_backend *be;
    void *state;
    lsio_io_opts opts;     /* resolved */
    loc_kind kind;
    char *fallback;
    lsio_bufpool *pool;
    int own_pool;
    lsio_cq *cq;
    lsio__plan_params pp;

    pthread_mutex_t mu;
    pthread_cond_t cv;      /* pump wakeups, close waits */
    grp *groups;            /* sorted by id; head = active group */
    size_t inflight, max_inflight;
    size_t submitting;      /* threads handing ops to the backend */
    size_t live_batches;
    int starved, stopping;
    int no_open_ended;      /* LSIO_NO_OPEN_ENDED=1: size first (for comparisons) */
    pthread_t pump;
    int pump_started;

    atomic_uint_fast64_t st_ranges, st_requests, st_bytes, st_errors, st_retries, st_direct;
};

/* --------------------------------------------------------------- locations */

static loc_kind location_kind(const char *loc)
{
    if (!strncmp(loc, "http://", 7) || !strncmp(loc, "https://", 8))
        return LOC_HTTP;
    if (!strncmp(loc, "s3://", 5))
        return LOC_S3;
    if (!strncmp(loc, "file://", 7))
        return LOC_LOCAL;
    /* Another scheme (letters, digits, + - . before "://")? */
    const char *p = loc;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
           (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (p != loc && !strncmp(p, "://", 3))
        return LOC_UNKNOWN;
    return LOC_LOCAL;
}

static const char *backend_path(const lsio_io *io, const char *loc)
{
    return io->kind == LOC_LOCAL ? lsio__strip_file_scheme(loc) : loc;
}

/* ---------------------------------------------------------------- dispatch */

static grp *group_get_locked(lsio_io *io, uint32_t id)
{
    grp **pg = &io->groups;
    while (*pg && (*pg)->id < id)
        pg = &(*pg)->next;
    if (*pg && (*pg)->id == id)
        return *pg;
    grp *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->id = id;
    g->next = *pg;
    *pg = g;
    return g;
}

static void group_done_locked(lsio_io *io, grp *g)
{
    if (--g->outstanding)
        return;
    grp **pg = &io->groups;
    while (*pg != g)
        pg = &(*pg)->next;
    *pg = g->next;
    free(g);
}

/* Take parts of the active group while there is room; returns them linked
 * through op->next (ops with status preset are failed by the core, not
 * handed to the backend). Caller holds io->mu and bumps `submitting`. */
static lsio_op *dispatch_locked(lsio_io *io)
{
    lsio_op *list = NULL, **tail = &list;
    while (!io->stopping && !io->starved && io->inflight < io->max_inflight) {
        grp *g = io->groups;
        creq *q = g ? g->head : NULL;
        if (!q)
            break;
        if (q->parts_sent == 0 && q->b->kind == LSIO_OP_READ && !q->p.dest && !q->p.iov &&
            !q->buf && !q->fail && !q->p.open_end) {
            int rc = lsio_bufpool_tryget(io->pool, q->p.len, &q->buf);
            if (rc == -EAGAIN) {
                io->starved = 1;
                pthread_cond_broadcast(&io->cv);
                break;
            }
            if (rc < 0)
                q->fail = rc;
        }
        lsio_op *op = &q->ops[q->parts_sent];
        size_t at = q->parts_sent * q->p.part_len;
        op->object_size = 0;
        if (q->b->kind == LSIO_OP_READ && q->p.iov) {
            op->dst = NULL;
            op->iov = q->p.iov;
            op->iovcnt = q->p.iovcnt;
            op->iov_skip = at;
            op->iov_i = 0;
            op->iov_at = 0;
        } else if (q->b->kind == LSIO_OP_READ && !q->p.open_end) {
            op->dst = (q->p.dest ? q->p.dest : (unsigned char *)lsio_buf_data(q->buf)) + at;
        }
        if (q->fail)
            op->status = q->fail;
        if (++q->parts_sent == q->p.nparts) {
            g->head = q->qnext;
            if (!g->head)
                g->tail = NULL;
        }
        io->inflight++;
        op->next = NULL;
        *tail = op;
        tail = &op->next;
    }
    if (list)
        io->submitting++;
    return list;
}

static void submit_list(lsio_io *io, lsio_op *list)
{
    if (!list)
        return;
    while (list) {
        lsio_op *op = list;
        list = op->next;
        creq *q = op->core;
        if (q->fail)
            lsio__op_done(op);
        else
            io->be->submit(io->state, op);
    }
    pthread_mutex_lock(&io->mu);
    if (--io->submitting == 0 && io->stopping)
        pthread_cond_broadcast(&io->cv);
    pthread_mutex_unlock(&io->mu);
}

/* The pump: runs only while the pool is at its bound, waiting for a buffer
 * for the head request so that no submitting or IO thread ever blocks. */
static void *pump_main(void *arg)
{
    lsio_io *io = arg;
    pthread_mutex_lock(&io->mu);
    for (;;) {
        while (!io->stopping && !io->starved)
            pthread_cond_wait(&io->cv, &io->mu);
        if (io->stopping)
            break;
        creq *q = io->groups ? io->groups->head : NULL;
        if (!q || q->buf || q->parts_sent || q->p.dest || q->p.iov || q->fail ||
            q->p.open_end) {
            io->starved = 0;
        } else {
            size_t len = q->p.len;
            pthread_mutex_unlock(&io->mu);
            lsio_buf *b = NULL;
            int rc = lsio_bufpool_get(io->pool, len, 10, &b); /* short: a new head may need none */
            pthread_mutex_lock(&io->mu);
            creq *now = io->groups ? io->groups->head : NULL;
            if (rc == -ETIMEDOUT)
                continue;
            if (io->stopping || now != q || q->buf || q->parts_sent) {
                pthread_mutex_unlock(&io->mu);
                lsio_buf_release(b);
                pthread_mutex_lock(&io->mu);
                continue;
            }
            if (rc < 0)
                q->fail = rc;
            else
                q->buf = b;
            io->starved = 0;
        }
        lsio_op *list = dispatch_locked(io);
        pthread_mutex_unlock(&io->mu);
        submit_list(io, list);
        pthread_mutex_lock(&io->mu);
    }
    pthread_mutex_unlock(&io->mu);
    return NULL;
}

/* --------------------------------------------------------------- fan-out */

/* A batch is two allocations: the batch with its ranges, plan and
 * location (batch_new), and its requests with their ops (enqueue). */
static void batch_free(batch *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n; i++)
        free(b->r[i].error);
    free(b->reqs);
    free(b);
}

static void complete_put(creq *q)
{
    batch *b = q->b;
    lsio_op *op = &q->ops[0];
    lsio_io *io = b->io;
    lsio_completion c = {.user_data = b->r[0].user_data, .status = op->status};
    if (op->status) {
        c.error = op->error ? lsio_error_msg(op->status, "put %s (%zu bytes): %s", b->location,
                                             op->len, op->error)
                            : lsio_error_msg(op->status, "put %s (%zu bytes)", b->location,
                                             op->len);
        atomic_fetch_add(&io->st_errors, 1);
    } else {
        c.len = op->len;
        atomic_fetch_add(&io->st_bytes, op->len);
    }
    free(op->error);
    op->error = NULL;
    atomic_fetch_add(&io->st_requests, 1);
    lsio__cq_push(b->cq, &c);
}

static void complete_read(creq *q)
{
    batch *b = q->b;
    lsio_io *io = b->io;
    int st = 0;
    const char *detail = NULL;
    if (q->p.open_end) {
        /* The backend sized the read: its buffer and length become the
         * request's, and the one range's. */
        lsio_op *op = &q->ops[0];
        lsio__rng *r = &b->r[b->order[q->p.first]];
        q->buf = op->buf;
        op->buf = NULL;
        q->p.len = op->status ? 0 : op->done;
        r->len = q->p.len;
        if (!op->status) {
            q->p.off = r->off = op->offset; /* a suffix now knows where it starts */
            op->len = op->done;
        } else {
            lsio_completion c = {.user_data = r->user_data, .status = op->status};
            c.error = op->error ? lsio_error_msg(op->status, "read %s [%" PRId64 ", end): %s",
                                                 b->location, r->orig_off, op->error)
                                : lsio_error_msg(op->status, "read %s [%" PRId64 ", end)",
                                                 b->location, r->orig_off);
            free(op->error);
            op->error = NULL;
            lsio_buf_release(q->buf);
            q->buf = NULL;
            if (op->attempts > 1)
                atomic_fetch_add(&io->st_retries, op->attempts - 1);
            atomic_fetch_add(&io->st_requests, 1);
            atomic_fetch_add(&io->st_errors, 1);
            atomic_fetch_add(&io->st_ranges, 1);
            lsio__cq_push(b->cq, &c);
            return;
        }
    }
    uint64_t valid_end = q->p.off + q->p.len;
    int end_unsure = 0;
    for (size_t i = 0; i < q->p.nparts; i++) {
        lsio_op *op = &q->ops[i];
        if (op->status && !st) {
            st = op->status;
            detail = op->error;
        } else if (!op->status && op->done < op->len && op->offset + op->done < valid_end) {
            valid_end = op->offset + op->done;
            end_unsure = op->done == 0; /* no byte came: EOF at or before */
        }
        if (op->used_direct)
            atomic_fetch_add(&io->st_direct, 1);
        if (op->attempts > 1)
            atomic_fetch_add(&io->st_retries, op->attempts - 1);
    }
    atomic_fetch_add(&io->st_requests, q->p.nparts);
    uint64_t object_size = 0;
    for (size_t i = 0; i < q->p.nparts && !st; i++)
        if (q->ops[i].object_size)
            object_size = q->ops[i].object_size;
    int handed = 0;
    for (size_t m = 0; m < q->p.nrng; m++) {
        lsio__rng *r = &b->r[b->order[q->p.first + m]];
        lsio_completion c = {.user_data = r->user_data, .offset = r->off};
        uint64_t end = r->off + r->len;
        if (!st)
            c.object_size = object_size;
        if (st) {
            c.status = st;
            c.error = detail ? lsio_error_msg(st, "read %s [%" PRIu64 ", %" PRIu64 "): %s",
                                              b->location, r->off, end, detail)
                             : lsio_error_msg(st, "read %s [%" PRIu64 ", %" PRIu64 ")",
                                              b->location, r->off, end);
        } else if (end > valid_end) {
            c.status = -LSIO_ERANGE;
            c.error = lsio_error_msg(c.status,
                                     "read %s [%" PRIu64 ", %" PRIu64
                                     "): range past end of file (%s %" PRIu64 ")",
                                     b->location, r->off, end,
                                     end_unsure ? "it ends at or before byte" : "size",
                                     valid_end);
        } else if (q->p.dest || q->p.iov) {
            c.data = q->p.dest; /* NULL for pieces */
            c.len = r->len;
        } else if (q->p.nrng == 1 && r->req_off == 0) {
            c.buf = q->buf;
            handed = 1;
            if (c.buf) { /* NULL only for an empty open-ended read */
                lsio_buf_set_len(c.buf, r->len);
                c.data = lsio_buf_data(c.buf);
            }
            c.len = r->len;
        } else {
            int rc = lsio_buf_slice(q->buf, r->req_off, r->len, &c.buf);
            if (rc < 0) {
                c.status = rc;
                c.error = lsio_error_msg(rc, "read %s [%" PRIu64 ", %" PRIu64 ")",
                                         b->location, r->off, end);
            } else {
                c.data = lsio_buf_data(c.buf);
                c.len = r->len;
            }
        }
        if (c.status) {
            atomic_fetch_add(&io->st_errors, 1);
        } else {
            atomic_fetch_add(&io->st_bytes, c.len);
        }
        atomic_fetch_add(&io->st_ranges, 1);
        lsio__cq_push(b->cq, &c);
    }
    for (size_t i = 0; i < q->p.nparts; i++) {
        free(q->ops[i].error);
        q->ops[i].error = NULL;
    }
    if (!handed)
        lsio_buf_release(q->buf);
    q->buf = NULL;
}

void lsio__op_done(lsio_op *op)
{
    creq *q = op->core;
    batch *b = q->b;
    lsio_io *io = b->io;
    int last = atomic_fetch_sub_explicit(&q->parts_left, 1, memory_order_acq_rel) == 1;
    if (last) {
        if (b->kind == LSIO_OP_PUT)
            complete_put(q);
        else
            complete_read(q);
    }
    grp *g = b->g; /* read before b may be freed by another request's end */
    int batch_last = last && atomic_fetch_sub(&b->reqs_left, 1) == 1;
    pthread_mutex_lock(&io->mu);
    io->inflight--;
    if (last)
        group_done_locked(io, g);
    lsio_op *list = dispatch_locked(io);
    if (batch_last && --io->live_batches == 0)
        pthread_cond_broadcast(&io->cv);
    pthread_mutex_unlock(&io->mu);
    if (batch_last)
        batch_free(b);
    submit_list(io, list);
}

/* Move op's cursor to the piece holding byte `pos` of the pieces (pos <
 * the pieces' total). */
static const struct iovec *op_seek(lsio_op *op, size_t pos)
{
    if (pos < op->iov_at) {
        op->iov_i = 0;
        op->iov_at = 0;
    }
    while (op->iov_i < op->iovcnt && pos >= op->iov_at + op->iov[op->iov_i].iov_len) {
        op->iov_at += op->iov[op->iov_i].iov_len;
        op->iov_i++;
    }
    return &op->iov[op->iov_i];
}

void lsio__op_put(lsio_op *op, size_t at, const void *src, size_t n)
{
    if (!op->iov) {
        memcpy(op->dst + at, src, n);
        return;
    }
    const unsigned char *s = src;
    size_t pos = op->iov_skip + at;
    while (n) {
        const struct iovec *v = op_seek(op, pos);
        size_t in = pos - op->iov_at, k = v->iov_len - in;
        if (k > n)
            k = n;
        memcpy((unsigned char *)v->iov_base + in, s, k);
        s += k;
        pos += k;
        n -= k;
    }
}

size_t lsio__op_iov(lsio_op *op, size_t at, size_t n, struct iovec *out, size_t max)
{
    if (!max || !n)
        return 0;
    if (!op->iov) {
        out[0] = (struct iovec){.iov_base = op->dst + at, .iov_len = n};
        return 1;
    }
    size_t pos = op->iov_skip + at, c = 0;
    while (n && c < max) {
        const struct iovec *v = op_seek(op, pos);
        size_t in = pos - op->iov_at, k = v->iov_len - in;
        if (k > n)
            k = n;
        out[c++] = (struct iovec){.iov_base = (unsigned char *)v->iov_base + in, .iov_len = k};
        pos += k;
        n -= k;
    }
    return c;
}

/* -------------------------------------------------------------- open/close */

static int env_is(const char *name, const char *val)
{
    const char *v = getenv(name);
    return v && !strcmp(v, val);
}

/* Start `be`; the uring one may be refused by LSIO_DISABLE_URING=1. */
static int start_backend(lsio_io *io, const lsio_backend *be, char **why)
{
    *why = NULL;
    if (be == &lsio_backend_uring && env_is("LSIO_DISABLE_URING", "1")) {
        *why = strdup("io_uring disabled by LSIO_DISABLE_URING=1");
        return -ENOSYS;
    }
    io->be = be;
    return be->start(io, &io->opts, &io->state, why);
}

int lsio_io_open(lsio_io **out, const char *location, const lsio_io_opts *opts)
{
    return lsio__io_open_with(out, location, opts, NULL);
}

int lsio__io_open_with(lsio_io **out, const char *location, const lsio_io_opts *opts,
                       const lsio_backend *forced)
{
    if (!out || !location)
        return lsio_error(-EINVAL, "lsio_io_open: NULL argument");
    *out = NULL;
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    if (opts)
        o = *opts;
    if ((unsigned)o.backend > LSIO_BACKEND_S3 || o.direct < -1 || o.direct > 1)
        return lsio_error(-EINVAL, "open %s: bad option", location);
    loc_kind kind = location_kind(location);
    if (kind == LOC_UNKNOWN)
        return lsio_error(-EPROTONOSUPPORT, "open %s", location);

    const lsio_backend *be = NULL;
    int auto_uring = 0;
    lsio_backend_kind want = o.backend;
    if (kind == LOC_LOCAL && want == LSIO_BACKEND_AUTO) {
        const char *env = getenv("LSIO_BACKEND");
        if (env && !strcmp(env, "posix"))
            want = LSIO_BACKEND_POSIX;
        else if (env && !strcmp(env, "uring"))
            want = LSIO_BACKEND_URING;
        else if (env && *env)
            return lsio_error(-EINVAL, "open %s: LSIO_BACKEND=%s (want posix or uring)",
                              location, env);
        else
            auto_uring = 1;
    }
    if (kind == LOC_LOCAL) {
        if (want == LSIO_BACKEND_POSIX)
            be = &lsio_backend_posix;
        else if (want == LSIO_BACKEND_URING || auto_uring)
            be = &lsio_backend_uring;
    } else if (kind == LOC_HTTP && (want == LSIO_BACKEND_AUTO || want == LSIO_BACKEND_HTTP)) {
        be = &lsio_backend_http;
    } else if (kind == LOC_S3 && (want == LSIO_BACKEND_AUTO || want == LSIO_BACKEND_S3)) {
        be = &lsio_backend_s3;
    }
    if (forced) {
        be = forced;
        auto_uring = 0;
    }
    if (!be)
        return lsio_error(-EINVAL, "open %s: backend %d does not serve this location",
                          location, (int)o.backend);

    lsio_io *io = calloc(1, sizeof *io);
    if (!io)
        return -ENOMEM;
    io->kind = kind;
    io->no_open_ended = env_is("LSIO_NO_OPEN_ENDED", "1");
    if (!o.workers)
        o.workers = lsio_ncpus();
    if (!o.depth)
        o.depth = 64;
    if (!o.max_connections)
        o.max_connections = 32;
    io->opts = o;
    pthread_mutex_init(&io->mu, NULL);
    pthread_cond_init(&io->cv, NULL);
    int rc = lsio_cq_create(&io->cq);
    if (rc < 0)
        goto fail;
    size_t align = be->direct_align > 4096 ? be->direct_align : 4096;
    if (o.pool) {
        io->pool = o.pool;
    } else {
        rc = lsio_bufpool_create(&io->pool, o.pool_bytes ? o.pool_bytes : (size_t)1 << 30, align);
        if (rc < 0)
            goto fail;
        io->own_pool = 1;
    }

    char *why = NULL;
    rc = start_backend(io, be, &why);
    if (rc < 0 && auto_uring) {
        char buf[512];
        snprintf(buf, sizeof buf, "io_uring unavailable (%s): using posix",
                 why ? why : lsio_strerror(rc));
        free(why);
        io->fallback = strdup(buf);
        rc = start_backend(io, &lsio_backend_posix, &why);
    }
    if (rc < 0) {
        if (why) {
            char msg[1024];
            snprintf(msg, sizeof msg, "open %s: backend %s: %s", location, be->name, why);
            lsio_error_set(rc, msg);
        } else {
            lsio_error(rc, "open %s: backend %s", location, be->name);
        }
        free(why);
        io->be = NULL;
        goto fail;
    }
    free(why);
    be = io->be;

    io->pp.merge_gap = o.merge_gap ? o.merge_gap : be->merge_gap;
    io->pp.split_bytes = o.split_bytes ? o.split_bytes : be->split_bytes;
    io->pp.direct = o.direct;
    io->pp.direct_align = lsio_bufpool_align(io->pool) >= be->direct_align ? be->direct_align : 0;
    lsio_bufpool_stats ps;
    lsio_bufpool_stats_get(io->pool, &ps);
    io->pp.pool_max = ps.max_bytes;
    io->max_inflight = kind == LOC_LOCAL ? (size_t)o.workers * o.depth
                                         : (size_t)o.max_connections * 4;
    if (pthread_create(&io->pump, NULL, pump_main, io) != 0) {
        rc = -EAGAIN;
        goto fail;
    }
    io->pump_started = 1;
    *out = io;
    return 0;
fail:
    if (io->be && io->state)
        io->be->stop(io->state);
    if (io->own_pool)
        lsio_bufpool_destroy(io->pool);
    lsio_cq_destroy(io->cq);
    free(io->fallback);
    pthread_mutex_destroy(&io->mu);
    pthread_cond_destroy(&io->cv);
    free(io);
    return rc;
}

void lsio_io_close(lsio_io *io)
{
    if (!io)
        return;
    pthread_mutex_lock(&io->mu);
    io->stopping = 1;
    pthread_cond_broadcast(&io->cv);
    pthread_mutex_unlock(&io->mu);
    if (io->pump_started)
        pthread_join(io->pump, NULL);

    /* Cancel what was not handed to the backend yet. */
    pthread_mutex_lock(&io->mu);
    while (io->submitting)
        pthread_cond_wait(&io->cv, &io->mu);
    lsio_op *cancel = NULL;
    for (grp *g = io->groups; g; g = g->next) {
        for (creq *q = g->head; q; q = q->qnext) {
            for (; q->parts_sent < q->p.nparts; q->parts_sent++) {
                lsio_op *op = &q->ops[q->parts_sent];
                op->status = -ECANCELED;
                op->next = cancel;
                cancel = op;
                io->inflight++;
            }
        }
        g->head = g->tail = NULL;
    }
    pthread_mutex_unlock(&io->mu);
    while (cancel) {
        lsio_op *op = cancel;
        cancel = op->next;
        lsio__op_done(op);
    }
    /* The backend finishes or cancels what it holds and joins its threads. */
    io->be->stop(io->state);
    pthread_mutex_lock(&io->mu);
    while (io->live_batches || io->submitting)
        pthread_cond_wait(&io->cv, &io->mu);
    pthread_mutex_unlock(&io->mu);

    if (io->own_pool)
        lsio_bufpool_destroy(io->pool);
    lsio_cq_destroy(io->cq);
    free(io->fallback);
    pthread_mutex_destroy(&io->mu);
    pthread_cond_destroy(&io->cv);
    free(io);
}

const char *lsio_io_backend_name(const lsio_io *io) { return io->be->name; }
const char *lsio_io_fallback_reason(const lsio_io *io) { return io->fallback; }
lsio_bufpool *lsio_io_pool(lsio_io *io) { return io->pool; }
lsio_cq *lsio_io_cq(lsio_io *io) { return io->cq; }

void lsio_io_stats_get(lsio_io *io, lsio_io_stats *st)
{
    st->ranges = atomic_load(&io->st_ranges);
    st->requests = atomic_load(&io->st_requests);
    st->bytes = atomic_load(&io->st_bytes);
    st->errors = atomic_load(&io->st_errors);
    st->retries = atomic_load(&io->st_retries);
    st->direct_reads = atomic_load(&io->st_direct);
}

/* ------------------------------------------------------------- submission */

/* Queue the batch's requests in group `group` and dispatch. */
static int enqueue(lsio_io *io, batch *b, uint32_t group)
{
    size_t nops = 0;
    for (size_t i = 0; i < b->nreq; i++)
        nops += b->plan[i].nparts;
    size_t rbytes = (b->nreq * sizeof *b->reqs + 15) & ~(size_t)15;
    b->reqs = calloc(1, rbytes + nops * sizeof *b->ops);
    if (!b->reqs)
        return -ENOMEM;
    b->ops = (lsio_op *)((char *)b->reqs + rbytes);
    atomic_init(&b->reqs_left, b->nreq);
    lsio_op *op = b->ops;
    for (size_t i = 0; i < b->nreq; i++) {
        creq *q = &b->reqs[i];
        q->p = b->plan[i];
        q->b = b;
        q->ops = op;
        atomic_init(&q->parts_left, q->p.nparts);
        for (size_t k = 0; k < q->p.nparts; k++, op++) {
            op->kind = b->kind;
            op->location = b->bpath;
            op->offset = q->p.off + k * q->p.part_len;
            op->len = k + 1 < q->p.nparts ? q->p.part_len : q->p.len - k * q->p.part_len;
            size_t want_end = q->p.want; /* bytes from p.off that must arrive */
            size_t start = k * q->p.part_len;
            op->want = want_end <= start ? 0 : (want_end - start < op->len ? want_end - start : op->len);
            op->direct = q->p.direct;
            op->open_ended = q->p.open_end;
            op->core = q;
            if (b->kind == LSIO_OP_PUT) {
                op->dst = q->p.dest;
                op->flags = b->flags;
            }
        }
        q->qnext = i + 1 < b->nreq ? &b->reqs[i + 1] : NULL;
    }
    pthread_mutex_lock(&io->mu);
    if (io->stopping) {
        pthread_mutex_unlock(&io->mu);
        return -ESHUTDOWN;
    }
    grp *g = group_get_locked(io, group);
    if (!g) {
        pthread_mutex_unlock(&io->mu);
        return -ENOMEM;
    }
    b->g = g;
    if (g->tail)
        g->tail->qnext = &b->reqs[0];
    else
        g->head = &b->reqs[0];
    g->tail = &b->reqs[b->nreq - 1];
    g->outstanding += b->nreq;
    io->live_batches++;
    lsio_op *list = dispatch_locked(io);
    pthread_mutex_unlock(&io->mu);
    submit_list(io, list);
    return 0;
}

static size_t up16(size_t v) { return (v + 15) & ~(size_t)15; }

static batch *batch_new(lsio_io *io, lsio_cq *cq, const char *location, size_t n)
{
    size_t m = n ? n : 1;
    size_t o_r = up16(sizeof(batch));
    size_t o_plan = o_r + up16(m * sizeof(lsio__rng));
    size_t o_order = o_plan + up16(m * sizeof(lsio__req));
    size_t o_keys = o_order + up16(m * sizeof(size_t));
    size_t o_loc = o_keys + up16(m * sizeof(lsio__key));
    size_t total;
    if (n > SIZE_MAX / 512 || lsio_add_size(o_loc, strlen(location) + 1, &total) < 0)
        return NULL;
    char *mem = malloc(total);
    if (!mem)
        return NULL;
    batch *b = (batch *)mem;
    memset(b, 0, sizeof *b);
    b->io = io;
    b->cq = cq ? cq : io->cq;
    b->n = n;
    b->r = (lsio__rng *)(mem + o_r);
    memset(b->r, 0, m * sizeof *b->r);
    b->plan = (lsio__req *)(mem + o_plan);
    b->order = (size_t *)(mem + o_order);
    b->keys = (lsio__key *)(mem + o_keys);
    b->location = mem + o_loc;
    memcpy(b->location, location, strlen(location) + 1);
    b->bpath = backend_path(io, b->location);
    return b;
}

static int check_location(lsio_io *io, const char *location)
{
    loc_kind k = location_kind(location);
    if (k != io->kind)
        return lsio_error(-EINVAL, "%s: not served by the %s backend", location, io->be->name);
    return 0;
}

/* A range to the end of the object that the backend reads without knowing
 * the size first (one request instead of a size request and a read):
 * LSIO_OPEN_FROM (offset >= 0) or LSIO_OPEN_SUFFIX (offset < 0), or 0. */
static int open_ended(const lsio_io *io, const lsio_range *x)
{
    if (x->length != LSIO_TO_END || x->dest || x->iov || !io->be->open_ended)
        return 0;
    unsigned kind = x->offset >= 0 ? LSIO_OPEN_FROM : LSIO_OPEN_SUFFIX;
    return (io->be->open_ended & kind) && !io->no_open_ended ? (int)kind : 0;
}

int lsio_get_ranges(lsio_io *io, lsio_cq *cq, const char *location, const lsio_range *ranges,
                    size_t n, uint32_t group)
{
    if (!io || !location || (!ranges && n))
        return lsio_error(-EINVAL, "lsio_get_ranges: NULL argument");
    int rc = check_location(io, location);
    if (rc < 0)
        return rc;
    int need_size = 0;
    for (size_t i = 0; i < n; i++) {
        const lsio_range *x = &ranges[i];
        if (x->length < 0 && x->length != LSIO_TO_END)
            return lsio_error(-EINVAL, "read %s: range %zu has negative length %" PRId64,
                              location, i, x->length);
        if (x->length == LSIO_TO_END && (x->dest || x->iov))
            return lsio_error(-EINVAL, "read %s: range %zu: %s with LSIO_TO_END", location, i,
                              x->dest ? "dest" : "iov");
        if (x->iov || x->iovcnt) {
            if (x->dest || !x->iov || !x->iovcnt)
                return lsio_error(-EINVAL, "read %s: range %zu: %s", location, i,
                                  x->dest ? "both dest and iov" : "iov without pieces");
            uint64_t sum = 0;
            for (size_t k = 0; k < x->iovcnt; k++)
                sum += x->iov[k].iov_len;
            if (x->length != LSIO_TO_END && sum != (uint64_t)x->length)
                return lsio_error(-EINVAL,
                                  "read %s: range %zu: iov pieces add up to %" PRIu64
                                  " bytes, the range is %" PRId64,
                                  location, i, sum, x->length);
        }
        if (x->length > 0 && x->offset >= 0 && x->length > INT64_MAX - x->offset)
            return lsio_error(-EINVAL, "read %s: range %zu overflows", location, i);
        if (x->length != 0 && (x->offset < 0 || x->length == LSIO_TO_END) &&
            !open_ended(io, x))
            need_size = 1;
    }
    if (n == 0)
        return 0;
    batch *b = batch_new(io, cq, location, n);
    if (!b)
        return -ENOMEM;
    b->kind = LSIO_OP_READ;

    uint64_t size = 0;
    int size_rc = 0;
    char *size_msg = NULL;
    if (need_size) {
        lsio_error_clear();
        size_rc = io->be->size(io->state, b->bpath, &size);
        if (size_rc < 0)
            size_msg = strdup(lsio_last_error());
    }
    for (size_t i = 0; i < n; i++) {
        lsio__rng *r = &b->r[i];
        r->orig_off = ranges[i].offset;
        r->orig_len = ranges[i].length;
        r->dest = ranges[i].dest;
        r->iov = ranges[i].iov;
        r->iovcnt = ranges[i].iovcnt;
        r->user_data = ranges[i].user_data;
        r->open_end = open_ended(io, &ranges[i]);
        lsio__resolve(r, location, need_size && size_rc == 0, size, size_rc, size_msg);
    }
    free(size_msg);
    b->nreq = lsio__plan_into(&io->pp, location, b->r, n, b->plan, b->order, b->keys);
    /* Ranges that complete at once: errors and empty ones. */
    lsio__cq_expect(b->cq, n);
    for (size_t i = 0; i < n; i++) {
        lsio__rng *r = &b->r[i];
        if (!r->status && r->len)
            continue;
        lsio_completion c = {.user_data = r->user_data, .status = r->status, .error = r->error,
                             .data = r->dest, .offset = r->status ? 0 : r->off};
        r->error = NULL;
        atomic_fetch_add(&io->st_ranges, 1);
        if (c.status)
            atomic_fetch_add(&io->st_errors, 1);
        lsio__cq_push(b->cq, &c);
    }
    if (b->nreq == 0) {
        batch_free(b);
        return 0;
    }
    rc = enqueue(io, b, group);
    if (rc < 0) {
        /* Out of memory (or closing) after the queue was told: fail the
         * planned ranges one by one so that nothing is left pending. */
        for (size_t i = 0; i < n; i++) {
            lsio__rng *r = &b->r[i];
            if (r->status || !r->len)
                continue;
            lsio_completion c = {.user_data = r->user_data, .status = rc};
            c.error = lsio_error_msg(rc, "read %s [%" PRIu64 ", %" PRIu64 ")", location, r->off,
                                     r->off + r->len);
            lsio__cq_push(b->cq, &c);
        }
        batch_free(b);
    }
    return 0;
}

int lsio_put(lsio_io *io, lsio_cq *cq, const char *location, const void *data, size_t len,
             uint64_t user_data, unsigned flags)
{
    if (!io || !location || (!data && len))
        return lsio_error(-EINVAL, "lsio_put: NULL argument");
    int rc = check_location(io, location);
    if (rc < 0)
        return rc;
    batch *b = batch_new(io, cq, location, 1);
    if (!b)
        return -ENOMEM;
    b->kind = LSIO_OP_PUT;
    b->flags = flags;
    b->r[0].user_data = user_data;
    b->r[0].len = len;
    b->order[0] = 0;
    b->nreq = 1;
    b->plan[0] = (lsio__req){.len = len, .want = len, .part_len = len, .nparts = 1, .nrng = 1,
                             .dest = (unsigned char *)(uintptr_t)data};
    lsio_cq *q = b->cq;
    lsio__cq_expect(q, 1);
    rc = enqueue(io, b, 0);
    if (rc < 0) {
        lsio__cq_expect(q, (size_t)-1); /* nothing will arrive */
        batch_free(b);
        return lsio_error(rc, "put %s", location);
    }
    return 0;
}

int lsio__io_target(lsio_io *io, const char *location, const lsio_backend **be, void **state,
                    const char **path)
{
    int rc = check_location(io, location);
    if (rc < 0)
        return rc;
    *be = io->be;
    *state = io->state;
    *path = backend_path(io, location);
    return 0;
}
