/*
 * read.c — the read pipeline. A request (one or more selections, or a
 * streaming for_each) becomes the sorted list of decode units it touches
 * (chunks, or inner chunks of shards), grouped by stored object. The
 * calling thread walks that list, keeping at most opts.inflight_bytes of
 * work in flight, and submits each object to the IO layer; completions
 * arrive through a callback on the IO threads and become decode tasks on
 * the pool. A task decodes straight into the caller's array where the
 * chunk equals its place there (C order, whole chunk, contiguous in the
 * output), else into per-thread scratch and then a strided copy (copy.c).
 * An uncompressed chunk that equals its place is read straight into the
 * output by the IO layer, with no decode at all. A missing chunk is the
 * fill value. Sharded objects first read their index (one ranged read),
 * then only the inner chunks needed, in one call so that the IO layer can
 * merge close ranges. The first error stops new submissions and is
 * reported as "array URL chunk KEY: <what failed>".
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "zarr_internal.h"

/* Objects in flight: enough to keep every decode thread busy while IO
 * proceeds, and no more (each holds a buffer: fresh memory costs page
 * faults and cache). Remote stores need many requests in flight to hide
 * their latency; local ones only a few per thread. */
#define OBJS_PER_THREAD_LOCAL 3
#define OBJS_REMOTE 64

typedef struct rd rd;
typedef struct rd_obj rd_obj;

typedef struct rd_unit {
    rd_obj *obj;
    uint64_t key;
    uint64_t ord;            /* its place in r->keys (for_each's index) */
    lsio_completion c;       /* the object, or (sparse) the blocks needed */
    lsio_completion h;       /* sparse: the header, to check the hint */
    atomic_int parts;        /* completions still to come */
    int sparse;              /* read as header + blocks (hints.c) */
    lsio_enc_span sp;        /* sparse: where the blocks lie */
    size_t dlo, dhi;         /* sparse: the decoded bytes wanted */
    uint64_t size;           /* probed: the stored object's size */
} rd_unit;

struct rd_obj {
    rd *r;
    uint64_t shard;          /* linear index in the object grid */
    size_t n, cap;           /* units */
    rd_unit *units;
    rd_unit one;             /* units == &one when cap == 1 */
    lsio_completion ic;      /* shard index */
    lsio_range rg;           /* the read of the object (or its index) */
    atomic_size_t left;
    size_t budget;
    int dest;                /* the one unit is read into the output:
                                1 as one piece, 2 in pieces (iov) */
    struct iovec *iov;       /* dest 2: the pieces (kept for reuse) */
    size_t iovcap;
    unsigned char *sbuf;     /* a sparse unit's encoded chunk (kept for reuse) */
    size_t scap;
    rd_obj *next;            /* free list */
    char key[LSIO_ZARR_MAX_DIMS * 21 + 8];
    char loc[];
};

struct rd {
    lsio_zarr_array *a;
    const zarr_meta *m;
    const lsio_selection *sels;
    size_t nsel;
    void *const *outs;
    lsio_zarr_block_fn fn;   /* for_each */
    void *fctx;
    lsio_pool *pool;
    lsio_taskgroup *tg;
    lsio_cq *cq;
    uint64_t *keys;
    size_t nkeys;
    size_t unit_bytes;
    uint64_t unit_elems;
    zarr_grid g;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t inflight, live, max_live;
    int local;               /* a local backend (uring, posix) */
    int partial;             /* the chain decodes part of a chunk */
    int sparse;              /* ... and says where its encoded bytes lie */
    int mask;                /* LSIO_ZARR_MASK_FILL: fill values become NaN */
    int stream;              /* place chunks with non-temporal stores */
    int scatter;             /* the chain decodes a chunk into its place */
    int raw_pieces;          /* uncompressed chunks read into their rows */
    const void *fill;        /* what missing elements read as */
    unsigned char nan[8];    /* a NaN of the dtype (mask) */
    uint32_t group;          /* IO group of every range of this read */
    uint64_t units_done;
    rd_obj *free;
    atomic_int err;
    char *errmsg;
};

/* ------------------------------------------------------------ scratch */

typedef struct scratch {
    void *p[2];
    size_t cap[2];
} scratch;
static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static void scratch_free(void *v)
{
    scratch *s = v;
    for (int i = 0; i < 2; i++)
        lsio_free_aligned(s->p[i]);
    free(s);
}
static void scratch_init(void) { pthread_key_create(&scratch_key, scratch_free); }
static void *scratch_get(int i, size_t n)
{
    pthread_once(&scratch_once, scratch_init);
    scratch *s = pthread_getspecific(scratch_key);
    if (!s) {
        if (!(s = calloc(1, sizeof *s)))
            return NULL;
        pthread_setspecific(scratch_key, s);
    }
    if (s->cap[i] < n) {
        lsio_free_aligned(s->p[i]);
        /* Large scratch 2 MiB aligned, so that it is in huge pages where
         * lsio_hugepages() says so (lsio_alloc_aligned advises them). Kept
         * for the thread's life (pool threads reuse it read after read). */
        size_t huge = (size_t)2 << 20, c = n < 4096 ? 4096 : n;
        if (c >= huge)
            c = (c + huge - 1) & ~(huge - 1);
        s->p[i] = lsio_alloc_aligned(c >= huge ? huge : 64, c);
        s->cap[i] = s->p[i] ? c : 0;
    }
    return s->p[i];
}

/* ------------------------------------------------------------ errors */

static void fail(rd *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(rd *r, int err, const char *fmt, ...)
{
    int zero = 0;
    if (!atomic_compare_exchange_strong(&r->err, &zero, err))
        return;
    char *msg = malloc(2048);
    if (msg) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, 2048, fmt, ap);
        va_end(ap);
    }
    r->errmsg = msg; /* read after the pipeline drained */
    lsio_taskgroup_fail(r->tg, err);
}

/* The key of unit u of object o as it appears in messages. */
static void unit_name(const rd *r, const rd_unit *u, char *buf, size_t cap)
{
    if (!r->m->sharded) {
        snprintf(buf, cap, "%s", u->obj->key);
        return;
    }
    uint64_t uc[LSIO_ZARR_MAX_DIMS];
    zarr_key_coords(&r->g, u->key, uc);
    int k = snprintf(buf, cap, "%s (inner chunk", u->obj->key);
    for (unsigned d = 0; d < r->m->ndim && k > 0 && (size_t)k < cap; d++)
        k += snprintf(buf + k, cap - (size_t)k, "%s%" PRIu64, d ? "," : " ",
                      uc[d] % r->m->per_shard[d]);
    if (k > 0 && (size_t)k < cap)
        snprintf(buf + k, cap - (size_t)k, ")");
}

