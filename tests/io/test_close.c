/* test_close: closing with work in flight cancels what has not started
 * (-ECANCELED) and finishes the rest, every range completes exactly once,
 * and no fd or thread is left behind (/proc/self/fd, /proc/self/task); a
 * pool too small for everything in flight never deadlocks: dispatch waits
 * for the caller's releases. Run for posix and for whatever AUTO picks. */
#include <pthread.h>

#include "io_testutil.h"

static char *paths[4];

static lsio_io *open_io(const char *which, unsigned workers, size_t pool)
{
    lsio_io *io = tu_open(which, paths[0], workers, pool);
    CHECK(io);
    return io;
}

static void close_in_flight(const char *which)
{
    int fds = tu_fds(), threads = tu_threads_baseline();
    int cancelled = 0, ok = 0;
    for (int round = 0; round < 10; round++) {
        lsio_io *io = open_io(which, 1 + (unsigned)round % 4, 32u << 20);
        lsio_cq *cq;
        CHECK_OK(lsio_cq_create(&cq));
        enum { N = 400 };
        lsio_range r[N];
        static unsigned char dest[N][512];
        for (int i = 0; i < N; i++) {
            r[i] = (lsio_range){.offset = (int64_t)i * 4096, .length = 512,
                                .dest = i % 3 ? NULL : dest[i], .user_data = (uint64_t)i};
        }
        for (int g = 0; g < 4; g++)
            CHECK_OK(lsio_get_ranges(io, cq, paths[g], r + g * (N / 4), N / 4, (uint32_t)g));
        if (round % 2) { /* let some start */
            lsio_completion c;
            CHECK_EQ(lsio_cq_wait(cq, &c, 1, 10000), 1);
            CHECK_EQ(c.status, 0);
            lsio_completion_release(&c);
            ok++;
        }
        lsio_io_close(io);
        /* Everything has completed by now, nothing is pending. */
        int seen = round % 2;
        lsio_completion c[64];
        int k;
        while ((k = lsio_cq_poll(cq, c, 64)) > 0) {
            for (int i = 0; i < k; i++) {
                CHECK(c[i].status == 0 || c[i].status == -ECANCELED);
                if (c[i].status) {
                    CHECK(c[i].error && strstr(c[i].error, "/g"));
                    cancelled++;
                } else {
                    ok++;
                }
                lsio_completion_release(&c[i]);
            }
            seen += k;
        }
        CHECK_EQ(seen, N);
        CHECK_EQ(lsio_cq_pending(cq), 0);
        lsio_cq_destroy(cq);
    }
    printf("%s: %d completed, %d cancelled by close\n", which, ok, cancelled);
    CHECK_EQ(tu_fds(), fds);
    CHECK_EQ(tu_threads_settled(threads), threads);
}

/* Completed buffers are held by the consumer for a while: the pool is full
 * most of the time, and dispatch must wait for releases, not deadlock. */
static void pool_pressure(const char *which)
{
    lsio_io *io = open_io(which, 4, 256 * 1024);
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    enum { N = 300 };
    lsio_range r[N];
    for (int i = 0; i < N; i++)
        r[i] = (lsio_range){.offset = (int64_t)(i % 15) * 65536 + i,
                            .length = 60000 + i, .user_data = (uint64_t)i};
    for (int i = 0; i < N; i += 30)
        CHECK_OK(lsio_get_ranges(io, cq, paths[i / 30 % 4], r + i, 30, (uint32_t)(i / 90)));
    lsio_completion held[3];
    int nheld = 0, done = 0;
    while (done < N) {
        lsio_completion c;
        int k = lsio_cq_wait(cq, &c, 1, 20000);
        CHECK_EQ(k, 1); /* a deadlock shows as a timeout here */
        CHECK_EQ(c.status, 0);
        int i = (int)c.user_data;
        CHECK_EQ(c.len, (size_t)r[i].length);
        CHECK(tu_same_as_file(paths[i / 30 % 4], (uint64_t)r[i].offset, c.data, c.len));
        if (nheld == 3) {
            usleep(200);
            for (int j = 0; j < 3; j++)
                lsio_completion_release(&held[j]);
            nheld = 0;
        }
        held[nheld++] = c;
        done++;
    }
    for (int j = 0; j < nheld; j++)
        lsio_completion_release(&held[j]);
    lsio_bufpool_stats ps;
    CHECK_EQ(tu_pool_in_use(lsio_io_pool(io), &ps), 0);
    printf("%s: pool high water %zu of %zu\n", which, ps.high_water, ps.max_bytes);
    CHECK(ps.high_water <= ps.max_bytes);
    lsio_io_close(io);
    lsio_cq_destroy(cq);
}

/* Closing while the pool is exhausted and requests wait for buffers. */
static void close_starved(const char *which)
{
    lsio_io *io = open_io(which, 2, 128 * 1024);
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    enum { N = 40 };
    lsio_range r[N];
    for (int i = 0; i < N; i++)
        r[i] = (lsio_range){.offset = (int64_t)i * 70000 % (1 << 20), .length = 50000,
                            .user_data = (uint64_t)i};
    CHECK_OK(lsio_get_ranges(io, cq, paths[1], r, N, 0));
    /* Hold the first two completions: the pool is then full. */
    lsio_completion c[2];
    for (int i = 0; i < 2; i++)
        CHECK_EQ(lsio_cq_wait(cq, &c[i], 1, 10000), 1);
    usleep(20000);
    lsio_io_close(io); /* must not hang */
    int seen = 2, cancelled = 0;
    lsio_completion x;
    while (lsio_cq_poll(cq, &x, 1) == 1) {
        cancelled += x.status == -ECANCELED;
        lsio_completion_release(&x);
        seen++;
    }
    CHECK_EQ(seen, N);
    CHECK(cancelled > 0);
    lsio_completion_release(&c[0]); /* buffers outlive the io and its pool */
    lsio_completion_release(&c[1]);
    lsio_cq_destroy(cq);
}

int main(void)
{
    const char *dir = test_tmpdir("io_close");
    for (int f = 0; f < 4; f++) {
        char name[16];
        snprintf(name, sizeof name, "g%d", f);
        paths[f] = tu_make_file(dir, name, 2 << 20, (uint64_t)f);
    }
    const char *which[] = {"posix", "auto"};
    for (int w = 0; w < 2; w++) {
        close_in_flight(which[w]);
        pool_pressure(which[w]);
        close_starved(which[w]);
    }
    for (int f = 0; f < 4; f++)
        free(paths[f]);
    tu_rm_rf(dir);
    return 0;
}
