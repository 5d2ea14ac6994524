/*
 * zw_write.c — writing a selection: the chunk-writing plan and its run.
 *
 * Plan: per dimension, the stored objects (chunks, or shards) that hold at
 * least one selected element; their cartesian product is the list of jobs.
 * For each object and dimension, zw_part_of() says which selected elements
 * land where, and whether the object's region inside the array is wholly
 * covered (then nothing is read).
 *
 * Run: the calling thread walks the jobs and submits each to the pool once
 * the bytes in flight (objects being built plus encoded objects being
 * written) fit under opts.inflight_bytes. A job reads the stored object when
 * partly covered (raw get + lsio_chain_decode: only this array's codecs are
 * needed, not the reader), merges, tests for the fill value, encodes and
 * hands the encoded bytes to lsio_put; the put's completion (a queue
 * callback on the IO thread) frees them and returns the budget. So encoding
 * of later objects overlaps the writing of earlier ones, and memory stays
 * bounded. A fill-value object is deleted instead of stored (unless the
 * handle knows it is absent). The first error stops new jobs; jobs already
 * submitted finish, so every object is either as before or fully written.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "zw_internal.h"

struct zw_write_ctx {
    lsio_zwrite_array *a;
    const lsio_selection *sel;
    const unsigned char *buf;
    int64_t sstr[ZW_MAXD];
    lsio_taskgroup *tg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t inflight, budget;
    int inner_parallel; /* shards: encode inner chunks with parallel_for */
    int err;
    char *errmsg;
};

typedef struct zw_job {
    zw_write_ctx *w;
    int enc_is_chunk;  /* enc is a recycled chunk buffer (identity codecs) */
    size_t enccap;     /* > 0: enc is a recycled shard buffer of this size */
    uint64_t g[ZW_MAXD];
    uint64_t idx;
    size_t cost;
    void *enc;
    size_t enclen;
    char *loc;
    char key[256];
} zw_job;

/* --------------------------------------------------------------- parts */

int zw_part_of(const lsio_zwrite_array *a, const lsio_selection *sel, const uint64_t *lo,
               const uint64_t *ext, zw_part *p)
{
    p->full = 1;
    for (unsigned d = 0; d < a->spec.ndim; d++) {
        const lsio_dim_sel *s = &sel->dim[d];
        uint64_t hi = lo[d] + ext[d] < a->spec.shape[d] ? lo[d] + ext[d] : a->spec.shape[d];
        if (hi <= lo[d] || s->count == 0)
            return 0;
        uint64_t st = (uint64_t)(s->step < 0 ? -s->step : s->step);
        uint64_t start = (uint64_t)s->start, i0, pos0, n;
        if (s->step > 0) {
            i0 = start >= lo[d] ? 0 : (lo[d] - start + st - 1) / st;
            if (i0 >= s->count)
                return 0;
            pos0 = start + i0 * st;
            if (pos0 >= hi)
                return 0;
            n = (hi - 1 - pos0) / st + 1;
        } else {
            i0 = start < hi ? 0 : (start - (hi - 1) + st - 1) / st;
            if (i0 >= s->count)
                return 0;
            pos0 = start - i0 * st;
            if (pos0 < lo[d])
                return 0;
            n = (pos0 - lo[d]) / st + 1;
        }
        if (n > s->count - i0)
            n = s->count - i0;
        p->sel_first[d] = i0;
        p->n[d] = n;
        p->off[d] = (int64_t)(pos0 - lo[d]);
        p->step[d] = s->step;
        if (n != hi - lo[d])
            p->full = 0;
    }
    return 1;
}

static void chunk_strides(const lsio_zwrite_array *a, const uint64_t *ext, int64_t *cstr)
{
    unsigned nd = a->spec.ndim;
    int64_t s = (int64_t)a->itemsize;
    if (a->spec.fortran_order) {
        for (unsigned d = 0; d < nd; d++) {
            cstr[d] = s;
            s *= (int64_t)ext[d];
        }
    } else {
        for (unsigned d = nd; d-- > 0;) {
            cstr[d] = s;
            s *= (int64_t)ext[d];
        }
    }
}

