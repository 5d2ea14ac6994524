/* test_uring: the io_uring backend's reads through the public API. Many
 * ranges over many files (1 to 3 workers, depth 1 to 100000, which is
 * clamped to what a ring takes) compared with pread; O_DIRECT used on a
 * file system that takes it and a correct read on
 * tmpfs (/dev/shm) whether or not it refuses; files shorter than asked
 * (past EOF, also inside an O_DIRECT-widened tail); closing while busy
 * (every range completes exactly once, -ECANCELED allowed); and no fd or
 * thread left behind. Skips when io_uring is unavailable. */
#include <sys/statfs.h>

#include "uring_testutil.h"

#define NFILES 64

static char *paths[NFILES];
static size_t sizes[NFILES];

static void make_files(const char *dir, uint64_t seed)
{
    for (int i = 0; i < NFILES; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%03d", i);
        /* sizes from a few bytes to ~1 MiB, many not a multiple of 4096 */
        sizes[i] = i % 8 == 0 ? 4096u * (1 + (unsigned)i) : 1 + tu_rand(&seed) % (1u << 20);
        paths[i] = tu_make_file(dir, name, sizes[i], seed + (uint64_t)i);
    }
}

static void test_many(const char *dir)
{
    static const struct {
        unsigned workers, depth;
        int direct;
    } cfg[] = {{1, 1, 0}, {1, 64, -1}, {2, 8, 1}, {3, 512, -1}, {2, 64, 0}, {1, 100000, -1}};
    for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) {
        lsio_io *io = ut_open(dir, cfg[i].workers, cfg[i].depth, cfg[i].direct);
        size_t n = ut_read_check(io, paths, sizes, NFILES, 1500, 100 + i);
        lsio_io_stats st;
        lsio_io_stats_get(io, &st);
        printf("workers %u depth %u direct %d: %zu ranges, %" PRIu64 " requests, %" PRIu64
               " direct\n",
               cfg[i].workers, cfg[i].depth, cfg[i].direct, n, st.requests, st.direct_reads);
        CHECK_EQ(st.errors, 0);
        if (cfg[i].direct == 0)
            CHECK_EQ(st.direct_reads, 0);
        if (cfg[i].direct == 1 && ut_fs_takes_direct(paths[0]))
            CHECK(st.direct_reads > 0);
        lsio_io_close(io);
    }
}

/* Whole files with O_DIRECT forced: the widened tail hits EOF (a short read
 * that must not be an error), and on tmpfs the read is right either way. */
static void test_direct_whole(const char *dir, const char *what)
{
    lsio_io *io = ut_open(dir, 2, 16, 1);
    for (int i = 0; i < NFILES; i += 3) {
        lsio_buf *b;
        CHECK_OK(lsio_io_read(io, paths[i], 0, LSIO_TO_END, &b));
        CHECK_EQ(lsio_buf_len(b), sizes[i]);
        CHECK(tu_same_as_file(paths[i], 0, lsio_buf_data(b), sizes[i]));
        lsio_buf_release(b);
    }
    lsio_io_stats st;
    lsio_io_stats_get(io, &st);
    int takes = ut_fs_takes_direct(paths[0]);
    printf("%s: O_DIRECT %s by the file system, %" PRIu64 " of %" PRIu64 " reads direct\n",
           what, takes ? "taken" : "refused", st.direct_reads, st.requests);
    if (takes)
        CHECK(st.direct_reads > 0);
    else
        CHECK_EQ(st.direct_reads, 0); /* every read fell back to buffered */
    lsio_io_close(io);
}

/* Reading a directory fails alone (EISDIR) and does not turn O_DIRECT off
 * for the files of its file system. */
static void test_dir_keeps_direct(const char *dir)
{
    if (!ut_fs_takes_direct(paths[0]))
        return;
    lsio_io *io = ut_open(dir, 1, 4, 1);
    lsio_buf *b = NULL;
    CHECK_EQ(lsio_io_read(io, dir, 0, 4096, &b), -EISDIR);
    CHECK(!b);
    CHECK_OK(lsio_io_read(io, paths[8], 0, 4096, &b));
    CHECK(tu_same_as_file(paths[8], 0, lsio_buf_data(b), 4096));
    lsio_buf_release(b);
    lsio_io_stats st;
    lsio_io_stats_get(io, &st);
    CHECK_EQ(st.direct_reads, 1);
    lsio_io_close(io);
}

/* A file shorter than the ranges asked: the core reports past EOF, the
 * bytes that exist still arrive for ranges inside the file. */
