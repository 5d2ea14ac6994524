/* test_cached_direct: with O_DIRECT on "auto", a large read of a file the
 * page cache holds is copied from the cache (not fetched again from the
 * device); a file evicted from the cache is read through the cache while
 * the backend's budget ($LSIO_CACHE_BUDGET) lasts, so it is cached for the
 * next read, and with O_DIRECT past it (it then stays uncached); posix and
 * uring alike, bytes compared with pread. Needs cachestat(2) (Linux 6.5)
 * and a file system that takes O_DIRECT: skipped (77) otherwise. */
#include <sys/syscall.h>

#include "io_testutil.h"

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

static uint64_t direct_reads(lsio_io *io)
{
    lsio_io_stats st;
    lsio_io_stats_get(io, &st);
    return st.direct_reads;
}

/* Pages of path the page cache holds. */
static uint64_t cached_pages(const char *path)
{
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    uint64_t rng[2] = {0, 0}, cs[5];
    CHECK_EQ(syscall(__NR_cachestat, (unsigned)fd, rng, cs, 0u), 0);
    close(fd);
    return cs[0];
}

static uint64_t cached_after; /* cached_pages() right after read_all's read */

/* Read all of path (1 MiB) through io; returns how many reads went direct. */
static uint64_t read_all(lsio_io *io, const char *path, size_t size)
{
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    uint64_t before = direct_reads(io);
    lsio_range r = {.offset = 0, .length = (int64_t)size};
    CHECK_OK(lsio_get_ranges(io, cq, path, &r, 1, 0));
    lsio_completion c;
    CHECK_EQ(lsio_cq_wait(cq, &c, 1, 10000), 1);
    CHECK_EQ(c.status, 0);
    CHECK_EQ(c.len, size);
    cached_after = cached_pages(path); /* before pread compares (and caches) */
    CHECK(tu_same_as_file(path, 0, c.data, c.len));
    lsio_completion_release(&c);
    lsio_cq_destroy(cq);
    return direct_reads(io) - before;
}

static void evict(const char *path)
{
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    fdatasync(fd);
    CHECK_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    close(fd);
}

int main(void)
{
    const char *tmp = getenv("LSIO_TEST_TMP") ? getenv("LSIO_TEST_TMP") : "/tmp";
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/cached-direct.XXXXXX", tmp);
    CHECK(mkdtemp(dir));
    size_t size = 1 << 20;
    char *path = tu_make_file(dir, "f", size, 7);
    /* can this kernel say what the cache holds, and does the file system
     * take O_DIRECT? */
    int fd = open(path, O_RDONLY);
    uint64_t rng[2] = {0, 0}, cs[5];
    long have = syscall(__NR_cachestat, (unsigned)fd, rng, cs, 0u);
    close(fd);
    int dfd = open(path, O_RDONLY | O_DIRECT);
    if (have != 0 || dfd < 0) {
        printf("skip: %s\n", have != 0 ? "no cachestat(2) (Linux < 6.5)"
                                       : "the file system refuses O_DIRECT");
        tu_rm_rf(dir);
        return 77;
    }
    close(dfd);
    const char *which[] = {"posix", "uring"};
    uint64_t pages = size / 4096;
    for (int i = 0; i < 2; i++) {
        /* No budget: every uncached large read goes direct. */
        setenv("LSIO_CACHE_BUDGET", "0", 1);
        lsio_io *io = tu_open(which[i], dir, 1, 16u << 20);
        CHECK(io);
        if (strcmp(lsio_io_backend_name(io), which[i])) {
            printf("%s: not available, skipped\n", which[i]);
            lsio_io_close(io);
            continue;
        }
        /* just written: in the cache, so read from it */
        read_all(io, path, size); /* make sure every page is there */
        CHECK_EQ(read_all(io, path, size), 0);
        /* evicted: from the device, direct, and not cached by the read */
        evict(path);
        CHECK_EQ(read_all(io, path, size), 1);
        CHECK(cached_after < pages);
        /* (the comparison with pread filled the cache again) */
        CHECK_EQ(read_all(io, path, size), 0);
        /* only half of it cached: direct (the whole range is fetched) */
        evict(path);
        fd = open(path, O_RDONLY);
        CHECK_EQ(posix_fadvise(fd, 0, 0, POSIX_FADV_RANDOM), 0); /* no readahead */
        char buf[4096];
        for (size_t off = 0; off < size / 2; off += sizeof buf)
            CHECK(pread(fd, buf, sizeof buf, (off_t)off) == (ssize_t)sizeof buf);
        close(fd);
        CHECK_EQ(read_all(io, path, size), 1);
        lsio_io_close(io);

        /* A budget of 1.5 MiB: the first uncached read of 1 MiB goes
         * through the cache and stays there; the second finds 0.5 MiB left
         * and goes direct. */
        setenv("LSIO_CACHE_BUDGET", "1536K", 1);
        io = tu_open(which[i], dir, 1, 16u << 20);
        CHECK(io);
        evict(path);
        CHECK_EQ(read_all(io, path, size), 0);
        CHECK_EQ(cached_after, pages);
        CHECK_EQ(read_all(io, path, size), 0); /* cached: free of the budget */
        evict(path);
        CHECK_EQ(read_all(io, path, size), 1);
        CHECK(cached_after < pages);
        lsio_io_close(io);
        printf("%s: cached reads buffered, evicted reads buffered within the budget, "
               "direct past it\n", which[i]);
    }
    unsetenv("LSIO_CACHE_BUDGET");
    free(path);
    tu_rm_rf(dir);
    printf("ok\n");
    return 0;
}
