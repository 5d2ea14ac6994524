/*
 * test_tasks.c — lsio_pool tasks and task groups under load: millions of
 * tiny tasks each counted (none lost, none run twice), tasks that spawn
 * tasks (a tree into one group; fib with a group and a nested wait per
 * call), many outside threads submitting at once, a worker waiting on a
 * group that only an outside thread feeds, first-error recording, group
 * reuse, and destroy running what is still queued.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lsio_pool.h"
#include "pool_test.h"
#include "testutil.h"

/* ---- counted tiny tasks ---- */

typedef struct counted {
    _Atomic uint8_t *hits;
    _Atomic long total;
} counted;

typedef struct hit_arg {
    counted *c;
    size_t i;
} hit_arg;

static counted g_counted;

static void hit(void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;
    atomic_fetch_add_explicit(&g_counted.hits[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&g_counted.total, 1, memory_order_relaxed);
}

static void check_hits(size_t n)
{
    CHECK_EQ(atomic_load(&g_counted.total), (long)n);
    for (size_t i = 0; i < n; i++)
        if (atomic_load_explicit(&g_counted.hits[i], memory_order_relaxed) != 1) {
            fprintf(stderr, "task %zu ran %d times\n", i, (int)atomic_load(&g_counted.hits[i]));
            CHECK(0);
        }
}

static void reset_hits(size_t n)
{
    for (size_t i = 0; i < n; i++)
        atomic_store_explicit(&g_counted.hits[i], 0, memory_order_relaxed);
    atomic_store(&g_counted.total, 0);
}

static void test_tiny_tasks(lsio_pool *p, size_t n)
{
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    reset_hits(n);
    for (size_t i = 0; i < n; i++)
        CHECK_OK(lsio_pool_submit(p, g, hit, (void *)(uintptr_t)i));
    CHECK_EQ(lsio_taskgroup_wait(g), 0);
    check_hits(n);
    lsio_taskgroup_destroy(g);
}

/* ---- many outside submitters into one group ---- */

typedef struct submitter {
    lsio_pool *p;
    lsio_taskgroup *g;
    size_t first, count;
    pthread_barrier_t *start;
} submitter;

static void *submit_range(void *arg)
{
    submitter *s = arg;
    pthread_barrier_wait(s->start);
    for (size_t i = s->first; i < s->first + s->count; i++)
        CHECK_OK(lsio_pool_submit(s->p, s->g, hit, (void *)(uintptr_t)i));
    return NULL;
}

static void test_many_submitters(lsio_pool *p, unsigned nsub, size_t per)
{
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    reset_hits(nsub * per);
    pthread_t t[64];
    submitter s[64];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, nsub);
    for (unsigned i = 0; i < nsub; i++) {
        s[i] = (submitter){p, g, i * per, per, &start};
        CHECK_EQ(pthread_create(&t[i], NULL, submit_range, &s[i]), 0);
    }
    for (unsigned i = 0; i < nsub; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    CHECK_EQ(lsio_taskgroup_wait(g), 0);
    check_hits(nsub * per);
    lsio_taskgroup_destroy(g);
}

/* ---- owner and thieves racing for the last task of a deque ---- */

typedef struct racer {
    lsio_pool *p;
    size_t first, count;
} racer;

static void race_spawner(void *arg)
{
    /* Push one task at a time into this worker's deque and pop it right
     * back (the wait), while the other workers, idle, try to steal it. */
    racer *r = arg;
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    for (size_t i = r->first; i < r->first + r->count; i++) {
        CHECK_OK(lsio_pool_submit(r->p, g, hit, (void *)(uintptr_t)i));
        if (i % 3 != 0)
            CHECK_EQ(lsio_taskgroup_wait(g), 0);
    }
    CHECK_EQ(lsio_taskgroup_wait(g), 0);
    lsio_taskgroup_destroy(g);
}

static void test_steal_race(lsio_pool *p, size_t n)
{
    unsigned k = lsio_pool_threads(p) > 1 ? lsio_pool_threads(p) / 2 : 1;
    racer r[64];
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    reset_hits(n);
    for (unsigned i = 0; i < k; i++) {
        r[i] = (racer){p, i * (n / k), n / k};
        CHECK_OK(lsio_pool_submit(p, g, race_spawner, &r[i]));
    }
    CHECK_EQ(lsio_taskgroup_wait(g), 0);
    check_hits(n / k * k);
    lsio_taskgroup_destroy(g);
}

/* ---- a tree of tasks spawning into one group ---- */

typedef struct tree {
    lsio_pool *p;
    lsio_taskgroup *g;
    _Atomic long nodes;
} tree;

typedef struct tree_arg {
    tree *t;
    int depth;
} tree_arg;

static void tree_node(void *arg);

static void tree_spawn(tree *t, int depth)
{
    tree_arg *a = malloc(sizeof *a);
    CHECK(a);
    a->t = t;
    a->depth = depth;
    CHECK_OK(lsio_pool_submit(t->p, t->g, tree_node, a));
}

static void tree_node(void *arg)
{
    tree_arg *a = arg;
    atomic_fetch_add_explicit(&a->t->nodes, 1, memory_order_relaxed);
    if (a->depth > 0) {
        tree_spawn(a->t, a->depth - 1);
        tree_spawn(a->t, a->depth - 1);
    }
    free(a);
}

static void test_tree(lsio_pool *p, int depth)
{
    tree t = {.p = p};
    CHECK_OK(lsio_taskgroup_create(&t.g));
    tree_spawn(&t, depth);
    CHECK_EQ(lsio_taskgroup_wait(t.g), 0);
    CHECK_EQ(atomic_load(&t.nodes), (2L << depth) - 1);
    lsio_taskgroup_destroy(t.g);
}

/* ---- fib: a group and a wait in every call (nested waits) ---- */

typedef struct fib_arg {
    lsio_pool *p;
    int n;
    long result;
} fib_arg;

static void fib_task(void *arg)
{
    fib_arg *a = arg;
    if (a->n < 2) {
        a->result = a->n;
        return;
    }
    fib_arg x = {a->p, a->n - 1, 0}, y = {a->p, a->n - 2, 0};
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    CHECK_OK(lsio_pool_submit(a->p, g, fib_task, &x));
    CHECK_OK(lsio_pool_submit(a->p, g, fib_task, &y));
    CHECK_EQ(lsio_taskgroup_wait(g), 0);
    lsio_taskgroup_destroy(g);
    a->result = x.result + y.result;
}

static void test_fib(lsio_pool *p, int n, long expect)
{
    fib_arg a = {p, n, -1};
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    CHECK_OK(lsio_pool_submit(p, g, fib_task, &a));
    CHECK_EQ(lsio_taskgroup_wait(g), 0);
    CHECK_EQ(a.result, expect);
    lsio_taskgroup_destroy(g);
}

/* ---- a worker waiting on a group fed from outside the pool ---- */

typedef struct fed {
    lsio_taskgroup *g;
    _Atomic int waiting;
    int rc;
} fed;

static void fed_waiter(void *arg)
{
    fed *f = arg;
    atomic_store(&f->waiting, 1);
    f->rc = lsio_taskgroup_wait(f->g);
}

static _Atomic int g_gate_open;

static void gate(void *arg)
{
    (void)arg;
    while (!atomic_load(&g_gate_open))
        sched_yield();
}

static void test_worker_waits_for_outside(unsigned nthreads, size_t n)
{
    /* Every worker of p blocks in a wait on `inner`, held open by a gate task
     * on another pool. Tasks for `inner` then come from this thread, through
     * p's injector: they must wake the waiting workers, and only those can
     * run them. A lost wake-up shows as tasks never run. */
    lsio_pool *p, *q;
    CHECK_OK(lsio_pool_create(&p, nthreads));
    CHECK_OK(lsio_pool_create(&q, 1));
    fed f[8];
    lsio_taskgroup *outer, *inner;
    CHECK_OK(lsio_taskgroup_create(&outer));
    CHECK_OK(lsio_taskgroup_create(&inner));
    atomic_store(&g_gate_open, 0);
    CHECK_OK(lsio_pool_submit(q, inner, gate, NULL));
    for (unsigned i = 0; i < nthreads; i++) {
        f[i] = (fed){.g = inner};
        CHECK_OK(lsio_pool_submit(p, outer, fed_waiter, &f[i]));
    }
    for (unsigned i = 0; i < nthreads; i++)
        while (!atomic_load(&f[i].waiting))
            sched_yield();
    reset_hits(n);
    for (size_t i = 0; i < n; i++)
        CHECK_OK(lsio_pool_submit(p, inner, hit, (void *)(uintptr_t)i));
    uint64_t t0 = lsio_now_ns();
    while (atomic_load(&g_counted.total) < (long)n) {
        if (lsio_now_ns() - t0 > 20000000000ull) {
            fprintf(stderr, "%ld of %zu tasks ran in 20 s: a lost wake-up\n",
                    (long)atomic_load(&g_counted.total), n);
            CHECK(0);
        }
        sched_yield();
    }
    atomic_store(&g_gate_open, 1);
    CHECK_EQ(lsio_taskgroup_wait(outer), 0);
    CHECK_EQ(lsio_taskgroup_wait(inner), 0);
    for (unsigned i = 0; i < nthreads; i++)
        CHECK_EQ(f[i].rc, 0);
    check_hits(n);
    lsio_taskgroup_destroy(inner);
    lsio_taskgroup_destroy(outer);
    lsio_pool_destroy(q);
    lsio_pool_destroy(p);
}

/* ---- one task at a time: submissions land as workers go to sleep ---- */

static void test_ping_pong(lsio_pool *p, int rounds)
{
    /* Each round submits one task from outside and waits for it. The next
     * submission arrives while the workers are between "nothing found" and
     * asleep (the window a lost wake-up needs); a short random pause moves
     * it around that window. A lost wake-up hangs a wait (watchdog). */
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    reset_hits((size_t)rounds);
    uint64_t rng = 88172645463325252ull;
    for (int i = 0; i < rounds; i++) {
        CHECK_OK(lsio_pool_submit(p, g, hit, (void *)(uintptr_t)i));
        CHECK_EQ(lsio_taskgroup_wait(g), 0);
        rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
        for (unsigned spin = (unsigned)(rng % 4000); spin; spin--)
            atomic_signal_fence(memory_order_seq_cst);
    }
    check_hits((size_t)rounds);
    lsio_taskgroup_destroy(g);
}

/* ---- several outside threads waiting on one group ---- */

typedef struct ext_wait {
    lsio_taskgroup *g;
    _Atomic int *started;
    int rc;
} ext_wait;

static void *ext_waiter(void *arg)
{
    ext_wait *e = arg;
    atomic_fetch_add(e->started, 1);
    e->rc = lsio_taskgroup_wait(e->g);
    return NULL;
}

static void test_many_waiters(lsio_pool *p)
{
    /* Only one waiter can be named in the group; the others must still wake
     * (they poll). A gate on another pool holds the group open meanwhile. */
    lsio_pool *q;
    CHECK_OK(lsio_pool_create(&q, 1));
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    atomic_store(&g_gate_open, 0);
    CHECK_OK(lsio_pool_submit(q, g, gate, NULL));
    enum { W = 6 };
    pthread_t t[W];
    ext_wait e[W];
    _Atomic int started = 0;
    for (int i = 0; i < W; i++) {
        e[i] = (ext_wait){g, &started, -1};
        CHECK_EQ(pthread_create(&t[i], NULL, ext_waiter, &e[i]), 0);
    }
    while (atomic_load(&started) < W)
        sched_yield();
    usleep(20000); /* let them park */
    reset_hits(1000);
    for (size_t i = 0; i < 1000; i++)
        CHECK_OK(lsio_pool_submit(p, g, hit, (void *)(uintptr_t)i));
    atomic_store(&g_gate_open, 1);
    for (int i = 0; i < W; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(e[i].rc, 0);
    }
    check_hits(1000);
    lsio_taskgroup_destroy(g);
    lsio_pool_destroy(q);
}

/* ---- errors ---- */

typedef struct failer {
    lsio_taskgroup *g;
    int err;
    _Atomic int *ran;
} failer;

static void fail_task(void *arg)
{
    failer *f = arg;
    atomic_fetch_add(f->ran, 1);
    if (f->err)
        lsio_taskgroup_fail(f->g, f->err);
}

typedef struct nested_fail {
    lsio_pool *p;
    lsio_taskgroup *outer;
    _Atomic int *ran;
} nested_fail;

static void nested_fail_task(void *arg)
{
    nested_fail *nf = arg;
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    failer f = {g, -EIO, nf->ran};
    CHECK_OK(lsio_pool_submit(nf->p, g, fail_task, &f));
    int rc = lsio_taskgroup_wait(g);
    lsio_taskgroup_destroy(g);
    if (rc)
        lsio_taskgroup_fail(nf->outer, rc); /* pass a child's error up */
}

static void test_errors(lsio_pool *p)
{
    enum { N = 1000 };
    _Atomic int ran = 0;
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    CHECK_EQ(lsio_taskgroup_status(g), 0);
    CHECK_EQ(lsio_taskgroup_wait(g), 0); /* empty group */
    static failer f[N];
    for (int i = 0; i < N; i++) {
        f[i] = (failer){g, i == 500 ? -LSIO_ECODEC : 0, &ran};
        CHECK_OK(lsio_pool_submit(p, g, fail_task, &f[i]));
    }
    CHECK_EQ(lsio_taskgroup_wait(g), -LSIO_ECODEC);
    CHECK_EQ(atomic_load(&ran), N); /* the others still ran */
    CHECK_EQ(lsio_taskgroup_status(g), -LSIO_ECODEC);
    /* the first error wins */
    lsio_taskgroup_fail(g, -ENOMEM);
    lsio_taskgroup_fail(g, 0); /* 0 records nothing */
    CHECK_EQ(lsio_taskgroup_wait(g), -LSIO_ECODEC);
    lsio_taskgroup_destroy(g);

    /* many failing at once: exactly one of their errors is kept */
    CHECK_OK(lsio_taskgroup_create(&g));
    atomic_store(&ran, 0);
    for (int i = 0; i < N; i++) {
        f[i] = (failer){g, -(i % 7 + 1), &ran};
        CHECK_OK(lsio_pool_submit(p, g, fail_task, &f[i]));
    }
    int rc = lsio_taskgroup_wait(g);
    CHECK(rc <= -1 && rc >= -7);
    CHECK_EQ(lsio_taskgroup_status(g), rc);
    CHECK_EQ(atomic_load(&ran), N);
    lsio_taskgroup_destroy(g);

    /* through a nested group */
    CHECK_OK(lsio_taskgroup_create(&g));
    atomic_store(&ran, 0);
    nested_fail nf = {p, g, &ran};
    CHECK_OK(lsio_pool_submit(p, g, nested_fail_task, &nf));
    CHECK_EQ(lsio_taskgroup_wait(g), -EIO);
    CHECK_EQ(atomic_load(&ran), 1);
    lsio_taskgroup_destroy(g);
}

/* ---- a group used again after its wait ---- */

static void test_reuse(lsio_pool *p)
{
    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    reset_hits(3000);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < 1000; i++)
            CHECK_OK(lsio_pool_submit(p, g, hit, (void *)(uintptr_t)(round * 1000 + i)));
        CHECK_EQ(lsio_taskgroup_wait(g), 0);
        CHECK_EQ(atomic_load(&g_counted.total), (round + 1) * 1000);
    }
    check_hits(3000);
    lsio_taskgroup_destroy(g);
}