static void test_short(const char *dir)
{
    char *p = tu_make_file(dir, "short", 10000, 5);
    for (int direct = 0; direct <= 1; direct++) {
        lsio_io *io = ut_open(dir, 1, 4, direct);
        lsio_cq *cq;
        CHECK_OK(lsio_cq_create(&cq));
        lsio_range r[] = {
            {.offset = 0, .length = 10000, .user_data = 0},     /* all of it */
            {.offset = 9000, .length = 2000, .user_data = 1},   /* past EOF */
            {.offset = 20000, .length = 10, .user_data = 2},    /* beyond EOF */
            {.offset = 4096, .length = 5904, .user_data = 3},   /* to EOF exactly */
            {.offset = 0, .length = 1 << 20, .user_data = 4},   /* much longer */
        };
        static const int want[] = {0, -LSIO_ERANGE, -LSIO_ERANGE, 0, -LSIO_ERANGE};
        /* one call per range, so that no merge hides a short read */
        for (int i = 0; i < 5; i++)
            CHECK_OK(lsio_get_ranges(io, cq, p, &r[i], 1, 0));
        for (int got = 0; got < 5;) {
            lsio_completion c[5];
            int k = lsio_cq_wait(cq, c, 5, 10000);
            CHECK(k > 0);
            for (int j = 0; j < k; j++, got++) {
                uint64_t u = c[j].user_data;
                CHECK_EQ(c[j].status, want[u]);
                if (c[j].status) {
                    CHECK(c[j].error && strstr(c[j].error, "end of file"));
                } else {
                    CHECK(tu_same_as_file(p, (uint64_t)r[u].offset, c[j].data,
                                          (size_t)r[u].length));
                }
                lsio_completion_release(&c[j]);
            }
        }
        lsio_cq_destroy(cq);
        lsio_io_close(io);
    }
    free(p);
}

/* Close with thousands of ranges queued and in flight. */
static void test_close_busy(const char *dir)
{
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    lsio_io *io = ut_open(dir, 2, 32, -1);
    enum { N = 3000 };
    unsigned char *seen = calloc(N, 1);
    uint64_t seed = 77;
    for (size_t i = 0; i < N; i++) {
        int f = (int)(tu_rand(&seed) % NFILES);
        lsio_range r = {.offset = 0, .length = (int64_t)sizes[f], .user_data = i};
        CHECK_OK(lsio_get_ranges(io, cq, paths[f], &r, 1, (uint32_t)(i % 4)));
    }
    lsio_io_close(io);
    size_t ok = 0, cancelled = 0;
    lsio_completion c[128];
    int k;
    while ((k = lsio_cq_poll(cq, c, 128)) > 0) {
        for (int j = 0; j < k; j++) {
            CHECK(c[j].user_data < N);
            CHECK(!seen[c[j].user_data]);
            seen[c[j].user_data] = 1;
            if (c[j].status == 0)
                ok++;
            else if (c[j].status == -ECANCELED)
                cancelled++;
            else
                CHECK(!"unexpected status");
            lsio_completion_release(&c[j]);
        }
    }
    printf("close while busy: %zu read, %zu cancelled\n", ok, cancelled);
    CHECK_EQ(ok + cancelled, N);
    CHECK_EQ(lsio_cq_pending(cq), 0);
    lsio_cq_destroy(cq);
    free(seen);
}

int main(void)
{
    ut_require_uring();
    int fds0 = tu_fds(), th0 = tu_threads_baseline();
    const char *dir = test_tmpdir("uring");
    char *d = strdup(dir);
    make_files(d, 1234);

    test_many(d);
    test_direct_whole(d, d);
    test_dir_keeps_direct(d);
    test_short(d);
    test_close_busy(d);

    /* tmpfs: O_DIRECT refused on older kernels (fallback), taken on newer */
    char shm[] = "/dev/shm/lsio_uring.XXXXXX";
    if (mkdtemp(shm)) {
        char *keep[NFILES];
        size_t ksz[NFILES];
        memcpy(keep, paths, sizeof keep);
        memcpy(ksz, sizes, sizeof ksz);
        make_files(shm, 99);
        test_direct_whole(shm, "tmpfs /dev/shm");
        lsio_io *io = ut_open(shm, 2, 8, 1);
        ut_read_check(io, paths, sizes, NFILES, 500, 3);
        lsio_io_close(io);
        for (int i = 0; i < NFILES; i++)
            free(paths[i]);
        tu_rm_rf(shm);
        memcpy(paths, keep, sizeof keep);
        memcpy(sizes, ksz, sizeof ksz);
    } else {
        printf("no /dev/shm: tmpfs case not run\n");
    }

    /* Repeated open/read/close leaves nothing behind. */
    for (int i = 0; i < 20; i++) {
        lsio_io *io = ut_open(d, 3, 4, -1);
        lsio_buf *b;
        CHECK_OK(lsio_io_read(io, paths[i], 0, LSIO_TO_END, &b));
        lsio_buf_release(b);
        lsio_io_close(io);
    }
    CHECK_EQ(tu_fds(), fds0);
    CHECK_EQ(tu_threads_settled(th0), th0);

    for (int i = 0; i < NFILES; i++)
        free(paths[i]);
    tu_rm_rf(d);
    free(d);
    return 0;
}