/* ------------------------------------------------------------ placing */

/* Is the unit, placed by w at src offset 0, the whole decoded chunk laid
 * out contiguously? Then it can be decoded into place. */
static int whole_in_place(const rd *r, const zarr_walk *w, int64_t src_off)
{
    return src_off == 0 && w->total == r->unit_elems && zarr_walk_contiguous(w);
}

/* Uncompressed chunks read straight into their rows of the output: each
 * run the walk w places (contiguous on both sides, ascending in the chunk,
 * RAW_RUN_MIN bytes or more) becomes a piece of one scattered read, and
 * the bytes between runs land in `junk`, so that the read is one span of
 * the chunk [*lo, *hi). Returns the number of pieces in o->iov, 0 when the
 * walk is not of that shape or there is no memory (then the chunk is read
 * and copied as usual). */
#define RAW_RUN_MIN 256u
#define RAW_MAX_PIECES (1u << 18) /* 4 MiB of iovecs per chunk in flight */
static unsigned char junk[64 << 10]; /* written by the kernel, never read */
static size_t raw_pieces(rd_obj *o, const zarr_walk *w, unsigned char *dst, int64_t soff,
                         uint64_t *lo, uint64_t *hi)
{
    zarr_scatter sc; /* only for its shape check */
    if (w->n == 0 || !zarr_scatter_init(&sc, w, dst, soff))
        return 0;
    unsigned in = w->n - 1;
    size_t run = w->cnt[in] * w->item;
    if (run < RAW_RUN_MIN)
        return 0;
    uint64_t runs = 1;
    for (unsigned d = 0; d < in; d++)
        runs *= w->cnt[d];
    uint64_t span = run;
    for (unsigned d = 0; d < in; d++)
        span += (w->cnt[d] - 1) * (uint64_t)w->ss[d];
    /* a piece per run, and the gaps between runs in junk-sized pieces */
    uint64_t gaps = span - runs * run;
    uint64_t most = 2 * runs + gaps / sizeof junk + 1;
    if (most > RAW_MAX_PIECES)
        return 0;
    if (o->iovcap < most) {
        struct iovec *v = realloc(o->iov, most * sizeof *v);
        if (!v)
            return 0;
        o->iov = v;
        o->iovcap = (size_t)most;
    }
    uint64_t idx[ZMAX] = {0};
    size_t n = 0;
    uint64_t at = (uint64_t)soff; /* next byte of the chunk to land */
    for (uint64_t k = 0; k < runs; k++) {
        uint64_t s = (uint64_t)soff;
        unsigned char *d = dst;
        for (unsigned j = 0; j < in; j++) {
            s += idx[j] * (uint64_t)w->ss[j];
            d += idx[j] * w->ds[j];
        }
        while (at < s) {
            uint64_t g = s - at < sizeof junk ? s - at : sizeof junk;
            o->iov[n++] = (struct iovec){junk, (size_t)g};
            at += g;
        }
        o->iov[n++] = (struct iovec){d, run};
        at += run;
        for (unsigned j = in; j-- > 0;) { /* next run, outer dims odometer */
            if (++idx[j] < w->cnt[j])
                break;
            idx[j] = 0;
        }
    }
    *lo = (uint64_t)soff;
    *hi = at;
    return n;
}

/* for_each: hand the unit's selected elements, packed, to fn. */
static int emit(rd *r, uint64_t ord, const uint64_t *uc, const unsigned char *src)
{
    const zarr_meta *m = r->m;
    size_t item = m->itemsize;
    zarr_walk w;
    int64_t off;
    if (!zarr_place_packed(m, &r->sels[0], uc, &w, &off))
        return 0;
    if (src && off == 0 && w.total == r->unit_elems && zarr_walk_contiguous(&w))
        return r->fn(r->fctx, ord, src, w.total);
    unsigned char *buf = scratch_get(1, w.total * item);
    if (!buf)
        return -ENOMEM;
    zarr_walk_copy(&w, buf, src ? src + off : NULL, r->fill);
    return r->fn(r->fctx, ord, buf, w.total);
}

/* The bytes [*lo, *hi) of the decoded unit at uc that the request reads
 * (every selection's piece of it, end to end); 0 when none. */
static int unit_span(const rd *r, const uint64_t *uc, size_t *lo, size_t *hi)
{
    int64_t l = INT64_MAX, h = 0;
    for (size_t i = 0; i < r->nsel; i++) {
        zarr_walk w;
        int64_t off;
        if (!zarr_place_packed(r->m, &r->sels[i], uc, &w, &off))
            continue;
        int64_t a = off, b = off + (int64_t)w.item;
        for (unsigned d = 0; d < w.n; d++) {
            int64_t e = (int64_t)(w.cnt[d] - 1) * w.ss[d];
            if (e < 0)
                a += e;
            else
                b += e;
        }
        l = a < l ? a : l;
        h = b > h ? b : h;
    }
    if (l >= h || l < 0 || (uint64_t)h > r->unit_bytes)
        return 0;
    *lo = (size_t)l;
    *hi = (size_t)h;
    return 1;
}

/* LSIO_ZARR_MASK_FILL: the elements of p[0, bytes) equal to the fill
 * value become NaN (decoded values, native order, float32 or float64). */
#define MASK_AS(T)                                                                 \
    do {                                                                           \
        T f, nan, *x = p;                                                          \
        memcpy(&f, r->m->fill, sizeof f);                                          \
        memcpy(&nan, r->nan, sizeof nan);                                          \
        for (size_t i = 0, n = bytes / sizeof f; i < n; i++)                       \
            if (x[i] == f)                                                         \
                x[i] = nan;                                                        \
    } while (0)
static void mask_fill(const rd *r, void *p, size_t bytes)
{
    if (!r->mask)
        return;
    if (r->m->itemsize == 4)
        MASK_AS(float);
    else
        MASK_AS(double);
}
#undef MASK_AS

/* ------------------------------------------------------------ tasks */

static void obj_done(rd_obj *o)
{
    rd *r = o->r;
    pthread_mutex_lock(&r->mu);
    r->inflight -= o->budget;
    r->live--;
    r->units_done += o->n;
    o->next = r->free;
    r->free = o;
    pthread_cond_signal(&r->cv);
    pthread_mutex_unlock(&r->mu);
}

static void unit_finish(rd_unit *u)
{
    lsio_completion_release(&u->c);
    if (u->sparse)
        lsio_completion_release(&u->h);
    rd_obj *o = u->obj;
    if (atomic_fetch_sub(&o->left, 1) == 1)
        obj_done(o);
}

