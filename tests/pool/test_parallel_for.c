/*
 * test_parallel_for.c — lsio_pool_parallel_for covers every index of [0, n)
 * exactly once, in pieces no larger than the grain asked for, for many
 * n/grain/thread-count combinations; from outside the pool, from several
 * outside threads at once, and nested inside tasks and inside itself.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "lsio_pool.h"
#include "pool_test.h"
#include "testutil.h"

typedef struct cover {
    _Atomic uint8_t *hits;
    size_t n, grain;
    _Atomic long calls;
    _Atomic int bad; /* a piece out of range or over the grain */
} cover;

static void mark(void *ctx, size_t b, size_t e)
{
    cover *c = ctx;
    atomic_fetch_add_explicit(&c->calls, 1, memory_order_relaxed);
    if (b >= e || e > c->n || (c->grain && e - b > c->grain)) {
        atomic_store(&c->bad, 1);
        return;
    }
    for (size_t i = b; i < e; i++)
        atomic_fetch_add_explicit(&c->hits[i], 1, memory_order_relaxed);
}

static void check_cover(lsio_pool *p, size_t n, size_t grain)
{
    cover c = {.n = n, .grain = grain};
    c.hits = calloc(n ? n : 1, 1);
    CHECK(c.hits);
    CHECK_EQ(lsio_pool_parallel_for(p, n, grain, mark, &c), 0);
    if (atomic_load(&c.bad)) {
        fprintf(stderr, "n=%zu grain=%zu: a piece out of range or over the grain\n", n, grain);
        CHECK(0);
    }
    for (size_t i = 0; i < n; i++)
        if (atomic_load(&c.hits[i]) != 1) {
            fprintf(stderr, "n=%zu grain=%zu: index %zu covered %d times\n", n, grain, i,
                    (int)atomic_load(&c.hits[i]));
            CHECK(0);
        }
    if (n == 0)
        CHECK_EQ(atomic_load(&c.calls), 0);
    else if (grain)
        CHECK_EQ(atomic_load(&c.calls), (long)(n / grain + (n % grain != 0)));
    free(c.hits);
}

static void test_grid(lsio_pool *p, unsigned div)
{
    size_t ns[] = {0, 1, 2, 3, 5, 7, 8, 63, 64, 65, 1000, 4097, 100003, 1000000};
    size_t grains[] = {0, 1, 2, 3, 7, 64, 1000, 65536, (size_t)1 << 40, SIZE_MAX};
    for (size_t i = 0; i < sizeof ns / sizeof *ns; i++)
        for (size_t j = 0; j < sizeof grains / sizeof *grains; j++) {
            size_t n = ns[i] / (ns[i] > 1000 ? div : 1);
            if (grains[j] && grains[j] < 7 && n > 100000 / div)
                continue; /* a million one-item pieces: covered by tests below */
            check_cover(p, n, grains[j]);
        }
}

/* ---- from several outside threads at once ---- */

static void *outside(void *arg)
{
    lsio_pool *p = arg;
    for (int i = 0; i < 20; i++)
        check_cover(p, 5000 + (size_t)i * 37, (size_t)i % 5 * 13);
    return NULL;
}

/* ---- nested: parallel_for inside tasks and inside parallel_for ---- */

typedef struct nest {
    lsio_pool *p;
    _Atomic long inner_items;
} nest;

static void nest_inner(void *ctx, size_t b, size_t e)
{
    nest *x = ctx;
    atomic_fetch_add(&x->inner_items, (long)(e - b));
}

static void nest_outer(void *ctx, size_t b, size_t e)
{
    nest *x = ctx;
    for (size_t i = b; i < e; i++)
        CHECK_EQ(lsio_pool_parallel_for(x->p, 100, 3, nest_inner, x), 0);
}

static void nest_task(void *arg)
{
    lsio_pool *p = *(lsio_pool **)arg;
    check_cover(p, 3000, 0);
    check_cover(p, 3000, 1);
}

static void test_nested(lsio_pool *p)
{
    nest x = {.p = p};
    CHECK_EQ(lsio_pool_parallel_for(p, 50, 1, nest_outer, &x), 0);
    CHECK_EQ(atomic_load(&x.inner_items), 50 * 100);

    lsio_taskgroup *g;
    CHECK_OK(lsio_taskgroup_create(&g));
    for (int i = 0; i < 16; i++)
        CHECK_OK(lsio_pool_submit(p, g, nest_task, &p));
    CHECK_EQ(lsio_taskgroup_wait(g), 0);
    lsio_taskgroup_destroy(g);
}

int main(void)
{
    unsigned div = pool_test_div();
    pool_test_watchdog(120);
    unsigned sizes[] = {1, 2, 3, 8};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        lsio_pool *p;
        CHECK_OK(lsio_pool_create(&p, sizes[k]));
        test_grid(p, div);
        check_cover(p, 400000 / div, 1); /* many one-item pieces */
        pthread_t t[6];
        for (int i = 0; i < 6; i++)
            CHECK_EQ(pthread_create(&t[i], NULL, outside, p), 0);
        for (int i = 0; i < 6; i++)
            pthread_join(t[i], NULL);
        test_nested(p);
        lsio_pool_destroy(p);
    }
    /* the default pool too */
    lsio_pool *d = lsio_pool_default();
    CHECK(d);
    check_cover(d, 12345, 0);
    printf("ok\n");
    return 0;
}
