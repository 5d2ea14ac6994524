/* test_scatter: ranges read into lists of pieces (lsio_range.iov) through
 * the posix and uring backends: more pieces than one readv takes, ranges
 * split into parts that begin inside a piece, a range past the end of the
 * file (an error naming it, never a silent short read), and the calls that
 * are refused at once (dest and iov both, pieces that do not add up to the
 * length, iov to the end, iov without pieces). */
#include <inttypes.h>

#include "io_testutil.h"

#define FSIZE (1u << 20)

static lsio_completion wait1(lsio_cq *cq)
{
    lsio_completion c;
    CHECK_EQ(lsio_cq_wait(cq, &c, 1, 10000), 1);
    return c;
}

/* Read [off, off + len) of path into npieces pieces (sizes cycling through
 * 1..maxp, gaps of 3 bytes between them) and compare with the file. */
static void one(lsio_io *io, lsio_cq *cq, const char *path, uint64_t off, size_t len,
                size_t maxp)
{
    struct iovec *iov = calloc(len, sizeof *iov);
    unsigned char *mem = malloc(4 * len);
    memset(mem, 0xAB, 4 * len);
    size_t n = 0, p = 0;
    for (size_t at = 0; at < len; n++) {
        size_t pl = 1 + n % maxp;
        if (pl > len - at)
            pl = len - at;
        iov[n] = (struct iovec){mem + p, pl};
        at += pl;
        p += pl + 3;
    }
    lsio_range r = {.offset = (int64_t)off, .length = (int64_t)len, .iov = iov, .iovcnt = n,
                    .user_data = 9};
    CHECK_OK(lsio_get_ranges(io, cq, path, &r, 1, 0));
    lsio_completion c = wait1(cq);
    if (c.status)
        fprintf(stderr, "%s\n", c.error);
    CHECK_EQ(c.status, 0);
    CHECK_EQ(c.len, len);
    CHECK(!c.data && !c.buf);
    CHECK_EQ(c.user_data, 9);
    CHECK_EQ(c.object_size, 0); /* local backends do not say */
    unsigned char *flat = malloc(len);
    for (size_t v = 0, at = 0; v < n; at += iov[v].iov_len, v++) {
        memcpy(flat + at, iov[v].iov_base, iov[v].iov_len);
        /* the gap after each piece is untouched */
        unsigned char *end = (unsigned char *)iov[v].iov_base + iov[v].iov_len;
        CHECK(end[0] == 0xAB && end[1] == 0xAB && end[2] == 0xAB);
    }
    CHECK(tu_same_as_file(path, off, flat, len));
    lsio_completion_release(&c);
    free(flat);
    free(mem);
    free(iov);
}

static void run(const char *which, const char *dir, const char *path)
{
    lsio_io_opts o = LSIO_IO_OPTS_DEFAULT;
    o.backend = !strcmp(which, "posix") ? LSIO_BACKEND_POSIX : LSIO_BACKEND_URING;
    o.split_bytes = 100000; /* parts that begin inside pieces */
    lsio_io *io = NULL;
    if (lsio_io_open(&io, dir, &o) < 0) {
        if (!strcmp(which, "uring"))
            SKIP("uring backend: %s", lsio_last_error());
        CHECK(0);
    }
    lsio_cq *cq;
    CHECK_OK(lsio_cq_create(&cq));

    one(io, cq, path, 0, FSIZE, 7);          /* ~260k pieces, 11 parts */
    one(io, cq, path, 12345, 54321, 1);      /* one byte each: many readvs */
    one(io, cq, path, FSIZE - 5000, 5000, 4096);
    one(io, cq, path, 77, 1, 1);
    lsio_io_stats st;
    lsio_io_stats_get(io, &st);
    CHECK(st.requests >= 11 + 1 + 1 + 1);

    /* past the end of the file: an error naming file and range */
    struct iovec v[2];
    unsigned char a[150], b[150];
    v[0] = (struct iovec){a, 150};
    v[1] = (struct iovec){b, 150};
    lsio_range r = {.offset = FSIZE - 100, .length = 300, .iov = v, .iovcnt = 2};
    CHECK_OK(lsio_get_ranges(io, cq, path, &r, 1, 0));
    lsio_completion c = wait1(cq);
    CHECK_EQ(c.status, -LSIO_ERANGE);
    CHECK(c.error && strstr(c.error, path) && strstr(c.error, "1048476"));
    printf("%s: %s\n", which, c.error);
    lsio_completion_release(&c);

    /* refused at once, nothing queued */
    unsigned char d[300];
    r = (lsio_range){.offset = 0, .length = 300, .iov = v, .iovcnt = 2, .dest = d};
    CHECK_EQ(lsio_get_ranges(io, cq, path, &r, 1, 0), -EINVAL);
    CHECK(strstr(lsio_last_error(), "both dest and iov"));
    r = (lsio_range){.offset = 0, .length = 299, .iov = v, .iovcnt = 2};
    CHECK_EQ(lsio_get_ranges(io, cq, path, &r, 1, 0), -EINVAL);
    CHECK(strstr(lsio_last_error(), "add up to 300 bytes"));
    r = (lsio_range){.offset = 0, .length = LSIO_TO_END, .iov = v, .iovcnt = 2};
    CHECK_EQ(lsio_get_ranges(io, cq, path, &r, 1, 0), -EINVAL);
    r = (lsio_range){.offset = 0, .length = 300, .iovcnt = 2};
    CHECK_EQ(lsio_get_ranges(io, cq, path, &r, 1, 0), -EINVAL);
    r = (lsio_range){.offset = 0, .length = 300, .iov = v};
    CHECK_EQ(lsio_get_ranges(io, cq, path, &r, 1, 0), -EINVAL);
    CHECK_EQ(lsio_cq_pending(cq), 0);

    lsio_io_close(io);
    lsio_cq_destroy(cq);
}

int main(void)
{
    const char *dir = test_tmpdir("io_scatter");
    char *path = tu_make_file(dir, "f", FSIZE, 3);
    int fds = tu_fds();
    run("posix", dir, path);
    run("uring", dir, path);
    CHECK_EQ(tu_fds(), fds);
    free(path);
    tu_rm_rf(dir);
    return 0;
}