/* Finish every unit of o unprocessed. o may be reused as soon as its last
 * unit is finished, so nothing of it is read after that. */
static void finish_all(rd_obj *o)
{
    size_t n = o->n;
    rd_unit *us = o->units;
    for (size_t i = 0; i < n; i++)
        unit_finish(&us[i]);
}

/* Is reading span sp of a chunk (header and blocks) worth it against
 * reading the whole chunk? */
static int sparse_worth(const lsio_enc_span *sp)
{
    return sp->head + (sp->hi - sp->lo) <= sp->size / 4 * 3;
}

/* A unit of which little is read: 1 when its chunk's block layout is known
 * from an earlier read (then read only its header and the blocks that hold
 * [dlo, dhi)); 2 when it is not known but could be learned from the
 * chunk's first bytes (a probe: locally, or remotely for chunks of at
 * least PROBE_REMOTE_MIN decoded bytes, where bytes cost more than one
 * more request); 0 otherwise. */
#define PROBE_REMOTE_MIN (1u << 20)
static int sparse_plan(rd *r, rd_unit *u)
{
    uint64_t uc[LSIO_ZARR_MAX_DIMS];
    size_t lo, hi, n;
    unsigned char head[ZARR_HINT_MAX];
    zarr_key_coords(&r->g, u->key, uc);
    if (!unit_span(r, uc, &lo, &hi) || hi - lo > r->unit_bytes / 2)
        return 0;
    u->dlo = lo;
    u->dhi = hi;
    if (!(n = zarr_hints_get(&r->a->hints, u->key, head, sizeof head)))
        return r->local || r->unit_bytes >= PROBE_REMOTE_MIN ? 2 : 0;
    if (lsio_chain_encoded_span(r->m->chain, head, n, lo, hi - lo, &u->sp) < 0 ||
        u->sp.head != n || !sparse_worth(&u->sp))
        return 0;
    u->sparse = 1;
    return 1;
}

/* Remember where the blocks of a chunk read whole lie (its selected bytes
 * [lo, hi) are few), so that a later read of part of it can use them. */
static void sparse_learn(rd *r, rd_unit *u, size_t lo, size_t hi)
{
    lsio_enc_span sp;
    if (lsio_chain_encoded_span(r->m->chain, u->c.data, u->c.len, lo, hi - lo, &sp) == 0 &&
        sp.size == u->c.len)
        zarr_hints_put(&r->a->hints, u->key, u->c.data, sp.head);
}

/* The header read with a sparse unit is not the one remembered (the chunk
 * was written again): forget it and read the whole chunk. 1: the read is
 * on its way (the unit finishes when it completes). */
static int sparse_again(rd *r, rd_unit *u)
{
    rd_obj *o = u->obj;
    zarr_hints_drop(&r->a->hints, u->key);
    lsio_completion_release(&u->c);
    lsio_completion_release(&u->h);
    memset(&u->c, 0, sizeof u->c);
    u->sparse = 0;
    atomic_store(&u->parts, 1);
    lsio_range rg = {.offset = 0, .length = LSIO_TO_END, .user_data = (uint64_t)(uintptr_t)u};
    int rc = lsio_get_ranges(r->a->io, r->cq, o->loc, &rg, 1, r->group);
    if (rc < 0) {
        fail(r, rc, "array %s chunk %s: %s", r->a->url, o->key, lsio_last_error());
        return 0;
    }
    return 1;
}

/* The whole chunk decoded straight into its place in the one output, its
 * blocks unshuffled into the output's rows (lsio_chain_decode_sink): one
 * pass over the data less than decoding into scratch and copying. 1 when
 * done; 0 when the chain, the chunk or the placement is not of that kind,
 * or when the decode failed (the caller decodes it the ordinary way, which
 * writes every element again or names the damage). */
static int scatter_unit(rd *r, const rd_unit *u, const uint64_t *uc)
{
    zarr_walk w;
    unsigned char *dst;
    int64_t soff;
    zarr_scatter sc;
    if (!zarr_place(r->m, &r->sels[0], r->outs[0], uc, &w, &dst, &soff))
        return 0;
    w.stream = r->stream;
    if (!zarr_scatter_init(&sc, &w, dst, soff))
        return 0;
    lsio_chunk_sink sink = {.esize = r->m->itemsize, .put = zarr_scatter_put, .ctx = &sc};
    int rc = lsio_chain_decode_sink(r->m->chain, u->c.data, u->c.len, &sink);
    return zarr_scatter_end(&sc) && rc == 0;
}

/* The whole chunk into scratch through the same path (for a block
 * function, or a placement scatter_unit does not take): blocks unshuffled
 * straight into buf, raw streams used where they lie, where libblosc
 * would copy them into its own block first. 1 when done; 0 (the caller
 * decodes it the ordinary way) otherwise. */
static int sink_whole(rd *r, const rd_unit *u, unsigned char *buf)
{
    zarr_walk w;
    zarr_scatter sc;
    uint64_t n = r->unit_elems;
    int64_t item = (int64_t)r->m->itemsize;
    zarr_walk_init(&w, 1, &n, &item, &item, r->m->itemsize);
    if (!zarr_scatter_init(&sc, &w, buf, 0))
        return 0;
    lsio_chunk_sink sink = {.esize = r->m->itemsize, .put = zarr_scatter_put, .ctx = &sc};
    int rc = lsio_chain_decode_sink(r->m->chain, u->c.data, u->c.len, &sink);
    return zarr_scatter_end(&sc) && rc == 0;
}

/* Decode (or fill) one unit and place it. Returns 1 when the unit was
 * handed back to the IO layer (it is not finished). */
