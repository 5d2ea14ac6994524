/* test_pool: the buffer pool keeps its bound, recycles released buffers by
 * size class, reports its high-water mark, aligns, blocks a get until a
 * release (or times out), refuses requests above the bound (-E2BIG), and
 * survives destruction while buffers are alive; slices keep their parent. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "lsio_io.h"
#include "testutil.h"

static void test_basic(void)
{
    lsio_bufpool *p;
    CHECK_EQ(lsio_bufpool_create(&p, 1 << 20, 3000), -EINVAL); /* not a power of two */
    CHECK_OK(lsio_bufpool_create(&p, 1 << 20, 4096));
    CHECK_EQ(lsio_bufpool_align(p), 4096);
    lsio_buf *a, *b;
    CHECK_OK(lsio_bufpool_get(p, 10000, -1, &a));
    CHECK_EQ(lsio_buf_len(a), 10000);
    CHECK(lsio_buf_cap(a) >= 10000);
    CHECK(lsio_buf_cap(a) <= 10000 * 5 / 4 + 4096); /* size classes waste little */
    CHECK_EQ((uintptr_t)lsio_buf_data(a) % 4096, 0);
    memset(lsio_buf_data(a), 0xab, lsio_buf_len(a));
    void *mem = lsio_buf_data(a);
    lsio_bufpool_stats st;
    lsio_bufpool_stats_get(p, &st);
    CHECK_EQ(st.in_use, lsio_buf_cap(a));
    CHECK_EQ(st.allocs, 1);
    lsio_buf_release(a);
    lsio_bufpool_stats_get(p, &st);
    CHECK_EQ(st.in_use, 0);
    CHECK(st.cached > 0);
    /* a similar size reuses the same memory */
    CHECK_OK(lsio_bufpool_get(p, 9500, -1, &b));
    CHECK(lsio_buf_data(b) == mem);
    lsio_bufpool_stats_get(p, &st);
    CHECK_EQ(st.reuses, 1);
    CHECK_EQ(st.allocs, 1);
    /* references: the buffer lives until the last release */
    lsio_buf_ref(b);
    lsio_buf_release(b);
    lsio_bufpool_stats_get(p, &st);
    CHECK(st.in_use > 0);
    lsio_buf_release(b);
    lsio_buf_release(NULL);
    lsio_bufpool_stats_get(p, &st);
    CHECK_EQ(st.in_use, 0);
    lsio_bufpool_destroy(p);
}

static void test_bound_and_high_water(void)
{
    lsio_bufpool *p;
    CHECK_OK(lsio_bufpool_create(&p, 64 * 1024, 4096));
    lsio_buf *bufs[16];
    int n = 0;
    while (n < 16 && lsio_bufpool_tryget(p, 8192, &bufs[n]) == 0)
        n++;
    CHECK_EQ(n, 8);
    lsio_buf *x;
    CHECK_EQ(lsio_bufpool_tryget(p, 8192, &x), -EAGAIN);
    CHECK_EQ(lsio_bufpool_get(p, 8192, 0, &x), -ETIMEDOUT);
    uint64_t t0 = lsio_now_ns();
    CHECK_EQ(lsio_bufpool_get(p, 8192, 100, &x), -ETIMEDOUT);
    uint64_t dt = lsio_now_ns() - t0;
    CHECK(dt >= 90000000ull && dt < 2000000000ull);
    CHECK_EQ(lsio_bufpool_get(p, 64 * 1024 + 1, -1, &x), -E2BIG);
    CHECK_EQ(lsio_bufpool_tryget(p, 1 << 30, &x), -E2BIG);
    lsio_bufpool_stats st;
    lsio_bufpool_stats_get(p, &st);
    CHECK_EQ(st.high_water, 64 * 1024);
    CHECK_EQ(st.max_bytes, 64 * 1024);
    for (int i = 0; i < n; i++)
        lsio_buf_release(bufs[i]);
    /* cached buffers of another class are evicted to make room */
    CHECK_OK(lsio_bufpool_get(p, 60 * 1024, 0, &x));
    lsio_bufpool_stats_get(p, &st);
    CHECK(st.in_use + st.cached <= st.max_bytes);
    CHECK_EQ(st.high_water, 64 * 1024);
    lsio_buf_release(x);
    /* a request equal to the bound fits */
    CHECK_OK(lsio_bufpool_get(p, 64 * 1024, 0, &x));
    lsio_buf_release(x);
    lsio_bufpool_destroy(p);
}

struct releaser {
    lsio_buf *b;
    int delay_ms;
};

static void *release_later(void *arg)
{
    struct releaser *r = arg;
    usleep((useconds_t)r->delay_ms * 1000);
    lsio_buf_release(r->b);
    return NULL;
}

