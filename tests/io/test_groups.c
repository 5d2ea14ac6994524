/* test_groups: every range of group n completes before any range of a
 * later group (completion order recorded from the queue and from callbacks),
 * and a lower group submitted later overtakes what a higher group has not
 * started. Run for posix and for whatever AUTO picks. */
#include <pthread.h>

#include "io_testutil.h"

#define NGROUPS 20
#define PER_GROUP 60

static char *paths[8];

static void submit_groups(lsio_io *io, lsio_cq *cq, uint64_t *seed, int reversed_calls)
{
    /* Each group in several calls over several files; with reversed_calls
     * the calls of one group come in reverse file order (no effect on the
     * guarantee, which is per group). */
    for (uint32_t g = 0; g < NGROUPS; g++) {
        for (int call = 0; call < 4; call++) {
            int f = reversed_calls ? 7 - call : call;
            lsio_range r[PER_GROUP / 4];
            for (int k = 0; k < PER_GROUP / 4; k++) {
                uint64_t off = tu_rand(seed) % (1 << 20);
                r[k] = (lsio_range){.offset = (int64_t)off,
                                    .length = 1 + (int64_t)(tu_rand(seed) % 65536),
                                    .user_data = (uint64_t)g << 32 | (uint64_t)f};
            }
            CHECK_OK(lsio_get_ranges(io, cq, paths[f], r, PER_GROUP / 4, g));
        }
    }
}

struct rec {
    pthread_mutex_t mu;
    uint32_t order[NGROUPS * PER_GROUP];
    int n;
};

static void on_done(void *ctx, lsio_completion *c)
{
    struct rec *r = ctx;
    pthread_mutex_lock(&r->mu);
    if (c->status == 0)
        r->order[r->n++] = (uint32_t)(c->user_data >> 32);
    pthread_mutex_unlock(&r->mu);
    lsio_completion_release(c);
}

static void check_order(const uint32_t *order, int n)
{
    CHECK_EQ(n, NGROUPS * PER_GROUP);
    for (int i = 1; i < n; i++) {
        if (order[i] < order[i - 1])
            fprintf(stderr, "completion %d of group %u came after one of group %u\n", i,
                    order[i], order[i - 1]);
        CHECK(order[i] >= order[i - 1]);
    }
}

static void run(const char *which)
{
    for (int depth = 1; depth <= 8; depth *= 8) {
        lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
        o.backend = !strcmp(which, "posix") ? LSIO_BACKEND_POSIX : LSIO_BACKEND_AUTO;
        o.workers = 3;
        o.depth = (unsigned)depth;
        lsio_io *io;
        CHECK_OK(lsio_io_open(&io, paths[0], &o));
        uint64_t seed = 1234 + (uint64_t)depth;

        /* 1. recorded from the queue by one consumer */
        lsio_cq *cq;
        CHECK_OK(lsio_cq_create(&cq));
        submit_groups(io, cq, &seed, depth > 1);
        static uint32_t order[NGROUPS * PER_GROUP];
        int n = 0;
        while (n < NGROUPS * PER_GROUP) {
            lsio_completion c[32];
            int k = lsio_cq_wait(cq, c, 32, 10000);
            CHECK(k > 0);
            for (int i = 0; i < k; i++) {
                CHECK_EQ(c[i].status, 0);
                order[n++] = (uint32_t)(c[i].user_data >> 32);
                lsio_completion_release(&c[i]);
            }
        }
        check_order(order, n);

        /* 2. recorded by callbacks on the IO threads */
        static struct rec rec;
        pthread_mutex_init(&rec.mu, NULL);
        rec.n = 0;
        lsio_cq_set_callback(cq, on_done, &rec);
        submit_groups(io, cq, &seed, 1);
        /* pending drops just before each callback runs: wait for the
         * callbacks themselves */
        for (int t = 0; t < 10000; t++) {
            pthread_mutex_lock(&rec.mu);
            int have = rec.n;
            pthread_mutex_unlock(&rec.mu);
            if (have == NGROUPS * PER_GROUP)
                break;
            usleep(1000);
        }
        pthread_mutex_lock(&rec.mu);
        check_order(rec.order, rec.n);
        pthread_mutex_unlock(&rec.mu);
        lsio_cq_set_callback(cq, NULL, NULL);

        /* 3. a lower group submitted later overtakes the higher one's
         * ranges that have not started */
        enum { BIG = 200 };
        lsio_range big[BIG], small[10];
        for (int k = 0; k < BIG; k++)
            big[k] = (lsio_range){.offset = (int64_t)(k % 4) << 18, .length = 1 << 18,
                                  .user_data = 5ull << 32};
        for (int k = 0; k < 10; k++)
            small[k] = (lsio_range){.offset = k * 1000, .length = 1000, .user_data = 1ull << 32};
        lsio_io_opts o1 = o;
        o1.merge_gap = -1;
        o1.workers = 1;
        o1.depth = 1;
        lsio_io *io1;
        CHECK_OK(lsio_io_open(&io1, paths[0], &o1));
        CHECK_OK(lsio_get_ranges(io1, cq, paths[1], big, BIG, 5));
        CHECK_OK(lsio_get_ranges(io1, cq, paths[2], small, 10, 1));
        int five_before = 0, ones = 0, total = 0;
        while (total < BIG + 10) {
            lsio_completion c;
            CHECK_EQ(lsio_cq_wait(cq, &c, 1, 10000), 1);
            CHECK_EQ(c.status, 0);
            if (c.user_data >> 32 == 1)
                ones++;
            else if (ones < 10)
                five_before++;
            lsio_completion_release(&c);
            total++;
        }
        printf("%s depth %d: %d of %d group-5 ranges completed before group 1 finished\n",
               which, depth, five_before, BIG);
        CHECK(five_before < BIG / 2);
        lsio_io_close(io1);
        lsio_cq_destroy(cq);
        lsio_io_close(io);
    }
}

int main(void)
{
    const char *dir = test_tmpdir("io_groups");
    for (int f = 0; f < 8; f++) {
        char name[16];
        snprintf(name, sizeof name, "g%d", f);
        paths[f] = tu_make_file(dir, name, (1 << 20) + 65536, (uint64_t)f);
    }
    run("posix");
    run("auto");
    for (int f = 0; f < 8; f++)
        free(paths[f]);
    tu_rm_rf(dir);
    return 0;
}
