/*
 * buf.c — reference-counted aligned buffers and the bounded, recycling
 * buffer pool (level 1).
 *
 * A pooled buffer's capacity is rounded up to a size class (four classes per
 * power of two, so at most 25% is wasted) so that a released buffer can serve
 * the next request of a similar size. Released buffers stay cached in a free
 * list per class; the pool's bound covers the bytes in use plus the bytes
 * cached, and cached buffers of other classes are freed when a new one would
 * not fit otherwise. A get that cannot be served while others hold buffers
 * waits (condition variable) for a release. Memory is never zero-filled.
 *
 * Lifetime: the pool is reference counted by its owner and by every live
 * buffer, so lsio_bufpool_destroy() may run while buffers are still held.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "io_backend.h"

#define NCLASSES 256

struct lsio_buf {
    atomic_uint refs;
    unsigned char *data;
    size_t len, cap;
    lsio_bufpool *pool;   /* pooled: return here */
    lsio_buf *parent;     /* slice: keeps the parent alive */
    lsio_buf *next_free;  /* in the pool's free list */
    int cls;
};

struct lsio_bufpool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t max_bytes, align;
    size_t in_use, cached, high_water;
    uint64_t allocs, reuses;
    unsigned refs;       /* owner (until destroy) + live buffers */
    unsigned waiters;
    lsio_buf *free_list[NCLASSES];
};

/* ------------------------------------------------------------ size classes */

/* Class of a capacity: sizes up to `align` are one class; above, four
 * classes per power of two. */
static int size_class(size_t len, size_t align, size_t *cap)
{
    if (len <= align) {
        *cap = align;
        return 0;
    }
    int p = 63 - __builtin_clzll((unsigned long long)(len - 1)); /* 2^p < len <= 2^(p+1) */
    size_t base = (size_t)1 << p;
    size_t step = base / 4 ? base / 4 : 1;
    size_t k = (len - base + step - 1) / step; /* 1..4 */
    size_t c = base + k * step;
    if (c < len) /* cannot happen, but stay safe */
        c = (size_t)2 << p;
    c = (c + align - 1) & ~(align - 1);
    *cap = c;
    int a = 63 - __builtin_clzll((unsigned long long)align);
    int idx = 1 + (p - a) * 4 + (int)k - 1;
    if (idx < 0)
        idx = 0;
    return idx < NCLASSES ? idx : NCLASSES - 1;
}

/* ----------------------------------------------------------------- buffers */

void *lsio_buf_data(const lsio_buf *b) { return b->data; }
size_t lsio_buf_len(const lsio_buf *b) { return b->len; }
size_t lsio_buf_cap(const lsio_buf *b) { return b->cap; }

void lsio_buf_set_len(lsio_buf *b, size_t len)
{
    b->len = len <= b->cap ? len : b->cap;
}

