/*
 * pool.c — the work-stealing thread pool of lsio_pool.h.
 *
 * Workers: each owns a Chase–Lev deque (pool_deque.h). A worker runs its own
 * tasks LIFO, then takes from the injector (a mutex-protected ring that holds
 * submissions from threads outside the pool), then steals from the top of
 * other workers' deques, starting at a random victim.
 *
 * Parking: a thread that finds nothing to do sleeps on a futex word, its
 * "parker" (pool_park.h). The protocol is a Dekker handshake with seq_cst operations on
 * both sides, so no wake-up is lost:
 *   sleeper: parker = 1; sleeping++ ; look for work (or its condition);
 *            if none, futex_wait(parker, 1)
 *   waker:   publish the work; if sleeping > 0, pick a parker that is 1,
 *            exchange it to 0 and futex_wake it
 * Either the waker sees the sleeper's parker at 1, or the sleeper's look
 * sees the published work. A push costs one seq_cst store and one load of
 * the sleeper count when nobody sleeps.
 *
 * Task groups: one 64-bit atomic word, the low half counting unfinished
 * tasks, the high half naming the parker of the thread waiting (its slot,
 * 0 for none). The task that takes the count to zero learns the waiter from
 * the same atomic operation and wakes its parker; it never touches the group
 * again, so the waiter may free the group as soon as it sees zero. Parkers
 * that a group can name live in a static table (never freed), so a late wake
 * lands on a live word: at worst a spurious wake-up, which every sleeper
 * tolerates by re-checking its condition. A thread that gets no slot (table
 * full), or a second thread waiting on the same group, sleeps with a 1 ms
 * timeout instead.
 *
 * A worker that waits on a group keeps running tasks and counts as a
 * sleeper, so submissions (even from outside the pool) wake it: nested
 * waits cannot deadlock for want of a thread.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lsio_pool.h"
#include "pool_deque.h"
#include "pool_park.h"

enum {
    POOL_MAX_THREADS = 4096,
    SPIN_ROUNDS = 4,     /* look-for-work rounds before parking */
    INJ_BATCH = 32,      /* most tasks a worker takes from the injector at once */
};

/* The default pool. After fork() the child has none of the parent's
 * threads, so the child forgets the parent's default pool (its memory stays
 * referenced from g_default_orphan) and makes a new one on first use. */
static pthread_mutex_t g_default_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(lsio_pool *) g_default;
static lsio_pool *g_default_orphan;
static int g_default_failed;
static pthread_once_t g_atfork_once = PTHREAD_ONCE_INIT;

/* Lock order: the default pool's lock, then the parker table's (creating
 * the default pool takes slots). */
static void atfork_prepare(void)
{
    pthread_mutex_lock(&g_default_mu);
    pool_parker_fork_lock();
}

static void atfork_parent(void)
{
    pool_parker_fork_unlock();
    pthread_mutex_unlock(&g_default_mu);
}

static void atfork_child(void)
{
    pool_parker_fork_unlock();
    lsio_pool *old = atomic_load_explicit(&g_default, memory_order_relaxed);
    if (old)
        g_default_orphan = old;
    atomic_store_explicit(&g_default, NULL, memory_order_relaxed);
    g_default_failed = 0;
    pthread_mutex_unlock(&g_default_mu);
}

