/* test_posix: the posix backend's reads: O_DIRECT on a file system that
 * takes it (widened, unaligned ranges still exact, EOF inside the widened
 * tail), a clean buffered fallback where it is refused or on tmpfs, never
 * O_DIRECT when disabled, splitting large ranges into parallel parts and
 * merging near ones, and 1..16 workers. */
#include <inttypes.h>
#include <sys/stat.h>

#include "../io/io_testutil.h"

static lsio_io *open_posix(const char *loc, unsigned workers, int direct, int64_t split,
                           int64_t gap)
{
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.backend = LSIO_BACKEND_POSIX;
    o.workers = workers;
    o.direct = direct;
    o.split_bytes = split;
    o.merge_gap = gap;
    o.pool_bytes = 64u << 20;
    lsio_io *io;
    CHECK_OK(lsio_io_open(&io, loc, &o));
    return io;
}

/* Read n random ranges (some into aligned caller memory) and check them. */
static void read_check(lsio_io *io, const char *path, size_t size, int n, uint64_t seed)
{
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    lsio_range *r = calloc((size_t)n, sizeof *r);
    for (int i = 0; i < n; i++) {
        uint64_t off = tu_rand(&seed) % size;
        uint64_t len = 1 + tu_rand(&seed) % (size - off);
        if (i % 5 == 0) { /* aligned, into aligned caller memory */
            off &= ~4095ull;
            len = (len + 4095) & ~4095ull;
            if (off + len > size)
                len = (size - off) & ~4095ull;
            if (!len)
                len = 1;
            r[i].dest = lsio_alloc_aligned(4096, len);
        }
        r[i].offset = (int64_t)off;
        r[i].length = (int64_t)len;
        r[i].user_data = (uint64_t)i;
    }
    CHECK_OK(lsio_get_ranges(io, cq, path, r, (size_t)n, 0));
    for (int got = 0; got < n;) {
        lsio_completion c;
        CHECK_EQ(lsio_cq_wait(cq, &c, 1, 10000), 1);
        if (c.status)
            fprintf(stderr, "%s\n", c.error);
        CHECK_EQ(c.status, 0);
        lsio_range *x = &r[c.user_data];
        CHECK_EQ(c.len, (size_t)x->length);
        CHECK(tu_same_as_file(path, (uint64_t)x->offset, c.data, c.len));
        lsio_completion_release(&c);
        got++;
    }
    for (int i = 0; i < n; i++)
        lsio_free_aligned(r[i].dest);
    free(r);
    lsio_cq_destroy(cq);
}

static lsio_io_stats stats(lsio_io *io)
{
    lsio_io_stats st;
    lsio_io_stats_get(io, &st);
    return st;
}

int main(void)
{
    const char *dir = test_tmpdir("posix_read");
    size_t size = (3u << 20) + 5000; /* not a multiple of the block size */
    char *path = tu_make_file(dir, "data", size, 11);
    char *small = tu_make_file(dir, "small", 5000, 12);

    /* O_DIRECT always: on a disk file system most reads go direct. */
    lsio_io *io = open_posix(dir, 4, 1, 0, 0);
    read_check(io, path, size, 300, 1);
    read_check(io, small, 5000, 50, 2); /* EOF inside the widened tail */
    lsio_io_stats st = stats(io);
    printf("direct=1 on %s: %" PRIu64 " of %" PRIu64 " requests direct\n", dir,
           st.direct_reads, st.requests);
    struct stat sb;
    int fd = open(path, O_RDONLY | O_DIRECT);
    int fs_takes_direct = fd >= 0;
    if (fd >= 0)
        close(fd);
    if (fs_takes_direct)
        CHECK(st.direct_reads > 0);
    else
        CHECK_EQ(st.direct_reads, 0);
    lsio_io_close(io);

    /* Never when disabled. */
    io = open_posix(dir, 2, 0, 0, 0);
    read_check(io, path, size, 100, 3);
    CHECK_EQ(stats(io).direct_reads, 0);
    lsio_io_close(io);

    /* tmpfs (/dev/shm): O_DIRECT refused on older kernels; reads still
     * exact either way. */
    if (stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) && access("/dev/shm", W_OK) == 0) {
        char shm[64];
        snprintf(shm, sizeof shm, "/dev/shm/lsio_posix.XXXXXX");
        if (mkdtemp(shm)) {
            char *sp = tu_make_file(shm, "data", 1 << 20, 13);
            io = open_posix(shm, 2, 1, 0, 0);
            read_check(io, sp, 1 << 20, 200, 4);
            printf("direct=1 on tmpfs: %" PRIu64 " direct reads\n", stats(io).direct_reads);
            lsio_io_close(io);
            free(sp);
            tu_rm_rf(shm);
        }
    }

    /* Splitting: 1 MiB read in 64 KiB parts, completing as one. */
    io = open_posix(dir, 3, 0, 65536, -1);
    lsio_buf *b;
    CHECK_OK(lsio_io_read(io, path, 1000, 1 << 20, &b));
    CHECK_EQ(lsio_buf_len(b), 1 << 20);
    CHECK(tu_same_as_file(path, 1000, lsio_buf_data(b), 1 << 20));
    lsio_buf_release(b);
    st = stats(io);
    CHECK_EQ(st.ranges, 1);
    CHECK_EQ(st.requests, 16);
    /* a split read past EOF fails as one range */
    CHECK_EQ(lsio_io_read(io, path, (int64_t)size - 100000, 200000, &b), -LSIO_ERANGE);
    CHECK(strstr(lsio_last_error(), "range past end of file"));
    lsio_io_close(io);

    /* Merging: 100 ranges 100 bytes apart become one request. */
    io = open_posix(dir, 2, 0, -1, 4096);
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));
    lsio_range r[100];
    for (int i = 0; i < 100; i++)
        r[i] = (lsio_range){.offset = i * 300, .length = 200, .user_data = (uint64_t)i};
    CHECK_OK(lsio_get_ranges(io, cq, path, r, 100, 0));
    for (int i = 0; i < 100; i++) {
        lsio_completion c;
        CHECK_EQ(lsio_cq_wait(cq, &c, 1, 10000), 1);
        CHECK_EQ(c.status, 0);
        CHECK(tu_same_as_file(path, c.user_data * 300, c.data, 200));
        CHECK(c.buf && lsio_buf_len(c.buf) == 200 && lsio_buf_data(c.buf) == c.data);
        lsio_completion_release(&c);
    }
    CHECK_EQ(stats(io).requests, 1);
    lsio_cq_destroy(cq);
    lsio_io_close(io);

    /* Worker counts. */
    for (unsigned w = 1; w <= 16; w *= 4) {
        io = open_posix(dir, w, -1, 0, 0);
        read_check(io, path, size, 200, w);
        lsio_io_close(io);
    }

    free(path);
    free(small);
    tu_rm_rf(dir);
    return 0;
}