static void test_blocking_get(void)
{
    lsio_bufpool *p;
    CHECK_OK(lsio_bufpool_create(&p, 16384, 4096));
    lsio_buf *a, *b;
    CHECK_OK(lsio_bufpool_get(p, 16384, -1, &a));
    struct releaser r = {a, 100};
    pthread_t t;
    pthread_create(&t, NULL, release_later, &r);
    uint64_t t0 = lsio_now_ns();
    CHECK_OK(lsio_bufpool_get(p, 4096, -1, &b)); /* waits for the release */
    CHECK(lsio_now_ns() - t0 >= 50000000ull);
    pthread_join(t, NULL);
    lsio_buf_release(b);
    lsio_bufpool_destroy(p);
}

struct fight {
    lsio_bufpool *p;
    uint64_t seed;
    int errors;
};

static void *fight_main(void *arg)
{
    struct fight *f = arg;
    for (int i = 0; i < 2000; i++) {
        f->seed = f->seed * 6364136223846793005ull + 1442695040888963407ull;
        static const size_t sizes[4] = {100, 10000, 30000, 65536};
        size_t len = sizes[(f->seed >> 33) % 4] - (size_t)(f->seed >> 40) % 64;
        lsio_buf *b;
        if (lsio_bufpool_get(f->p, len, 5000, &b) < 0) {
            f->errors++;
            continue;
        }
        unsigned char *d = lsio_buf_data(b);
        d[0] = d[len - 1] = (unsigned char)i;
        if ((uintptr_t)d % 4096)
            f->errors++;
        lsio_buf *s;
        if (lsio_buf_slice(b, 0, len, &s) == 0) {
            lsio_buf_release(b); /* the slice keeps it alive */
            b = s;
        }
        lsio_buf_release(b);
    }
    return NULL;
}

static void test_many_threads(void)
{
    /* Eight threads fight over a pool that holds six of the largest buffers. */
    lsio_bufpool *p;
    CHECK_OK(lsio_bufpool_create(&p, 6 * 65536, 4096));
    enum { T = 8 };
    pthread_t th[T];
    struct fight f[T];
    for (int i = 0; i < T; i++) {
        f[i] = (struct fight){p, (uint64_t)i + 1, 0};
        pthread_create(&th[i], NULL, fight_main, &f[i]);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        CHECK_EQ(f[i].errors, 0);
    }
    lsio_bufpool_stats st;
    lsio_bufpool_stats_get(p, &st);
    CHECK_EQ(st.in_use, 0);
    CHECK(st.high_water <= st.max_bytes);
    CHECK(st.reuses > st.allocs);
    lsio_bufpool_destroy(p);
}

static void test_slices_and_lifetime(void)
{
    lsio_bufpool *p;
    CHECK_OK(lsio_bufpool_create(&p, 1 << 20, 4096));
    lsio_buf *b, *s1, *s2;
    CHECK_OK(lsio_bufpool_get(p, 1000, -1, &b));
    memcpy(lsio_buf_data(b), "0123456789", 10);
    CHECK_OK(lsio_buf_slice(b, 3, 4, &s1));
    CHECK_EQ(lsio_buf_len(s1), 4);
    CHECK(memcmp(lsio_buf_data(s1), "3456", 4) == 0);
    CHECK_OK(lsio_buf_slice(s1, 1, 2, &s2)); /* a slice of a slice */
    CHECK(memcmp(lsio_buf_data(s2), "45", 2) == 0);
    CHECK_EQ(lsio_buf_slice(b, 900, lsio_buf_cap(b), &s1 /* unused */), -EINVAL);
    lsio_buf_release(b);
    lsio_buf_release(s1);
    /* the pool goes away first; s2 keeps the memory (and the pool) alive */
    lsio_bufpool_destroy(p);
    CHECK(memcmp(lsio_buf_data(s2), "45", 2) == 0);
    lsio_buf_release(s2); /* frees everything: ASan checks for leaks */

    lsio_buf *h;
    CHECK_OK(lsio_buf_alloc(100, 64, &h));
    CHECK_EQ((uintptr_t)lsio_buf_data(h) % 64, 0);
    CHECK_EQ(lsio_buf_len(h), 100);
    lsio_buf_set_len(h, 50);
    CHECK_EQ(lsio_buf_len(h), 50);
    lsio_buf_set_len(h, 5000); /* clamped to the capacity */
    CHECK_EQ(lsio_buf_len(h), 100);
    lsio_buf_release(h);
}

int main(void)
{
    test_basic();
    test_bound_and_high_water();
    test_blocking_get();
    test_many_threads();
    test_slices_and_lifetime();
    return 0;
}