static void atfork_register(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ---- pool structures --------------------------------------------------- */

#define GCOUNT(s) ((uint32_t)(s))
#define GSLOT(s) ((uint32_t)((s) >> 32)) /* a parker slot, 0 for none */

struct lsio_taskgroup {
    _Atomic uint64_t state; /* low: unfinished tasks; high: the waiter's slot */
    _Atomic int err;
};

typedef struct worker {
    pool_deque dq;
    _Alignas(64) _Atomic uint32_t *park; /* the parker pushers wake */
    _Atomic uint32_t park_fallback;      /* when the thread has no slot */
    uint32_t slot;
    uint64_t rng;
    _Atomic uint64_t executed, stolen, parks; /* written by the owner only */
    struct lsio_pool *pool;
    unsigned id;
    pthread_t tid;
} worker;

struct lsio_pool {
    worker *w;
    unsigned n;
    _Alignas(64) _Atomic int sleeping; /* threads between "parker = 1" and waking */
    _Atomic int stop;
    _Atomic unsigned wake_hint; /* where the next wake scan starts */
    _Alignas(64) pthread_mutex_t inj_mu;
    _Atomic int64_t inj_count; /* tasks in the injector (read without the lock) */
    pool_task *inj;            /* ring, capacity inj_cap (a power of two) */
    size_t inj_cap, inj_head;
};

static _Thread_local worker *t_worker; /* the worker this thread is, if any */

static void stat_inc(_Atomic uint64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

/* k tasks of g finished (k >= 1). */
static void group_done_n(lsio_taskgroup *g, uint32_t k)
{
    uint64_t old = atomic_fetch_sub_explicit(&g->state, k, memory_order_seq_cst);
    /* g may be freed from here on: use only `old`. */
    if (GCOUNT(old) == k && GSLOT(old))
        pool_parker_wake(&pool_parkers[GSLOT(old) - 1].word);
}

static void group_done(lsio_taskgroup *g)
{
    group_done_n(g, 1);
}

static void run_task(worker *w, const pool_task *t)
{
    t->fn(t->arg);
    if (w) /* before group_done: a waiter that returns sees it counted */
        stat_inc(&w->executed);
    if (t->g)
        group_done(t->g);
}

static void wake_one(lsio_pool *p);

/* ---- injector ------------------------------------------------------------ */

static int inj_push(lsio_pool *p, const pool_task *t)
{
    pthread_mutex_lock(&p->inj_mu);
    size_t count = (size_t)atomic_load_explicit(&p->inj_count, memory_order_relaxed);
    if (count == p->inj_cap) {
        size_t cap = p->inj_cap ? p->inj_cap * 2 : 256;
        pool_task *n = malloc(cap * sizeof *n);
        if (!n) {
            pthread_mutex_unlock(&p->inj_mu);
            return -ENOMEM;
        }
        for (size_t i = 0; i < count; i++)
            n[i] = p->inj[(p->inj_head + i) & (p->inj_cap - 1)];
        free(p->inj);
        p->inj = n;
        p->inj_cap = cap;
        p->inj_head = 0;
    }
    p->inj[(p->inj_head + count) & (p->inj_cap - 1)] = *t;
    atomic_store_explicit(&p->inj_count, (int64_t)count + 1, memory_order_seq_cst);
    pthread_mutex_unlock(&p->inj_mu);
    return 0;
}

/* Take one task from the injector into *t (1), or find it empty (0). A
 * worker takes a batch: a share of what is queued, at most INJ_BATCH, the
 * rest going to its own deque (where others can steal them), so that a
 * stream of outside submissions costs one lock round per batch, not per
 * task. The batch is pushed in reverse so the owner pops it in FIFO order. */
static int inj_pop(lsio_pool *p, worker *w, pool_task *t)
{
    if (atomic_load_explicit(&p->inj_count, memory_order_seq_cst) == 0)
        return 0;
    pool_task batch[INJ_BATCH];
    size_t k = 0;
    pthread_mutex_lock(&p->inj_mu);
    size_t count = (size_t)atomic_load_explicit(&p->inj_count, memory_order_relaxed);
    if (count > 0) {
        k = count / p->n;
        k = k < 1 ? 1 : k > INJ_BATCH ? INJ_BATCH : k;
        for (size_t i = 0; i < k; i++)
            batch[i] = p->inj[(p->inj_head + i) & (p->inj_cap - 1)];
        p->inj_head = (p->inj_head + k) & (p->inj_cap - 1);
        atomic_store_explicit(&p->inj_count, (int64_t)(count - k), memory_order_relaxed);
    }
    pthread_mutex_unlock(&p->inj_mu);
    if (k == 0)
        return 0;
    *t = batch[0];
    for (size_t i = k - 1; i >= 1; i--)
        if (pool_deque_push(&w->dq, &batch[i]) < 0)
            run_task(w, &batch[i]); /* no memory to queue it: run it now */
    /* A sleeper may have looked while the batch was in neither queue. */
    if (k > 1)
        wake_one(p);
    return 1;
}

/* ---- finding, running and waking ------------------------------------------ */

/* 1 with *t filled; 0 when nothing was found; *busy set when a steal lost
 * a race (there may be work: do not park on it). */
static int find_task(worker *w, pool_task *t, int *busy)
{
    lsio_pool *p = w->pool;
    if (pool_deque_pop(&w->dq, t))
        return 1;
    if (inj_pop(p, w, t))
        return 1;
    unsigned n = p->n;
    if (n > 1) {
        unsigned start = (unsigned)(rng_next(&w->rng) % n);
        for (unsigned i = 0; i < n; i++) {
            unsigned v = (start + i) % n;
            if (v == w->id)
                continue;
            int r = pool_deque_steal(&p->w[v].dq, t);
            if (r > 0) {
                stat_inc(&w->stolen);
                return 1;
            }
            if (r < 0)
                *busy = 1;
        }
    }
    return 0;
}

/* Is there anything a sleeper of p should wake up for? */
static int work_visible(lsio_pool *p)
{
    if (atomic_load_explicit(&p->inj_count, memory_order_seq_cst) > 0)
        return 1;
    for (unsigned i = 0; i < p->n; i++)
        if (pool_deque_nonempty(&p->w[i].dq))
            return 1;
    return 0;
}

/* After publishing work: wake one parked thread of p, if any. */
static void wake_one(lsio_pool *p)
{
    if (atomic_load_explicit(&p->sleeping, memory_order_seq_cst) <= 0)
        return;
    unsigned n = p->n;
    unsigned start = atomic_fetch_add_explicit(&p->wake_hint, 1, memory_order_relaxed) % n;
    for (unsigned i = 0; i < n; i++)
        if (pool_parker_wake(p->w[(start + i) % n].park))
            return;
}

static void wake_all(lsio_pool *p)
{
    for (unsigned i = 0; i < p->n; i++)
        pool_parker_wake(p->w[i].park);
}

/* Park worker w until woken, unless work (or `cond`, when given) shows up.
 * cond(arg) is checked after the parker is armed. */
static void worker_park(worker *w, int (*cond)(void *), void *arg, int timed)
{
    lsio_pool *p = w->pool;
    atomic_store_explicit(w->park, 1, memory_order_seq_cst);
    atomic_fetch_add_explicit(&p->sleeping, 1, memory_order_seq_cst);
    if (!(cond && cond(arg)) && !work_visible(p) &&
        !(!cond && atomic_load_explicit(&p->stop, memory_order_seq_cst))) {
        stat_inc(&w->parks);
        pool_parker_sleep(w->park, timed);
    }
    atomic_store_explicit(w->park, 0, memory_order_seq_cst);
    atomic_fetch_sub_explicit(&p->sleeping, 1, memory_order_seq_cst);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    lsio_pool *p = w->pool;
    t_worker = w;
    for (;;) {
        pool_task t;
        int busy = 0, found = 0;
        for (int round = 0; round < SPIN_ROUNDS && !found; round++) {
            busy = 0;
            found = find_task(w, &t, &busy);
            if (!found && round + 1 < SPIN_ROUNDS)
                sched_yield();
        }
        if (found) {
            run_task(w, &t);
            continue;
        }
        if (busy)
            continue;
        if (atomic_load_explicit(&p->stop, memory_order_seq_cst) && !work_visible(p))
            break;
        worker_park(w, NULL, NULL, 0);
    }
    t_worker = NULL;
    return NULL;
}

/* ---- pool lifetime ----------------------------------------------------------- */

static void pool_free(lsio_pool *p)
{
    for (unsigned i = 0; i < p->n; i++) {
        pool_deque_fini(&p->w[i].dq);
        pool_parker_free(p->w[i].slot);
    }
    free(p->w);
    free(p->inj);
    pthread_mutex_destroy(&p->inj_mu);
    free(p);
}

/* Stop the first `started` workers after they ran what is queued. */
static void pool_join(lsio_pool *p, unsigned started)
{
    atomic_store_explicit(&p->stop, 1, memory_order_seq_cst);
    wake_all(p);
    for (unsigned i = 0; i < started; i++)
        pthread_join(p->w[i].tid, NULL);
}

int lsio_pool_create(lsio_pool **out, unsigned nthreads)
{
    *out = NULL;
    pthread_once(&g_atfork_once, atfork_register);
    if (nthreads == 0)
        nthreads = lsio_ncpus();
    if (nthreads > POOL_MAX_THREADS)
        return lsio_error(-EINVAL, "lsio_pool_create: %u threads (at most %d)", nthreads,
                          POOL_MAX_THREADS);
    /* 64-byte alignment: the structures keep hot words on their own lines. */
    lsio_pool *p = aligned_alloc(64, (sizeof *p + 63) / 64 * 64);
    if (!p)
        return -ENOMEM;
    memset(p, 0, sizeof *p);
    p->w = aligned_alloc(64, nthreads * sizeof(worker));
    if (!p->w) {
        free(p);
        return -ENOMEM;
    }
    memset(p->w, 0, nthreads * sizeof(worker));
    /* Adaptive: the injector's critical sections are a few stores, so a
     * contender spins briefly instead of sleeping in the kernel. */
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_ADAPTIVE_NP);
    pthread_mutex_init(&p->inj_mu, &ma);
    pthread_mutexattr_destroy(&ma);
    uint64_t seed = lsio_now_ns() | 1;
    for (unsigned i = 0; i < nthreads; i++) {
        worker *w = &p->w[i];
        if (pool_deque_init(&w->dq) < 0) {
            pool_free(p);
            return -ENOMEM;
        }
        p->n = i + 1;
        w->pool = p;
        w->id = i;
        w->slot = pool_parker_alloc();
        w->park = w->slot ? pool_parker_word(w->slot) : &w->park_fallback;
        w->rng = (seed + 0x9E3779B97F4A7C15ull * (i + 1)) | 1;
    }
    /* Workers start with every signal blocked, so asynchronous signals go
     * to the application's own threads (Python handles them in its main
     * thread); they inherit the mask from here. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    for (unsigned i = 0; i < nthreads; i++) {
        int rc = pthread_create(&p->w[i].tid, NULL, worker_main, &p->w[i]);
        if (rc != 0) {
            pthread_sigmask(SIG_SETMASK, &old, NULL);
            pool_join(p, i);
            pool_free(p);
            return lsio_error(-rc, "lsio_pool_create: starting worker %u of %u", i + 1,
                              nthreads);
        }
        char name[16];
        snprintf(name, sizeof name, "lsio-pool-%u", i);
        pthread_setname_np(p->w[i].tid, name);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    *out = p;
    return 0;
}

void lsio_pool_destroy(lsio_pool *p)
{
    if (!p)
        return;
    pool_join(p, p->n);
    pool_free(p);
}

unsigned lsio_pool_threads(const lsio_pool *p)
{
    return p->n;
}

lsio_pool *lsio_pool_default(void)
{
    lsio_pool *p = atomic_load_explicit(&g_default, memory_order_acquire);
    if (p)
        return p;
    pthread_once(&g_atfork_once, atfork_register);
    pthread_mutex_lock(&g_default_mu);
    p = atomic_load_explicit(&g_default, memory_order_relaxed);
    if (!p && !g_default_failed) {
        unsigned n = 0;
        const char *e = getenv("LSIO_THREADS");
        if (e && *e) {
            char *end;
            unsigned long v = strtoul(e, &end, 10);
            if (*end == '\0' && v > 0 && v <= POOL_MAX_THREADS)
                n = (unsigned)v;
        }
        if (lsio_pool_create(&p, n) < 0)
            g_default_failed = 1;
        else
            atomic_store_explicit(&g_default, p, memory_order_release);
    }
    pthread_mutex_unlock(&g_default_mu);
    return p;
}

/* ---- task groups ------------------------------------------------------------- */

int lsio_taskgroup_create(lsio_taskgroup **out)
{
    lsio_taskgroup *g = calloc(1, sizeof *g);
    *out = g;
    return g ? 0 : -ENOMEM;
}

void lsio_taskgroup_destroy(lsio_taskgroup *g)
{
    free(g);
}

void lsio_taskgroup_fail(lsio_taskgroup *g, int err)
{
    int zero = 0;
    if (err)
        atomic_compare_exchange_strong(&g->err, &zero, err);
}

int lsio_taskgroup_status(lsio_taskgroup *g)
{
    return atomic_load(&g->err);
}

static int group_idle(void *arg)
{
    lsio_taskgroup *g = arg;
    return GCOUNT(atomic_load_explicit(&g->state, memory_order_seq_cst)) == 0;
}

/* Name this thread's slot as g's waiter. 1 if it is (or already was). */
static int group_register(lsio_taskgroup *g, uint32_t slot)
{
    if (!slot)
        return 0;
    uint64_t s = atomic_load(&g->state);
    for (;;) {
        if (GSLOT(s) == slot)
            return 1;
        if (GSLOT(s) != 0)
            return 0;
        if (atomic_compare_exchange_weak(&g->state, &s, s | ((uint64_t)slot << 32)))
            return 1;
    }
}

static void group_unregister(lsio_taskgroup *g, uint32_t slot)
{
    uint64_t s = atomic_load(&g->state);
    while (GSLOT(s) == slot && !atomic_compare_exchange_weak(&g->state, &s, (uint64_t)GCOUNT(s)))
        ;
}

static void group_wait_idle(lsio_taskgroup *g)
{
    worker *w = t_worker;
    uint32_t slot = w ? w->slot : pool_parker_thread_slot();
    int registered = 0;
    while (!group_idle(g)) {
        if (w) {
            pool_task t;
            int busy = 0;
            if (find_task(w, &t, &busy)) {
                run_task(w, &t);
                continue;
            }
            if (busy)
                continue;
        }
        /* Arm the parker before naming it in g, so a wake is never lost. */
        _Atomic uint32_t *pw = w ? w->park : pool_parker_word(slot);
        if (w) {
            atomic_store_explicit(pw, 1, memory_order_seq_cst);
            if (!registered)
                registered = group_register(g, slot);
            worker_park(w, group_idle, g, !registered);
        } else {
            atomic_store_explicit(pw, 1, memory_order_seq_cst);
            if (!registered)
                registered = group_register(g, slot);
            if (!group_idle(g))
                pool_parker_sleep(pw, !registered);
            atomic_store_explicit(pw, 0, memory_order_seq_cst);
        }
    }
    if (registered)
        group_unregister(g, slot);
}

int lsio_taskgroup_wait(lsio_taskgroup *g)
{
    group_wait_idle(g);
    return atomic_load(&g->err);
}

/* ---- submission ------------------------------------------------------------- */

int lsio_pool_submit(lsio_pool *p, lsio_taskgroup *g, lsio_task_fn fn, void *arg)
{
    pool_task t = {fn, arg, g};
    if (g) {
        uint64_t old = atomic_fetch_add_explicit(&g->state, 1, memory_order_seq_cst);
        if (GCOUNT(old) >= INT32_MAX) {
            group_done(g);
            return lsio_error(-EOVERFLOW, "lsio_pool_submit: too many tasks in one group");
        }
    }
    worker *w = t_worker;
    int rc = (w && w->pool == p) ? pool_deque_push(&w->dq, &t) : inj_push(p, &t);
    if (rc < 0) {
        if (g)
            group_done(g);
        return lsio_error(rc, "lsio_pool_submit: queueing a task");
    }
    wake_one(p);
    return 0;
}

/* ---- parallel for --------------------------------------------------------------- */

/* Shared by the caller and its helper tasks; freed by the last one out, so
 * the caller returns as soon as every piece is done, even if a helper task
 * has not started yet. */
typedef struct pfor {
    lsio_taskgroup g; /* counts unfinished pieces */
    _Atomic size_t next;
    _Atomic int refs;
    size_t n, grain, pieces;
    lsio_range_fn fn;
    void *ctx;
} pfor;

static void pfor_unref(pfor *f)
{
    if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1)
        free(f);
}

/* Claim and run pieces until none is left, then count them done at once:
 * the group cannot reach zero early, since this thread's pieces are not
 * subtracted until it has run them all. */
static void pfor_work(pfor *f)
{
    uint32_t done = 0;
    for (;;) {
        size_t i = atomic_fetch_add_explicit(&f->next, 1, memory_order_relaxed);
        if (i >= f->pieces)
            break;
        size_t b = i * f->grain, e = f->n - b > f->grain ? b + f->grain : f->n;
        f->fn(f->ctx, b, e);
        done++;
    }
    if (done)
        group_done_n(&f->g, done);
}

static void pfor_helper(void *arg)
{
    pfor *f = arg;
    pfor_work(f);
    pfor_unref(f);
}

int lsio_pool_parallel_for(lsio_pool *p, size_t n, size_t grain, lsio_range_fn fn, void *ctx)
{
    if (n == 0)
        return 0;
    unsigned nt = p->n;
    if (grain == 0) {
        grain = n / ((size_t)nt * 8);
        if (grain == 0)
            grain = 1;
    }
    size_t pieces = n / grain + (n % grain != 0);
    if (pieces == 1 || nt == 0) {
        fn(ctx, 0, n);
        return 0;
    }
    if (pieces > INT32_MAX) /* more than a group counts: coarser pieces */
        return lsio_pool_parallel_for(p, n, n / INT32_MAX + 1, fn, ctx);
    pfor *f = calloc(1, sizeof *f);
    if (!f) { /* run it here: slower, still correct */
        for (size_t b = 0; b < n; b = n - b > grain ? b + grain : n)
            fn(ctx, b, n - b > grain ? b + grain : n);
        return 0;
    }
    size_t helpers = pieces - 1 < nt ? pieces - 1 : nt;
    atomic_init(&f->g.state, (uint64_t)pieces);
    atomic_init(&f->g.err, 0);
    atomic_init(&f->next, 0);
    atomic_init(&f->refs, 1);
    f->n = n;
    f->grain = grain;
    f->pieces = pieces;
    f->fn = fn;
    f->ctx = ctx;
    for (size_t i = 0; i < helpers; i++) {
        atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
        if (lsio_pool_submit(p, NULL, pfor_helper, f) < 0) {
            atomic_fetch_sub_explicit(&f->refs, 1, memory_order_relaxed);
            break; /* fewer helpers: the caller does more */
        }
    }
    pfor_work(f);
    group_wait_idle(&f->g);
    pfor_unref(f);
    return 0;
}

void lsio_pool_stats_get(lsio_pool *p, lsio_pool_stats *st)
{
    memset(st, 0, sizeof *st);
    for (unsigned i = 0; i < p->n; i++) {
        st->executed += atomic_load_explicit(&p->w[i].executed, memory_order_relaxed);
        st->stolen += atomic_load_explicit(&p->w[i].stolen, memory_order_relaxed);
        st->parks += atomic_load_explicit(&p->w[i].parks, memory_order_relaxed);
    }
}

/* ------------------------------------------------------------ prefault */

#define PREFAULT_BLOCK ((size_t)2 << 20)

typedef struct prefault_ctx {
    volatile unsigned char *mem;
    size_t len;
    size_t page;
} prefault_ctx;

static void prefault_range(void *ctx, size_t b, size_t e)
{
    prefault_ctx *c = ctx;
    size_t lo = b * PREFAULT_BLOCK, hi = e * PREFAULT_BLOCK < c->len ? e * PREFAULT_BLOCK : c->len;
    for (size_t i = lo; i < hi; i += c->page)
        c->mem[i] = 0;
}

void lsio_pool_prefault(lsio_pool *p, void *mem, size_t len)
{
    if (!mem || !len)
        return;
    long pg = sysconf(_SC_PAGESIZE);
    prefault_ctx c = {.mem = mem, .len = len, .page = pg > 0 ? (size_t)pg : 4096};
    size_t blocks = (len + PREFAULT_BLOCK - 1) / PREFAULT_BLOCK;
    if (!p || blocks < 2)
        prefault_range(&c, 0, blocks);
    else
        lsio_pool_parallel_for(p, blocks, 1, prefault_range, &c);
}