static void copy_run(unsigned char *dst, int64_t dstep, const unsigned char *src, int64_t sstep,
                     uint64_t n, size_t is)
{
    if (dstep == (int64_t)is && sstep == (int64_t)is) {
        memcpy(dst, src, n * is);
        return;
    }
    switch (is) {
#define RUN(T)                                                                 \
    for (uint64_t i = 0; i < n; i++, dst += dstep, src += sstep)               \
        memcpy(dst, src, sizeof(T));                                           \
    break;
    case 1: RUN(uint8_t)
    case 2: RUN(uint16_t)
    case 4: RUN(uint32_t)
    case 8: RUN(uint64_t)
    default:
        for (uint64_t i = 0; i < n; i++, dst += dstep, src += sstep)
            memcpy(dst, src, is);
#undef RUN
    }
}

void zw_scatter(const lsio_zwrite_array *a, const zw_part *p, const void *src,
                const int64_t *sstr, void *chunk, const uint64_t *ext)
{
    unsigned nd = a->spec.ndim;
    size_t is = a->itemsize;
    int64_t cstr[ZW_MAXD], dstep[ZW_MAXD];
    chunk_strides(a, ext, cstr);
    const unsigned char *s0 = src;
    unsigned char *d0 = chunk;
    for (unsigned d = 0; d < nd; d++) {
        s0 += (int64_t)p->sel_first[d] * sstr[d];
        d0 += p->off[d] * cstr[d];
        dstep[d] = p->step[d] * cstr[d];
    }
    if (nd == 0) {
        memcpy(d0, s0, is);
        return;
    }
    uint64_t idx[ZW_MAXD] = {0};
    unsigned last = nd - 1;
    for (;;) {
        const unsigned char *sp = s0;
        unsigned char *dp = d0;
        for (unsigned d = 0; d < last; d++) {
            sp += (int64_t)idx[d] * sstr[d];
            dp += (int64_t)idx[d] * dstep[d];
        }
        copy_run(dp, dstep[last], sp, sstr[last], p->n[last], is);
        unsigned d = last;
        while (d-- > 0) {
            if (++idx[d] < p->n[d])
                break;
            idx[d] = 0;
        }
        if (d == (unsigned)-1)
            return;
    }
}

/* ------------------------------------------------------------- context */

static void ctx_fail(zw_write_ctx *w, int err, const char *msg)
{
    pthread_mutex_lock(&w->mu);
    if (!w->err) {
        w->err = err;
        w->errmsg = strdup(msg && *msg ? msg : lsio_strerror(err));
    }
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    lsio_taskgroup_fail(w->tg, err);
}

const char *zw_ctx_key(zw_write_ctx *w, const uint64_t *g, char *buf, size_t len)
{
    lsio_zwrite_chunk_key(&w->a->spec, g, buf, len);
    return buf;
}

lsio_zwrite_array *zw_ctx_array(zw_write_ctx *w) { return w->a; }
const lsio_selection *zw_ctx_sel(zw_write_ctx *w) { return w->sel; }
int zw_ctx_inner_parallel(zw_write_ctx *w) { return w->inner_parallel; }