static int unit_work(rd_unit *u)
{
    rd_obj *o = u->obj;
    rd *r = o->r;
    const zarr_meta *m = r->m;
    lsio_zarr_array *a = r->a;
    if (atomic_load(&r->err))
        return 0;
    char name[LSIO_ZARR_MAX_DIMS * 42 + 64];
    int st = u->c.status;
    const char *why = u->c.error;
    if (u->sparse) {
        /* the header decides: gone (a missing chunk), another one (read it
         * whole), or the one remembered (then the blocks must be there) */
        unsigned char head[ZARR_HINT_MAX];
        size_t hl;
        if (u->h.status == -ENOENT) {
            st = -ENOENT;
        } else if (u->h.status < 0) {
            st = u->h.status;
            why = u->h.error;
        } else if (u->h.len < u->sp.head ||
                   (hl = zarr_hints_get(&a->hints, u->key, head, sizeof head)) != u->sp.head ||
                   memcmp(head, u->h.data, hl)) {
            return sparse_again(r, u);
        }
    }
    if (st < 0 && st != -ENOENT) {
        unit_name(r, u, name, sizeof name);
        fail(r, st, "array %s chunk %s: %s", a->url, name, why ? why : lsio_strerror(st));
        return 0;
    }
    uint64_t uc[LSIO_ZARR_MAX_DIMS];
    zarr_key_coords(&r->g, u->key, uc);
    const unsigned char *src = NULL;
    if (st == -ENOENT) {
        atomic_fetch_add(&a->st_missing, 1);
    } else {
        atomic_fetch_add(&a->st_read, 1);
        atomic_fetch_add(&a->st_bytes, u->c.len + (u->sparse ? u->h.len : 0));
        atomic_fetch_add(&a->st_decoded, r->unit_bytes);
        if (o->dest) {
            /* a fixed-length read (dest 2: of the span the output needs):
             * an object longer or shorter than the chunk would go unseen,
             * so its size is asked too */
            uint64_t size = u->c.object_size;
            size_t want = (size_t)o->rg.length;
            if (u->c.len == want && !size && lsio_io_size(a->io, o->loc, &size) < 0)
                size = r->unit_bytes; /* gone since: what was read is the chunk */
            if (u->c.len != want || size != r->unit_bytes) {
                unit_name(r, u, name, sizeof name);
                fail(r, -LSIO_ESIZE, "array %s chunk %s: %" PRIu64 " bytes, expected %zu: %s",
                     a->url, name, u->c.len != want ? (uint64_t)u->c.len : size,
                     r->unit_bytes, lsio_strerror(-LSIO_ESIZE));
            } else {
                atomic_fetch_add(&a->st_direct, 1);
            }
            return 0;
        }
        /* Straight into the output when the unit is its place there. */
        if (!r->fn && r->nsel == 1) {
            zarr_walk w;
            unsigned char *dst;
            int64_t soff;
            if (zarr_place(r->m, &r->sels[0], r->outs[0], uc, &w, &dst, &soff) && whole_in_place(r, &w, soff)) {
                int rc = lsio_chain_decode(m->chain, u->c.data, u->c.len, dst, r->unit_bytes);
                if (rc < 0) {
                    unit_name(r, u, name, sizeof name);
                    fail(r, rc, "array %s chunk %s: %s", a->url, name, lsio_last_error());
                }
                mask_fill(r, dst, r->unit_bytes);
                if (rc == 0)
                    atomic_fetch_add(&a->st_direct, 1);
                return 0;
            }
        }
        if (m->raw) { /* the stored bytes are the values: no decode step */
            if (u->c.len != r->unit_bytes) {
                unit_name(r, u, name, sizeof name);
                fail(r, -LSIO_ESIZE, "array %s chunk %s: %zu bytes, expected %zu: %s", a->url,
                     name, u->c.len, r->unit_bytes, lsio_strerror(-LSIO_ESIZE));
                return 0;
            }
            src = u->c.data;
            mask_fill(r, u->c.data, r->unit_bytes); /* our own buffer */
            goto place;
        }
        /* A small part of the chunk read: decode only the bytes from its
         * first to its last element (blosc: the blocks holding them), in
         * their place in the scratch chunk; placing reads nothing else.
         * Read sparsely, the header and the blocks go where they lie in
         * the encoded chunk (the rest of it is never looked at). Else the
         * whole chunk, straight into its place where the chain can. */
        size_t lo = 0, hi = 0;
        int part = !u->sparse && r->partial && unit_span(r, uc, &lo, &hi) &&
                   hi - lo <= r->unit_bytes / 2;
        if (!u->sparse && !part && r->scatter && !r->fn && r->nsel == 1 && !r->mask &&
            scatter_unit(r, u, uc)) {
            atomic_fetch_add(&a->st_direct, 1);
            return 0;
        }
        unsigned char *buf = scratch_get(0, r->unit_bytes);
        if (!buf) {
            fail(r, -ENOMEM, "array %s: no memory for a chunk of %zu bytes", a->url,
                 r->unit_bytes);
            return 0;
        }
        int rc = -LSIO_EUNSUPPORTED;
        if (u->sparse) { /* header and blocks were read into o->sbuf */
            rc = lsio_chain_decode_range(m->chain, o->sbuf, u->sp.size, u->dlo,
                                         u->dhi - u->dlo, buf + u->dlo);
            if (rc == 0)
                mask_fill(r, buf + u->dlo, u->dhi - u->dlo);
        } else if (part) {
            if (r->sparse)
                sparse_learn(r, u, lo, hi);
            rc = lsio_chain_decode_range(m->chain, u->c.data, u->c.len, lo, hi - lo, buf + lo);
            if (rc == 0)
                mask_fill(r, buf + lo, hi - lo);
        } else if (r->scatter && sink_whole(r, u, buf)) {
            rc = 0;
            mask_fill(r, buf, r->unit_bytes);
        }
        if (rc == -LSIO_EUNSUPPORTED && (rc = lsio_chain_decode(m->chain, u->c.data, u->c.len,
                                                                buf, r->unit_bytes)) == 0)
            mask_fill(r, buf, r->unit_bytes);
        if (rc < 0) {
            unit_name(r, u, name, sizeof name);
            fail(r, rc, "array %s chunk %s: %s", a->url, name, lsio_last_error());
            return 0;
        }
        src = buf;
    }
place:
    if (r->fn) {
        int rc = emit(r, u->ord, uc, src);
        if (rc < 0)
            fail(r, rc, "array %s: the block function failed: %s", a->url, lsio_strerror(rc));
        return 0;
    }
    for (size_t i = 0; i < r->nsel; i++) {
        zarr_walk w;
        unsigned char *dst;
        int64_t soff;
        if (zarr_place(r->m, &r->sels[i], r->outs[i], uc, &w, &dst, &soff)) {
            w.stream = r->stream;
            zarr_walk_copy(&w, dst, src ? src + soff : NULL, r->fill);
        }
    }
    return 0;
}

static void unit_task(void *arg)
{
    rd_unit *u = arg;
    if (!unit_work(u))
        unit_finish(u);
}