lsio_buf *lsio_buf_ref(lsio_buf *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

static void pool_unref_locked(lsio_bufpool *p, int *free_it)
{
    *free_it = --p->refs == 0;
}

static void pool_free(lsio_bufpool *p)
{
    for (int i = 0; i < NCLASSES; i++) {
        lsio_buf *b = p->free_list[i];
        while (b) {
            lsio_buf *n = b->next_free;
            lsio_free_aligned(b->data);
            free(b);
            b = n;
        }
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
    free(p);
}

static void pool_put(lsio_bufpool *p, lsio_buf *b)
{
    int free_it;
    pthread_mutex_lock(&p->mu);
    p->in_use -= b->cap;
    if (p->refs > 1) { /* pool alive: cache the buffer */
        b->next_free = p->free_list[b->cls];
        p->free_list[b->cls] = b;
        p->cached += b->cap;
    } else {
        lsio_free_aligned(b->data);
        free(b);
    }
    if (p->waiters)
        pthread_cond_broadcast(&p->cv);
    pool_unref_locked(p, &free_it);
    pthread_mutex_unlock(&p->mu);
    if (free_it)
        pool_free(p);
}

void lsio_buf_release(lsio_buf *b)
{
    if (!b)
        return;
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (b->parent) {
        lsio_buf *parent = b->parent;
        free(b);
        lsio_buf_release(parent);
    } else if (b->pool) {
        pool_put(b->pool, b);
    } else {
        lsio_free_aligned(b->data);
        free(b);
    }
}

int lsio_buf_slice(lsio_buf *parent, size_t off, size_t len, lsio_buf **out)
{
    if (!parent || !out || off > parent->cap || len > parent->cap - off)
        return -EINVAL;
    lsio_buf *b = malloc(sizeof *b);
    if (!b)
        return -ENOMEM;
    atomic_init(&b->refs, 1);
    b->data = parent->data + off;
    b->len = b->cap = len;
    b->pool = NULL;
    b->parent = lsio_buf_ref(parent);
    b->next_free = NULL;
    b->cls = -1;
    *out = b;
    return 0;
}

int lsio_buf_alloc(size_t len, size_t align, lsio_buf **out)
{
    if (!out || (align & (align - 1)))
        return -EINVAL;
    lsio_buf *b = malloc(sizeof *b);
    if (!b)
        return -ENOMEM;
    b->data = lsio_alloc_aligned(align ? align : 16, len);
    if (!b->data) {
        free(b);
        return -ENOMEM;
    }
    atomic_init(&b->refs, 1);
    b->len = b->cap = len;
    b->pool = NULL;
    b->parent = NULL;
    b->next_free = NULL;
    b->cls = -1;
    *out = b;
    return 0;
}

/* -------------------------------------------------------------------- pool */

int lsio_bufpool_create(lsio_bufpool **out, size_t max_bytes, size_t align)
{
    if (!out || align == 0 || (align & (align - 1)) || max_bytes == 0)
        return -EINVAL;
    lsio_bufpool *p = calloc(1, sizeof *p);
    if (!p)
        return -ENOMEM;
    pthread_mutex_init(&p->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cv, &ca);
    pthread_condattr_destroy(&ca);
    p->max_bytes = max_bytes;
    p->align = align;
    p->refs = 1;
    *out = p;
    return 0;
}

void lsio_bufpool_destroy(lsio_bufpool *p)
{
    if (!p)
        return;
    int free_it;
    pthread_mutex_lock(&p->mu);
    /* Cached memory goes now; live buffers free theirs on release. */
    for (int i = 0; i < NCLASSES; i++) {
        lsio_buf *b = p->free_list[i];
        while (b) {
            lsio_buf *n = b->next_free;
            lsio_free_aligned(b->data);
            free(b);
            b = n;
        }
        p->free_list[i] = NULL;
    }
    p->cached = 0;
    pool_unref_locked(p, &free_it);
    pthread_mutex_unlock(&p->mu);
    if (free_it)
        pool_free(p);
}

/* Free cached buffers (largest classes first) until `need` more bytes fit. */
static void evict_locked(lsio_bufpool *p, size_t need)
{
    for (int i = NCLASSES - 1; i >= 0 && p->in_use + p->cached + need > p->max_bytes; i--) {
        while (p->free_list[i] && p->in_use + p->cached + need > p->max_bytes) {
            lsio_buf *b = p->free_list[i];
            p->free_list[i] = b->next_free;
            p->cached -= b->cap;
            lsio_free_aligned(b->data);
            free(b);
        }
    }
}

/* Try to serve len bytes now: 0, -EAGAIN (at the bound), -ENOMEM. */
static int try_get_locked(lsio_bufpool *p, size_t len, size_t cap, int cls, lsio_buf **out)
{
    lsio_buf **pb = &p->free_list[cls];
    if (cls == NCLASSES - 1) /* exact-size buffers: find one big enough */
        while (*pb && (*pb)->cap < cap)
            pb = &(*pb)->next_free;
    lsio_buf *b = *pb;
    if (b) {
        *pb = b->next_free;
        p->cached -= b->cap;
        p->reuses++;
    } else {
        if (p->in_use + cap > p->max_bytes)
            return -EAGAIN;
        evict_locked(p, cap);
        b = malloc(sizeof *b);
        if (!b)
            return -ENOMEM;
        b->data = lsio_alloc_aligned(p->align, cap);
        if (!b->data) {
            free(b);
            return -ENOMEM;
        }
        b->cap = cap;
        b->cls = cls;
        b->pool = p;
        b->parent = NULL;
        p->allocs++;
    }
    atomic_init(&b->refs, 1);
    b->len = len;
    b->next_free = NULL;
    p->in_use += b->cap;
    if (p->in_use > p->high_water)
        p->high_water = p->in_use;
    p->refs++;
    *out = b;
    return 0;
}

static int class_for(lsio_bufpool *p, size_t len, size_t *cap)
{
    int cls = size_class(len ? len : 1, p->align, cap);
    /* A request under the bound whose class would exceed it gets an exact
     * (aligned) capacity in the last class instead. */
    if (*cap > p->max_bytes) {
        *cap = (len + p->align - 1) & ~(p->align - 1);
        if (*cap > p->max_bytes)
            *cap = len;
        cls = NCLASSES - 1;
    }
    return cls;
}

int lsio_bufpool_get(lsio_bufpool *p, size_t len, int timeout_ms, lsio_buf **out)
{
    if (!p || !out)
        return -EINVAL;
    if (len > p->max_bytes)
        return -E2BIG;
    size_t cap;
    int cls = class_for(p, len, &cap);
    struct timespec deadline;
    if (timeout_ms >= 0) {
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
            deadline.tv_sec++;
            deadline.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&p->mu);
    int rc;
    for (;;) {
        rc = try_get_locked(p, len, cap, cls, out);
        if (rc != -EAGAIN)
            break;
        if (timeout_ms == 0) {
            rc = -ETIMEDOUT;
            break;
        }
        p->waiters++;
        int w = timeout_ms < 0 ? pthread_cond_wait(&p->cv, &p->mu)
                               : pthread_cond_timedwait(&p->cv, &p->mu, &deadline);
        p->waiters--;
        if (w == ETIMEDOUT) {
            rc = try_get_locked(p, len, cap, cls, out);
            if (rc == -EAGAIN)
                rc = -ETIMEDOUT;
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
    return rc;
}

int lsio_bufpool_tryget(lsio_bufpool *p, size_t len, lsio_buf **out)
{
    if (!p || !out)
        return -EINVAL;
    if (len > p->max_bytes)
        return -E2BIG;
    size_t cap;
    int cls = class_for(p, len, &cap);
    pthread_mutex_lock(&p->mu);
    int rc = try_get_locked(p, len, cap, cls, out);
    pthread_mutex_unlock(&p->mu);
    return rc;
}

void lsio_bufpool_stats_get(lsio_bufpool *p, lsio_bufpool_stats *st)
{
    pthread_mutex_lock(&p->mu);
    st->max_bytes = p->max_bytes;
    st->in_use = p->in_use;
    st->cached = p->cached;
    st->high_water = p->high_water;
    st->allocs = p->allocs;
    st->reuses = p->reuses;
    pthread_mutex_unlock(&p->mu);
}

size_t lsio_bufpool_align(const lsio_bufpool *p) { return p->align; }