static void budget_release(zw_write_ctx *w, size_t cost)
{
    pthread_mutex_lock(&w->mu);
    w->inflight -= cost;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void job_end(zw_job *j)
{
    zw_write_ctx *w = j->w;
    size_t cost = j->cost;
    if (j->enc_is_chunk)
        zw_chunk_buf_put(w->a, j->enc);
    else if (j->enccap)
        zw_big_buf_put(w->a, j->enc, j->enccap);
    else
        free(j->enc);
    free(j->loc);
    free(j);
    budget_release(w, cost);
}

static void job_fail(zw_job *j, int err, const char *what)
{
    lsio_error_wrap(err, "array %s %s %s (%s): %s", j->w->a->url,
                  j->w->a->sharded ? "shard" : "chunk", j->key, j->loc ? j->loc : "", what);
    ctx_fail(j->w, err, lsio_last_error());
}

/* The put of a job finished (IO thread). */
void zw_put_done(void *ctx, lsio_completion *c)
{
    (void)ctx;
    zw_job *j = (zw_job *)(uintptr_t)c->user_data;
    if (c->status) {
        lsio_error_set(c->status, c->error ? c->error : "");
        job_fail(j, c->status, "write");
    } else {
        atomic_fetch_add(&j->w->a->st_written, 1);
        atomic_fetch_add(&j->w->a->st_bytes, j->enclen);
    }
    lsio_completion_release(c);
    job_end(j);
}

int zw_merge_chunk(zw_write_ctx *w, const zw_part *p, const void *old, size_t oldlen,
                   void *chunk, const uint64_t *ext, const char *key, void **keep)
{
    lsio_zwrite_array *a = w->a;
    size_t nel = a->chunk_bytes / a->itemsize;
    int padded = 0;
    for (unsigned d = 0; d < a->spec.ndim; d++)
        padded |= p->n[d] != ext[d];
    if (!p->full && old) {
        int rc = zw_chunk_decode(a, old, oldlen, chunk, keep);
        if (rc < 0) {
            return lsio_error_wrap(rc, "decode %s", key ? key : "chunk");
        }
    } else if (padded) {
        zw_fill_elems(a, chunk, nel);
    }
    zw_scatter(a, p, w->buf, w->sstr, chunk, ext);
    return 0;
}

static int need_delete(lsio_zwrite_array *a, uint64_t idx)
{
    if (!a->fresh || !a->written)
        return 1;
    return (atomic_load(&a->written[idx / 8]) >> (idx % 8)) & 1;
}

static void mark_written(lsio_zwrite_array *a, uint64_t idx)
{
    if (a->written)
        atomic_fetch_or(&a->written[idx / 8], (unsigned char)(1u << (idx % 8)));
}

static void job_run(void *arg)
{
    zw_job *j = arg;
    zw_write_ctx *w = j->w;
    lsio_zwrite_array *a = w->a;
    if (lsio_taskgroup_status(w->tg)) {
        job_end(j);
        return;
    }
    lsio_error_clear();
    uint64_t lo[ZW_MAXD];
    for (unsigned d = 0; d < a->spec.ndim; d++)
        lo[d] = j->g[d] * a->obj[d];
    zw_part p;
    zw_part_of(a, w->sel, lo, a->obj, &p);
    lsio_buf *ob = NULL;
    int rc = 0;
    if (!p.full) {
        rc = lsio_io_read(a->io, j->loc, 0, LSIO_TO_END, &ob);
        if (rc == -ENOENT) {
            rc = 0;
            ob = NULL;
            lsio_error_clear();
        } else if (rc < 0) {
            job_fail(j, rc, "read");
            job_end(j);
            return;
        }
        atomic_fetch_add(&a->st_merged, 1);
    }
    const void *old = ob ? lsio_buf_data(ob) : NULL;
    size_t oldlen = ob ? lsio_buf_len(ob) : 0;
    if (a->sharded) {
        rc = zw_build_shard(w, j->g, old, oldlen, &j->enc, &j->enclen, &j->enccap);
    } else {
        void *chunk = zw_chunk_buf(a), *keep = NULL;
        rc = chunk ? zw_merge_chunk(w, &p, old, oldlen, chunk, a->spec.chunks, NULL, &keep)
                   : -ENOMEM;
        if (rc == 0 && (a->opts.write_empty_chunks ||
                        !zw_all_fill(a, chunk, a->chunk_bytes / a->itemsize))) {
            if (a->identity) { /* the chunk is its own encoding: put it as it is */
                j->enc = chunk;
                j->enclen = a->chunk_bytes;
                j->enc_is_chunk = 1;
                chunk = NULL;
            } else {
                rc = zw_chunk_encode(a, chunk, &j->enc, &j->enclen);
            }
            atomic_fetch_add(&a->st_encoded, 1);
        }
        free(keep);
        zw_chunk_buf_put(a, chunk);
    }
    lsio_buf_release(ob);
    if (rc < 0) {
        job_fail(j, rc, "build");
        job_end(j);
        return;
    }
    if (!j->enc) { /* all fill value */
        atomic_fetch_add(&a->st_deleted, 1);
        if (need_delete(a, j->idx) && (rc = lsio_delete(a->io, j->loc)) < 0)
            job_fail(j, rc, "delete");
        job_end(j);
        return;
    }
    mark_written(a, j->idx);
    rc = lsio_put(a->io, a->cq, j->loc, j->enc, j->enclen, (uint64_t)(uintptr_t)j,
                  a->opts.put_flags);
    if (rc < 0) {
        job_fail(j, rc, "put");
        job_end(j);
    }
}

/* -------------------------------------------------------------- writing */

/* Objects along dimension d holding a selected element. */
static int touched(const lsio_zwrite_array *a, const lsio_selection *sel, unsigned d,
                   uint64_t **out, uint64_t *n)
{
    const lsio_dim_sel *s = &sel->dim[d];
    uint64_t st = (uint64_t)(s->step < 0 ? -s->step : s->step);
    uint64_t first = (uint64_t)s->start, last = first;
    if (s->step > 0)
        last = first + (s->count - 1) * st;
    else
        first = first - (s->count - 1) * st;
    uint64_t k0 = first / a->obj[d], k1 = last / a->obj[d];
    uint64_t *v = malloc((k1 - k0 + 1) * sizeof *v);
    if (!v)
        return -ENOMEM;
    *n = 0;
    for (uint64_t k = k0; k <= k1; k++) {
        uint64_t lo = k * a->obj[d], hi = lo + a->obj[d];
        /* the first selected position >= lo (ascending view from `first`) */
        uint64_t pos = lo <= first ? first : first + (lo - first + st - 1) / st * st;
        if (pos < hi && pos <= last)
            v[(*n)++] = k;
    }
    *out = v;
    return 0;
}

int lsio_zwrite_write(lsio_zwrite_array *a, const lsio_selection *sel, const void *buf,
                      size_t buf_bytes)
{
    if (a && a->strings)
        return lsio_error(-EINVAL, "array %s: strings are written with lsio_zwrite_write_strings",
                          a->url);
    return zw_write_any(a, sel, buf, buf_bytes);
}

int zw_write_any(lsio_zwrite_array *a, const lsio_selection *sel, const void *buf,
                 size_t buf_bytes)
{
    if (!a || !buf)
        return lsio_error(-EINVAL, "lsio_zwrite_write: NULL argument");
    lsio_selection all;
    if (!sel) {
        lsio_selection_all(&all, a->spec.ndim, a->spec.shape);
        sel = &all;
    }
    if (sel->ndim != a->spec.ndim)
        return lsio_error(-LSIO_ESELECTION, "array %s: selection of %u dimensions, array has %u",
                          a->url, sel->ndim, a->spec.ndim);
    uint64_t count = 1;
    for (unsigned d = 0; d < sel->ndim; d++) {
        const lsio_dim_sel *s = &sel->dim[d];
        int64_t lastpos = s->count ? s->start + (int64_t)(s->count - 1) * s->step : s->start;
        if (s->step == 0 || (s->count && (s->start < 0 || lastpos < 0 ||
                                          (uint64_t)s->start >= a->spec.shape[d] ||
                                          (uint64_t)lastpos >= a->spec.shape[d])))
            return lsio_error(-LSIO_ESELECTION, "array %s: selection outside dimension %u", a->url,
                              d);
        count *= s->count;
    }
    if (count * a->itemsize != buf_bytes)
        return lsio_error(-EINVAL, "array %s: buffer of %zu bytes, the selection needs %llu",
                          a->url, buf_bytes, (unsigned long long)(count * a->itemsize));
    if (count == 0)
        return 0;

    zw_write_ctx w = {.a = a, .sel = sel, .buf = buf};
    w.budget = a->opts.inflight_bytes ? a->opts.inflight_bytes : ZW_DEFAULT_INFLIGHT;
    int64_t s = (int64_t)a->itemsize;
    for (unsigned d = sel->ndim; d-- > 0;) {
        w.sstr[d] = s;
        s *= (int64_t)sel->dim[d].count;
    }
    size_t objbytes = a->itemsize;
    for (unsigned d = 0; d < a->spec.ndim; d++)
        objbytes *= a->obj[d];
    /* an object costs its decoded bytes (being built) plus its encoded
     * bytes (being written): 2x for chunks; for shards the inner chunks
     * are built one at a time per thread, so about 1x. By default at
     * least two objects may be in flight, so building one overlaps writing
     * another; a budget the caller set is kept (one object at a time when
     * it is smaller than an object: the caller may want exactly that). */
    size_t cost = a->sharded ? objbytes : 2 * objbytes;
    if (!a->opts.inflight_bytes && w.budget < 2 * cost)
        w.budget = 2 * cost;

    pthread_mutex_lock(&a->lock);
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    int rc = lsio_taskgroup_create(&w.tg);
    uint64_t *lists[ZW_MAXD] = {0}, nl[ZW_MAXD];
    for (unsigned d = 0; rc == 0 && d < a->spec.ndim; d++)
        rc = touched(a, sel, d, &lists[d], &nl[d]);
    uint64_t it[ZW_MAXD] = {0}, njobs = 1;
    for (unsigned d = 0; rc == 0 && d < a->spec.ndim; d++)
        njobs *= nl[d];
    /* Shards run their inner chunks in parallel only when there are too
     * few shards at once to keep the pool busy (a barrier per shard costs
     * on a loaded machine). */
    unsigned nthr = lsio_pool_threads(a->pool);
    w.inner_parallel = njobs < 2 * (uint64_t)nthr || w.budget / cost < nthr;
    int more = rc == 0;
    for (unsigned d = 0; more && d < a->spec.ndim; d++)
        more = nl[d] > 0;
    while (more) {
        zw_job *j = calloc(1, sizeof *j);
        if (!j) {
            ctx_fail(&w, -ENOMEM, "out of memory");
            break;
        }
        j->w = &w;
        j->cost = cost;
        for (unsigned d = 0; d < a->spec.ndim; d++) {
            j->g[d] = lists[d][it[d]];
            j->idx = j->idx * a->grid[d] + j->g[d];
        }
        zw_ctx_key(&w, j->g, j->key, sizeof j->key);
        j->loc = lsio_join(a->url, j->key);
        pthread_mutex_lock(&w.mu);
        while (w.inflight && w.inflight + cost > w.budget && !w.err)
            pthread_cond_wait(&w.cv, &w.mu);
        int stop = w.err != 0;
        if (!stop)
            w.inflight += cost;
        pthread_mutex_unlock(&w.mu);
        if (stop || !j->loc) {
            free(j->loc);
            free(j);
            if (!stop)
                ctx_fail(&w, -ENOMEM, "out of memory");
            break;
        }
        if (lsio_pool_submit(a->pool, w.tg, job_run, j) < 0)
            job_run(j);
        /* next object, last dimension fastest */
        unsigned d = a->spec.ndim;
        while (d-- > 0) {
            if (++it[d] < nl[d])
                break;
            it[d] = 0;
        }
        more = d != (unsigned)-1;
    }
    if (w.tg)
        lsio_taskgroup_wait(w.tg);
    pthread_mutex_lock(&w.mu);
    while (w.inflight)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    if (rc == 0 && w.err) {
        rc = w.err;
        lsio_error_set(rc, w.errmsg ? w.errmsg : "");
    } else if (rc == 0) {
        atomic_fetch_add(&a->st_in, buf_bytes);
    }
    free(w.errmsg);
    for (unsigned d = 0; d < a->spec.ndim; d++)
        free(lists[d]);
    if (w.tg)
        lsio_taskgroup_destroy(w.tg);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.mu);
    pthread_mutex_unlock(&a->lock);
    return rc;
}