/* A shard's index arrived: read the inner chunks needed. */
static void index_task(void *arg)
{
    rd_obj *o = arg;
    rd *r = o->r;
    const zarr_meta *m = r->m;
    int st = o->ic.status;
    uint64_t *e = NULL;
    lsio_range *rg = NULL;
    size_t nr = 0;
    if (atomic_load(&r->err))
        goto all_done;
    if (st == -ENOENT) { /* the whole shard is missing */
        lsio_completion_release(&o->ic);
        size_t n = o->n; /* o may be reused once its last unit is done */
        rd_unit *us = o->units;
        for (size_t i = 0; i < n; i++) {
            us[i].c = (lsio_completion){.status = -ENOENT};
            unit_task(&us[i]);
        }
        return;
    }
    if (st < 0) {
        fail(r, st, "array %s shard %s: index: %s", r->a->url, o->key,
             o->ic.error ? o->ic.error : lsio_strerror(st));
        goto all_done;
    }
    e = malloc((size_t)m->n_inner * 16);
    rg = malloc(o->n * sizeof *rg);
    if (!e || !rg) {
        fail(r, -ENOMEM, "array %s shard %s: no memory for the index", r->a->url, o->key);
        goto all_done;
    }
    int rc = zarr_shard_index_decode(m, o->ic.data, o->ic.len, e, o->key);
    /* An index at the end was read counted from the end (locally the last
     * index_bytes, remotely a suffix range): where it begins plus its
     * length is the shard's size, and no inner chunk may reach into it. */
    if (rc == 0 && !m->index_at_start)
        rc = zarr_shard_index_end(m, e, o->ic.offset + o->ic.len, o->key);
    if (rc < 0) {
        fail(r, rc, "array %s %s", r->a->url, lsio_last_error());
        goto all_done;
    }
    lsio_completion_release(&o->ic);
    /* Missing inner chunks complete now; the others become ranges. A
     * guard count keeps o alive until everything is submitted. */
    atomic_fetch_add(&o->left, 1);
    size_t nmiss = 0;
    rd_unit *miss[64];
    for (size_t i = 0; i < o->n; i++) {
        rd_unit *u = &o->units[i];
        uint64_t inner = u->key % m->n_inner, off = e[2 * inner], len = e[2 * inner + 1];
        if (off == ZARR_SHARD_MISSING) {
            u->c = (lsio_completion){.status = -ENOENT};
            if (nmiss < 64)
                miss[nmiss++] = u;
            else
                unit_task(u);
            continue;
        }
        rg[nr++] = (lsio_range){.offset = (int64_t)off, .length = (int64_t)len,
                                .user_data = (uint64_t)(uintptr_t)u};
    }
    free(e);
    e = NULL;
    if (nr && (rc = lsio_get_ranges(r->a->io, r->cq, o->loc, rg, nr, r->group)) < 0) {
        fail(r, rc, "array %s shard %s: %s", r->a->url, o->key, lsio_last_error());
        for (size_t i = 0; i < nr; i++)
            unit_finish((rd_unit *)(uintptr_t)rg[i].user_data);
    }
    free(rg);
    for (size_t i = 0; i < nmiss; i++)
        unit_task(miss[i]);
    if (atomic_fetch_sub(&o->left, 1) == 1)
        obj_done(o);
    return;
all_done:
    free(e);
    free(rg);
    lsio_completion_release(&o->ic);
    finish_all(o);
}

static int sbuf_fit(rd *r, rd_obj *o, size_t n);

/* A probe of a chunk's first bytes arrived (u->h): when its blosc header
 * says a few blocks hold what is wanted, remember the header and read just
 * those blocks; else read the whole chunk. */
static void probe_task(void *arg)
{
    rd_unit *u = arg;
    rd_obj *o = u->obj;
    rd *r = o->r;
    lsio_completion h = u->h;
    memset(&u->h, 0, sizeof u->h);
    lsio_range rg = {.offset = 0, .length = LSIO_TO_END, .user_data = (uint64_t)(uintptr_t)u};
    if (h.status < 0 && h.status != -ENOENT && !r->local && !atomic_load(&r->err)) {
        /* remotely a chunk may be shorter than the probe (or the server
         * odd): read it whole, which reports what is really wrong */
        lsio_completion_release(&h);
        goto issue;
    }
    if (atomic_load(&r->err) || h.status < 0) {
        if (!atomic_load(&r->err) && h.status != -ENOENT)
            fail(r, h.status, "array %s chunk %s: %s", r->a->url, o->key,
                 h.error ? h.error : lsio_strerror(h.status));
        u->c = (lsio_completion){.status = h.status};
        lsio_completion_release(&h);
        unit_task(u); /* missing: the fill value; failed: nothing */
        return;
    }
    lsio_enc_span sp;
    if (lsio_chain_encoded_span(r->m->chain, h.data, h.len, u->dlo, u->dhi - u->dlo, &sp) == 0 &&
        (sp.size == u->size || !u->size) && sp.head <= h.len && sparse_worth(&sp) &&
        sbuf_fit(r, o, sp.size)) {
        zarr_hints_put(&r->a->hints, u->key, h.data, sp.head);
        memcpy(o->sbuf, h.data, sp.head);
        u->sp = sp;
        u->sparse = 1;
        u->h = h; /* checked against the hint like any sparse read */
        rg = (lsio_range){.offset = (int64_t)sp.lo, .length = (int64_t)(sp.hi - sp.lo),
                          .dest = o->sbuf + sp.lo, .user_data = (uint64_t)(uintptr_t)u};
    } else {
        atomic_fetch_add(&r->a->st_bytes, h.len); /* the probe, read in vain */
        lsio_completion_release(&h);
    }
issue:
    atomic_store(&u->parts, 1);
    int rc = lsio_get_ranges(r->a->io, r->cq, o->loc, &rg, 1, r->group);
    if (rc < 0) {
        fail(r, rc, "array %s chunk %s: %s", r->a->url, o->key, lsio_last_error());
        unit_finish(u);
    }
}

/* IO completions, on an IO thread: hand over to the pool. */
static void on_complete(void *ctx, lsio_completion *c)
{
    rd *r = ctx;
    uintptr_t ud = (uintptr_t)c->user_data;
    int rc;
    if (ud & 1) {
        rd_obj *o = (rd_obj *)(ud & ~(uintptr_t)1);
        o->ic = *c;
        rc = lsio_pool_submit(r->pool, r->tg, index_task, o);
        if (rc < 0)
            index_task(o);
    } else {
        rd_unit *u = (rd_unit *)(ud & ~(uintptr_t)6);
        if (ud & 4) { /* a probe of the chunk's first bytes */
            u->h = *c;
            if (lsio_pool_submit(r->pool, r->tg, probe_task, u) < 0)
                probe_task(u);
            return;
        }
        if (ud & 2)
            u->h = *c; /* a sparse unit's header */
        else
            u->c = *c;
        if (atomic_fetch_sub(&u->parts, 1) != 1)
            return;
        rc = lsio_pool_submit(r->pool, r->tg, unit_task, u);
        if (rc < 0)
            unit_task(u);
    }
}