/* ---- destroy runs what is queued ---- */

static void test_destroy_drains(size_t n)
{
    for (unsigned threads = 1; threads <= 4; threads *= 2) {
        lsio_pool *p;
        CHECK_OK(lsio_pool_create(&p, threads));
        reset_hits(n);
        for (size_t i = 0; i < n; i++)
            CHECK_OK(lsio_pool_submit(p, NULL, hit, (void *)(uintptr_t)i));
        lsio_pool_destroy(p);
        check_hits(n);
    }
}

int main(void)
{
    unsigned div = pool_test_div();
    pool_test_watchdog(120);
    size_t tiny = 2000000 / div;
    g_counted.hits = calloc(tiny, 1);
    CHECK(g_counted.hits);
    unsigned sizes[] = {1, 2, 4, 7};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        lsio_pool *p;
        CHECK_OK(lsio_pool_create(&p, sizes[k]));
        CHECK_EQ(lsio_pool_threads(p), sizes[k]);
        uint64_t t0 = lsio_now_ns();
        test_tiny_tasks(p, k == 1 ? tiny : tiny / 4);
        uint64_t t1 = lsio_now_ns();
        test_many_submitters(p, 8, tiny / 4 / 8);
        test_steal_race(p, tiny / 4);
        test_tree(p, div > 1 ? 12 : 16);
        test_fib(p, div > 1 ? 16 : 20, div > 1 ? 987 : 6765);
        test_errors(p);
        test_reuse(p);
        test_ping_pong(p, 10000 / (int)div);
        test_many_waiters(p);
        lsio_pool_stats st;
        lsio_pool_stats_get(p, &st);
        CHECK(st.executed >= (k == 1 ? tiny : tiny / 4));
        printf("%u threads: %zu tiny tasks in %.3f s; executed %llu, stolen %llu, parks %llu\n",
               sizes[k], k == 1 ? tiny : tiny / 4, (t1 - t0) / 1e9,
               (unsigned long long)st.executed, (unsigned long long)st.stolen,
               (unsigned long long)st.parks);
        lsio_pool_destroy(p);
    }
    for (unsigned t = 1; t <= 3; t++)
        for (int rep = 0; rep < 5; rep++)
            test_worker_waits_for_outside(t, rep == 0 ? 20000 / div : 1 + (size_t)rep);
    test_destroy_drains(100000 / div);
    free(g_counted.hits);
    printf("ok\n");
    return 0;
}
