/*
 * pool_deque.h — internal to lib/pool: the per-worker Chase–Lev deque.
 *
 * The owner pushes and pops at the bottom; thieves take from the top with a
 * CAS on `top`. This follows Chase & Lev (SPAA 2005) with the C11 orderings
 * of Lê, Pop, Cohen & Zappa Nardelli (PPoPP 2013), strengthened where a
 * fence would otherwise carry the ordering: the owner's stores to `bottom`
 * and both sides' accesses to `top` are seq_cst operations instead of
 * relaxed accesses around a standalone fence. ThreadSanitizer models
 * ordered accesses but not standalone fences, and the cost on x86 is the
 * same (one locked instruction).
 *
 * Tasks are stored by value (function, argument, group: three words), so a
 * push never allocates. Each word of a slot is an atomic accessed relaxed: a
 * thief that read a slot the owner was reusing (its `top` was stale) reads
 * words of different tasks, but then its CAS on `top` fails and it drops
 * what it read. A slot is rewritten only after `top` moved past its index,
 * because the owner grows the ring when it is full.
 *
 * Growing copies the live range into a ring twice the size. Thieves may
 * still be reading the old ring, so old rings are kept on a list and freed
 * with the deque (their total is below the final ring's size).
 *
 * Thread safety: push and pop only by the owner; steal from any thread;
 * init and fini with no other thread using the deque.
 */
#ifndef LSIO_POOL_DEQUE_H
#define LSIO_POOL_DEQUE_H

#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "lsio_pool.h"

/* A queued task, by value. */
typedef struct pool_task {
    lsio_task_fn fn;
    void *arg;
    lsio_taskgroup *g;
} pool_task;

typedef struct pool_slot {
    _Atomic(lsio_task_fn) fn;
    _Atomic(void *) arg;
    _Atomic(lsio_taskgroup *) g;
} pool_slot;

typedef struct pool_ring {
    struct pool_ring *older; /* retired rings, freed with the deque */
    int64_t mask;            /* capacity - 1, capacity a power of two */
    pool_slot slot[];
} pool_ring;

typedef struct pool_deque {
    _Alignas(64) _Atomic int64_t top; /* thieves' end */
    _Alignas(64) _Atomic int64_t bottom; /* owner's end */
    _Atomic(pool_ring *) ring;
} pool_deque;

enum { POOL_DEQUE_INITIAL = 256 };

static inline pool_ring *pool_ring_new(int64_t cap, pool_ring *older)
{
    pool_ring *r = calloc(1, sizeof *r + (size_t)cap * sizeof(pool_slot));
    if (!r)
        return NULL;
    r->older = older;
    r->mask = cap - 1;
    return r;
}

static inline int pool_deque_init(pool_deque *d)
{
    pool_ring *r = pool_ring_new(POOL_DEQUE_INITIAL, NULL);
    if (!r)
        return -ENOMEM;
    atomic_init(&d->top, 0);
    atomic_init(&d->bottom, 0);
    atomic_init(&d->ring, r);
    return 0;
}

static inline void pool_deque_fini(pool_deque *d)
{
    pool_ring *r = atomic_load_explicit(&d->ring, memory_order_relaxed);
    while (r) {
        pool_ring *o = r->older;
        free(r);
        r = o;
    }
    atomic_store_explicit(&d->ring, NULL, memory_order_relaxed);
}

static inline void pool_slot_put(pool_slot *s, const pool_task *t)
{
    atomic_store_explicit(&s->fn, t->fn, memory_order_relaxed);
    atomic_store_explicit(&s->arg, t->arg, memory_order_relaxed);
    atomic_store_explicit(&s->g, t->g, memory_order_relaxed);
}

static inline void pool_slot_get(pool_slot *s, pool_task *t)
{
    t->fn = atomic_load_explicit(&s->fn, memory_order_relaxed);
    t->arg = atomic_load_explicit(&s->arg, memory_order_relaxed);
    t->g = atomic_load_explicit(&s->g, memory_order_relaxed);
}

/* Owner only: a ring twice the size holding [t, b). */
static inline pool_ring *pool_deque_grow(pool_deque *d, pool_ring *r, int64_t t, int64_t b)
{
    pool_ring *n = pool_ring_new((r->mask + 1) * 2, r);
    if (!n)
        return NULL;
    for (int64_t i = t; i < b; i++) {
        pool_task x;
        pool_slot_get(&r->slot[i & r->mask], &x);
        pool_slot_put(&n->slot[i & n->mask], &x);
    }
    atomic_store_explicit(&d->ring, n, memory_order_release);
    return n;
}

/* Owner: push at the bottom. 0 or -ENOMEM (the ring could not grow). */
static inline int pool_deque_push(pool_deque *d, const pool_task *t)
{
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
    int64_t tp = atomic_load_explicit(&d->top, memory_order_acquire);
    pool_ring *r = atomic_load_explicit(&d->ring, memory_order_relaxed);
    if (b - tp > r->mask) {
        r = pool_deque_grow(d, r, tp, b);
        if (!r)
            return -ENOMEM;
    }
    pool_slot_put(&r->slot[b & r->mask], t);
    /* seq_cst: publishes the slot (release) and orders this push before the
     * pusher's later look at the sleeper count (see pool.c). */
    atomic_store_explicit(&d->bottom, b + 1, memory_order_seq_cst);
    return 0;
}

/* Owner: pop at the bottom. 1 with *t filled, or 0 when empty. */
static inline int pool_deque_pop(pool_deque *d, pool_task *t)
{
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
    pool_ring *r = atomic_load_explicit(&d->ring, memory_order_relaxed);
    atomic_store_explicit(&d->bottom, b, memory_order_seq_cst);
    int64_t tp = atomic_load_explicit(&d->top, memory_order_seq_cst);
    if (tp > b) { /* empty */
        atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
        return 0;
    }
    pool_slot_get(&r->slot[b & r->mask], t);
    if (tp == b) { /* the last one: race the thieves for it */
        int won = atomic_compare_exchange_strong_explicit(&d->top, &tp, tp + 1,
                                                          memory_order_seq_cst,
                                                          memory_order_relaxed);
        atomic_store_explicit(&d->bottom, b + 1, memory_order_release);
        return won;
    }
    return 1;
}

/* Any thread: steal from the top. 1 with *t filled, 0 when empty, -1 when
 * another thread won the race (try again later). */
static inline int pool_deque_steal(pool_deque *d, pool_task *t)
{
    int64_t tp = atomic_load_explicit(&d->top, memory_order_seq_cst);
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_seq_cst);
    if (tp >= b)
        return 0;
    pool_ring *r = atomic_load_explicit(&d->ring, memory_order_acquire);
    pool_slot_get(&r->slot[tp & r->mask], t);
    if (!atomic_compare_exchange_strong_explicit(&d->top, &tp, tp + 1, memory_order_seq_cst,
                                                 memory_order_relaxed))
        return -1;
    return 1;
}

/* Any thread: does the deque look non-empty? (A hint, seq_cst.) */
static inline int pool_deque_nonempty(pool_deque *d)
{
    int64_t tp = atomic_load_explicit(&d->top, memory_order_seq_cst);
    int64_t b = atomic_load_explicit(&d->bottom, memory_order_seq_cst);
    return b > tp;
}

#endif