/* ------------------------------------------------------------ driver */

static rd_obj *obj_get(rd *r, size_t n)
{
    rd_obj *o = r->free;
    if (o && o->cap >= n) {
        r->free = o->next;
    } else {
        size_t loc = strlen(r->a->url) + sizeof o->key + 2;
        o = calloc(1, sizeof *o + loc);
        if (!o)
            return NULL;
        o->r = r;
        o->cap = n;
        o->units = n == 1 ? &o->one : malloc(n * sizeof *o->units);
        if (!o->units) {
            free(o);
            return NULL;
        }
    }
    o->n = n;
    o->dest = 0;
    atomic_store(&o->left, n);
    return o;
}

static void obj_free_all(rd *r)
{
    while (r->free) {
        rd_obj *o = r->free;
        r->free = o->next;
        if (o->units != &o->one)
            free(o->units);
        free(o->iov);
        zarr_spare_give(&r->a->hints, o->sbuf, o->scap);
        free(o);
    }
}

/* Probe a chunk of which little is read and whose layout is not known:
 * its first bytes (a blosc header and block starts) first. Locally its
 * size is asked first (a statx; small chunks are read whole); remotely
 * it is not known (u->size 0). 0: on its way; -1: not worth it or not
 * possible (read it as usual). */
#define PROBE_MIN (128u << 10) /* smaller chunks are read whole */
#define PROBE_BYTES 4096u
static int probe_issue(rd *r, rd_obj *o)
{
    rd_unit *u = &o->units[0];
    u->size = 0;
    if (r->local && (lsio_io_size(r->a->io, o->loc, &u->size) < 0 || u->size < PROBE_MIN))
        return -1; /* a missing chunk is found by the usual read */
    lsio_range rg = {.offset = 0, .length = PROBE_BYTES,
                     .user_data = (uint64_t)(uintptr_t)u | 4};
    memset(&u->h, 0, sizeof u->h);
    atomic_store(&u->parts, 1);
    int rc = lsio_get_ranges(r->a->io, r->cq, o->loc, &rg, 1, r->group);
    if (rc < 0) {
        fail(r, rc, "array %s chunk %s: %s", r->a->url, o->key, lsio_last_error());
        finish_all(o);
    }
    return 0;
}

/* Make o->sbuf hold n bytes (kept with o for the next sparse unit, and
 * with the array after the read). */
static int sbuf_fit(rd *r, rd_obj *o, size_t n)
{
    /* one size for every chunk of the array (blosc adds at most 16 bytes
     * to what it compresses), so that kept buffers always fit */
    if (n < r->unit_bytes + 64)
        n = r->unit_bytes + 64;
    if (o->scap >= n)
        return 1;
    zarr_spare_give(&r->a->hints, o->sbuf, o->scap);
    o->scap = 0;
    if (!(o->sbuf = zarr_spare_take(&r->a->hints, n, &o->scap)))
        return 0;
    return 1;
}

/* Hand o's read (o->rg) to the IO layer. */
static void obj_issue(rd *r, rd_obj *o)
{
    int rc = lsio_get_ranges(r->a->io, r->cq, o->loc, &o->rg, 1, r->group);
    if (rc < 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", lsio_last_error());
        fail(r, rc, "array %s chunk %s: %s", r->a->url, o->key, msg);
        finish_all(o);
    }
}

/* Read a sparse unit: its header and its blocks, each where it lies in
 * the chunk, into o->sbuf. */
static void sparse_issue(rd *r, rd_obj *o)
{
    rd_unit *u = &o->units[0];
    lsio_range two[2] = {
        {.offset = 0, .length = (int64_t)u->sp.head, .dest = o->sbuf,
         .user_data = (uint64_t)(uintptr_t)u | 2},
        {.offset = (int64_t)u->sp.lo, .length = (int64_t)(u->sp.hi - u->sp.lo),
         .dest = o->sbuf + u->sp.lo, .user_data = (uint64_t)(uintptr_t)u}};
    memset(&u->h, 0, sizeof u->h);
    atomic_store(&u->parts, 2);
    int rc = lsio_get_ranges(r->a->io, r->cq, o->loc, two, 2, r->group);
    if (rc < 0) {
        fail(r, rc, "array %s chunk %s: %s", r->a->url, o->key, lsio_last_error());
        u->sparse = 0;
        finish_all(o);
    }
}

/* Submit one stored object with units keys[i..j). */
static int submit_obj(rd *r, size_t i, size_t j)
{
    const zarr_meta *m = r->m;
    size_t need = (j - i) * r->unit_bytes + m->index_bytes;
    pthread_mutex_lock(&r->mu);
    while (r->live && (r->inflight + need > r->a->inflight || r->live >= r->max_live))
        pthread_cond_wait(&r->cv, &r->mu);
    rd_obj *o = obj_get(r, j - i);
    if (o) {
        r->inflight += need;
        r->live++;
    }
    pthread_mutex_unlock(&r->mu);
    if (!o)
        return lsio_error(-ENOMEM, "array %s: no memory for a read", r->a->url);
    o->budget = need;
    o->shard = r->keys[i] / m->n_inner;
    uint64_t sc[LSIO_ZARR_MAX_DIMS], s = o->shard;
    for (int d = (int)m->ndim - 1; d >= 0; d--) {
        sc[d] = s % r->g.nobj[d];
        s /= r->g.nobj[d];
    }
    int kl = zarr_chunk_key(m, sc, o->key, sizeof o->key);
    if (kl < 0) {
        obj_done(o);
        return lsio_error(kl, "array %s: chunk key too long", r->a->url);
    }
    size_t ul = strlen(r->a->url);
    memcpy(o->loc, r->a->url, ul);
    o->loc[ul] = '/';
    memcpy(o->loc + ul + 1, o->key, (size_t)kl + 1);
    for (size_t k = i; k < j; k++) {
        o->units[k - i].obj = o;
        o->units[k - i].key = r->keys[k];
        o->units[k - i].ord = k;
        memset(&o->units[k - i].c, 0, sizeof o->units[k - i].c);
        atomic_store(&o->units[k - i].parts, 1);
        o->units[k - i].sparse = 0;
    }
    lsio_range rg = {.offset = 0, .length = LSIO_TO_END};
    if (m->sharded) {
        rg.offset = m->index_at_start ? 0 : -(int64_t)m->index_bytes;
        rg.length = (int64_t)m->index_bytes;
        /* An index at the end of a remote object: a suffix range ("the
         * last N bytes", one request) instead of a size request and a
         * read. (Locally the size is a cheap statx, and the fixed length
         * lets the read go to caller-sized memory.) */
        if (!m->index_at_start && !r->local)
            rg.length = LSIO_TO_END;
        rg.user_data = (uint64_t)((uintptr_t)o | 1);
    } else {
        rg.user_data = (uint64_t)(uintptr_t)&o->units[0];
        /* A chunk is read "to the end" (remotely one open-ended GET, no
         * size request), so an uncompressed chunk object longer than the
         * chunk is caught by the length check, not silently cut; */
        /* but an uncompressed chunk that is its place in the output, or
         * rows of it, is read there, with a fixed length; the object's size is
         * then checked (locally a statx, remotely the Content-Range total
         * of the answer, else a size request). */
        if (m->raw && !r->fn && r->nsel == 1 && r->unit_bytes && !r->mask) {
            uint64_t uc[LSIO_ZARR_MAX_DIMS];
            zarr_key_coords(&r->g, r->keys[i], uc);
            zarr_walk w;
            unsigned char *dst;
            int64_t soff;
            uint64_t lo, hi;
            size_t np;
            if (!zarr_place(r->m, &r->sels[0], r->outs[0], uc, &w, &dst, &soff)) {
                /* not touched: cannot be (the key was planned) */
            } else if (whole_in_place(r, &w, soff)) {
                o->dest = 1;
                rg.dest = dst;
                rg.length = (int64_t)r->unit_bytes;
            } else if (r->raw_pieces && (np = raw_pieces(o, &w, dst, soff, &lo, &hi)) > 0) {
                o->dest = 2; /* its rows of the output, in one scattered read */
                rg.offset = (int64_t)lo;
                rg.length = (int64_t)(hi - lo);
                rg.iov = o->iov;
                rg.iovcnt = np;
            }
        }
    }
    rd_unit *u0 = &o->units[0];
    int how = !o->dest && !m->sharded && r->sparse ? sparse_plan(r, u0) : 0;
    if (how == 1) {
        if (sbuf_fit(r, o, u0->sp.size)) {
            sparse_issue(r, o);
            return 0;
        }
        u0->sparse = 0; /* no memory for it: read the whole chunk */
    } else if (how == 2 && probe_issue(r, o) == 0) {
        return 0;
    }
    o->rg = rg;
    obj_issue(r, o);
    return 0;
}

typedef struct progress {
    lsio_zarr_progress_fn fn;
    void *ctx;
} progress;

static int run(rd *r, const progress *pg)
{
    const zarr_meta *m = r->m;
    lsio_zarr_array *a = r->a;
    int rc = 0;
    r->pool = a->pool ? a->pool : lsio_pool_default();
    if (!r->pool)
        return lsio_error(-ENOMEM, "array %s: no thread pool", a->url);
    r->unit_elems = 1;
    for (unsigned d = 0; d < m->ndim; d++)
        r->unit_elems *= m->chunks[d];
    r->unit_bytes = (size_t)r->unit_elems * m->itemsize;
    /* The units to read, grouped by object. */
    int local = zarr_local(a);
    r->local = local;
    r->fill = r->mask ? (const void *)r->nan : m->fill;
    r->partial = !m->raw && lsio_chain_can_decode_range(m->chain) &&
                 !getenv("LSIO_NO_PARTIAL_DECODE");
    r->scatter = !m->raw && lsio_chain_can_decode_sink(m->chain) &&
                 !getenv("LSIO_NO_DECODE_INTO_PLACE");
    r->raw_pieces = m->raw && !getenv("LSIO_NO_SCATTER_READS");
    r->sparse = r->partial && lsio_chain_encoded_span(m->chain, NULL, 0, 0, 0, NULL) == 0 &&
                !getenv("LSIO_NO_SPARSE_READS");
    r->max_live = local ? OBJS_PER_THREAD_LOCAL * lsio_pool_threads(r->pool) + 2 : OBJS_REMOTE;
    zarr_grid_init(&r->g, m);
    if ((rc = zarr_plan_keys(&r->g, r->sels, r->nsel, &r->keys, &r->nkeys)) < 0)
        return rc;
    if (r->nkeys == 0)
        return 0;
    if ((rc = lsio_taskgroup_create(&r->tg)) < 0)
        return rc;
    if ((rc = lsio_cq_create(&r->cq)) < 0) {
        lsio_taskgroup_destroy(r->tg);
        return rc;
    }
    lsio_cq_set_callback(r->cq, on_complete, r);
    pthread_mutex_init(&r->mu, NULL);
    pthread_cond_init(&r->cv, NULL);
    uint64_t last = 0;
    for (size_t i = 0; i < r->nkeys && !atomic_load(&r->err);) {
        size_t j = i + 1;
        uint64_t shard = r->keys[i] / m->n_inner;
        while (j < r->nkeys && r->keys[j] / m->n_inner == shard)
            j++;
        if ((rc = submit_obj(r, i, j)) < 0)
            break;
        i = j;
        if (pg && pg->fn) {
            pthread_mutex_lock(&r->mu);
            uint64_t d = r->units_done;
            pthread_mutex_unlock(&r->mu);
            if (d != last)
                pg->fn(pg->ctx, last = d, r->nkeys);
        }
    }
    /* Drain: every object completes, then every task returns. */
    pthread_mutex_lock(&r->mu);
    while (r->live) {
        if (pg && pg->fn) {
            uint64_t d = r->units_done;
            pthread_mutex_unlock(&r->mu);
            if (d != last)
                pg->fn(pg->ctx, last = d, r->nkeys);
            pthread_mutex_lock(&r->mu);
            if (!r->live)
                break;
        }
        pthread_cond_wait(&r->cv, &r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    lsio_taskgroup_wait(r->tg);
    if (pg && pg->fn && !atomic_load(&r->err))
        pg->fn(pg->ctx, r->nkeys, r->nkeys);
    lsio_taskgroup_destroy(r->tg);
    lsio_cq_destroy(r->cq);
    pthread_mutex_destroy(&r->mu);
    pthread_cond_destroy(&r->cv);
    obj_free_all(r);
    int err = atomic_load(&r->err);
    if (err) {
        rc = r->errmsg ? lsio_error_set(err, r->errmsg) : err;
        free(r->errmsg);
    }
    return rc;
}

/* The largest cache one core sees (sysfs; the C library's figure is the
 * whole package's on some machines: 384 MiB for twelve 32 MiB caches), 0
 * when unknown. */
static size_t llc_bytes(void)
{
    size_t best = 0;
    for (int i = 0; i < 8; i++) {
        char p[64], v[32];
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        uint64_t n = 0;
        if (lsio_read_line(p, v, sizeof v) < 0 || lsio_parse_bytes(v, &n) < 0 || n > SIZE_MAX)
            n = 0;
        if (n > best)
            best = (size_t)n;
    }
    return best;
}

/* Outputs of at least this many bytes are written past the caches when
 * chunks are placed (zarr_walk.stream): $LSIO_STREAM_MIN (bytes, K/M/G;
 * "off"), else the last-level cache's size, else 32 MiB. */
static size_t stream_min(void)
{
    static atomic_size_t v; /* the answer + 1 once known (SIZE_MAX: off) */
    size_t n = atomic_load_explicit(&v, memory_order_relaxed);
    if (n)
        return n == SIZE_MAX ? n : n - 1;
    const char *e = getenv("LSIO_STREAM_MIN");
    uint64_t b;
    if (e && strcmp(e, "off") == 0)
        n = SIZE_MAX;
    else if (e && lsio_parse_bytes(e, &b) == 0)
        n = b >= SIZE_MAX ? SIZE_MAX - 1 : (size_t)b;
    else if (!(n = llc_bytes()))
        n = (size_t)32 << 20;
    atomic_store_explicit(&v, n == SIZE_MAX ? n : n + 1, memory_order_relaxed);
    return n;
}

static int check_sel(const lsio_zarr_array *a, const lsio_selection *s)
{
    if (s->ndim != a->m.ndim)
        return lsio_error(-LSIO_ESELECTION, "array %s: selection of %u dimensions, array has %u",
                          a->url, s->ndim, a->m.ndim);
    for (unsigned d = 0; d < s->ndim; d++) {
        const lsio_dim_sel *x = &s->dim[d];
        if (!x->count)
            continue;
        int64_t last = x->start + (int64_t)(x->count - 1) * x->step;
        if (x->step == 0 || x->start < 0 || last < 0 || (uint64_t)x->start >= a->m.shape[d] ||
            (uint64_t)last >= a->m.shape[d])
            return lsio_error(-LSIO_ESELECTION, "array %s: selection outside dimension %u",
                              a->url, d);
    }
    return 0;
}

static int read_many(lsio_zarr_array *a, const lsio_selection *sels, size_t n,
                     void *const *outs, const size_t *out_bytes, uint32_t io_group,
                     unsigned flags)
{
    if (!a || (n && (!sels || !outs || !out_bytes)))
        return lsio_error(-EINVAL, "lsio_zarr_read: NULL argument");
    if (a->m.dtype.kind == LSIO_DT_STRING)
        return lsio_error(-EINVAL, "array %s: variable-length strings: use lsio_zarr_read_strings",
                          a->url);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = check_sel(a, &sels[i]);
        if (rc < 0)
            return rc;
        uint64_t cnt = lsio_selection_count(&sels[i]);
        if (cnt > SIZE_MAX / a->m.itemsize || out_bytes[i] != cnt * a->m.itemsize)
            return lsio_error(-EINVAL, "array %s: output of %zu bytes, the selection needs %" PRIu64,
                              a->url, out_bytes[i], cnt * a->m.itemsize);
        if (cnt && !outs[i])
            return lsio_error(-EINVAL, "array %s: NULL output", a->url);
        total = total + out_bytes[i] < total ? SIZE_MAX : total + out_bytes[i];
    }
    rd *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->a = a;
    r->m = &a->m;
    r->sels = sels;
    r->nsel = n;
    r->outs = outs;
    r->group = io_group;
    r->stream = total >= stream_min();
    if (flags & LSIO_ZARR_MASK_FILL) {
        const zarr_meta *m = &a->m;
        size_t is = m->itemsize;
        if (m->dtype.kind != LSIO_DT_FLOAT || (is != 4 && is != 8)) {
            free(r);
            return lsio_error(-EINVAL, "array %s: fill masking is for float32 and float64 "
                              "arrays", a->url);
        }
        float nf = NAN;
        double nd = NAN, f = NAN; /* no fill value: nothing to mask */
        if (m->fill && is == 4) {
            float f4;
            memcpy(&f4, m->fill, 4);
            f = f4;
            memcpy(r->nan, &nf, 4);
        } else if (m->fill) {
            memcpy(&f, m->fill, 8);
            memcpy(r->nan, &nd, 8);
        }
        r->mask = !isnan(f); /* a NaN fill is NaN already */
    }
    int rc = run(r, NULL);
    free(r->keys);
    free(r);
    return rc;
}

int lsio_zarr_read_many_group(lsio_zarr_array *a, const lsio_selection *sels, size_t n,
                              void *const *outs, const size_t *out_bytes, uint32_t io_group)
{
    return read_many(a, sels, n, outs, out_bytes, io_group, 0);
}

int lsio_zarr_read_many(lsio_zarr_array *a, const lsio_selection *sels, size_t n,
                        void *const *outs, const size_t *out_bytes)
{
    return lsio_zarr_read_many_group(a, sels, n, outs, out_bytes, 0);
}

int lsio_zarr_read_flags(lsio_zarr_array *a, const lsio_selection *sel, void *out,
                         size_t out_bytes, unsigned flags)
{
    lsio_selection all;
    if (!a)
        return lsio_error(-EINVAL, "lsio_zarr_read: NULL array");
    if (!sel) {
        lsio_selection_all(&all, a->m.ndim, a->m.shape);
        sel = &all;
    }
    return read_many(a, sel, 1, &out, &out_bytes, 0, flags);
}

int lsio_zarr_read(lsio_zarr_array *a, const lsio_selection *sel, void *out, size_t out_bytes)
{
    return lsio_zarr_read_flags(a, sel, out, out_bytes, 0);
}

int lsio_zarr_for_each(lsio_zarr_array *a, const lsio_selection *sel, lsio_zarr_block_fn fn,
                       void *ctx, lsio_zarr_progress_fn progress_fn, void *pctx)
{
    lsio_selection all;
    if (!a || !fn)
        return lsio_error(-EINVAL, "lsio_zarr_for_each: NULL argument");
    if (a->m.dtype.kind == LSIO_DT_STRING)
        return lsio_error(-EINVAL, "array %s: for_each does not stream variable-length strings",
                          a->url);
    if (!sel) {
        lsio_selection_all(&all, a->m.ndim, a->m.shape);
        sel = &all;
    }
    int rc = check_sel(a, sel);
    if (rc < 0)
        return rc;
    rd *r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    r->a = a;
    r->m = &a->m;
    r->sels = sel;
    r->nsel = 1;
    r->fn = fn;
    r->fctx = ctx;
    progress pg = {progress_fn, pctx};
    rc = run(r, &pg);
    free(r->keys);
    free(r);
    return rc;
}
